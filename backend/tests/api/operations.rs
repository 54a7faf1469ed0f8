//! What an operator relies on: the API documentation offline, request ids,
//! RFC 9457 problems in the contract.

use serde_json::Value;

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

/// The samples of a scrape: name, labels, value.
pub(crate) type Samples = Vec<(String, Vec<(String, String)>, f64)>;

/// A scrape, parsed by a Prometheus text-format parser (it must accept it),
/// and its samples.
pub(crate) fn scrape(text: &str) -> Samples {
    if let Err(e) = openmetrics_parser::prometheus::parse_prometheus(text) {
        panic!("not Prometheus text: {e:?}\n{text}");
    }
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        let (name, labels) = series.split_once('{').unwrap_or((series, ""));
        // `k="v",k2="v2"}`: values are quoted (and ours hold no quotes).
        let labels = labels
            .trim_end_matches('}')
            .split("\",")
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once("=\"").unwrap();
                (k.to_owned(), v.trim_end_matches('"').to_owned())
            })
            .collect();
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap(),
        };
        out.push((name.to_owned(), labels, value));
    }
    out
}

/// The sum of the samples named `metric` with these `labels` (0 when none).
fn sample(scrape: &Samples, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .iter()
        .filter(|(name, l, _)| {
            name == metric && labels.iter().all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| v)
        .sum()
}

/// `/metrics` parses as Prometheus text; its counters move with requests
/// (labelled by route template, never by raw path) and with ingests (runs,
/// rows by file and outcome, as the run history says); the data's figures
/// (last ingest, latest transaction, the cache, the pool) are there.
async fn metrics_move(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let get = |app: &TestApp| {
        let url = format!("{}/metrics", app.address);
        let client = app.client.clone();
        async move {
            let res = client.get(url).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200);
            assert!(res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain"));
            scrape(&res.text().await.unwrap())
        }
    };
    let before = get(&app).await;
    for _ in 0..3 {
        app.get("/reports/meta").await;
    }
    let run: Value = app.json("/ingests?limit=1").await;
    let id = run["runs"][0]["id"].as_i64().unwrap();
    app.get(&format!("/ingests/{id}")).await;
    app.get(&format!("/ingests/{}", id + 1000)).await;
    let after = get(&app).await;
    let requests = |s: &Samples, route: &str, status: &str| {
        sample(
            s,
            "http_requests_total",
            &[("route", route), ("method", "GET"), ("status", status)],
        )
    };
    // Other tests' servers in this process count too: at least ours.
    assert!(requests(&after, "/reports/meta", "200") - requests(&before, "/reports/meta", "200") >= 3.0);
    assert!(requests(&after, "/ingests/{id}", "200") - requests(&before, "/ingests/{id}", "200") >= 1.0);
    assert!(requests(&after, "/ingests/{id}", "404") - requests(&before, "/ingests/{id}", "404") >= 1.0);
    assert!(
        sample(
            &after,
            "http_request_duration_seconds_count",
            &[("route", "/reports/meta"), ("method", "GET")]
        ) >= 3.0
    );
    for (_, labels, _) in &after {
        for (k, v) in labels {
            assert!(
                k != "route" || !v.chars().any(|c| c.is_ascii_digit()),
                "a raw path as a label: {v}"
            );
        }
    }

    let quality: Value = app.json("/quality").await;
    let runs = |s: &Samples, mode: &str| {
        sample(
            s,
            "revenue_ingest_runs_total",
            &[("mode", mode), ("status", "succeeded")],
        )
    };
    assert_eq!(runs(&after, "replace"), 1.0);
    assert_eq!(sample(&after, "revenue_database_up", &[]), 1.0);
    assert_eq!(sample(&after, "revenue_db_pool_max_connections", &[]), 16.0);
    assert!(sample(&after, "revenue_db_pool_connections", &[("state", "idle")]) >= 0.0);
    let latest = chrono::DateTime::parse_from_rfc3339(quality["freshness"]["latest_transaction_at"].as_str().unwrap())
        .unwrap()
        .timestamp() as f64;
    assert_eq!(
        sample(&after, "revenue_latest_transaction_timestamp_seconds", &[]),
        latest
    );
    let finished = chrono::DateTime::parse_from_rfc3339(run["runs"][0]["finished_at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis() as f64
        / 1000.0;
    assert!((sample(&after, "revenue_last_successful_ingest_timestamp_seconds", &[]) - finished).abs() < 1.0);
    assert!(sample(&after, "revenue_report_cache_age_seconds", &[]) < 60.0);
    assert_eq!(sample(&after, "revenue_report_cache_run", &[]), id as f64);
    for file in run["runs"][0]["files"].as_array().unwrap() {
        let name = file["file"].as_str().unwrap();
        for (outcome, field) in [("read", "read"), ("loaded", "loaded"), ("rejected", "rejected")] {
            assert_eq!(
                sample(
                    &after,
                    "revenue_ingest_rows_total",
                    &[("file", name), ("outcome", outcome)]
                ),
                file[field].as_f64().unwrap(),
                "{name} {outcome}"
            );
        }
    }

    // An append moves the run and row counters.
    let more = crate::helpers::fixture(&[], &["1/5/24 10:00\ttxn_metrics_1\tcus_metrics_1\t\t12.00\tusd"], &[]);
    // Only a new transactions file (an append reads the files it is given).
    std::fs::remove_file(more.path().join("products.csv")).unwrap();
    std::fs::remove_file(more.path().join("users.csv")).unwrap();
    t.append(more.path()).await.unwrap();
    let appended = get(&app).await;
    assert_eq!(runs(&appended, "append"), 1.0);
    assert_eq!(
        sample(
            &appended,
            "revenue_ingest_rows_total",
            &[("file", "transactions.csv"), ("outcome", "loaded")]
        ),
        sample(
            &after,
            "revenue_ingest_rows_total",
            &[("file", "transactions.csv"), ("outcome", "loaded")]
        ) + 1.0
    );
}
crate::both!(metrics, metrics_move);

/// `/metrics` needs a reader once tokens exist; `--metrics-bind` serves it
/// on its own address, without a token, and the main address no longer does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_access_and_own_listener() {
    use backend::auth::Role;
    use backend::startup::{Application, ServeSettings};
    let t = TestDb::new(Engine::Sqlite).await;
    t.ingest(&realistic_input()).await.unwrap();
    let reader = crate::access::token(&t, "prometheus", Role::Reader).await;
    let app = crate::access::app(&t).await;
    assert_eq!(app.get("/metrics").await.status().as_u16(), 401);
    let res = app.get_as("/metrics", &reader).await;
    assert_eq!(res.status().as_u16(), 200);
    scrape(&res.text().await.unwrap());

    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.metrics_bind = Some("127.0.0.1:0".to_owned());
    let server = Application::build(&settings, t.db.clone()).await.unwrap();
    let (port, metrics_port) = (server.port(), server.metrics_port().unwrap());
    tokio::spawn(server.run_until_stopped());
    let client = reqwest::Client::new();
    let own = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status().as_u16(), 200);
    let s = scrape(&own.text().await.unwrap());
    assert_eq!(sample(&s, "revenue_database_up", &[]), 1.0);
    let main = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(main.status().as_u16(), 404);

    // The database gone: the metrics listener still answers, and says so
    // once the readiness probe has noticed.
    t.db.clone().close().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let res = client
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        if sample(&scrape(&res.text().await.unwrap()), "revenue_database_up", &[]) == 0.0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "revenue_database_up stayed 1");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Reports carry a weak `ETag` of the data version and the request, with
/// `Cache-Control: private, no-cache`; `If-None-Match` with it answers 304
/// (no body) until an ingest changes the data.
async fn etags(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = TestApp::spawn_with(&t.db, std::time::Duration::ZERO).await;
    let get = |path: &str, accept: Option<&str>, tag: Option<&str>| {
        let mut req = app.client.get(format!("{}{path}", app.address));
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        if let Some(t) = tag {
            req = req.header("if-none-match", t);
        }
        req.send()
    };
    let etag = |res: &reqwest::Response| res.headers()["etag"].to_str().unwrap().to_owned();
    let run = app.json("/ingests?limit=1").await["runs"][0]["id"].as_i64().unwrap();
    let mut tags = std::collections::HashSet::new();
    for path in [
        "/reports/meta",
        "/reports/top-users?limit=5",
        "/reports/top-users?limit=6",
        "/reports/top-products",
        "/reports/monthly-transactions?months=6",
        "/reports/revenue-growth",
        "/quality",
    ] {
        let res = get(path, None, None).await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let tag = etag(&res);
        assert!(tag.starts_with(&format!("W/\"r{run}-")), "{path}: {tag}");
        assert_eq!(res.headers()["cache-control"], "private, no-cache");
        assert!(tags.insert(tag.clone()), "{path}: the same tag as another request");
        let again = get(path, None, Some(&tag)).await.unwrap();
        assert_eq!(again.status().as_u16(), 304, "{path}");
        assert_eq!(etag(&again), tag);
        assert!(again.bytes().await.unwrap().is_empty());
        // A list of tags, one of them current; a strong form of the same tag.
        let listed = format!("W/\"r0-0\", {tag}");
        assert_eq!(get(path, None, Some(&listed)).await.unwrap().status().as_u16(), 304);
        let strong = tag.trim_start_matches("W/");
        assert_eq!(get(path, None, Some(strong)).await.unwrap().status().as_u16(), 304);
        assert_eq!(
            get(path, None, Some("W/\"r0-0\"")).await.unwrap().status().as_u16(),
            200
        );
    }
    // The CSV of a report is another representation: another tag.
    let csv = get("/reports/top-users?limit=5", Some("text/csv"), None).await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(tags.insert(etag(&csv)));
    // Errors carry no tag.
    let bad = get("/reports/top-users?limit=0", None, None).await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.headers().get("etag").is_none());

    // New data: the old tag no longer matches.
    let old = etag(&get("/reports/top-users?limit=5", None, None).await.unwrap());
    let more = crate::helpers::fixture(&[], &["1/5/24 10:00\ttxn_etag_1\tcus_etag_1\t\t12.00\tusd"], &[]);
    std::fs::remove_file(more.path().join("products.csv")).unwrap();
    std::fs::remove_file(more.path().join("users.csv")).unwrap();
    t.append(more.path()).await.unwrap();
    let res = get("/reports/top-users?limit=5", None, Some(&old)).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(etag(&res).starts_with(&format!("W/\"r{}-", run + 1)), "{}", etag(&res));
}
crate::both!(etag, etags);

