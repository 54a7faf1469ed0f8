//! The sums of one currency kept while its customers are read, one entry
//! per reported month: what the report turns into figures.

use super::billed::Billed;

/// Index of each movement in the per-month arrays.
pub(super) const NEW: usize = 0;
pub(super) const EXPANSION: usize = 1;
pub(super) const CONTRACTION: usize = 2;
pub(super) const CHURN: usize = 3;
pub(super) const REACTIVATION: usize = 4;

/// Trailing retention windows of §9.
pub(super) const TRAILING: [usize; 3] = [3, 6, 12];

/// The sums of one currency, one entry per reported month (close).
pub(super) struct Sums {
    pub(super) mrr: Vec<i128>,
    pub(super) customers: Vec<u64>,
    pub(super) by_interval: Vec<Vec<(u32, i128)>>,
    pub(super) by_source: Vec<[i128; 6]>,
    pub(super) movement: Vec<[i128; 5]>,
    pub(super) movement_customers: Vec<[u64; 5]>,
    pub(super) left_censored: Vec<(i128, u64)>,
    /// Σ over customers active at m−1 of MRR_c(m) and of min(MRR_c(m), MRR_c(m−1)).
    pub(super) nrr_num: Vec<i128>,
    pub(super) grr_num: Vec<i128>,
    /// Per trailing window: (Σ MRR_c(m), Σ min, Σ MRR_c(m−n)) over customers active at m−n.
    pub(super) trailing: [Vec<(i128, i128, i128)>; 3],
    /// Cohorts: size and MRR per cohort month; members active / their MRR per (cohort, month).
    pub(super) cohort_size: Vec<u64>,
    pub(super) cohort_active: Vec<u64>,
    pub(super) cohort_mrr: Vec<i128>,
    pub(super) billed: Vec<Billed>,
}

impl Sums {
    pub(super) fn new(n: usize) -> Sums {
        Sums {
            mrr: vec![0; n],
            customers: vec![0; n],
            by_interval: vec![Vec::new(); n],
            by_source: vec![[0; 6]; n],
            movement: vec![[0; 5]; n],
            movement_customers: vec![[0; 5]; n],
            left_censored: vec![(0, 0); n],
            nrr_num: vec![0; n],
            grr_num: vec![0; n],
            trailing: [vec![(0, 0, 0); n], vec![(0, 0, 0); n], vec![(0, 0, 0); n]],
            cohort_size: vec![0; n],
            cohort_active: vec![0; n * n],
            cohort_mrr: vec![0; n * n],
            billed: vec![Billed::default(); n],
        }
    }

    /// Adds the sums of other customers (exact: every sum is an integer).
    pub(super) fn absorb(&mut self, other: Sums) {
        fn add<T: Copy + std::ops::AddAssign>(into: &mut [T], from: &[T]) {
            for (a, b) in into.iter_mut().zip(from) {
                *a += *b;
            }
        }
        fn add_arrays<T: Copy + std::ops::AddAssign, const N: usize>(into: &mut [[T; N]], from: &[[T; N]]) {
            for (a, b) in into.iter_mut().zip(from) {
                add(a, b);
            }
        }
        // Destructured: a field added to the sums and not here fails to compile.
        let Sums {
            mrr,
            customers,
            by_interval,
            by_source,
            movement,
            movement_customers,
            left_censored,
            nrr_num,
            grr_num,
            trailing,
            cohort_size,
            cohort_active,
            cohort_mrr,
            billed,
        } = other;
        add(&mut self.mrr, &mrr);
        add(&mut self.customers, &customers);
        for (into, from) in self.by_interval.iter_mut().zip(by_interval) {
            for (k, v) in from {
                match into.iter_mut().find(|(own, _)| *own == k) {
                    Some((_, sum)) => *sum += v,
                    None => into.push((k, v)),
                }
            }
        }
        add_arrays(&mut self.by_source, &by_source);
        add_arrays(&mut self.movement, &movement);
        add_arrays(&mut self.movement_customers, &movement_customers);
        for (a, b) in self.left_censored.iter_mut().zip(&left_censored) {
            a.0 += b.0;
            a.1 += b.1;
        }
        add(&mut self.nrr_num, &nrr_num);
        add(&mut self.grr_num, &grr_num);
        for (into, from) in self.trailing.iter_mut().zip(&trailing) {
            for (a, b) in into.iter_mut().zip(from) {
                a.0 += b.0;
                a.1 += b.1;
                a.2 += b.2;
            }
        }
        add(&mut self.cohort_size, &cohort_size);
        add(&mut self.cohort_active, &cohort_active);
        add(&mut self.cohort_mrr, &cohort_mrr);
        for (a, b) in self.billed.iter_mut().zip(&billed) {
            a.absorb(b);
        }
    }
}
