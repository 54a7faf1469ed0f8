//! Guard rails: the checks that refuse a run before anything is committed,
//! when its files look like a broken export rather than new data.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audit::FileSummary;
use crate::read::{products, transactions, users};
use crate::rows::MonthlyRow;
use crate::state::DataState;

mod pct;
mod refusal;

pub use pct::Pct;
pub use refusal::{Audience, Refusal};

/// The limits a run must stay within.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GuardRails {
    /// Largest share of a file's rows that may be rejected (counted once
    /// repeated rows are set aside).
    pub max_reject_pct: Pct,
    /// A replace must keep at least this share of each figure of the data
    /// loaded now: transactions, customers with a name, customers with an
    /// e-mail, products, and each currency's revenue.
    pub min_keep_pct: Pct,
}

impl Default for GuardRails {
    fn default() -> Self {
        Self {
            max_reject_pct: Pct(500),
            min_keep_pct: Pct(5000),
        }
    }
}

/// One currency's share of the data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CurrencyFigures {
    pub transactions: u64,
    /// Net revenue (refunds deducted), in the integer unit the amounts are
    /// stored in: a ratio within one currency does not depend on that unit.
    pub revenue: i64,
}

/// The figures of the data a replace is judged on: what is loaded now, and
/// what the run would leave. Each comes from one file (see `KEPT`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    pub transactions: u64,
    pub customers_with_name: u64,
    pub customers_with_email: u64,
    /// `dim_product` rows: one per (subscription, plan).
    pub products: u64,
    /// Per currency, never added together.
    pub currencies: BTreeMap<domain::Currency, CurrencyFigures>,
}

impl Figures {
    /// The figures of the data `state` and its monthly cells describe.
    pub fn of(state: &DataState, monthly: &[MonthlyRow]) -> Self {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let c = &state.customers;
        let mut currencies: BTreeMap<domain::Currency, CurrencyFigures> = BTreeMap::new();
        for row in monthly {
            let e = currencies.entry(row.currency).or_default();
            e.transactions = e.transactions.saturating_add(count(row.transactions));
            // Within the currency's gross volume, which a run keeps inside 64 bits.
            e.revenue = e.revenue.saturating_add(row.revenue_cents);
        }
        Self {
            transactions: currencies.values().map(|c| c.transactions).sum(),
            customers_with_name: count(c.customers - c.without_name),
            customers_with_email: count(c.customers - c.without_email),
            products: count(state.products),
            currencies,
        }
    }
}

/// A counted figure a replace must keep: the file it comes from, its name
/// in messages, and where to find it.
struct Kept {
    file: &'static str,
    figure: &'static str,
    value: fn(&Figures) -> u64,
}

/// The counted figures a replace must keep: the one list to add a figure to.
const KEPT: [Kept; 4] = [
    Kept {
        file: transactions::FILE,
        figure: "transactions",
        value: |f| f.transactions,
    },
    Kept {
        file: users::FILE,
        figure: "customers with a name",
        value: |f| f.customers_with_name,
    },
    Kept {
        file: users::FILE,
        figure: "customers with an e-mail",
        value: |f| f.customers_with_email,
    },
    Kept {
        file: products::FILE,
        figure: "products",
        value: |f| f.products,
    },
];

