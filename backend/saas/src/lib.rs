//! Subscription (SaaS) metrics from an invoice-level export, exactly as
//! `shared/specs/saas-metrics.md` defines them: which invoices are recurring
//! and their interval (§5), MRR at each month close with a grace period (§6,
//! §7), the five movements per customer (§8), the rates (§9), the billed
//! amounts (§10) and cohorts (§11), with the invariants of §13 checked on
//! every computation.
//!
//! A pure function of its input: no database, no server. The caller (the
//! reports layer) gives the loaded transactions of every currency at once —
//! they share one window of months (§4) — and the products file's intervals.
//!
//! ```
//! use api_types::Money;
//! use chrono::{TimeZone, Utc};
//! use saas::{compute, Catalogue, Interval, Invoice, Parameters};
//!
//! let invoice = |month, id: &str| Invoice {
//!     timestamp: Utc.with_ymd_and_hms(2024, month, 10, 12, 0, 0).unwrap(),
//!     transaction_id: id.into(),
//!     customer_id: "cus_A".into(),
//!     subscription_id: "sub_A".into(),
//!     currency: "usd".into(),
//!     amount: Money::new(10_000, 2),
//! };
//! let invoices = [invoice(1, "in_1"), invoice(2, "in_2"), invoice(3, "in_3")];
//! let mut catalogue = Catalogue::new();
//! catalogue.add_item("sub_B", Interval::parse("year"), "Chat Enterprise : Annually");
//! let figures = compute(&invoices, &catalogue, &Parameters::default()).unwrap();
//! let usd = "usd".parse().unwrap();
//! let mrr = figures.currency(usd).unwrap().mrr();
//! assert_eq!(mrr.months.len(), 2); // January and February are closed
//! assert_eq!(mrr.months[1].mrr.to_string(), "100.00");
//! ```

mod calendar;
mod compute;
mod error;
mod figures;
mod interval;
mod order;
mod threads;

pub use compute::{compute, compute_on};
pub use error::SaasError;
pub use figures::{CurrencyFigures, MovementList, SaasFigures};
pub use interval::{Catalogue, Interval, IntervalSource};
pub use order::{Numbered, ReadingOrder, Text};

use std::sync::Arc;

use api_types::Money;
use chrono::{DateTime, Utc};

/// One loaded transaction (the ETL's rules already applied: dates parsed,
/// duplicates dropped or rejected, currency codes normalised to lower case).
///
/// The customer, subscription and currency are shared (`Arc<str>`): a
/// caller keeping millions of invoices stores each distinct value once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub timestamp: DateTime<Utc>,
    pub transaction_id: Box<str>,
    pub customer_id: Arc<str>,
    /// Empty: no subscription (usage, services, one-off).
    pub subscription_id: Arc<str>,
    pub currency: Arc<str>,
    /// The total in the currency's minor units; every invoice of one currency
    /// should carry the currency's exponent (a smaller one is scaled up exactly).
    pub amount: Money,
}

/// The two settings of the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    /// §6: days after the end of a service period during which it still
    /// covers a close. Default 7.
    pub grace_days: u32,
    /// §5 rule 5: an invoice without evidence of its interval and at least
    /// this total is annual. Given in major units with any exponent and
    /// applied to each currency in that currency's major unit: the default
    /// `3000.00` is 3,000.00 usd, 3,000.00 eur and 3,000 jpy alike. Compared
    /// exactly, whatever its decimals (`2999.99` in yen means 3,000 yen and
    /// more). It must not be negative ([`SaasError::NegativeThreshold`]).
    pub annual_threshold: Money,
}

impl Default for Parameters {
    fn default() -> Parameters {
        Parameters {
            grace_days: 7,
            annual_threshold: Money::new(300_000, 2),
        }
    }
}

impl Parameters {
    /// As the API echoes them.
    pub fn to_api(&self) -> api_types::SaasParameters {
        api_types::SaasParameters {
            grace_days: self.grace_days,
            annual_threshold: self.annual_threshold,
        }
    }
}
