//! The upload form's logic, testable natively: which files a mode needs, the
//! transfer's progress, where an upload stands (sending, running, ended), and
//! what to say about its end or its failure.

use std::rc::Rc;

use api_types::{IngestAccepted, IngestProgress, IngestRun};
use yew::prelude::*;

use crate::api::FetchError;
use crate::format::{bytes, count, duration};
use crate::ingests::{status_label, RunStatus};

/// `mode` of `POST /ingests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UploadMode {
    /// The files are the whole history: the three are needed.
    #[default]
    Replace,
    /// The files add to the data: any of the three.
    Append,
}

impl UploadMode {
    /// The form value the API takes.
    pub fn key(self) -> &'static str {
        match self {
            UploadMode::Replace => "replace",
            UploadMode::Append => "append",
        }
    }

    pub fn parse(value: &str) -> Self {
        match value {
            "append" => UploadMode::Append,
            _ => UploadMode::Replace,
        }
    }
}

/// One of the three export files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFile {
    Products,
    Transactions,
    Users,
}

impl ExportFile {
    /// In the order of the form (and of the API's parts).
    pub const ALL: [ExportFile; 3] = [ExportFile::Products, ExportFile::Transactions, ExportFile::Users];

    /// The form part's name.
    pub fn part(self) -> &'static str {
        match self {
            ExportFile::Products => "products",
            ExportFile::Transactions => "transactions",
            ExportFile::Users => "users",
        }
    }

    /// The file the export names it.
    pub fn file_name(self) -> &'static str {
        match self {
            ExportFile::Products => "products.csv",
            ExportFile::Transactions => "transactions.csv",
            ExportFile::Users => "users.csv",
        }
    }

    pub fn index(self) -> usize {
        match self {
            ExportFile::Products => 0,
            ExportFile::Transactions => 1,
            ExportFile::Users => 2,
        }
    }
}

/// The files chosen in the form, by [`ExportFile::index`].
pub type Chosen = [bool; 3];

/// Whether the chosen files make an upload in `mode` (the API's rule, told
/// before sending anything): a replace needs the three, an append any.
pub fn check_files(mode: UploadMode, chosen: Chosen) -> Result<(), String> {
    let missing: Vec<&str> = ExportFile::ALL
        .iter()
        .filter(|f| !chosen[f.index()])
        .map(|f| f.file_name())
        .collect();
    match mode {
        UploadMode::Replace if !missing.is_empty() => Err(format!(
            "A replace needs the three files: choose {} too (an append takes any of them).",
            missing.join(" and ")
        )),
        UploadMode::Append if missing.len() == ExportFile::ALL.len() => {
            Err("Choose at least one file to append.".to_owned())
        }
        _ => Ok(()),
    }
}

/// How much of the request body the browser has sent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transfer {
    pub sent: f64,
    pub total: f64,
}

impl Transfer {
    /// 0–100, for a `<progress>`.
    pub fn percent(self) -> u32 {
        if self.total <= 0.0 {
            return 0;
        }
        (self.sent / self.total * 100.0).clamp(0.0, 100.0).floor() as u32
    }

    /// `"1.2 MB of 3.4 MB sent"`.
    pub fn describe(self) -> String {
        format!("{} of {} sent", bytes(self.sent as i64), bytes(self.total as i64))
    }
}

/// A running ingest's progress in a line: `"read transactions (pass 2) · 12,345 rows · 3.2 s"`.
pub fn progress_text(p: &IngestProgress) -> String {
    let mut parts = vec![p.phase.clone()];
    if p.rows > 0 {
        parts.push(format!("{} rows", count(i64::try_from(p.rows).unwrap_or(i64::MAX))));
    }
    parts.push(duration(Some(i64::try_from(p.elapsed_ms).unwrap_or(i64::MAX))));
    parts.join(" · ")
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Upload {
    #[default]
    Idle,
    /// The browser sends the files (`None` before its first progress event).
    Sending(Option<Transfer>),
    /// The API accepted the files; its run goes on (`progress` from `GET /ingests/{id}`).
    Running {
        run_id: i64,
        progress: Option<IngestProgress>,
    },
    /// The run ended (whatever its status).
    Ended(Rc<IngestRun>),
    /// The upload was refused or broke off; `run_id` when it was accepted
    /// and only following it failed (the run goes on on the server).
    Failed { error: FetchError, run_id: Option<i64> },
}

/// What happens to an upload.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadEvent {
    Start,
    Sent(Transfer),
    Accepted(IngestAccepted),
    /// `GET /ingests/{id}` answered.
    Polled(IngestRun),
    Failed(FetchError),
}

