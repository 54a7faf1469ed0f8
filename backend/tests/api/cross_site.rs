//! Other web pages against a server on the user's machine: cross-site
//! changes in open mode, rebound host names (DNS rebinding), and forwarding
//! headers written by the client instead of a trusted proxy.

use std::time::Duration;

use backend::auth::site::AllowedHosts;
use backend::auth::Role;
use backend::startup::ServeSettings;
use reqwest::header::{COOKIE, HOST, ORIGIN, REFERER};
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;

use crate::access::token;
use crate::both;
use crate::helpers::{fixture, realistic_input, Engine, TestApp, TestDb};

/// A replace of one row per file, forced: what the attack in issue 20 sent.
fn wiping_form() -> Form {
    let tiny = fixture(
        &["s1\tp1\tChat\tmonth\t10\tactive"],
        &["1/2/24 10:00\tt1\tc1\ts1\t10\tusd"],
        &["c1\tAnn\ta@x.test"],
    );
    let mut form = Form::new().text("mode", "replace").text("force", "true");
    for name in ["products", "transactions", "users"] {
        let bytes = std::fs::read(tiny.path().join(format!("{name}.csv"))).unwrap();
        form = form.part(name, Part::bytes(bytes).file_name(format!("{name}.csv")));
    }
    form
}

async fn server(t: &TestDb, allowed: &[&str], trusted_proxies: &[&str]) -> TestApp {
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.cache_recheck = Duration::from_millis(50);
    let names: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
    settings.allowed_hosts = AllowedHosts::from_names(&names).unwrap();
    settings.auth.trusted_proxies = trusted_proxies
        .iter()
        .map(|p| backend::auth::client::parse_proxy(p).unwrap())
        .collect();
    settings.auth.recheck = Duration::from_millis(20);
    TestApp::spawn_settings(&t.db, settings).await
}

async fn runs(t: &TestDb) -> i64 {
    t.scalar_i64("SELECT COUNT(*) FROM etl_run").await
}

/// Open mode (no token): a page of another site cannot upload; the
/// dashboard's own page and a client that is not a browser can.
async fn open_mode_refuses_other_sites(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = server(&t, &[], &[]).await;
    let customers = t.scalar_i64("SELECT COUNT(*) FROM dim_user").await;
    let before = runs(&t).await;
    let post = |headers: &[(reqwest::header::HeaderName, &str)]| {
        let mut req = app
            .client
            .post(format!("{}/ingests", app.address))
            .multipart(wiping_form());
        for (name, value) in headers {
            req = req.header(name.clone(), *value);
        }
        req.send()
    };
    let fetch_site = reqwest::header::HeaderName::from_static("sec-fetch-site");
    for headers in [
        vec![(ORIGIN, "https://evil.example")],
        vec![(ORIGIN, "null")],
        // Another port of the same host is another site's page too.
        vec![(ORIGIN, "http://127.0.0.1:1")],
        vec![(fetch_site.clone(), "cross-site")],
        vec![(fetch_site.clone(), "same-site")],
        vec![(REFERER, "https://evil.example/page")],
    ] {
        let res = post(&headers).await.unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}: {body}");
        assert!(body.contains("cross-site"), "{body}");
    }
    // Nothing ran, nothing changed.
    assert_eq!(runs(&t).await, before);
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM dim_user").await, customers);
    // Reads stay open (the browser keeps other sites from reading the answer).
    assert_eq!(app.get("/reports/meta").await.status(), StatusCode::OK);
    // The dashboard's own page, by Origin or by fetch metadata, may upload.
    let own = app.address.clone();
    for headers in [
        vec![(ORIGIN, own.as_str())],
        vec![(fetch_site.clone(), "same-origin")],
        vec![(REFERER, &format!("{own}/ingests"))],
        // curl and scripts send none of these headers.
        vec![],
    ] {
        let res = post(&headers).await.unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{headers:?}");
        let run: Value = res.json().await.unwrap();
        let id = run["run_id"].as_i64().unwrap();
        for _ in 0..600 {
            let status = app.json(&format!("/ingests/{id}")).await["status"].clone();
            if status != "running" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(runs(&t).await, before + 4);
}
both!(open_mode_cross_site, open_mode_refuses_other_sites);

/// A name this server does not answer for is refused before routing, for
/// reads and writes, in open mode and with tokens; allowed names pass.
async fn foreign_host_names_are_refused(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = server(&t, &["revenue.example.com"], &[]).await;
    let port = app.address.rsplit(':').next().unwrap().to_owned();
    let before = runs(&t).await;
    let get = |host: String, path: &'static str| {
        app.client
            .get(format!("{}{path}", app.address))
            .header(HOST, host)
            .send()
    };
    for path in ["/reports/meta", "/health/live", "/", "/openapi.json", "/metrics"] {
        let res = get(format!("evil.example:{port}"), path).await.unwrap();
        assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "unknown_host");
        assert!(body["message"].as_str().unwrap().contains("--allowed-host"));
    }
    let res = app
        .client
        .post(format!("{}/ingests", app.address))
        .header(HOST, format!("evil.example:{port}"))
        .header(ORIGIN, format!("http://evil.example:{port}"))
        .multipart(wiping_form())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(runs(&t).await, before);
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "revenue.example.com".to_owned(),
    ] {
        assert_eq!(
            get(host.clone(), "/reports/meta").await.unwrap().status(),
            StatusCode::OK,
            "{host}"
        );
    }
    // With tokens too: the refusal comes before authentication.
    let reader = token(&t, "reader", Role::Reader).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let res = app
        .client
        .get(format!("{}/reports/meta", app.address))
        .header(HOST, "evil.example")
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
}
both!(foreign_hosts, foreign_host_names_are_refused);

