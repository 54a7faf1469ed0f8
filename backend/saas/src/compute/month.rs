//! §7: one row of the MRR report — MRR, ARR, ARPA and their splits at a
//! month's close — completed with the month's billed amounts (§10), its
//! movements (§8) and its rates (§9).

use std::collections::BTreeMap;

use api_types::{Money, SaasMonth, SaasMrrBySource};

use super::movements;
use super::output::Output;
use super::rates;
use super::sums::Sums;
use crate::SaasError;

/// The row of reported month `m`, after the §13 checks of that month.
pub(super) fn month(out: &Output, s: &Sums, m: usize) -> Result<SaasMonth, SaasError> {
    let mrr = s.mrr[m];
    let customers = s.customers[m];
    check_splits(out, s, m)?;
    s.billed[m].check(out, m)?;
    // Before the row: an overflow is named as it always was.
    let mrr_by_interval_months = by_interval(out, &s.by_interval[m])?;
    let mut row = SaasMonth {
        month: out.label(m),
        warm_up: m + 1 < 3,
        opening_complete_up_to_months: u32::try_from(m + 1).unwrap_or(u32::MAX),
        mrr: out.money(mrr, "MRR")?,
        arr: out.money(mrr * 12, "ARR")?,
        customers,
        arpa: out
            .fraction(mrr, i128::from(customers), 1, "ARPA")?
            .map(|v| Money::new(v, out.exponent)),
        movements: None,
        movement_customers: None,
        logo_churn_rate_pct: None,
        gross_mrr_churn_rate_pct: None,
        net_mrr_churn_rate_pct: None,
        nrr_pct: None,
        grr_pct: None,
        nrr_3m_pct: None,
        grr_3m_pct: None,
        nrr_6m_pct: None,
        grr_6m_pct: None,
        nrr_12m_pct: None,
        grr_12m_pct: None,
        quick_ratio: None,
        mrr_growth_pct: None,
        mrr_by_interval_months,
        mrr_by_interval_source: by_source(out, &s.by_source[m])?,
        billed: s.billed[m].to_api(out)?,
    };
    rates::trailing(out, s, m, &mut row)?;
    if m > 0 {
        movements::check(out, s, m)?;
        let (amounts, counts) = movements::movements(out, s, m)?;
        row.movements = Some(amounts);
        row.movement_customers = Some(counts);
        rates::one_month(out, s, m, &mut row)?;
    }
    Ok(row)
}

/// §13: each split of MRR (by interval, by interval source) sums to MRR.
fn check_splits(out: &Output, s: &Sums, m: usize) -> Result<(), SaasError> {
    let mrr = s.mrr[m];
    let by_interval_sum: i128 = s.by_interval[m].iter().map(|(_, v)| v).sum();
    if by_interval_sum != mrr {
        return Err(out.invariant(m, format!("MRR by interval {by_interval_sum} != MRR {mrr}")));
    }
    let by_source_sum: i128 = s.by_source[m].iter().sum();
    if by_source_sum != mrr {
        return Err(out.invariant(m, format!("MRR by interval source {by_source_sum} != MRR {mrr}")));
    }
    Ok(())
}

/// MRR per interval in months, listing only the intervals with MRR.
fn by_interval(out: &Output, sums: &[(u32, i128)]) -> Result<BTreeMap<u32, Money>, SaasError> {
    let mut split = BTreeMap::new();
    for &(k, v) in sums {
        if v != 0 {
            split.insert(k, out.money(v, "MRR by interval")?);
        }
    }
    Ok(split)
}

/// MRR per interval source, all six (in `IntervalSource::index` order).
fn by_source(out: &Output, src: &[i128; 6]) -> Result<SaasMrrBySource, SaasError> {
    Ok(SaasMrrBySource {
        observed_next: out.money(src[0], "MRR by source")?,
        catalogue_year: out.money(src[1], "MRR by source")?,
        observed_previous: out.money(src[2], "MRR by source")?,
        catalogue_month: out.money(src[3], "MRR by source")?,
        assumed_annual: out.money(src[4], "MRR by source")?,
        assumed_monthly: out.money(src[5], "MRR by source")?,
    })
}

/// Adds one customer's MRR at every close to the month's MRR and active
/// customers.
pub(super) fn add(sums: &mut Sums, row: &[i64]) {
    for (m, &q) in row.iter().enumerate() {
        sums.mrr[m] += i128::from(q);
        if q > 0 {
            sums.customers[m] += 1;
        }
    }
}
