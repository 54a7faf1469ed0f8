//! The endpoint table is the truth: every entry is routed and documented,
//! and no route answers a method the table does not list.

use std::collections::BTreeSet;

use backend::endpoints::{Verb, ENDPOINTS, UNDOCUMENTED};
use reqwest::Method;

use crate::helpers::{realistic_input, Engine, TestApp, TestDb};

/// A concrete path for a route template.
fn concrete(template: &str) -> String {
    template
        .replace("{id}", "1")
        .replace("{month}", "2024-01")
        .replace("{file:.*}", "index.css")
}

fn method(verb: Verb) -> Method {
    match verb {
        Verb::Get => Method::GET,
        Verb::Post => Method::POST,
        Verb::Delete => Method::DELETE,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entry_is_routed_and_no_other_method_is() {
    let t = TestDb::new(Engine::Sqlite).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    for e in ENDPOINTS {
        let url = format!("{}{}", app.address, concrete(e.path));
        let res = app.client.request(method(e.verb), &url).send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(
            !(status == 405 || (status == 404 && body.contains("no such endpoint"))),
            "{:?} {} is in the table but not routed: {status} {body}",
            e.verb,
            e.path
        );
    }
    let paths: BTreeSet<&str> = ENDPOINTS.iter().map(|e| e.path).collect();
    for path in paths {
        for m in [Method::GET, Method::POST, Method::DELETE, Method::PUT, Method::PATCH] {
            let listed = ENDPOINTS.iter().any(|e| e.path == path && method(e.verb) == m);
            if listed {
                continue;
            }
            let res = app
                .client
                .request(m.clone(), format!("{}{}", app.address, concrete(path)))
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status().as_u16(),
                405,
                "{m} {path} is answered but not in the table"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contract_documents_exactly_the_table() {
    let t = TestDb::new(Engine::Sqlite).await;
    let app = TestApp::spawn(&t.db).await;
    let doc: serde_json::Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            if ["get", "post", "delete", "put", "patch", "head"].contains(&m.as_str()) {
                documented.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    let table: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .filter(|e| !UNDOCUMENTED.contains(&e.path))
        .map(|e| (method(e.verb).to_string(), e.path.to_owned()))
        .collect();
    assert_eq!(documented, table, "the OpenAPI paths and the endpoint table differ");
}
