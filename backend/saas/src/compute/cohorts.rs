//! §11: the cohorts — each customer's first month active at a close — and
//! the members' activity at every later close, with the §13 identities
//! tying them to the customers and MRR of each month.

use api_types::{SaasCohort, SaasCohortCell};

use super::output::Output;
use super::sums::{Sums, NEW};
use crate::SaasError;

/// The cohort table of one currency from its sums, after the §13 checks:
/// the cohorts hold every customer ever active, and at each close their
/// members are exactly the active customers and their MRR.
pub(super) fn cohorts(out: &Output, s: &Sums) -> Result<Vec<SaasCohort>, SaasError> {
    let n = s.cohort_size.len();
    let mut cohorts = Vec::new();
    for c in 0..n {
        let size = s.cohort_size[c];
        if size == 0 {
            continue;
        }
        let base = s.cohort_mrr[c * n + c];
        let mut cells = Vec::with_capacity(n - c);
        for m in c..n {
            let active = s.cohort_active[c * n + m];
            let mrr = s.cohort_mrr[c * n + m];
            cells.push(SaasCohortCell {
                month: out.label(m),
                months_since: u32::try_from(m - c).unwrap_or(u32::MAX),
                active_customers: active,
                mrr: out.money(mrr, "cohort MRR")?,
                customer_retention_pct: out.pct(i128::from(active), i128::from(size), "customer retention")?,
                mrr_retention_pct: out.pct(mrr, base, "MRR retention")?,
            });
        }
        cohorts.push(SaasCohort {
            cohort: out.label(c),
            opening: c == 0,
            customers: size,
            mrr: out.money(base, "cohort MRR")?,
            cells,
        });
    }
    let ever: u64 = s.cohort_size.iter().sum();
    let entered: u64 =
        s.customers.first().copied().unwrap_or(0) + s.movement_customers.iter().skip(1).map(|c| c[NEW]).sum::<u64>();
    if ever != entered {
        return Err(SaasError::Invariant {
            month: n.checked_sub(1).map(|m| out.label(m).to_string()).unwrap_or_default(),
            currency: out.currency.to_owned(),
            what: format!("cohort sizes {ever} != opening customers + new customers {entered}"),
        });
    }
    for m in 0..n {
        let active: u64 = (0..=m).map(|c| s.cohort_active[c * n + m]).sum();
        let mrr: i128 = (0..=m).map(|c| s.cohort_mrr[c * n + m]).sum();
        if active != s.customers[m] || mrr != s.mrr[m] {
            return Err(out.invariant(m, "cohort sums differ from customers or MRR".into()));
        }
    }
    Ok(cohorts)
}

/// Adds one customer to its cohort (`cohort`: its first month active at a
/// close) and its activity at that close and every later one.
pub(super) fn add(sums: &mut Sums, row: &[i64], cohort: usize) {
    let n = row.len();
    sums.cohort_size[cohort] += 1;
    for (m, &q) in row.iter().enumerate().skip(cohort) {
        sums.cohort_active[cohort * n + m] += u64::from(q > 0);
        sums.cohort_mrr[cohort * n + m] += i128::from(q);
    }
}