/// `X-Forwarded-Host`, `X-Forwarded-Proto` and `Forwarded` from a client
/// that is not a declared proxy do not make another site's page the
/// server's own; from a declared proxy they name the public origin.
async fn forwarding_headers_need_a_trusted_proxy(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let before = runs(&t).await;
    let untrusted = server(&t, &["revenue.example.com"], &[]).await;
    let (cookie, _) = untrusted.sign_in(&admin).await;
    let cookie = cookie.unwrap();
    let post = |app: &TestApp, forwarded: &[(&'static str, &'static str)]| {
        let mut req = app
            .client
            .post(format!("{}/ingests", app.address))
            .header(COOKIE, cookie.clone())
            .header(ORIGIN, "https://revenue.example.com")
            .multipart(wiping_form());
        for (name, value) in forwarded {
            req = req.header(*name, *value);
        }
        req.send()
    };
    let forged: [&[(&str, &str)]; 2] = [
        &[
            ("x-forwarded-host", "revenue.example.com"),
            ("x-forwarded-proto", "https"),
        ],
        &[("forwarded", "host=revenue.example.com;proto=https")],
    ];
    for headers in forged {
        let res = post(&untrusted, headers).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(runs(&t).await, before);
    // A forged X-Forwarded-Proto does not make the cookie Secure either.
    let res = untrusted
        .client
        .post(format!("{}/session", untrusted.address))
        .header("x-forwarded-proto", "https")
        .json(&serde_json::json!({ "token": admin }))
        .send()
        .await
        .unwrap();
    let set = res.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(!set.contains("Secure"), "{set}");
    // Behind a declared proxy (this test is one: 127.0.0.1) they count.
    let proxied = server(&t, &["revenue.example.com"], &["127.0.0.1"]).await;
    let res = post(&proxied, forged[0]).await.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = proxied
        .client
        .post(format!("{}/session", proxied.address))
        .header("x-forwarded-proto", "https")
        .json(&serde_json::json!({ "token": admin }))
        .send()
        .await
        .unwrap();
    assert!(res.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("Secure"));
}
both!(forwarding_headers, forwarding_headers_need_a_trusted_proxy);