/// The dashboard's WebAssembly goes out in Brotli, zstd or gzip as the
/// browser prefers, each compressed once (at start) and then served from
/// memory; without an accepted encoding, as it is. API answers are
/// compressed on the fly in the same three encodings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression() {
    use std::io::Read;
    let t = TestDb::new(Engine::Sqlite).await;
    t.ingest(&realistic_input()).await.unwrap();
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html><title>x</title>").unwrap();
    let wasm: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 97 * 31).to_le_bytes()).collect();
    std::fs::write(dist.path().join("frontend-0123abcd_bg.wasm"), &wasm).unwrap();
    std::fs::write(dist.path().join("logo.png"), [0u8; 20_000]).unwrap();
    let mut settings = backend::startup::ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.static_dir = Some(dist.path().to_owned());
    let app = TestApp::spawn_settings(&t.db, settings).await;
    let fetch = |path: &str, accept: Option<&str>| {
        let mut req = app.client.get(format!("{}{path}", app.address));
        if let Some(a) = accept {
            req = req.header("accept-encoding", a);
        }
        req.send()
    };
    let decode = |encoding: &str, body: &[u8]| -> Vec<u8> {
        let mut out = Vec::new();
        match encoding {
            "br" => brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap(),
            "zstd" => out = zstd::decode_all(body).unwrap(),
            "gzip" => {
                flate2::read::GzDecoder::new(body).read_to_end(&mut out).unwrap();
            }
            other => panic!("{other}"),
        }
        out
    };
    let compressions = |encoding: &'static str| {
        let app = &app;
        async move {
            let text = app.get("/metrics").await.text().await.unwrap();
            sample(
                &scrape(&text),
                "revenue_static_compressions_total",
                &[("encoding", encoding)],
            )
        }
    };
    for (accept, encoding) in [
        ("gzip, deflate, br, zstd", "br"),
        ("zstd, gzip", "zstd"),
        ("gzip", "gzip"),
    ] {
        for round in 0..3 {
            let res = fetch("/frontend-0123abcd_bg.wasm", Some(accept)).await.unwrap();
            assert_eq!(res.status().as_u16(), 200);
            assert_eq!(res.headers()["content-encoding"], encoding);
            assert_eq!(res.headers()["content-type"], "application/wasm");
            assert!(res.headers()["cache-control"].to_str().unwrap().contains("immutable"));
            let body = res.bytes().await.unwrap();
            assert!(body.len() < wasm.len() / 4, "{encoding}: {} bytes", body.len());
            assert_eq!(decode(encoding, &body), wasm, "{encoding}");
            // Compressed once, whatever the number of requests.
            assert_eq!(compressions(encoding).await, 1.0, "{encoding}, request {round}");
        }
    }
    let plain = fetch("/frontend-0123abcd_bg.wasm", None).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.unwrap(), wasm);
    assert_eq!(
        fetch("/frontend-ffff_bg.wasm", Some("br"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    // The API, on the fly.
    for encoding in ["br", "zstd", "gzip"] {
        let res = fetch("/reports/top-users?limit=50", Some(encoding)).await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.headers()["content-encoding"], encoding);
        let body = decode(encoding, &res.bytes().await.unwrap());
        let _: Value = serde_json::from_slice(&body).unwrap();
    }
    // Images are not compressed again; a client that refuses every coding,
    // identity included, is told which ones there are.
    let res = fetch("/logo.png", Some("gzip")).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.bytes().await.unwrap().len(), 20_000);
    let res = fetch("/reports/top-users", Some("identity;q=0")).await.unwrap();
    assert_eq!(res.status().as_u16(), 406);
    assert_eq!(res.text().await.unwrap(), "br, gzip, deflate, zstd");
}

/// `scripts/run.sh --plan` says what a first run will install and build, and
/// how long it typically takes, before anything starts (a fresh clone once
/// met 37 minutes of compiler output with no word of what was happening); it
/// builds nothing and touches no database.
#[test]
fn run_script_states_its_plan() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/run.sh"))
        .arg("--plan")
        .env("CARGO_TARGET_DIR", root.join("target/run-plan-test-absent"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let steps: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).collect();
    assert_eq!(steps.len(), 3, "{text}");
    // Minutes on a machine without the WebAssembly tools, seconds with them.
    assert!(
        steps[0].contains("dashboard") && (steps[0].contains("minutes") || steps[0].contains("seconds")),
        "{text}"
    );
    // No release binary in that target folder: the plan says it compiles one.
    assert!(
        steps[1].contains("compile the release binary") && steps[1].contains("minutes"),
        "{text}"
    );
    assert!(
        steps[2].contains("http://127.0.0.1:8080/") && steps[2].contains("input/"),
        "{text}"
    );
    assert!(
        !root.join("target/run-plan-test-absent").exists(),
        "--plan built something"
    );
}
