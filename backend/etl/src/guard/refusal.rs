//! Why a run is refused, in the words of whoever reads it.

use std::fmt;

use api_types::Money;
use serde::Serialize;

/// Why a run is refused. Each message names the file, the figures and the
/// setting that would let the run through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Refusal {
    NoDataRows {
        file: &'static str,
    },
    /// More rejected rows than `--max-reject-pct` of the file's distinct rows.
    TooManyRejects {
        file: &'static str,
        rejected: u64,
        read: u64,
        /// Rows repeating an earlier row of the file (`duplicates`): set
        /// aside, so that copies of one row count as that one row.
        repeated: u64,
        limit: String,
    },
    /// A replace would keep less than `--min-keep-pct` of a figure.
    TooFewKept {
        file: &'static str,
        figure: &'static str,
        before: u64,
        after: u64,
        limit: String,
    },
    /// A replace would keep less than `--min-keep-pct` of a currency's
    /// revenue, or none of its transactions.
    RevenueNotKept {
        file: &'static str,
        currency: api_types::Currency,
        before: Money,
        after: Money,
        /// The currency's transactions after the run (0: it disappears).
        transactions_after: u64,
        limit: String,
    },
    /// With `--strict-quality`: a quality dimension below its minimum.
    QualityBelowThreshold {
        dimension: api_types::Measure,
        value: String,
        threshold: String,
    },
}

/// Who reads a refusal, and so how it names what would let the run through:
/// the command line's flags, or, for an upload from the dashboard or the
/// API, the server's settings (which its caller cannot pass) and an admin's
/// "load anyway" (the upload's `force`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Audience {
    #[default]
    Cli,
    Upload,
}

/// The words of one [`Audience`].
struct Words {
    max_reject: &'static str,
    min_keep: &'static str,
    strict: &'static str,
    /// How every message ends: what lets the run through.
    force: &'static str,
}

impl Audience {
    fn words(self) -> &'static Words {
        match self {
            Audience::Cli => &Words {
                max_reject: "--max-reject-pct",
                min_keep: "--min-keep-pct",
                strict: "--strict-quality",
                force: "--force loads it anyway",
            },
            Audience::Upload => &Words {
                max_reject: "the server's max-reject-pct of",
                min_keep: "the server's min-keep-pct of",
                strict: "the server's strict-quality setting",
                force: "an admin can load it anyway (the upload's force)",
            },
        }
    }
}

impl Refusal {
    /// The message in the words of `audience` (`Display` is the command line's).
    pub fn message(&self, audience: Audience) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write(&mut out, audience.words());
        out
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, Audience::Cli.words())
    }
}

impl Refusal {
    fn write(&self, f: &mut impl fmt::Write, w: &Words) -> fmt::Result {
        let Words {
            max_reject,
            min_keep,
            strict,
            force,
        } = w;
        match self {
            Refusal::NoDataRows { file } => {
                write!(f, "{file}: the file has no data rows (rule: no empty files); {force}")
            }
            Refusal::TooManyRejects {
                file,
                rejected,
                read,
                repeated,
                limit,
            } => {
                let distinct = read.saturating_sub(*repeated);
                write!(
                    f,
                    "{file}: {rejected} of {distinct} rows rejected ({})",
                    share(*rejected, distinct)
                )?;
                if *repeated > 0 {
                    write!(
                        f,
                        " once the {repeated} rows repeating an earlier row are set aside ({read} read)"
                    )?;
                }
                write!(f, ", more than {max_reject} {limit}; {force}")
            }
            Refusal::TooFewKept {
                file,
                figure,
                before,
                after,
                limit,
            } => write!(
                f,
                "{file}: a replace would leave {after} of the {before} {figure} loaded now ({} kept), \
                 less than {min_keep} {limit}; {force}",
                share(*after, *before)
            ),
            Refusal::RevenueNotKept {
                file,
                currency,
                before,
                after,
                transactions_after,
                limit,
            } => {
                write!(
                    f,
                    "{file}: a replace would leave {} of the {} {currency} revenue loaded now (",
                    after, before,
                )?;
                match transactions_after {
                    0 => write!(f, "no {currency} transaction left")?,
                    _ => write!(f, "{} kept", share(after.minor(), before.minor()))?,
                }
                write!(f, "), less than {min_keep} {limit}; {force}")
            }
            Refusal::QualityBelowThreshold {
                dimension,
                value,
                threshold,
            } => write!(
                f,
                "quality: {dimension} is {value}%, below its minimum of {threshold}% ({strict}); {force}"
            ),
        }
    }
}

/// `part / whole` as a percentage with two decimals (for messages).
fn share(part: impl Into<i128>, whole: impl Into<i128>) -> String {
    let (part, whole) = (part.into(), whole.into());
    if whole <= 0 {
        return "n/a".to_owned();
    }
    // Rounded half away from zero (a negative part: refunds exceeding revenue).
    let abs = (part.unsigned_abs() * 10_000 + whole.unsigned_abs() / 2) / whole.unsigned_abs();
    let sign = if part < 0 && abs > 0 { "-" } else { "" };
    format!("{sign}{}.{:02}%", abs / 100, abs % 100)
}
