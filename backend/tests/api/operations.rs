//! What an operator relies on: the API documentation offline, request ids,
//! RFC 9457 problems in the contract.

use crate::helpers::{realistic_input, Engine, TestApp, TestDb};

/// Every `src="…"`/`href="…"` value and CSS `url(…)` in `text`.
fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\"", "url("] {
        let mut rest = text;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find(['"', ')']).unwrap_or(rest.len());
            out.push(rest[..end].trim_matches(['\'', ' ']).to_owned());
            rest = &rest[end..];
        }
    }
    out
}

fn is_external(reference: &str) -> bool {
    let r = reference.to_ascii_lowercase();
    r.starts_with("http:") || r.starts_with("https:") || r.starts_with("//")
}

/// `/docs` is Swagger UI built into the binary: the page, its scripts and
/// styles are served from this server, and none of them loads anything from
/// another host (the Chromium test then renders it with other hosts blocked).
#[tokio::test]
async fn docs_work_offline() {
    let t = TestDb::new(Engine::Sqlite).await;
    let app = TestApp::spawn(&t.db).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client.get(format!("{}/docs", app.address)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 308);
    assert_eq!(res.headers()["location"], "/docs/");
    let res = app.get("/docs/").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = res.text().await.unwrap();
    let assets = references(&page);
    assert!(assets.len() >= 4, "the page names its scripts and styles: {assets:?}");
    let mut scripts = 0;
    for asset in &assets {
        assert!(!is_external(asset), "the page loads {asset} from another host");
        let res = app.get(&format!("/docs/{}", asset.trim_start_matches("./"))).await;
        assert_eq!(res.status().as_u16(), 200, "{asset}");
        let body = res.text().await.unwrap();
        if asset.ends_with(".css") {
            for r in references(&body) {
                assert!(!is_external(&r) || r.contains("w3.org"), "{asset} loads {r}");
            }
        }
        scripts += usize::from(asset.ends_with(".js"));
    }
    assert!(scripts >= 2, "{assets:?}");
    // The initializer points at this server's contract, with no validator badge.
    let init = app.get("/docs/swagger-initializer.js").await.text().await.unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
    assert!(!init.contains("validator.swagger.io"), "{init}");
    for r in references(&init) {
        assert!(!is_external(&r), "{r}");
    }
    assert_eq!(app.get("/docs/no-such-file.js").await.status().as_u16(), 404);
}

/// Every response carries an `X-Request-Id`: the client's when it sent a
/// reasonable one, else a new one, different for each request; an id that
/// could forge log lines is replaced.
#[tokio::test]
async fn request_ids() {
    let t = TestDb::new(Engine::Sqlite).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let id = |res: &reqwest::Response| res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let a = id(&app.get("/reports/meta").await);
    let b = id(&app.get("/reports/nothing").await);
    assert_ne!(a, b);
    for generated in [&a, &b] {
        assert_eq!(generated.len(), 16, "{generated}");
        assert!(generated.bytes().all(|c| c.is_ascii_hexdigit()), "{generated}");
    }
    let sent = |value: &str| {
        app.client
            .get(format!("{}/quality", app.address))
            .header("x-request-id", value)
            .send()
    };
    assert_eq!(id(&sent("trace-42.a_b:c").await.unwrap()), "trace-42.a_b:c");
    for forged in ["has space", "x\"y", &"a".repeat(65)] {
        let got = id(&sent(forged).await.unwrap());
        assert_ne!(got, forged);
        assert_eq!(got.len(), 16);
    }
}

/// The contract documents every error answer as `application/problem+json`
/// with the problem fields.
#[tokio::test]
async fn errors_are_problems_in_the_contract() {
    let t = TestDb::new(Engine::Sqlite).await;
    let app = TestApp::spawn(&t.db).await;
    let doc = app.json("/openapi.json").await;
    let mut errors = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, res) in op["responses"].as_object().unwrap() {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                errors += 1;
                let content = res["content"].as_object();
                if let Some(content) = content {
                    assert!(
                        content.keys().all(|k| k == "application/problem+json"),
                        "{method} {path} {status}: {content:?}"
                    );
                }
            }
        }
    }
    assert!(errors > 20, "{errors} error answers documented");
    let schema = &doc["components"]["schemas"]["ApiError"];
    for field in ["type", "title", "status", "detail", "error", "message"] {
        assert!(schema["properties"].get(field).is_some(), "{field}: {schema}");
    }
}

/// Runs `sql` on the PostgreSQL server as its administrator.
async fn admin(sql: &str) {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(crate::helpers::postgres_admin_url().unwrap())
        .await
        .unwrap();
    admin.execute_unprepared(sql).await.unwrap();
    admin.close().await.unwrap();
}

/// Polls `path` until it answers `status` (at most 20 s).
async fn until(app: &TestApp, path: &str, status: u16) -> reqwest::Response {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let res = app.get(path).await;
        if res.status().as_u16() == status {
            return res;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} still answers {} instead of {status}",
            res.status()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A 503 of a server waiting for its database, naming no server.
async fn unavailable(res: reqwest::Response, url: &str) {
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "database_unavailable", "{body}");
    assert!(!body.to_string().contains(url), "{body}");
}

/// `serve` starts while its database refuses connections, answers 503 where
/// the database is needed (and 200 where it is not), prepares the database
/// (migrations) once it is let in, and serves; when the database goes away
/// later it answers 503 again, and serves again when it is back — the same
/// process throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_for_its_database() {
    use backend::startup::{Application, ServeSettings};
    if crate::helpers::postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    let name = {
        let row = t.rows("SELECT current_database() AS name").await;
        row[0].try_get::<String>("", "name").unwrap()
    };
    let lock_out = || async {
        admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await;
        admin(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .await;
    };
    lock_out().await;

    let db = backend::db::connect_lazy(&t.settings).await.unwrap();
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    let started = std::time::Instant::now();
    let app = Application::build(&settings, db).await.unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let app = {
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            client: reqwest::Client::new(),
        }
    };
    let url = t.settings.redacted();
    for path in ["/health/ready", "/reports/meta", "/quality", "/ingests", "/session"] {
        unavailable(app.get(path).await, &url).await;
    }
    for path in ["/health/live", "/openapi.json", "/docs/"] {
        assert_eq!(app.get(path).await.status().as_u16(), 200, "{path}");
    }

    // Let in: the server migrates the database and serves (nothing loaded yet).
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    until(&app, "/health/ready", 200).await;
    let res = app.get("/reports/meta").await;
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["error"], "no_data");
    t.ingest(&realistic_input()).await.unwrap();
    let meta = until(&app, "/reports/meta", 200).await.text().await.unwrap();

    // Gone while serving, then back.
    lock_out().await;
    unavailable(until(&app, "/health/ready", 503).await, &url).await;
    unavailable(until(&app, "/reports/top-users", 503).await, &url).await;
    admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await;
    until(&app, "/health/ready", 200).await;
    assert_eq!(until(&app, "/reports/meta", 200).await.text().await.unwrap(), meta);
}
