//! The malformed-input corpus (`tests/corpus/`, written by its `make.py`):
//! every case on both engines, after loading the base export. A case either
//! loads with exactly the counts it expects — and every physical line of every
//! file accounted for — or is refused or fails with the message it expects,
//! leaving the base data as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use backend::etl::{IngestOptions, RunStatus, RunSummary};
use serde_json::Value;

use crate::both;
use crate::helpers::{Engine, TestDb};

const FILES: [&str; 3] = ["products.csv", "transactions.csv", "users.csv"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Data lines of a file, counted independently of the ETL: lines split on
/// CRLF, LF or CR alone, minus the header and blank lines.
fn data_lines(bytes: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(bytes);
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.split('\n').skip(1).filter(|l| !l.trim().is_empty()).count() as u64
}

async fn snapshot(t: &TestDb) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM fct_transaction",
        "SELECT COALESCE(CAST(SUM(total_cents) AS BIGINT), 0) FROM fct_transaction",
        "SELECT COUNT(*) FROM dim_user",
        "SELECT COUNT(*) FROM dim_product",
        "SELECT COALESCE(CAST(SUM(revenue_cents) AS BIGINT), 0) FROM agg_monthly",
    ] {
        out.push(t.scalar_i64(sql).await);
    }
    out
}

/// What one case found wrong (empty: as expected).
async fn run_case(t: &TestDb, case: &Path, base: &[i64]) -> Vec<String> {
    let expect: Value = serde_json::from_str(&std::fs::read_to_string(case.join("expect.json")).unwrap()).unwrap();
    let input = tempfile::tempdir().unwrap();
    for file in FILES {
        let own = case.join(file);
        let from = if own.exists() {
            own
        } else {
            corpus().join("_base").join(file)
        };
        std::fs::copy(from, input.path().join(file)).unwrap();
    }
    let mut options = IngestOptions::replace(input.path());
    options.guard.min_keep_pct = "0".parse().unwrap();
    options.guard.max_reject_pct = expect["max_reject_pct"].as_str().unwrap_or("100").parse().unwrap();
    let mut problems = Vec::new();
    let want = expect["status"].as_str().unwrap();
    let message = expect["message"].as_str();
    let outcome = t.run(&options).await;
    let summary: Option<RunSummary> = match (&outcome, want) {
        (Err(e), "failed") => {
            let text = e.to_string();
            if message.is_some_and(|m| !text.contains(m)) {
                problems.push(format!("error {text:?} lacks {message:?}"));
            }
            if text.len() > 600 {
                problems.push(format!("error message of {} bytes", text.len()));
            }
            None
        }
        (Err(e), _) => {
            problems.push(format!("failed ({e}), expected {want}"));
            None
        }
        (Ok(s), want) => {
            let got = match s.status {
                RunStatus::Succeeded => "succeeded",
                RunStatus::Refused => "refused",
                other => other.as_str(),
            };
            if got != want {
                problems.push(format!("{got}, expected {want}:\n{}", s.render()));
            }
            if let Some(m) = message {
                let text = s
                    .refusals
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                if !text.contains(m) {
                    problems.push(format!("refusal {text:?} lacks {m:?}"));
                }
            }
            Some(s.clone())
        }
    };
    if want != "succeeded" && snapshot(t).await != base {
        problems.push("the data changed".to_owned());
    }
    let Some(summary) = summary else {
        return problems;
    };
    for (i, file) in FILES.iter().enumerate() {
        let got = &summary.files[i].counts;
        // Every physical line: read, and read is loaded + duplicates + rejected.
        let lines = data_lines(&std::fs::read(input.path().join(file)).unwrap());
        if got.read != lines {
            problems.push(format!("{file}: read {} of {lines} data lines", got.read));
        }
        if got.read != got.loaded + got.already_loaded + got.duplicates + got.rejected {
            problems.push(format!("{file}: counts do not add up: {got:?}"));
        }
        let Some(want) = expect.get(*file) else { continue };
        for (key, value) in [
            ("read", got.read),
            ("loaded", got.loaded),
            ("duplicates", got.duplicates),
            ("rejected", got.rejected),
        ] {
            if let Some(w) = want.get(key).and_then(Value::as_u64) {
                if w != value {
                    problems.push(format!("{file}: {key} {value}, expected {w}"));
                }
            }
        }
        if let Some(reasons) = want.get("reasons").and_then(Value::as_object) {
            let got: BTreeMap<&str, u64> = summary
                .reasons
                .iter()
                .filter(|r| r.file == *file)
                .map(|r| (r.reason, r.rows))
                .collect();
            let want: BTreeMap<&str, u64> = reasons.iter().map(|(k, v)| (k.as_str(), v.as_u64().unwrap())).collect();
            if got != want {
                problems.push(format!("{file}: reasons {got:?}, expected {want:?}"));
            }
        }
    }
    problems
}

async fn every_case_is_accounted_for(engine: Engine) {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("_base"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 40, "the corpus has {} cases", cases.len());
    let t = TestDb::new(engine).await;
    t.ingest(&corpus().join("_base")).await.unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        // Each case starts from the base data (forced: a case's currencies
        // vanishing is what the guard rails would otherwise refuse).
        let mut restore = IngestOptions::replace(corpus().join("_base"));
        restore.force = true;
        t.committed(&restore).await.unwrap();
        let base = snapshot(&t).await;
        let problems = run_case(&t, case, &base).await;
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}",
                case.file_name().unwrap().to_string_lossy(),
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
both!(malformed_inputs, every_case_is_accounted_for);