impl Reducible for Upload {
    type Action = UploadEvent;

    fn reduce(self: Rc<Self>, event: UploadEvent) -> Rc<Self> {
        let run_id = match &*self {
            Upload::Running { run_id, .. } => Some(*run_id),
            _ => None,
        };
        Rc::new(match event {
            UploadEvent::Start => Upload::Sending(None),
            UploadEvent::Sent(t) => match &*self {
                Upload::Sending(_) => Upload::Sending(Some(t)),
                // A late progress event after the answer changes nothing.
                _ => return self,
            },
            UploadEvent::Accepted(a) => Upload::Running {
                run_id: a.run_id,
                progress: None,
            },
            UploadEvent::Polled(run) if run.status == RunStatus::Running => Upload::Running {
                run_id: run.id,
                progress: run.progress,
            },
            UploadEvent::Polled(run) => Upload::Ended(Rc::new(run)),
            UploadEvent::Failed(error) => Upload::Failed { error, run_id },
        })
    }
}

impl Upload {
    /// Whether the form is busy (its controls disabled).
    pub fn busy(&self) -> bool {
        matches!(self, Upload::Sending(_) | Upload::Running { .. })
    }
}

/// A failed upload as a heading and the API's sentence.
pub fn failure_title(e: &FetchError) -> &'static str {
    match e.status {
        Some(409) => "Another ingest is running",
        Some(413) => "The files are too large for this server",
        Some(400) => "The server refused the form",
        Some(401) => "You are no longer signed in",
        Some(403) => "Not allowed",
        Some(429) => "Too many failed attempts",
        Some(_) => "The upload failed",
        None => "The upload did not reach the server",
    }
}

/// The end of a run in one sentence: `"Run 7 succeeded: 10,071 rows loaded, 4 rejected."`.
pub fn outcome(run: &IngestRun) -> String {
    let loaded: i64 = run.files.iter().map(|f| f.loaded).sum();
    let rejected: i64 = run.files.iter().map(|f| f.rejected).sum();
    let rows = format!("{} rows loaded, {} rejected", count(loaded), count(rejected));
    let why = run.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
    match run.status {
        RunStatus::Succeeded if !run.data_changed => format!("Run {} succeeded: nothing new to load{why}.", run.id),
        RunStatus::Succeeded => format!("Run {} succeeded: {rows}.", run.id),
        RunStatus::DryRun => format!(
            "Dry run {}: {} rows would be loaded, {} rejected; nothing was changed.",
            run.id,
            count(loaded),
            count(rejected)
        ),
        RunStatus::Refused => format!("Run {} was refused{why}. Nothing was changed.", run.id),
        RunStatus::Failed => format!("Run {} failed{why}. Nothing was changed.", run.id),
        _ => format!("Run {} ended: {}{why}.", run.id, status_label(run.status)),
    }
}

#[cfg(test)]
mod tests {
    use api_types::{IngestFile, IngestMode};

    use super::*;

    fn run(status: &str, error: Option<&str>) -> IngestRun {
        IngestRun {
            id: 7,
            mode: IngestMode::Replace,
            status: status.parse().unwrap(),
            data_changed: status == "succeeded",
            forced: false,
            started_at: "2024-11-02T09:15:03Z".parse().unwrap(),
            finished_at: None,
            duration_ms: None,
            files: ExportFile::ALL
                .iter()
                .map(|f| IngestFile {
                    file: f.file_name().into(),
                    read: 5_000,
                    loaded: 4_998,
                    rejected: 2,
                    ..IngestFile::default()
                })
                .collect(),
            error: error.map(str::to_owned),
            requested_by: Some("token:ops".into()),
            progress: None,
        }
    }

    #[test]
    fn a_replace_needs_the_three_files_an_append_one() {
        assert_eq!(check_files(UploadMode::Replace, [true, true, true]), Ok(()));
        assert_eq!(
            check_files(UploadMode::Replace, [true, false, false]),
            Err("A replace needs the three files: choose transactions.csv and users.csv too (an append takes any of them).".into())
        );
        assert_eq!(check_files(UploadMode::Append, [false, true, false]), Ok(()));
        assert_eq!(
            check_files(UploadMode::Append, [false, false, false]),
            Err("Choose at least one file to append.".into())
        );
        assert_eq!(UploadMode::parse("append").key(), "append");
        assert_eq!(UploadMode::parse("anything").key(), "replace");
        let parts: Vec<&str> = ExportFile::ALL.iter().map(|f| f.part()).collect();
        assert_eq!(parts, ["products", "transactions", "users"]);
    }

