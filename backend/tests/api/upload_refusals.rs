//! Uploads the server cannot take, and what readers of a failed upload see:
//! a full upload disk, a compressed body, and the server's folder kept out
//! of the run's error.

use std::path::Path;
use std::time::Duration;

use backend::startup::ServeSettings;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;

use crate::both;
use crate::helpers::{realistic_input, Engine, TestApp, TestDb};

async fn server(t: &TestDb, dir: &Path) -> TestApp {
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.upload.dir = dir.to_owned();
    TestApp::spawn_settings(&t.db, settings).await
}

fn form(parts: &[(&str, Vec<u8>)]) -> Form {
    let mut form = Form::new().text("mode", "replace");
    for (name, bytes) in parts {
        form = form.part(
            name.to_string(),
            Part::bytes(bytes.clone()).file_name(format!("{name}.csv")),
        );
    }
    form
}

fn real_parts() -> Vec<(&'static str, Vec<u8>)> {
    let input = realistic_input();
    ["products", "transactions", "users"]
        .into_iter()
        .map(|name| (name, std::fs::read(input.join(format!("{name}.csv"))).unwrap()))
        .collect()
}

/// The files left in the upload folder besides the server's own area and lock.
fn left_behind(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut left = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()) {
        if !entry.file_name().to_string_lossy().starts_with("revenue-uploads-") {
            left.push(entry.path());
            continue;
        }
        for inner in std::fs::read_dir(entry.path()).unwrap().map(|e| e.unwrap()) {
            if inner.file_name() != ".lock" {
                left.push(inner.path());
            }
        }
    }
    left
}

/// A 1 MiB tmpfs, unmounted when dropped: a disk that fills up.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        match mounted {
            true => Some(Self { dir }),
            // Mounting needs root (CI runs as root: there it must work).
            false if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("cannot mount a tmpfs under CI"),
            false => {
                eprintln!("SKIPPED: cannot mount a tmpfs (not root): the full-disk upload is not tried");
                None
            }
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

/// An upload larger than the space left: 507 saying so, nothing kept, no
/// run started, and the next upload (that fits) works.
async fn a_full_upload_disk_is_507(engine: Engine) {
    let Some(disk) = SmallDisk::mount() else { return };
    let t = TestDb::new(engine).await;
    let app = server(&t, disk.dir.path()).await;
    let big = vec![b'x'; 3 << 20];
    let res = app
        .client
        .post(format!("{}/ingests", app.address))
        .multipart(form(&[
            ("products", big.clone()),
            ("transactions", big.clone()),
            ("users", big),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INSUFFICIENT_STORAGE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_storage");
    assert!(body["message"].as_str().unwrap().contains("storage is full"), "{body}");
    assert!(!body["message"]
        .as_str()
        .unwrap()
        .contains(&disk.dir.path().display().to_string()));
    assert!(
        left_behind(disk.dir.path()).is_empty(),
        "{:?}",
        left_behind(disk.dir.path())
    );
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM etl_run").await, 0);
}
both!(full_upload_disk, a_full_upload_disk_is_507);

/// A compressed body is named as such (415), not "not a complete multipart upload".
async fn a_compressed_upload_is_415(engine: Engine) {
    let t = TestDb::new(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let app = server(&t, dir.path()).await;
    for encoding in ["gzip", "br", "deflate, gzip"] {
        let res = app
            .client
            .post(format!("{}/ingests", app.address))
            .header("content-encoding", encoding)
            .multipart(form(&real_parts()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{encoding}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "unsupported_content_encoding");
        assert!(body["message"].as_str().unwrap().contains(encoding), "{body}");
    }
    assert!(left_behind(dir.path()).is_empty());
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM etl_run").await, 0);
}
both!(compressed_upload, a_compressed_upload_is_415);

/// A failed upload's error names its file, never the server's folder.
async fn a_failed_upload_names_its_file(engine: Engine) {
    let t = TestDb::new(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let app = server(&t, dir.path()).await;
    let mut parts = real_parts();
    parts[1].1 = b"Date (UTC)\tTransaction ID\r\n1/2/24 10:00\tt1\r\n".to_vec();
    let res = app
        .client
        .post(format!("{}/ingests", app.address))
        .multipart(form(&parts))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let mut run = Value::Null;
    for _ in 0..600 {
        run = app.json(&format!("/ingests/{id}")).await;
        if run["status"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(run["status"], "failed", "{run}");
    let error = run["error"].as_str().unwrap();
    assert!(error.starts_with("transactions.csv: missing column"), "{error}");
    let folder = dir.path().display().to_string();
    assert!(
        !error.contains(&folder) && !error.contains("revenue-uploads-"),
        "{error}"
    );
}
both!(failed_upload_error, a_failed_upload_names_its_file);

/// The run of an upload, once it ended.
async fn ended_run(app: &TestApp, res: reqwest::Response) -> Value {
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    for _ in 0..600 {
        let run = app.json(&format!("/ingests/{id}")).await;
        if run["status"] != "running" {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} still running after 30 s");
}

/// A refused upload says what its caller can do — the server's setting and
/// an admin's "load anyway", not a command-line flag it cannot pass — and
/// the same files sent again with `force` load, recorded as forced.
async fn a_refused_upload_can_be_forced(engine: Engine) {
    let t = TestDb::new(engine).await;
    let dir = tempfile::tempdir().unwrap();
    let app = server(&t, dir.path()).await;
    let mut parts = real_parts();
    let text = String::from_utf8(parts[1].1.clone()).unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .take(41)
        .map(|l| l.trim_end_matches('\r').to_owned())
        .collect();
    // Ten rows of forty with an amount that is not one: 20% rejected.
    for line in lines.iter_mut().skip(1).step_by(4) {
        let mut fields: Vec<&str> = line.split('\t').collect();
        fields[4] = "twelve";
        *line = fields.join("\t");
    }
    parts[1].1 = (lines.join("\r\n") + "\r\n").into_bytes();
    let send = |force: bool| {
        let mut form = form(&parts);
        if force {
            form = form.text("force", "true");
        }
        app.client
            .post(format!("{}/ingests", app.address))
            .multipart(form)
            .send()
    };

    let refused = ended_run(&app, send(false).await.unwrap()).await;
    assert_eq!(refused["status"], "refused", "{refused}");
    assert_eq!(refused["forced"], false);
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "transactions.csv: 10 of 40 rows rejected (25.00%), more than the server's max-reject-pct of 5%;"
        ),
        "{error}"
    );
    assert!(
        error.ends_with("an admin can load it anyway (the upload's force)"),
        "{error}"
    );
    assert!(
        !error.contains("--"),
        "an upload is told of a flag it cannot pass: {error}"
    );
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 0);

    let forced = ended_run(&app, send(true).await.unwrap()).await;
    assert_eq!(forced["status"], "succeeded", "{forced}");
    assert_eq!(forced["forced"], true, "{forced}");
    let loaded = forced["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "transactions.csv")
        .unwrap()["loaded"]
        .as_i64()
        .unwrap();
    assert!(loaded > 0, "{forced}");
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, loaded);
}
both!(forced_upload, a_refused_upload_can_be_forced);
