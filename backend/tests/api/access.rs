//! Access control on a real server: tokens and roles, the dashboard's
//! session cookie, the failure limit, open mode, and the start-up refusal.

use std::time::Duration;

use backend::auth::{tokens, Role};
use backend::startup::ServeSettings;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE, WWW_AUTHENTICATE};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{realistic_input, Engine, TestApp, TestDb};

/// A new token's text.
pub async fn token(t: &TestDb, name: &str, role: Role) -> String {
    use migration::MigratorTrait;
    migration::Migrator::up(&t.db, None).await.unwrap();
    tokens::create(&t.db, name, role)
        .await
        .unwrap()
        .token
        .expose_secret()
        .to_owned()
}

/// A server that reads the tokens again after 20 ms (a revocation shows at once).
pub async fn app(t: &TestDb) -> TestApp {
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.auth.recheck = Duration::from_millis(20);
    TestApp::spawn_settings(&t.db, settings).await
}

impl TestApp {
    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Signs in with `token`: the session cookie (`name=value`) and the response.
    pub async fn sign_in(&self, token: &str) -> (Option<String>, reqwest::Response) {
        let res = self
            .client
            .post(format!("{}/session", self.address))
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap();
        let cookie = res
            .headers()
            .get(SET_COOKIE)
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
        (cookie, res)
    }
}

/// Create, use, list, revoke.
async fn token_lifecycle(engine: Engine) {
    token_lifecycle_on(&TestDb::new(engine).await).await;
}
both!(tokens_lifecycle, token_lifecycle);

