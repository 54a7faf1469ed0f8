//! CSV answers never carry a formula a spreadsheet would run.

use crate::both;
use crate::helpers::{fixture, Engine, TestApp, TestDb};

/// CSV exports neutralise spreadsheet formulas, and keep numbers as they are.
async fn csv_formulas_are_neutralised(engine: Engine) {
    let t = TestDb::new(engine).await;
    let dir = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc2\t\t-3.00\tusd",
        ],
        &[
            "c1\t=HYPERLINK(\"http://evil.test\",\"click\")\tann@x.test",
            "c2\t+cmd|' /C calc'!A0\tb@x.test",
        ],
    );
    t.ingest(dir.path()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let csv = app.get("/reports/top-users?format=csv").await.text().await.unwrap();
    assert!(csv.contains("'=HYPERLINK("), "{csv}");
    assert!(csv.contains("'+cmd"), "{csv}");
    assert!(!csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"), "{csv}");
    assert!(
        csv.contains(",-3.00,") || csv.contains(",10.00,"),
        "numbers stay numbers: {csv}"
    );
}
both!(csv_injection, csv_formulas_are_neutralised);