/// The rules a run breaks (none: it may commit). `files` are the files the run
/// read (not those skipped as already ingested); `replace` carries the figures
/// of the data loaded now and of what a replace would leave (an append adds to
/// the data, so the min-keep rules do not apply to it).
pub fn check(files: &[FileSummary], replace: Option<(&Figures, &Figures)>, rails: &GuardRails) -> Vec<Refusal> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.same_as_run.is_none()) {
        let c = &f.counts;
        // Judged on the file's distinct rows: 10,000 copies of one accepted row
        // and 100 rejected rows are 100 of 101, not 100 of 10,100. Rejected rows
        // are each counted: each is a row lost.
        let distinct = c.read.saturating_sub(c.duplicates);
        if c.read == 0 {
            out.push(Refusal::NoDataRows { file: f.file });
        } else if rails.max_reject_pct.exceeded_by(c.rejected, distinct) {
            out.push(Refusal::TooManyRejects {
                file: f.file,
                rejected: c.rejected,
                read: c.read,
                repeated: c.duplicates,
                limit: rails.max_reject_pct.to_string(),
            });
        }
    }
    let Some((before, after)) = replace else {
        return out;
    };
    // 0 turns the rule off (a negative revenue left would be below even 0%).
    if rails.min_keep_pct == Pct(0) {
        return out;
    }
    let limit = rails.min_keep_pct.to_string();
    for Kept { file, figure, value } in KEPT {
        let (b, a) = (value(before), value(after));
        // An empty database (or figure) is no baseline.
        if b > 0 && rails.min_keep_pct.not_reached_by(a, b) {
            out.push(Refusal::TooFewKept {
                file,
                figure,
                before: b,
                after: a,
                limit: limit.clone(),
            });
        }
    }
    for (currency, b) in &before.currencies {
        let a = after.currencies.get(currency).copied().unwrap_or_default();
        // A currency whose revenue is not positive (refunds only) has no
        // revenue to keep; it is still refused to vanish altogether.
        let gone = b.transactions > 0 && a.transactions == 0;
        let shrunk = b.revenue > 0 && rails.min_keep_pct.not_reached_by(a.revenue, b.revenue);
        if gone || shrunk {
            out.push(Refusal::RevenueNotKept {
                file: transactions::FILE,
                currency: currency.code(),
                before: currency.money(b.revenue),
                after: currency.money(a.revenue),
                transactions_after: a.transactions,
                limit: limit.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counts::Counts;

    fn file(name: &'static str, read: u64, rejected: u64) -> FileSummary {
        FileSummary {
            file: name,
            sha256: String::new(),
            bytes: 0,
            counts: Counts {
                read,
                loaded: read - rejected,
                rejected,
                ..Default::default()
            },
            same_as_run: None,
        }
    }

    #[test]
    fn each_rule_refuses_at_its_boundary() {
        let rails = GuardRails::default();
        // 5 of 100 rejected is exactly the limit: allowed; 6 is over.
        assert!(check(&[file("t", 100, 5)], None, &rails).is_empty());
        let r = check(&[file("t", 100, 6)], None, &rails);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].to_string(),
            "t: 6 of 100 rows rejected (6.00%), more than --max-reject-pct 5%; --force loads it anyway"
        );
        assert_eq!(
            check(&[file("t", 0, 0)], None, &rails),
            vec![Refusal::NoDataRows { file: "t" }]
        );
        // A skipped file is not read: no rule applies to it.
        let mut skipped = file("t", 0, 0);
        skipped.same_as_run = Some(3);
        assert!(check(&[skipped], None, &rails).is_empty());
    }

    /// An upload's caller cannot pass a flag to the server: its refusals name
    /// the server's settings and an admin's "load anyway", every rule alike.
    #[test]
    fn an_upload_is_told_what_it_can_do() {
        let before = figures(100, 40, 50, 20, &[("usd", 90, 10_000)]);
        let after = figures(10, 4, 5, 2, &[("usd", 9, 1_000)]);
        let mut refusals = check(
            &[file("t", 100, 6), file("u", 0, 0)],
            Some((&before, &after)),
            &GuardRails::default(),
        );
        refusals.push(Refusal::QualityBelowThreshold {
            dimension: api_types::Measure::Dimension(api_types::Dimension::Integrity),
            value: "40.00".to_owned(),
            threshold: "95".to_owned(),
        });
        assert_eq!(refusals.len(), 8, "{refusals:?}");
        assert_eq!(
            refusals[0].message(Audience::Upload),
            "t: 6 of 100 rows rejected (6.00%), more than the server's max-reject-pct of 5%; \
             an admin can load it anyway (the upload's force)"
        );
        for r in &refusals {
            let (cli, upload) = (r.to_string(), r.message(Audience::Upload));
            assert_eq!(cli, r.message(Audience::Cli));
            assert!(cli.contains("--"), "{cli}");
            assert!(!upload.contains("--"), "an upload's refusal names a flag: {upload}");
            assert!(upload.contains("an admin can load it anyway"), "{upload}");
        }
    }

    #[test]
    fn repeated_rows_count_once() {
        let rails = GuardRails::default();
        // 10,000 copies of one accepted row and 100 rejected rows: 100 of 101.
        let mut copies = file("t", 10_100, 100);
        copies.counts.loaded = 1;
        copies.counts.duplicates = 9_999;
        let r = check(&[copies], None, &rails);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(
            r[0].to_string(),
            "t: 100 of 101 rows rejected (99.01%) once the 9999 rows repeating an earlier row are set aside \
             (10100 read), more than --max-reject-pct 5%; --force loads it anyway"
        );
        // 5 rejected of 100 distinct rows, whatever the copies, stays allowed.
        let mut at_limit = file("t", 1_095, 5);
        at_limit.counts.loaded = 95;
        at_limit.counts.duplicates = 995;
        assert!(check(&[at_limit], None, &rails).is_empty());
    }

    fn figures(transactions: u64, names: u64, emails: u64, products: u64, currencies: &[(&str, u64, i64)]) -> Figures {
        Figures {
            transactions,
            customers_with_name: names,
            customers_with_email: emails,
            products,
            currencies: currencies
                .iter()
                .map(|&(c, transactions, revenue)| {
                    let currency = domain::Currency::parse(c).unwrap();
                    (currency, CurrencyFigures { transactions, revenue })
                })
                .collect(),
        }
    }

    #[test]
    fn a_replace_keeps_every_figure() {
        let rails = GuardRails::default();
        let before = figures(100, 40, 50, 20, &[("usd", 90, 10_000), ("eur", 10, 1_000)]);
        // Keeping exactly half of everything is allowed.
        let half = figures(50, 20, 25, 10, &[("usd", 45, 5_000), ("eur", 5, 500)]);
        assert!(check(&[], Some((&before, &half)), &rails).is_empty());
        // One below half, figure by figure: each refused on its own, naming its file.
        let cases: [(Figures, &str); 6] = [
            (figures(49, 20, 25, 10, &[("usd", 44, 5_000), ("eur", 5, 500)]), "transactions.csv: a replace would leave 49 of the 100 transactions loaded now (49.00% kept)"),
            (figures(50, 19, 25, 10, &[("usd", 45, 5_000), ("eur", 5, 500)]), "users.csv: a replace would leave 19 of the 40 customers with a name loaded now (47.50% kept)"),
            (figures(50, 20, 24, 10, &[("usd", 45, 5_000), ("eur", 5, 500)]), "users.csv: a replace would leave 24 of the 50 customers with an e-mail loaded now (48.00% kept)"),
            (figures(50, 20, 25, 9, &[("usd", 45, 5_000), ("eur", 5, 500)]), "products.csv: a replace would leave 9 of the 20 products loaded now (45.00% kept)"),
            (figures(50, 20, 25, 10, &[("usd", 45, 5_000), ("eur", 5, 499)]), "transactions.csv: a replace would leave 4.99 of the 10.00 eur revenue loaded now (49.90% kept)"),
            (figures(50, 20, 25, 10, &[("usd", 50, 9_000)]), "transactions.csv: a replace would leave 0.00 of the 10.00 eur revenue loaded now (no eur transaction left)"),
        ];
        for (after, message) in cases {
            let r = check(&[], Some((&before, &after)), &rails);
            assert_eq!(r.len(), 1, "{r:?}");
            let text = r[0].to_string();
            assert!(text.starts_with(message), "{text}");
            assert!(
                text.ends_with(", less than --min-keep-pct 50%; --force loads it anyway"),
                "{text}"
            );
        }
        // Refunds wiping out a currency's revenue; a currency of refunds only
        // has no revenue to keep, but may not vanish.
        let refunds = figures(100, 40, 50, 20, &[("usd", 90, 10_000), ("eur", 10, -300)]);
        let negative = figures(100, 40, 50, 20, &[("usd", 90, -1), ("eur", 10, -900)]);
        let r = check(&[], Some((&refunds, &negative)), &rails);
        assert_eq!(r.len(), 1, "{r:?}");
        assert!(
            r[0].to_string()
                .contains("-0.01 of the 100.00 usd revenue loaded now (-0.01% kept)"),
            "{}",
            r[0]
        );
        let gone = figures(90, 40, 50, 20, &[("usd", 90, 10_000)]);
        assert_eq!(check(&[], Some((&refunds, &gone)), &rails).len(), 1);
        // An empty database is no baseline; 0% turns the rule off.
        assert!(check(&[], Some((&Figures::default(), &Figures::default())), &rails).is_empty());
        let off = GuardRails {
            min_keep_pct: Pct(0),
            ..rails
        };
        assert!(check(&[], Some((&before, &Figures::default())), &off).is_empty());
        // An append is not judged on what it keeps.
        assert!(check(&[], None, &rails).is_empty());
    }

    #[test]
    fn figures_keep_currencies_apart() {
        let mut state = DataState::default();
        state.customers.customers = 10;
        state.customers.without_name = 3;
        state.customers.without_email = 1;
        state.products = 4;
        let row = |currency: &str, month: &str, transactions: i64, revenue_cents: i64| MonthlyRow {
            transactions,
            revenue_cents,
            ..MonthlyRow::empty(currency, month)
        };
        let f = Figures::of(
            &state,
            &[
                row("usd", "2024-01", 3, 500),
                row("eur", "2024-01", 1, 7),
                row("usd", "2024-02", 2, -100),
            ],
        );
        assert_eq!(f, figures(6, 7, 9, 4, &[("eur", 1, 7), ("usd", 5, 400)]));
    }
}
