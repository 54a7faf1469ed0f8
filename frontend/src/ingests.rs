//! What the ingest pages work out from the API's run data: a run's status as a
//! type, the choices of the rejection filters, and the before → after changes.

use std::collections::BTreeSet;

use api_types::{Currency, DataTotals, IngestFile, Money, RejectionReason};

use crate::format::count;

pub use api_types::RunStatus;

/// How a status is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Neutral,
    Busy,
}

pub fn tone(status: RunStatus) -> Tone {
    match status {
        RunStatus::Succeeded => Tone::Good,
        RunStatus::Failed | RunStatus::Refused => Tone::Bad,
        RunStatus::Running => Tone::Busy,
        RunStatus::DryRun | RunStatus::Skipped | RunStatus::Abandoned => Tone::Neutral,
    }
}

/// The API's status code as words: `dry_run` → `dry run`.
pub fn status_label(status: RunStatus) -> String {
    status.as_str().replace('_', " ")
}

/// One count in a file's summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountPart {
    pub text: String,
    /// Rejected rows: shown as a warning.
    pub warn: bool,
}

/// One file of a run in a line: `21 read · 18 loaded · 3 rejected`. Read and
/// loaded always; the other counts only when not zero, to stay short.
pub fn file_summary(f: &IngestFile) -> Vec<CountPart> {
    let part = |text: String, warn: bool| CountPart { text, warn };
    if let Some(run) = f.same_as_run {
        return vec![part(format!("skipped: same file as run {run}"), false)];
    }
    let mut parts = vec![
        part(format!("{} read", count(f.read)), false),
        part(format!("{} loaded", count(f.loaded)), false),
    ];
    for (n, what) in [
        (f.already_loaded, "already loaded"),
        (f.duplicates, "duplicates"),
        (f.rejected, "rejected"),
    ] {
        if n != 0 {
            parts.push(part(format!("{} {what}", count(n)), what == "rejected"));
        }
    }
    parts
}

/// An option of the reason filter: a code and its rows over the files in scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonChoice {
    pub reason: String,
    pub rows: i64,
}

/// The reasons of `file` (or of every file), most rows first.
pub fn reason_choices(reasons: &[RejectionReason], file: Option<&str>) -> Vec<ReasonChoice> {
    let mut choices: Vec<ReasonChoice> = Vec::new();
    for r in reasons.iter().filter(|r| file.is_none_or(|f| r.file == f)) {
        match choices.iter_mut().find(|c| c.reason == r.reason) {
            Some(c) => c.rows += r.rows,
            None => choices.push(ReasonChoice {
                reason: r.reason.clone(),
                rows: r.rows,
            }),
        }
    }
    choices.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.reason.cmp(&b.reason)));
    choices
}

/// The files with rejected rows, in the order of the run's files.
pub fn files_with_rejections(files: &[IngestFile]) -> Vec<String> {
    files
        .iter()
        .filter(|f| f.rejected > 0)
        .map(|f| f.file.clone())
        .collect()
}

/// One currency's revenue before and after a run (absent: no revenue in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyChange {
    pub currency: Currency,
    pub before: Option<Money>,
    pub after: Option<Money>,
}

impl CurrencyChange {
    /// `after - before`, exact (absent counts as zero); `None` only if the
    /// difference passes 64 bits, which the server's bound on sums rules out.
    pub fn delta(&self) -> Option<Money> {
        let zero = Money::zero(self.after.or(self.before).map_or(2, Money::exponent));
        self.after.unwrap_or(zero).checked_sub(self.before.unwrap_or(zero))
    }
}

