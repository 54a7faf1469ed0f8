//! The result of [`crate::compute()`]: per currency, the three responses of
//! `/reports/saas/*` and the customers' MRR behind the drill-down.

use std::collections::BTreeMap;
use std::sync::Arc;

use api_types::{
    Currency, Money, Month, SaasCohort, SaasCohortsReport, SaasMonth, SaasMovementCustomer, SaasMovementKind,
    SaasMovementsReport, SaasMrrReport, SaasParameters, SaasWindow,
};

use crate::calendar::{index_of, month_of, MonthIndex};
use crate::SaasError;

/// The figures of every currency of one computation (one window of months).
#[derive(Debug, Clone, PartialEq)]
pub struct SaasFigures {
    pub(crate) window: SaasWindow,
    pub(crate) parameters: SaasParameters,
    pub(crate) currencies: BTreeMap<Currency, CurrencyFigures>,
}

impl SaasFigures {
    /// The figures of one currency; `None` when the data has no invoice in it.
    pub fn currency(&self, currency: Currency) -> Option<&CurrencyFigures> {
        self.currencies.get(&currency)
    }

    /// The currencies of the data, in code order.
    pub fn currencies(&self) -> impl Iterator<Item = &CurrencyFigures> {
        self.currencies.values()
    }

    pub fn window(&self) -> &SaasWindow {
        &self.window
    }

    pub fn parameters(&self) -> &SaasParameters {
        &self.parameters
    }
}

/// The figures of one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrencyFigures {
    pub(crate) currency: String,
    /// The same code, as the API names it.
    pub(crate) code: Currency,
    pub(crate) exponent: u8,
    pub(crate) parameters: SaasParameters,
    pub(crate) window: SaasWindow,
    pub(crate) first_month: MonthIndex,
    pub(crate) months: Vec<SaasMonth>,
    pub(crate) cohorts: Vec<SaasCohort>,
    /// Customers active at some close, in id order, and their MRR at every
    /// close (`months.len()` minor amounts each, row after row).
    pub(crate) customers: Vec<Arc<str>>,
    pub(crate) customer_mrr: Vec<i64>,
    pub(crate) left_censored: Vec<bool>,
}

impl CurrencyFigures {
    pub fn currency(&self) -> &str {
        &self.currency
    }

    /// The currency's exponent (decimals of its minor unit) as the invoices carried it.
    pub fn exponent(&self) -> u8 {
        self.exponent
    }

    /// `GET /reports/saas/mrr`.
    pub fn mrr(&self) -> SaasMrrReport {
        SaasMrrReport {
            currency: self.code,
            parameters: self.parameters.clone(),
            window: self.window.clone(),
            months: self.months.clone(),
        }
    }

    /// `GET /reports/saas/cohorts`.
    pub fn cohorts(&self) -> SaasCohortsReport {
        SaasCohortsReport {
            currency: self.code,
            parameters: self.parameters.clone(),
            cohorts: self.cohorts.clone(),
        }
    }

    /// The reported months, oldest first.
    pub fn months(&self) -> &[SaasMonth] {
        &self.months
    }

    /// The customers active at some close, in id order.
    pub fn movement_customer_ids(&self) -> impl Iterator<Item = &str> {
        self.customers.iter().map(|c| &**c)
    }

    /// Customer `customer_id`'s MRR (minor units) at every close; `None` for a
    /// customer never active at a close.
    pub fn customer_mrr(&self, customer_id: &str) -> Option<&[i64]> {
        let n = self.months.len();
        let i = self.customers.binary_search_by(|c| (**c).cmp(customer_id)).ok()?;
        self.customer_mrr.get(i * n..(i + 1) * n)
    }

    /// The customers behind one movement of `month`, largest change first
    /// (then by customer id); `None` when `month` is not a reported month
    /// after the first (the opening month has no movements).
    pub fn movements(&self, month: Month, kind: SaasMovementKind) -> Option<MovementList> {
        let n = self.months.len();
        let m = usize::try_from(index_of(month).checked_sub(self.first_month)?).ok()?;
        if m == 0 || m >= n {
            return None;
        }
        let mut rows = Vec::new();
        let mut amount: i64 = 0;
        for (c, id) in self.customers.iter().enumerate() {
            let row = &self.customer_mrr[c * n..(c + 1) * n];
            let (p, q) = (row[m - 1], row[m]);
            let this = match () {
                _ if p == 0 && q > 0 => {
                    if row[..m].iter().any(|&v| v > 0) {
                        SaasMovementKind::Reactivation
                    } else {
                        SaasMovementKind::New
                    }
                }
                _ if p > 0 && q > p => SaasMovementKind::Expansion,
                _ if p > 0 && q > 0 && q < p => SaasMovementKind::Contraction,
                _ if p > 0 && q == 0 => SaasMovementKind::Churn,
                _ => continue,
            };
            if this != kind {
                continue;
            }
            // Row values passed the computation's checked sums: these cannot overflow.
            let change = q.saturating_sub(p);
            amount = amount.saturating_add(change.saturating_abs());
            rows.push(SaasMovementCustomer {
                customer_id: id.to_string(),
                customer_name: String::new(),
                previous_mrr: Money::new(p, self.exponent),
                current_mrr: Money::new(q, self.exponent),
                change: Money::new(change, self.exponent),
                left_censored: kind == SaasMovementKind::New && self.left_censored[c],
            });
        }
        rows.sort_by(|a, b| {
            b.change
                .minor()
                .unsigned_abs()
                .cmp(&a.change.minor().unsigned_abs())
                .then_with(|| a.customer_id.cmp(&b.customer_id))
        });
        Some(MovementList {
            currency: self.code,
            parameters: self.parameters.clone(),
            month: month_of(self.first_month + m as i64),
            kind,
            amount: Money::new(amount, self.exponent),
            rows,
        })
    }

    /// §10/§13: the month's billed total must equal `revenue`, the month's
    /// revenue of the monthly report. A month that is not reported (the
    /// open month, or outside the data) has nothing to compare.
    pub fn check_revenue(&self, month: Month, revenue: Money) -> Result<(), SaasError> {
        let Some(row) = self.months.iter().find(|m| m.month == month) else {
            return Ok(());
        };
        if row.billed.total == revenue {
            Ok(())
        } else {
            Err(SaasError::Invariant {
                month: month.to_string(),
                currency: self.currency.clone(),
                what: format!(
                    "billed total {} differs from the month's revenue {revenue}",
                    row.billed.total
                ),
            })
        }
    }
}

/// The customers behind one movement of one month.
#[derive(Debug, Clone, PartialEq)]
pub struct MovementList {
    currency: Currency,
    parameters: SaasParameters,
    month: Month,
    kind: SaasMovementKind,
    amount: Money,
    rows: Vec<SaasMovementCustomer>,
}

impl MovementList {
    /// Every customer of the movement, largest change first; `customer_name` is empty (the server fills it).
    pub fn rows(&self) -> &[SaasMovementCustomer] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The movement's amount (= the month's figure in the MRR report).
    pub fn amount(&self) -> Money {
        self.amount
    }

    /// `GET /reports/saas/movements`: customers `offset .. offset + limit`.
    pub fn page(&self, offset: u64, limit: u64) -> SaasMovementsReport {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.rows.len());
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        SaasMovementsReport {
            currency: self.currency,
            parameters: self.parameters.clone(),
            month: self.month,
            kind: self.kind,
            amount: self.amount,
            total: self.rows.len() as u64,
            offset,
            limit,
            customers: self.rows[start..].iter().take(take).cloned().collect(),
        }
    }
}
