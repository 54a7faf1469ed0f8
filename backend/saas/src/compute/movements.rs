//! §8: the five movements of MRR between two closes, netted per customer,
//! and the §13 identities that tie them to the month's MRR and customers.

use api_types::{SaasMovementCustomers, SaasMovements};

use super::output::Output;
use super::sums::{Sums, CHURN, CONTRACTION, EXPANSION, NEW, REACTIVATION};
use crate::SaasError;

/// §13: the identities of §8 and the bounds of the movements at reported
/// month `m` (not the opening month).
pub(super) fn check(out: &Output, s: &Sums, m: usize) -> Result<(), SaasError> {
    let (mrr, prev, customers) = (s.mrr[m], s.mrr[m - 1], s.customers[m]);
    let mv = &s.movement[m];
    let mc = &s.movement_customers[m];
    let (new, exp, con, churn, react) = (mv[NEW], mv[EXPANSION], mv[CONTRACTION], mv[CHURN], mv[REACTIVATION]);
    if mrr != prev + new + exp + react - con - churn {
        return Err(out.invariant(
            m,
            "MRR(m) != MRR(m-1) + new + expansion + reactivation - contraction - churn".into(),
        ));
    }
    if i128::from(customers)
        != i128::from(s.customers[m - 1]) + i128::from(mc[NEW]) + i128::from(mc[REACTIVATION]) - i128::from(mc[CHURN])
    {
        return Err(out.invariant(m, "customers(m) != customers(m-1) + new + reactivated - churned".into()));
    }
    if mv.iter().any(|&v| v < 0) {
        return Err(out.invariant(m, "a movement is negative".into()));
    }
    if churn + con > prev {
        return Err(out.invariant(m, "churn + contraction exceed MRR(m-1)".into()));
    }
    if s.nrr_num[m] != prev + exp - con - churn {
        return Err(out.invariant(m, "NRR from movements differs from NRR from customers".into()));
    }
    if s.grr_num[m] != prev - con - churn {
        return Err(out.invariant(m, "GRR from movements differs from GRR from customers".into()));
    }
    Ok(())
}

/// The movements at reported month `m` (not the opening month): their
/// amounts and their customer counts.
pub(super) fn movements(out: &Output, s: &Sums, m: usize) -> Result<(SaasMovements, SaasMovementCustomers), SaasError> {
    let (mrr, prev) = (s.mrr[m], s.mrr[m - 1]);
    let mv = &s.movement[m];
    let mc = &s.movement_customers[m];
    let (lc_mrr, lc_n) = s.left_censored[m];
    let amounts = SaasMovements {
        new: out.money(mv[NEW], "new")?,
        expansion: out.money(mv[EXPANSION], "expansion")?,
        contraction: out.money(mv[CONTRACTION], "contraction")?,
        churn: out.money(mv[CHURN], "churn")?,
        reactivation: out.money(mv[REACTIVATION], "reactivation")?,
        net_new: out.money(mrr - prev, "net new")?,
        new_left_censored: out.money(lc_mrr, "new left-censored")?,
    };
    let customers = SaasMovementCustomers {
        new: mc[NEW],
        expansion: mc[EXPANSION],
        contraction: mc[CONTRACTION],
        churn: mc[CHURN],
        reactivation: mc[REACTIVATION],
        new_left_censored: lc_n,
    };
    Ok((amounts, customers))
}

/// Adds one customer's movement between each two consecutive closes
/// (`cohort`: its first month active; `censored`: §4's left-censored new
/// business).
pub(super) fn add(sums: &mut Sums, row: &[i64], cohort: usize, censored: bool) {
    for m in 1..row.len() {
        let (p, q) = (row[m - 1], row[m]);
        let (p128, q128) = (i128::from(p), i128::from(q));
        let movement = if p == 0 && q > 0 {
            // Active at an earlier reported close: the cohort month is earlier.
            if cohort < m {
                Some((REACTIVATION, q128))
            } else {
                if censored {
                    sums.left_censored[m].0 += q128;
                    sums.left_censored[m].1 += 1;
                }
                Some((NEW, q128))
            }
        } else if p > 0 && q > p {
            Some((EXPANSION, q128 - p128))
        } else if p > 0 && q > 0 && q < p {
            Some((CONTRACTION, p128 - q128))
        } else if p > 0 && q == 0 {
            Some((CHURN, p128))
        } else {
            None
        };
        if let Some((kind, amount)) = movement {
            sums.movement[m][kind] += amount;
            sums.movement_customers[m][kind] += 1;
        }
    }
}
