//! What the figures cannot say on an invoice export (spec §14), worked out
//! from the report itself so that each caveat is shown where, and only when,
//! it applies: warm-up months, the share of MRR resting on an assumption,
//! new business that may be older than the data, annual churn that the data
//! is too short to show, and currencies with too few customers for rates.

use api_types::{Money, Month, Percent, SaasMonth};

use crate::format::month_label;

/// Below this many customers a rate moves by whole customers: a few
/// percentage points each. Noted, not hidden.
pub const FEW_CUSTOMERS: u64 = 30;

/// Closed months needed before an annual plan that began in the data can
/// lapse at a close: its period ends twelve months after it began.
pub const MONTHS_TO_SEE_ANNUAL_CHURN: usize = 13;

/// `part / whole` in percent, exact; `None` when `whole` is zero.
pub fn share(part: Money, whole: Money) -> Option<Percent> {
    let e = part.exponent().max(whole.exponent());
    Percent::ratio(part.with_exponent(e)?.minor(), whole.with_exponent(e)?.minor())
}

/// The sum of some amounts of one currency.
fn sum(amounts: &[Money]) -> Option<Money> {
    amounts
        .iter()
        .try_fold(Money::zero(amounts.first()?.exponent()), |a, b| a.checked_add(*b))
}

/// How a month's MRR splits by the evidence for each invoice's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    /// The subscription's own cadence (next or previous invoice).
    pub observed: Option<Percent>,
    /// The products file's interval.
    pub catalogue: Option<Percent>,
    /// No evidence: annual at or above the threshold, else monthly.
    pub assumed: Option<Percent>,
}

pub fn evidence(m: &SaasMonth) -> Evidence {
    let s = &m.mrr_by_interval_source;
    let of = |parts: &[Money]| sum(parts).and_then(|p| share(p, m.mrr));
    Evidence {
        observed: of(&[s.observed_next, s.observed_previous]),
        catalogue: of(&[s.catalogue_year, s.catalogue_month]),
        assumed: of(&[s.assumed_annual, s.assumed_monthly]),
    }
}

/// The warm-up months as a phrase: `"Jan 2024 and Feb 2024"`; `None` without any.
pub fn warm_up_months(months: &[SaasMonth]) -> Option<String> {
    let labels: Vec<String> = months
        .iter()
        .filter(|m| m.warm_up)
        .map(|m| month_label(m.month))
        .collect();
    match labels.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        [rest @ .., last] => Some(format!("{} and {last}", rest.join(", "))),
    }
}

/// The months whose new business may partly renew subscriptions older than
/// the data, with that part's share of the month's new business.
pub fn left_censored(months: &[SaasMonth]) -> Vec<(Month, Percent)> {
    months
        .iter()
        .filter_map(|m| {
            let mv = m.movements.as_ref()?;
            let p = share(mv.new_left_censored, mv.new).filter(|p| p.hundredths() > 0)?;
            Some((m.month, p))
        })
        .collect()
}

/// Whether the report has annual (or longer) plans whose churn the data
/// cannot show yet: too few closed months for any of them to lapse.
pub fn annual_churn_unobservable(months: &[SaasMonth]) -> bool {
    months.len() < MONTHS_TO_SEE_ANNUAL_CHURN
        && months
            .iter()
            .any(|m| m.mrr_by_interval_months.range(12..).any(|(_, v)| !v.is_zero()))
}

/// Whether the latest month has so few customers that rates are arithmetic, not information.
pub fn few_customers(months: &[SaasMonth]) -> Option<u64> {
    months.last().map(|m| m.customers).filter(|c| *c < FEW_CUSTOMERS)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use api_types::{SaasBilled, SaasBilledAmount, SaasBilledCount, SaasMrrBySource};

    use super::*;
    use crate::recurring::layout::tests::movements;

    /// A month with `mrr` cents of MRR, all of it on observed monthly cadence.
    pub fn month(month: &str, mrr: i64) -> SaasMonth {
        let m = |c| Money::new(c, 2);
        let billed = SaasBilledAmount { amount: m(0), count: 0 };
        SaasMonth {
            month: month.parse().unwrap(),
            warm_up: false,
            opening_complete_up_to_months: 3,
            mrr: m(mrr),
            arr: m(mrr * 12),
            customers: 40,
            arpa: Some(m(mrr / 40)),
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
            mrr_by_interval_months: BTreeMap::from([(1, m(mrr))]),
            mrr_by_interval_source: SaasMrrBySource {
                observed_next: m(mrr),
                catalogue_year: m(0),
                observed_previous: m(0),
                catalogue_month: m(0),
                assumed_annual: m(0),
                assumed_monthly: m(0),
            },
            billed: SaasBilled {
                recurring: billed.clone(),
                one_off: billed.clone(),
                zero_invoices: SaasBilledCount { count: 0 },
                refunds: billed,
                total: m(0),
                invoices: 0,
            },
        }
    }

    #[test]
    fn the_september_split_of_the_spec() {
        // §14: 21.6% of September's usd MRR rests on an assumption.
        let mut sep = month("2024-09", 180_945_958);
        let s = &mut sep.mrr_by_interval_source;
        s.assumed_annual = Money::new(38_248_725, 2);
        s.assumed_monthly = Money::new(903_974, 2);
        s.catalogue_year = Money::new(18_000_000, 2);
        s.observed_next = Money::new(180_945_958 - 38_248_725 - 903_974 - 18_000_000, 2);
        let e = evidence(&sep);
        assert_eq!(e.assumed, Some(Percent(2164)));
        assert_eq!(e.catalogue, Some(Percent(995)));
        assert_eq!(
            e.observed.unwrap().hundredths() + e.catalogue.unwrap().hundredths() + e.assumed.unwrap().hundredths(),
            10_000
        );
        assert_eq!(evidence(&month("2024-01", 0)).assumed, None);
    }

    #[test]
    fn warm_up_and_left_censored_months() {
        let mut months: Vec<SaasMonth> = ["2024-01", "2024-02", "2024-03"].map(|m| month(m, 100)).to_vec();
        assert_eq!(warm_up_months(&months), None);
        months[0].warm_up = true;
        assert_eq!(warm_up_months(&months).as_deref(), Some("Jan 2024"));
        months[1].warm_up = true;
        assert_eq!(warm_up_months(&months).as_deref(), Some("Jan 2024 and Feb 2024"));
        let mut feb = movements(10_000, 0, 0, 0, 0);
        feb.new_left_censored = Money::new(8_600, 2);
        months[1].movements = Some(feb);
        months[2].movements = Some(movements(5_000, 0, 0, 0, 0));
        assert_eq!(left_censored(&months), [(months[1].month, Percent(8600))]);
    }

    #[test]
    fn annual_churn_needs_thirteen_closes_and_annual_plans() {
        let mut months: Vec<SaasMonth> = (1..=9).map(|i| month(&format!("2024-{i:02}"), 100)).collect();
        assert!(!annual_churn_unobservable(&months), "no annual plan");
        months[8].mrr_by_interval_months.insert(12, Money::new(50, 2));
        assert!(annual_churn_unobservable(&months));
        let year: Vec<SaasMonth> = (0..13).map(|_| months[8].clone()).collect();
        assert!(!annual_churn_unobservable(&year));
        assert_eq!(few_customers(&months), None);
        months[8].customers = 4;
        assert_eq!(few_customers(&months), Some(4));
    }
}
