//! The run's summary as the CLI prints it.

use std::fmt::Write;

use super::read::{products, users};
use super::{RunStatus, RunSummary, Totals};

/// `12345678` → `12,345,678`.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn change(before: i64, after: i64) -> String {
    match after - before {
        0 => format!("{:>12}   (unchanged)", grouped(after)),
        d => format!(
            "{:>12} → {} ({}{})",
            grouped(before),
            grouped(after),
            if d > 0 { "+" } else { "" },
            grouped(d)
        ),
    }
}

fn months(t: &Totals) -> String {
    match (&t.first_month, &t.latest_month) {
        (Some(f), Some(l)) => format!("{f} to {l}"),
        _ => "none".to_owned(),
    }
}

/// `part / whole` with two decimals, e.g. `86.90%`.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "n/a".to_owned();
    }
    let hundredths = (u128::from(part) * 10_000 + u128::from(whole) / 2) / u128::from(whole);
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

/// What a repeated row of `file` is, and what became of it.
fn repeats(file: &str) -> &'static str {
    match file {
        products::FILE => "repeat the (subscription, plan) of an earlier row: the last one wins",
        users::FILE => "repeat the customer of an earlier row: merged into one customer",
        _ => "repeat an earlier row exactly: dropped",
    }
}

impl RunSummary {
    /// The report printed at the end of `backend ingest`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for section in [
            Self::render_status,
            Self::render_files,
            Self::render_repeated,
            Self::render_rejections,
            Self::render_quality,
            Self::render_refusals,
            Self::render_changes,
            Self::render_totals,
        ] {
            section(self, &mut out);
        }
        out
    }

    /// The status line, and why (a skipped run).
    fn render_status(&self, out: &mut String) {
        let status = match self.status {
            RunStatus::Succeeded if !self.data_changed => "succeeded: nothing new to load",
            RunStatus::Succeeded => "succeeded",
            RunStatus::DryRun => "dry run: nothing was changed",
            RunStatus::Refused => "REFUSED: nothing was changed",
            RunStatus::Skipped => "skipped: nothing was changed",
            other => other.as_str(),
        };
        let _ = writeln!(out, "run {} ({}): {status}", self.run_id, self.mode.as_str());
        if let Some(message) = &self.message {
            let _ = writeln!(out, "{message}");
        }
    }

    /// Each file: read, loaded, already loaded, duplicate, rejected.
    fn render_files(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n{:<18} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "file", "read", "loaded", "already", "duplicate", "rejected"
        );
        for f in &self.files {
            match f.same_as_run {
                Some(run) => {
                    let _ = writeln!(out, "{:<18} skipped: the same file was ingested by run {run}", f.file);
                }
                None => {
                    let c = &f.counts;
                    let _ = writeln!(
                        out,
                        "{:<18} {:>10} {:>10} {:>10} {:>10} {:>10}",
                        f.file, c.read, c.loaded, c.already_loaded, c.duplicates, c.rejected
                    );
                }
            }
        }
    }

    /// The files with repeated rows.
    fn render_repeated(&self, out: &mut String) {
        let repeated: Vec<_> = self
            .files
            .iter()
            .filter(|f| f.same_as_run.is_none() && f.counts.duplicates > 0)
            .collect();
        if !repeated.is_empty() {
            let _ = writeln!(
                out,
                "\nrepeated rows (each kept once; the guard rails count them once):"
            );
            for f in repeated {
                let c = &f.counts;
                let _ = writeln!(
                    out,
                    "  {:<18} {} of {} rows ({}) {}",
                    f.file,
                    grouped(c.duplicates as i64),
                    grouped(c.read as i64),
                    percent(c.duplicates, c.read),
                    repeats(f.file)
                );
            }
        }
    }

    /// The rejected rows, by reason.
    fn render_rejections(&self, out: &mut String) {
        if !self.reasons.is_empty() {
            let _ = writeln!(out, "\nrejected rows, by reason:");
            for r in &self.reasons {
                let _ = writeln!(
                    out,
                    "  {:<18} {:<24} {:>8} rows   first at line {}: {}",
                    r.file, r.reason, r.rows, r.first_line, r.example
                );
            }
            let _ = writeln!(
                out,
                "  every rejected row, with its line: GET /ingests/{0}/rejections (?format=csv), \
                 or SELECT * FROM etl_rejected_row WHERE run_id = {0}",
                self.run_id
            );
        }
    }

    /// The quality score and the dimensions below their minimum.
    fn render_quality(&self, out: &mut String) {
        if let Some(q) = &self.quality {
            let dimensions: Vec<String> = q.dimensions.iter().map(|(d, v)| format!("{d} {v}%")).collect();
            let _ = writeln!(out, "\nquality {}%: {}", q.overall, dimensions.join(", "));
            for a in &self.quality_alerts {
                let _ = writeln!(
                    out,
                    "  below its minimum: {} {}% < {}%",
                    a.dimension, a.value, a.threshold
                );
            }
        }
    }

    /// The guard rails broken (or overridden).
    fn render_refusals(&self, out: &mut String) {
        if !self.refusals.is_empty() {
            let overridden = self.status != RunStatus::Refused;
            let _ = writeln!(
                out,
                "\nguard rails {}:",
                if overridden { "overridden by --force" } else { "broken" }
            );
            for r in &self.refusals {
                let _ = writeln!(out, "  {r}");
            }
            if !overridden {
                let _ = writeln!(out, "  check the files first");
            }
        }
    }

    /// What the run changed (or would have).
    fn render_changes(&self, out: &mut String) {
        if self.status != RunStatus::Skipped {
            let verb = match self.status {
                RunStatus::Succeeded => "changes",
                _ => "changes a real run would make",
            };
            let (b, a) = (&self.before, &self.after);
            let _ = writeln!(out, "\n{verb}:");
            let _ = writeln!(
                out,
                "  {:<16}{}",
                "transactions",
                change(b.transactions, a.transactions)
            );
            let _ = writeln!(out, "  {:<16}{}", "customers", change(b.customers, a.customers));
            let _ = writeln!(out, "  {:<16}{}", "products", change(b.products, a.products));
            // Every currency of either side: one a replace drops shows as → 0.
            let currencies: std::collections::BTreeSet<&api_types::Currency> =
                b.revenue.keys().chain(a.revenue.keys()).collect();
            for currency in currencies {
                let exponent = a
                    .revenue
                    .get(currency)
                    .or(b.revenue.get(currency))
                    .map_or(2, |m| m.exponent());
                let zero = api_types::Money::zero(exponent);
                let before = b.revenue.get(currency).copied().unwrap_or(zero);
                let revenue = a.revenue.get(currency).copied().unwrap_or(zero);
                let line = if before == revenue {
                    format!("{revenue:>12}   (unchanged)")
                } else {
                    format!("{before:>12} → {revenue}")
                };
                let _ = writeln!(out, "  {:<16}{line}", format!("revenue {currency}"));
            }
            let _ = writeln!(out, "  {:<16}{} → {}", "months", months(b), months(a));
            let r = self.restated;
            if r.transactions > 0 {
                let _ = writeln!(
                    out,
                    "  {:<16}{} loaded transactions of {} subscriptions attributed again \
                     (products.csv changed their plans)",
                    "restated", r.transactions, r.subscriptions
                );
            }
        }
    }

    /// The customers and products of the data.
    fn render_totals(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "\n{} customers ({} only in transactions, {} without transactions, {} multi-currency), \
             {} products on {} subscriptions",
            self.customers,
            self.customers_only_in_transactions,
            self.customers_without_transactions,
            self.multi_currency_customers,
            self.products,
            self.subscriptions
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_changes() {
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(grouped(-1000), "-1,000");
        assert_eq!(grouped(999), "999");
        assert_eq!(change(5, 5).trim(), "5   (unchanged)");
        assert_eq!(change(1000, 1500).trim(), "1,000 → 1,500 (+500)");
        assert_eq!(change(10, 4).trim(), "10 → 4 (-6)");
    }
}
