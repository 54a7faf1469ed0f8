//! Text output of the `backend history` command: the run history and one
//! run's files, rejection reasons and rejected rows, as the API serves them.

use std::fmt::Write;

use api_types::{IngestDetail, IngestFile, IngestList, RejectionList, RunStatus};
use sea_orm::DatabaseConnection;

use reports::ingests::{self, IngestListParams, RejectionParams};

fn files_line(files: &[IngestFile]) -> String {
    files
        .iter()
        .map(|f| match f.same_as_run {
            Some(run) => format!("{} skipped (= run {run})", f.file),
            None => format!(
                "{} {}/{}/{}/{}/{}",
                f.file.trim_end_matches(".csv"),
                f.read,
                f.loaded,
                f.already_loaded,
                f.duplicates,
                f.rejected
            ),
        })
        .collect::<Vec<_>>()
        .join("  ")
}

/// The runs, newest first.
pub fn render_list(list: &IngestList) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>5}  {:<8} {:<10} {:<20} {:>9}  files: read/loaded/already/duplicate/rejected",
        "run", "mode", "status", "started (UTC)", "seconds"
    );
    for r in &list.runs {
        let seconds = r
            .duration_ms
            .map_or("-".to_owned(), |ms| format!("{:.1}", ms as f64 / 1000.0));
        let status = if r.status == RunStatus::Succeeded && !r.data_changed {
            "unchanged"
        } else {
            r.status.as_str()
        };
        let _ = writeln!(
            out,
            "{:>5}  {:<8} {:<10} {:<20} {:>9}  {}",
            r.id,
            r.mode,
            status,
            r.started_at.utc().format("%Y-%m-%d %H:%M:%S").to_string(),
            seconds,
            files_line(&r.files)
        );
        if let Some(e) = &r.error {
            let _ = writeln!(out, "{:>7}{e}", "");
        }
    }
    let _ = writeln!(
        out,
        "{} of {} runs (newest first); details: backend history <run>",
        list.runs.len(),
        list.total
    );
    out
}

/// One run with its reasons and (some of) its rejected rows.
pub fn render_detail(detail: &IngestDetail, rejections: &RejectionList) -> String {
    let r = &detail.run;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {} ({}): {}{}, started {}, {}",
        r.id,
        r.mode,
        r.status,
        if r.forced { " (forced)" } else { "" },
        r.started_at,
        r.duration_ms.map_or("unfinished".to_owned(), |ms| format!("{ms} ms"))
    );
    if let Some(e) = &r.error {
        let _ = writeln!(out, "{e}");
    }
    let _ = writeln!(
        out,
        "\n{:<18} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "file", "read", "loaded", "already", "duplicate", "rejected"
    );
    for f in &r.files {
        let _ = writeln!(
            out,
            "{:<18} {:>10} {:>10} {:>10} {:>10} {:>10}{}",
            f.file,
            f.read,
            f.loaded,
            f.already_loaded,
            f.duplicates,
            f.rejected,
            f.same_as_run
                .map_or(String::new(), |run| format!("  skipped: same file as run {run}"))
        );
    }
    if !detail.reasons.is_empty() {
        let _ = writeln!(out, "\nrejected rows, by reason:");
        for reason in &detail.reasons {
            let _ = writeln!(
                out,
                "  {:<18} {:<24} {:>8} rows   first at line {}: {}",
                reason.file, reason.reason, reason.rows, reason.first_line, reason.example
            );
        }
    }
    if let (Some(b), Some(a)) = (&detail.before, &detail.after) {
        let _ = writeln!(
            out,
            "\ntransactions {} → {}, customers {} → {}, products {} → {}",
            b.transactions, a.transactions, b.customers, a.customers, b.products, a.products
        );
    }
    if !rejections.rejections.is_empty() {
        let _ = writeln!(
            out,
            "\nfirst {} of {} rejected rows (e-mail addresses masked):",
            rejections.rejections.len(),
            rejections.total
        );
        for row in &rejections.rejections {
            let _ = writeln!(
                out,
                "  {}:{}  {}  {}\n      {}",
                row.file,
                row.line,
                row.reason,
                row.message,
                row.raw_line.replace('\t', " ⇥ ")
            );
        }
    }
    out
}

/// `backend history [RUN]`.
pub async fn history(db: &DatabaseConnection, run: Option<i64>, limit: u32, rows: u32) -> Result<String, String> {
    match run {
        None => {
            let params = IngestListParams {
                limit: Some(limit.to_string()),
                offset: None,
            };
            let list = ingests::list(db, &params).await.map_err(|e| e.to_string())?;
            Ok(render_list(&list))
        }
        Some(id) => {
            let detail = ingests::detail(db, id).await.map_err(|e| e.to_string())?;
            let params = RejectionParams {
                limit: Some(rows.max(1).to_string()),
                ..Default::default()
            };
            let mut rejections = ingests::rejections(db, id, &params).await.map_err(|e| e.to_string())?;
            if rows == 0 {
                rejections.rejections.clear();
            }
            Ok(render_detail(&detail, &rejections))
        }
    }
}
