//! HEAD answers like GET without a body, on every endpoint, even while the
//! database is down.

use serde_json::Value;

use crate::both;
use crate::helpers::{realistic_input, Engine, TestApp, TestDb};

/// HEAD answers like GET on every API path, never from the dashboard's page;
/// another method is a JSON 405.
async fn head_and_methods(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    // A server with a dashboard, whose fallback page must not answer API paths.
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>dashboard</html>").unwrap();
    let mut settings = backend::startup::ServeSettings::new("127.0.0.1:0");
    settings.static_dir = Some(dist.path().to_owned());
    settings.workers = Some(1);
    let server = backend::startup::Application::build(&settings, t.db.clone())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    let client = reqwest::Client::new();
    for path in [
        "/reports/meta",
        "/reports/top-users?format=csv",
        "/quality",
        "/ingests",
        "/health/ready",
        "/openapi.json",
    ] {
        let get = client.get(format!("{base}{path}")).send().await.unwrap();
        let head = client.head(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has a body");
    }
    // The dashboard's routes get its page; a file it does not have does not.
    for (path, status) in [
        ("/recurring-revenue", 200),
        ("/runs/7", 200),
        ("/favicon.ico", 404),
        ("/a/b.txt", 404),
    ] {
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        let html = res.headers()["content-type"].to_str().unwrap().starts_with("text/html");
        assert_eq!(html, status == 200, "{path}: the dashboard's page only for its routes");
    }
    for path in ["/reports/nothing", "/quality/x", "/ingests/1/nothing", "/health/x"] {
        for head in [false, true] {
            let req = if head {
                client.head(format!("{base}{path}"))
            } else {
                client.get(format!("{base}{path}"))
            };
            let res = req.send().await.unwrap();
            assert_eq!(res.status().as_u16(), 404, "{path} head={head}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/problem+json"),
                "{path} head={head}: the dashboard answered"
            );
        }
    }
    let post = client.post(format!("{base}/quality")).send().await.unwrap();
    assert_eq!(post.status().as_u16(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    assert_eq!(post.json::<Value>().await.unwrap()["error"], "method_not_allowed");
    // Paths that take more than reads say so.
    for (path, allow) in [("/ingests", "GET, HEAD, POST"), ("/session", "GET, HEAD, POST, DELETE")] {
        let put = client.put(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(put.status().as_u16(), 405, "PUT {path}");
        assert_eq!(put.headers()["allow"], allow, "PUT {path}");
    }
    // The dashboard still answers its own routes.
    let page = client.get(format!("{base}/runs/3")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("dashboard"));
}
both!(head_requests, head_and_methods);

/// HEAD /health/ready tells the truth when the database is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_ready_when_the_database_is_down() {
    let t = TestDb::new(Engine::Sqlite).await;
    let app = TestApp::spawn(&t.db).await;
    t.db.clone().close().await.unwrap();
    let head = app
        .client
        .head(format!("{}/health/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 503);
}
