//! The subscription reports as CSV: the same rows as their JSON, flattened.

use api_types::{
    Money, SaasCohortsReport, SaasMonth, SaasMovementCustomers, SaasMovements, SaasMovementsReport, SaasMrrReport,
};

use crate::ToCsv;

/// The MRR report's CSV: one row per month close, the splits flattened.
impl ToCsv for SaasMrrReport {
    fn header(&self) -> Vec<&'static str> {
        MRR_COLUMNS.to_vec()
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.months.iter().map(|m| mrr_row(self.currency.as_str(), m)).collect()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// One month close, in the order of [`MRR_COLUMNS`].
fn mrr_row(currency: &str, m: &SaasMonth) -> Vec<String> {
    let mut row = vec![
        currency.to_owned(),
        m.month.to_string(),
        m.warm_up.to_string(),
        m.opening_complete_up_to_months.to_string(),
        m.mrr.to_string(),
        m.arr.to_string(),
        m.customers.to_string(),
        opt(m.arpa),
    ];
    let amounts: [fn(&SaasMovements) -> Money; 7] = [
        |v| v.new,
        |v| v.expansion,
        |v| v.contraction,
        |v| v.churn,
        |v| v.reactivation,
        |v| v.net_new,
        |v| v.new_left_censored,
    ];
    row.extend(amounts.iter().map(|f| opt(m.movements.as_ref().map(f))));
    let counts: [fn(&SaasMovementCustomers) -> u64; 6] = [
        |v| v.new,
        |v| v.expansion,
        |v| v.contraction,
        |v| v.churn,
        |v| v.reactivation,
        |v| v.new_left_censored,
    ];
    row.extend(counts.iter().map(|f| opt(m.movement_customers.as_ref().map(f))));
    row.extend(
        [
            m.logo_churn_rate_pct,
            m.gross_mrr_churn_rate_pct,
            m.net_mrr_churn_rate_pct,
            m.nrr_pct,
            m.grr_pct,
            m.nrr_3m_pct,
            m.grr_3m_pct,
            m.nrr_6m_pct,
            m.grr_6m_pct,
            m.nrr_12m_pct,
            m.grr_12m_pct,
        ]
        .map(opt),
    );
    row.push(opt(m.quick_ratio));
    row.push(opt(m.mrr_growth_pct));
    row.extend(splits_and_billed(m));
    row
}

/// The MRR splits (by interval as `months:amount` pairs, by source) and the billed amounts.
fn splits_and_billed(m: &SaasMonth) -> Vec<String> {
    let intervals = m.mrr_by_interval_months.iter().map(|(k, v)| format!("{k}:{v}"));
    let s = &m.mrr_by_interval_source;
    let b = &m.billed;
    let mut cells = vec![intervals.collect::<Vec<_>>().join(" ")];
    cells.extend(
        [
            s.observed_next,
            s.catalogue_year,
            s.observed_previous,
            s.catalogue_month,
            s.assumed_annual,
            s.assumed_monthly,
            b.recurring.amount,
        ]
        .map(|v| v.to_string()),
    );
    cells.extend([
        b.recurring.count.to_string(),
        b.one_off.amount.to_string(),
        b.one_off.count.to_string(),
        b.zero_invoices.count.to_string(),
        b.refunds.amount.to_string(),
        b.refunds.count.to_string(),
        b.total.to_string(),
        b.invoices.to_string(),
    ]);
    cells
}

const MRR_COLUMNS: &[&str] = &[
    "currency",
    "month",
    "warm_up",
    "opening_complete_up_to_months",
    "mrr",
    "arr",
    "customers",
    "arpa",
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "net_new",
    "new_left_censored",
    "new_customers",
    "expansion_customers",
    "contraction_customers",
    "churned_customers",
    "reactivated_customers",
    "new_left_censored_customers",
    "logo_churn_rate_pct",
    "gross_mrr_churn_rate_pct",
    "net_mrr_churn_rate_pct",
    "nrr_pct",
    "grr_pct",
    "nrr_3m_pct",
    "grr_3m_pct",
    "nrr_6m_pct",
    "grr_6m_pct",
    "nrr_12m_pct",
    "grr_12m_pct",
    "quick_ratio",
    "mrr_growth_pct",
    "mrr_by_interval_months",
    "mrr_observed_next",
    "mrr_catalogue_year",
    "mrr_observed_previous",
    "mrr_catalogue_month",
    "mrr_assumed_annual",
    "mrr_assumed_monthly",
    "billed_recurring",
    "billed_recurring_count",
    "billed_one_off",
    "billed_one_off_count",
    "zero_invoices",
    "refunds",
    "refunds_count",
    "billed_total",
    "invoices",
];

/// The cohort table's CSV: one row per cohort and later month.
impl ToCsv for SaasCohortsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "cohort",
            "opening",
            "cohort_customers",
            "cohort_mrr",
            "month",
            "months_since",
            "active_customers",
            "mrr",
            "customer_retention_pct",
            "mrr_retention_pct",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.cohorts
            .iter()
            .flat_map(|c| {
                c.cells.iter().map(move |cell| {
                    vec![
                        self.currency.to_string(),
                        c.cohort.to_string(),
                        c.opening.to_string(),
                        c.customers.to_string(),
                        c.mrr.to_string(),
                        cell.month.to_string(),
                        cell.months_since.to_string(),
                        cell.active_customers.to_string(),
                        cell.mrr.to_string(),
                        opt(cell.customer_retention_pct),
                        opt(cell.mrr_retention_pct),
                    ]
                })
            })
            .collect()
    }
}

/// The drill-down's CSV: the page's customers.
impl ToCsv for SaasMovementsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "month",
            "kind",
            "customer_id",
            "customer_name",
            "previous_mrr",
            "current_mrr",
            "change",
            "left_censored",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.customers
            .iter()
            .map(|c| {
                vec![
                    self.currency.to_string(),
                    self.month.to_string(),
                    self.kind.to_string(),
                    c.customer_id.clone(),
                    c.customer_name.clone(),
                    c.previous_mrr.to_string(),
                    c.current_mrr.to_string(),
                    c.change.to_string(),
                    c.left_censored.to_string(),
                ]
            })
            .collect()
    }
}