/// Revenue per currency before and after, one row per currency present on
/// either side: amounts in different currencies are never added up.
pub fn revenue_changes(before: &DataTotals, after: &DataTotals) -> Vec<CurrencyChange> {
    let currencies: BTreeSet<Currency> = before.revenue.keys().chain(after.revenue.keys()).copied().collect();
    currencies
        .into_iter()
        .map(|c| CurrencyChange {
            currency: c,
            before: before.revenue.get(&c).copied(),
            after: after.revenue.get(&c).copied(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(file: &str, reason: &str, rows: i64) -> RejectionReason {
        RejectionReason {
            file: file.into(),
            reason: reason.into(),
            rows,
            first_line: 2,
            example: String::new(),
        }
    }

    #[test]
    fn statuses_have_tones() {
        assert_eq!(tone(RunStatus::Succeeded), Tone::Good);
        assert_eq!(tone(RunStatus::Refused), Tone::Bad);
        assert_eq!(tone(RunStatus::Failed), Tone::Bad);
        for grey in [RunStatus::DryRun, RunStatus::Skipped, RunStatus::Abandoned] {
            assert_eq!(tone(grey), Tone::Neutral, "{grey}");
        }
        assert_eq!(tone(RunStatus::Running), Tone::Busy);
        assert!(RunStatus::Succeeded.committed());
        assert!(!RunStatus::DryRun.committed());
        assert_eq!(status_label(RunStatus::DryRun), "dry run");
    }

    fn line(parts: &[CountPart]) -> String {
        parts.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(" · ")
    }

    #[test]
    fn file_summaries_stay_short() {
        let mut f = IngestFile {
            file: "transactions.csv".into(),
            read: 2100,
            loaded: 2097,
            rejected: 3,
            ..IngestFile::default()
        };
        assert_eq!(line(&file_summary(&f)), "2,100 read · 2,097 loaded · 3 rejected");
        let warned: Vec<bool> = file_summary(&f).iter().map(|p| p.warn).collect();
        assert_eq!(warned, [false, false, true]);
        f.already_loaded = 5;
        f.duplicates = 1;
        f.rejected = 0;
        assert_eq!(
            line(&file_summary(&f)),
            "2,100 read · 2,097 loaded · 5 already loaded · 1 duplicates"
        );
        f.same_as_run = Some(4);
        assert_eq!(line(&file_summary(&f)), "skipped: same file as run 4");
    }

    #[test]
    fn reason_choices_follow_the_file() {
        let reasons = [
            reason("transactions.csv", "invalid_date", 2),
            reason("transactions.csv", "invalid_amount", 5),
            reason("users.csv", "invalid_date", 4),
            reason("users.csv", "empty_customer_id", 1),
        ];
        let all = reason_choices(&reasons, None);
        let codes: Vec<(&str, i64)> = all.iter().map(|c| (c.reason.as_str(), c.rows)).collect();
        assert_eq!(
            codes,
            [("invalid_date", 6), ("invalid_amount", 5), ("empty_customer_id", 1)]
        );
        let users = reason_choices(&reasons, Some("users.csv"));
        let codes: Vec<&str> = users.iter().map(|c| c.reason.as_str()).collect();
        assert_eq!(codes, ["invalid_date", "empty_customer_id"]);
        assert!(reason_choices(&[], None).is_empty());
    }

    fn currency(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    #[test]
    fn revenue_is_compared_per_currency() {
        let before = DataTotals {
            revenue: [(currency("usd"), Money::new(10_000, 2))].into(),
            ..DataTotals::default()
        };
        let after = DataTotals {
            revenue: [
                (currency("eur"), Money::new(500, 2)),
                (currency("usd"), Money::new(12_500, 2)),
            ]
            .into(),
            ..DataTotals::default()
        };
        let changes = revenue_changes(&before, &after);
        assert_eq!(
            changes,
            [
                CurrencyChange {
                    currency: currency("eur"),
                    before: None,
                    after: Some(Money::new(500, 2))
                },
                CurrencyChange {
                    currency: currency("usd"),
                    before: Some(Money::new(10_000, 2)),
                    after: Some(Money::new(12_500, 2))
                },
            ]
        );
        assert_eq!(changes[0].delta(), Some(Money::new(500, 2)));
        assert_eq!(changes[1].delta(), Some(Money::new(2_500, 2)));
        // Whole yen: the change keeps the currency's decimals.
        let yen = CurrencyChange {
            currency: currency("jpy"),
            before: Some(Money::new(1_500, 0)),
            after: None,
        };
        assert_eq!(yen.delta().map(|d| d.to_string()).as_deref(), Some("-1500"));
    }
}
