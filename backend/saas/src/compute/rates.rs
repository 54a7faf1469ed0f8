//! §9: the rates of a month — churn, retention (one month and trailing),
//! quick ratio, growth — as exact fractions rounded once, null when their
//! denominator is 0.

use api_types::{Ratio, SaasMonth};

use super::output::Output;
use super::sums::{Sums, CHURN, CONTRACTION, EXPANSION, NEW, REACTIVATION, TRAILING};
use crate::SaasError;

/// The one-month rates of reported month `m` (not the opening month) into
/// its row.
pub(super) fn one_month(out: &Output, s: &Sums, m: usize, row: &mut SaasMonth) -> Result<(), SaasError> {
    let (mrr, prev) = (s.mrr[m], s.mrr[m - 1]);
    let mv = &s.movement[m];
    let mc = &s.movement_customers[m];
    let (new, exp, con, churn, react) = (mv[NEW], mv[EXPANSION], mv[CONTRACTION], mv[CHURN], mv[REACTIVATION]);
    row.logo_churn_rate_pct = out.pct(i128::from(mc[CHURN]), i128::from(s.customers[m - 1]), "logo churn")?;
    row.gross_mrr_churn_rate_pct = out.pct(churn + con, prev, "gross MRR churn")?;
    row.net_mrr_churn_rate_pct = out.pct(churn + con - exp - react, prev, "net MRR churn")?;
    row.nrr_pct = out.pct(prev + exp - con - churn, prev, "NRR")?;
    row.grr_pct = out.pct(prev - con - churn, prev, "GRR")?;
    row.quick_ratio = out
        .fraction(new + exp + react, churn + con, 100, "quick ratio")?
        .map(Ratio);
    row.mrr_growth_pct = out.pct(mrr - prev, prev, "MRR growth")?;
    Ok(())
}

/// The trailing 3-, 6- and 12-month retention of reported month `m` into
/// its row, for each window whose base month m−n is reported.
pub(super) fn trailing(out: &Output, s: &Sums, m: usize, row: &mut SaasMonth) -> Result<(), SaasError> {
    for (t, &back) in TRAILING.iter().enumerate() {
        if m < back {
            continue;
        }
        let (num, grr, den) = s.trailing[t][m];
        let (nrr, grr) = (out.pct(num, den, "trailing NRR")?, out.pct(grr, den, "trailing GRR")?);
        match back {
            3 => (row.nrr_3m_pct, row.grr_3m_pct) = (nrr, grr),
            6 => (row.nrr_6m_pct, row.grr_6m_pct) = (nrr, grr),
            _ => (row.nrr_12m_pct, row.grr_12m_pct) = (nrr, grr),
        }
    }
    Ok(())
}

/// Adds one customer's MRR to the retention numerators and bases: at each
/// close, if it was active one month before (NRR, GRR) and n months before
/// (the trailing windows).
pub(super) fn add(sums: &mut Sums, row: &[i64]) {
    for (m, &q) in row.iter().enumerate().skip(1) {
        let q128 = i128::from(q);
        let p = row[m - 1];
        if p > 0 {
            sums.nrr_num[m] += q128;
            sums.grr_num[m] += q128.min(i128::from(p));
        }
        for (t, &back) in TRAILING.iter().enumerate() {
            if m >= back && row[m - back] > 0 {
                let base = i128::from(row[m - back]);
                let cell = &mut sums.trailing[t][m];
                cell.0 += q128;
                cell.1 += q128.min(base);
                cell.2 += base;
            }
        }
    }
}