/// Create, use, list, revoke, on `t` (an empty database of any engine).
pub async fn token_lifecycle_on(t: &TestDb) {
    t.ingest(&realistic_input()).await.unwrap();
    let app = app(t).await;
    let reader = token(t, "grafana", Role::Reader).await;
    assert!(reader.starts_with("rak_") && reader.len() == 68, "{reader}");
    assert!(reader[4..].bytes().all(|b| b.is_ascii_hexdigit()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(app.get("/reports/meta").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get_as("/reports/meta", &reader).await.status(), StatusCode::OK);
    // The database holds its hash, never the token; the list never shows it.
    let stored = tokens::list(&t.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, reader);
    assert!(!stored[0].token_hash.contains(&reader[4..]));
    let listed = tokens::render_list(&stored);
    assert!(listed.contains("grafana") && listed.contains("reader"), "{listed}");
    assert!(!listed.contains(&reader), "{listed}");
    assert!(listed.contains(&format!("…{}", &reader[64..])), "{listed}");
    // A second token of the same name is refused while the first is active.
    assert!(matches!(
        tokens::create(&t.db, "grafana", Role::Admin).await,
        Err(tokens::TokenError::NameTaken(_))
    ));
    // last_used_at is written in the background.
    let mut used = false;
    for _ in 0..100 {
        if tokens::list(&t.db).await.unwrap()[0].last_used_at.is_some() {
            used = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(used, "last_used_at was not recorded");
    // Revoked: 401 on the next recheck, and the name is free again.
    tokens::revoke(&t.db, "grafana").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let res = app.get_as("/reports/meta", &reader).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()[WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .contains(r#"error="invalid_token""#));
    assert!(matches!(
        tokens::revoke(&t.db, "grafana").await,
        Err(tokens::TokenError::NoSuchToken(_))
    ));
    let again = token(t, "grafana", Role::Reader).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(app.get_as("/reports/meta", &again).await.status(), StatusCode::OK);
    assert_eq!(
        app.get_as("/reports/meta", &reader).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Each role on each kind of endpoint; 401 and 403 with their headers.
async fn roles_on_endpoints(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let reader = token(&t, "reader", Role::Reader).await;
    let admin = token(&t, "admin", Role::Admin).await;
    let app = app(&t).await;
    let reads = [
        "/reports/meta",
        "/reports/monthly-transactions",
        "/reports/revenue-growth",
        "/reports/top-products",
        "/reports/top-users",
        "/quality",
        "/quality/history",
        "/ingests",
        "/ingests/1",
        "/ingests/1/rejections",
    ];
    for path in reads {
        let anonymous = app.get(path).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            anonymous.headers()[WWW_AUTHENTICATE],
            r#"Bearer realm="revenue-analytics""#,
            "{path}"
        );
        assert_eq!(anonymous.json::<Value>().await.unwrap()["error"], "unauthorized");
        for who in [&reader, &admin] {
            assert_eq!(app.get_as(path, who).await.status(), StatusCode::OK, "{path}");
        }
    }
    // An unknown API path needs a token before it is a 404 (no probing).
    assert_eq!(app.get("/reports/secret").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get_as("/reports/secret", &reader).await.status(),
        StatusCode::NOT_FOUND
    );
    // Public: health, the contract, its page, who-am-I's 401.
    for path in ["/health/live", "/health/ready", "/openapi.json", "/docs"] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(app.get("/session").await.status(), StatusCode::UNAUTHORIZED);
    let me: Value = app.get_as("/session", &reader).await.json().await.unwrap();
    assert_eq!(
        me,
        json!({"name": "reader", "role": "reader", "via": "token", "expires_at": null})
    );
    // Uploading: admin only (the reader is refused before the body is read).
    let upload = |who: Option<&String>| {
        let mut req = app.client.post(format!("{}/ingests", app.address)).multipart(
            reqwest::multipart::Form::new().text("mode", "append").part(
                "users",
                reqwest::multipart::Part::text("Customer ID\tCustomer Name\tCustomer Email\r\nc1\tAnn\ta@x.test\r\n")
                    .file_name("users.csv"),
            ),
        );
        if let Some(token) = who {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    assert_eq!(upload(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let forbidden = upload(Some(&reader)).await.unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(forbidden.json::<Value>().await.unwrap()["error"], "forbidden");
    let accepted = upload(Some(&admin)).await.unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    // A header that is not `Bearer <token>`, and a wrong token.
    for header in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer rak_00", "bearer  "] {
        let res = app
            .client
            .get(format!("{}/reports/meta", app.address))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{header}");
    }
    // The scheme is case-insensitive.
    let res = app
        .client
        .get(format!("{}/reports/meta", app.address))
        .header("Authorization", format!("bEaReR {reader}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
both!(roles, roles_on_endpoints);

/// 20 failures a minute per address, then 429 with Retry-After — for a right
/// token too, so that guessing is no faster than the limit.
async fn failures_are_limited(engine: Engine) {
    let t = TestDb::new(engine).await;
    let admin = token(&t, "admin", Role::Admin).await;
    let app = app(&t).await;
    for i in 0..20 {
        let res = app.get_as("/health/live", "whatever").await;
        assert_eq!(res.status(), StatusCode::OK, "public paths do not look at tokens");
        let res = app.get_as("/quality", &format!("rak_{i:064}")).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = app.get_as("/quality", "rak_wrong").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "too_many_requests");
    assert_eq!(
        app.get_as("/quality", &admin).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Sign-in attempts are limited the same way.
    let (_, res) = app.sign_in(&admin).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // Requests without credentials are not attempts.
    assert_eq!(app.get("/quality").await.status(), StatusCode::UNAUTHORIZED);
    // The block ends.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_ne!(
        app.get_as("/quality", &admin).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
both!(failure_limit, failures_are_limited);

/// Behind a trusted reverse proxy the limit applies to each client its
/// X-Forwarded-For names; without one configured, the header is ignored
/// (a client could write any address there to escape the limit).
async fn failures_are_limited_per_client_behind_a_proxy(engine: Engine) {
    let t = TestDb::new(engine).await;
    let admin = token(&t, "admin", Role::Admin).await;
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.auth.failures_per_minute = std::num::NonZeroU32::new(3).unwrap();
    let direct = TestApp::spawn_settings(&t.db, settings.clone()).await;
    settings.auth.trusted_proxies = vec![backend::auth::client::parse_proxy("127.0.0.1").unwrap()];
    let proxied = TestApp::spawn_settings(&t.db, settings).await;
    let attempt = |app: &TestApp, from: &'static str, token: String| {
        app.client
            .get(format!("{}/quality", app.address))
            .bearer_auth(token)
            .header("X-Forwarded-For", from)
            .send()
    };
    for app in [&direct, &proxied] {
        // The burst of three failures, then the one over it.
        for expected in [401, 401, 401, 429] {
            let res = attempt(app, "203.0.113.5", "rak_wrong".to_owned()).await.unwrap();
            assert_eq!(res.status().as_u16(), expected);
        }
        let res = attempt(app, "203.0.113.5", admin.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // Another client: blocked too where the header is not believed (all the
    // attempts came from one peer), let in behind the trusted proxy.
    let other = |app| attempt(app, "198.51.100.7", admin.clone());
    assert_eq!(other(&direct).await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    // (404: authorized, and nothing is loaded yet.)
    assert_eq!(other(&proxied).await.unwrap().status(), StatusCode::NOT_FOUND);
    // A forged address in front of the proxy's own entry changes nothing.
    let res = attempt(&proxied, "198.51.100.7, 203.0.113.5", admin.clone())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}
both!(
    failure_limit_behind_proxy,
    failures_are_limited_per_client_behind_a_proxy
);

/// No token at all on a loopback address: everything is open, and says so.
async fn open_mode_on_loopback(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = app(&t).await;
    assert_eq!(app.get("/reports/meta").await.status(), StatusCode::OK);
    assert_eq!(app.get("/ingests/1/rejections").await.status(), StatusCode::OK);
    let me: Value = app.json("/session").await;
    assert_eq!(me["via"], "anonymous");
    assert_eq!(me["role"], "admin");
    // A wrong token is still wrong.
    assert_eq!(
        app.get_as("/reports/meta", "rak_nope").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A session cookie of another server of this host is ignored (no session
    // is valid here), not refused.
    let stale = app
        .client
        .get(format!("{}/reports/meta", app.address))
        .header("cookie", "ra_session=v1.1.abc.9999999999.bad")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);
    // The first token ends open mode on the running server.
    token(&t, "first", Role::Reader).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(app.get("/reports/meta").await.status(), StatusCode::UNAUTHORIZED);
}
both!(open_mode, open_mode_on_loopback);

/// Open mode is refused on a non-loopback address unless allowed. The
/// address (TEST-NET-1) is not this machine's: when the check passes, binding
/// fails — so nothing ever listens beyond 127.0.0.1.
async fn no_anonymous_on_public_addresses(engine: Engine) {
    use backend::startup::{Application, StartError};
    use migration::MigratorTrait;
    let t = TestDb::new(engine).await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    let mut settings = ServeSettings::new("192.0.2.1:0");
    let refused = Application::build(&settings, t.db.clone()).await.err().unwrap();
    assert!(matches!(refused, StartError::Access(_)), "{refused}");
    assert!(refused.to_string().contains("--allow-anonymous"), "{refused}");
    for bind in ["0.0.0.0:0", "[::]:0"] {
        settings.bind = bind.to_owned();
        let refused = Application::build(&settings, t.db.clone()).await.err().unwrap();
        assert!(matches!(refused, StartError::Access(_)), "{bind}: {refused}");
    }
    settings.bind = "192.0.2.1:0".to_owned();
    settings.auth.allow_anonymous = true;
    let passed = Application::build(&settings, t.db.clone()).await.err().unwrap();
    assert!(matches!(passed, StartError::Listen { .. }), "{passed}");
    settings.auth.allow_anonymous = false;
    token(&t, "ops", Role::Admin).await;
    let passed = Application::build(&settings, t.db.clone()).await.err().unwrap();
    assert!(matches!(passed, StartError::Listen { .. }), "{passed}");
}
both!(public_bind, no_anonymous_on_public_addresses);

/// The session cookie's flags, what it grants, sign-out, and the refusal of
/// cross-site changes made with it.
async fn session_cookie(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let admin = token(&t, "analyst", Role::Admin).await;
    let app = app(&t).await;
    let own_origin = app.address.clone();
    let (cookie, res) = app.sign_in(&admin).await;
    assert_eq!(res.status(), StatusCode::OK);
    let set = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set.contains(flag), "{flag} missing: {set}");
    }
    assert!(!set.contains("Secure"), "Secure over plain HTTP: {set}");
    let max_age: i64 = set
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((12 * 3600 - 5..=12 * 3600).contains(&max_age), "{max_age}");
    assert!(!set.contains(&admin), "the token is in the cookie");
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["name"], "analyst");
    assert_eq!(info["via"], "session");
    assert!(info["expires_at"].as_str().unwrap().ends_with('Z'));
    let cookie = cookie.unwrap();
    let with_cookie = |path: &str| {
        app.client
            .get(format!("{}{path}", app.address))
            .header(COOKIE, cookie.clone())
            .send()
    };
    assert_eq!(with_cookie("/reports/meta").await.unwrap().status(), StatusCode::OK);
    // A cross-site POST carrying the cookie is refused, and starts nothing.
    let runs_before = t.scalar_i64("SELECT COUNT(*) FROM etl_run").await;
    let users = "Customer ID\tCustomer Name\tCustomer Email\r\nc1\tAnn\ta@x.test\r\n";
    let post = |origin: Option<&str>| {
        let mut req = app
            .client
            .post(format!("{}/ingests", app.address))
            .header(COOKIE, cookie.clone())
            .multipart(
                reqwest::multipart::Form::new()
                    .text("mode", "append")
                    .part("users", reqwest::multipart::Part::text(users).file_name("users.csv")),
            );
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        req.send()
    };
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let res = post(origin).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "Origin {origin:?}");
        assert!(res.text().await.unwrap().contains("cross-site"));
    }
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM etl_run").await, runs_before);
    // The same request from the dashboard's own origin is accepted.
    assert_eq!(post(Some(&own_origin)).await.unwrap().status(), StatusCode::ACCEPTED);
    // A sign-in posted from another site's page is refused.
    let res = app
        .client
        .post(format!("{}/session", app.address))
        .header(ORIGIN, "https://evil.example")
        .json(&json!({ "token": admin }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A forged cookie is an invalid credential.
    let forged = format!("{}0", &cookie[..cookie.len() - 1]);
    let forged = if forged == cookie {
        format!("{}1", &cookie[..cookie.len() - 1])
    } else {
        forged
    };
    let res = app
        .client
        .get(format!("{}/reports/meta", app.address))
        .header(COOKIE, forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Signing out: cross-site refused; from the dashboard it deletes the
    // cookie and ends the session on the server (a copy of the cookie is dead).
    let out = app
        .client
        .delete(format!("{}/session", app.address))
        .header(COOKIE, cookie.clone())
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::FORBIDDEN);
    assert_eq!(with_cookie("/reports/meta").await.unwrap().status(), StatusCode::OK);
    let out = app
        .client
        .delete(format!("{}/session", app.address))
        .header(COOKIE, cookie.clone())
        .header(ORIGIN, own_origin.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let removal = out.headers()[SET_COOKIE].to_str().unwrap();
    assert!(
        removal.starts_with("ra_session=;") && removal.contains("Max-Age=0"),
        "{removal}"
    );
    let res = with_cookie("/reports/meta").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("signed out"));
    // Revoking the token ends its other sessions.
    let (second, _) = app.sign_in(&admin).await;
    let second = second.unwrap();
    let get = |c: String| {
        app.client
            .get(format!("{}/quality", app.address))
            .header(COOKIE, c)
            .send()
    };
    assert_eq!(get(second.clone()).await.unwrap().status(), StatusCode::OK);
    tokens::revoke(&t.db, "analyst").await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(get(second).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Bad bodies are 400s that never quote the body.
    for body in [
        format!("\"{admin}\""),
        "{}".to_owned(),
        format!("{{\"token\": [\"{admin}\"]}}"),
    ] {
        let res = app
            .client
            .post(format!("{}/session", app.address))
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(!res.text().await.unwrap().contains(&admin[4..]), "{body}");
    }
}
both!(sessions, session_cookie);

/// Tokens never reach the logs, on a real server process with debug logging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_not_logged() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let backend = env!("CARGO_BIN_EXE_backend");
    let created = Command::new(backend)
        .args(["token", "create", "--name", "ops", "--role", "admin"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    assert!(created.status.success());
    let stdout = String::from_utf8(created.stdout).unwrap();
    let token = stdout
        .split_whitespace()
        .find(|w| w.starts_with("rak_"))
        .unwrap()
        .to_owned();
    let create_logs = String::from_utf8(created.stderr).unwrap();
    assert!(!create_logs.contains(&token[4..]), "{create_logs}");
    let listed = Command::new(backend)
        .args(["token", "list"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&token[4..]));

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Command::new(backend)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--static-dir",
            "/nonexistent",
        ])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "debug")
        .env("REQUEST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{base}/health/live")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start");
    let wrong = format!("{}ffff", &token[..64]);
    for t in [&token, &wrong] {
        let _ = client
            .get(format!("{base}/reports/meta"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        let _ = client
            .get(format!("{base}/reports/{t}"))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        let _ = client
            .post(format!("{base}/session"))
            .json(&json!({ "token": t }))
            .send()
            .await
            .unwrap();
        let _ = client
            .post(format!("{base}/session"))
            .header("Content-Type", "application/json")
            .body(format!("\"{t}\""))
            .send()
            .await
            .unwrap();
    }
    let _ = server.kill();
    let out = server.wait_with_output().unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(logs.contains("/reports/meta"), "no request logs: {logs}");
    assert!(logs.contains("signed in"), "{logs}");
    // Neither the token nor the wrong one (nor its secret part) appears.
    assert!(!logs.contains(&token[4..]), "token leaked: {logs}");
    assert!(!logs.contains(&wrong[4..]), "token leaked: {logs}");
}