    #[test]
    fn transfers_in_percent_and_words() {
        let t = Transfer {
            sent: 512.0 * 1024.0,
            total: 2048.0 * 1024.0,
        };
        assert_eq!(t.percent(), 25);
        assert_eq!(t.describe(), "512.0 KB of 2.0 MB sent");
        assert_eq!(Transfer { sent: 1.0, total: 0.0 }.percent(), 0);
        assert_eq!(Transfer { sent: 9.0, total: 8.0 }.percent(), 100);
    }

    #[test]
    fn progress_in_a_line() {
        let p = IngestProgress {
            phase: "read transactions (pass 2)".into(),
            rows: 12_345,
            elapsed_ms: 3_210,
        };
        assert_eq!(progress_text(&p), "read transactions (pass 2) · 12,345 rows · 3.2 s");
        let p = IngestProgress {
            phase: "commit".into(),
            rows: 0,
            elapsed_ms: 40,
        };
        assert_eq!(progress_text(&p), "commit · 40 ms");
    }

    #[test]
    fn an_upload_is_sent_then_followed_until_its_run_ends() {
        let s = Rc::new(Upload::default());
        assert!(!s.busy());
        let s = s.reduce(UploadEvent::Start);
        assert!(s.busy());
        let t = Transfer { sent: 1.0, total: 2.0 };
        let s = s.reduce(UploadEvent::Sent(t));
        assert_eq!(*s, Upload::Sending(Some(t)));
        let s = s.reduce(UploadEvent::Accepted(IngestAccepted {
            run_id: 7,
            status: RunStatus::Running,
            href: "/ingests/7".into(),
        }));
        assert_eq!(
            *s,
            Upload::Running {
                run_id: 7,
                progress: None
            }
        );
        // A progress event that comes after the answer is ignored.
        let same = s.clone().reduce(UploadEvent::Sent(t));
        assert!(Rc::ptr_eq(&s, &same));
        let mut running = run("running", None);
        running.progress = Some(IngestProgress {
            phase: "load".into(),
            rows: 10,
            elapsed_ms: 5,
        });
        let s = s.reduce(UploadEvent::Polled(running.clone()));
        assert!(matches!(&*s, Upload::Running { run_id: 7, progress: Some(p) } if p.phase == "load"));
        assert!(s.busy());
        // Following the run fails: the error keeps the run's id.
        let lost = FetchError::new("the ingest run", "network error: offline".into());
        let failed = s.clone().reduce(UploadEvent::Failed(lost.clone()));
        assert_eq!(
            *failed,
            Upload::Failed {
                error: lost,
                run_id: Some(7)
            }
        );
        let done = s.reduce(UploadEvent::Polled(run("succeeded", None)));
        assert!(matches!(&*done, Upload::Ended(r) if r.status == RunStatus::Succeeded));
        assert!(!done.busy());
    }

    #[test]
    fn refusals_are_named_by_status() {
        let e = |status: u16| FetchError::from_answer("the upload", status, "", None);
        assert_eq!(failure_title(&e(409)), "Another ingest is running");
        assert_eq!(failure_title(&e(413)), "The files are too large for this server");
        assert_eq!(failure_title(&e(400)), "The server refused the form");
        assert_eq!(failure_title(&e(500)), "The upload failed");
        assert_eq!(
            failure_title(&FetchError::new("the upload", "network error".into())),
            "The upload did not reach the server"
        );
    }

    #[test]
    fn outcomes_in_one_sentence() {
        assert_eq!(
            outcome(&run("succeeded", None)),
            "Run 7 succeeded: 14,994 rows loaded, 6 rejected."
        );
        assert_eq!(
            outcome(&run("refused", Some("transactions.csv: 3 of 21 rows rejected"))),
            "Run 7 was refused: transactions.csv: 3 of 21 rows rejected. Nothing was changed."
        );
        assert_eq!(
            outcome(&run("failed", Some("users.csv: no header"))),
            "Run 7 failed: users.csv: no header. Nothing was changed."
        );
        assert_eq!(
            outcome(&run("dry_run", None)),
            "Dry run 7: 14,994 rows would be loaded, 6 rejected; nothing was changed."
        );
        let mut same = run("succeeded", None);
        same.data_changed = false;
        assert_eq!(outcome(&same), "Run 7 succeeded: nothing new to load.");
        assert_eq!(
            outcome(&run("skipped", Some("every file was ingested before"))),
            "Run 7 ended: skipped: every file was ingested before."
        );
    }
}
