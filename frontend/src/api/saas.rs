//! The subscription metrics (`/reports/saas/*`) of the recurring-revenue page.

use api_types::{SaasCohortsReport, SaasMovementsReport, SaasMrrReport};

use super::{csv_url, get, FetchError};
use crate::recurring::query::{MovementPick, RecurringQuery};

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// MRR at each month close, its movements and rates, in the page's currency.
pub async fn mrr(q: &RecurringQuery) -> Result<SaasMrrReport, FetchError> {
    get("recurring revenue", with_query("/reports/saas/mrr", &q.report_query())).await
}

/// The cohort table in the page's currency.
pub async fn cohorts(q: &RecurringQuery) -> Result<SaasCohortsReport, FetchError> {
    get("cohorts", with_query("/reports/saas/cohorts", &q.report_query())).await
}

/// The page of customers behind one movement.
pub async fn movements(q: &RecurringQuery, pick: &MovementPick) -> Result<SaasMovementsReport, FetchError> {
    get("the movement's customers", movements_url(q, pick)).await
}

fn movements_url(q: &RecurringQuery, pick: &MovementPick) -> String {
    format!("/reports/saas/movements?{}", q.movements_query(pick))
}

/// The CSV of the MRR report, or of the cohorts (`path`), in the page's currency.
pub fn report_csv_url(path: &str, q: &RecurringQuery) -> String {
    csv_url(path, &q.report_query())
}

/// The CSV of a movement's customers, all of them.
pub fn movements_csv_url(q: &RecurringQuery, pick: &MovementPick) -> String {
    csv_url("/reports/saas/movements", &q.movements_csv_query(pick))
}

#[cfg(test)]
mod tests {
    use api_types::SaasMovementKind;

    use super::*;

    #[test]
    fn urls_carry_the_currency_and_the_movement() {
        let pick = MovementPick {
            month: "2024-03".parse().unwrap(),
            kind: SaasMovementKind::New,
        };
        let usd = RecurringQuery {
            currency: Some("usd".parse().unwrap()),
            ..RecurringQuery::default()
        };
        assert_eq!(
            movements_url(&usd, &pick),
            "/reports/saas/movements?currency=usd&month=2024-03&kind=new&limit=25&offset=0"
        );
        assert_eq!(
            movements_csv_url(&usd, &pick),
            "/reports/saas/movements?currency=usd&month=2024-03&kind=new&format=csv"
        );
        assert_eq!(
            report_csv_url("/reports/saas/mrr", &RecurringQuery::default()),
            "/reports/saas/mrr?format=csv"
        );
        assert_eq!(with_query("/reports/saas/cohorts", ""), "/reports/saas/cohorts");
    }
}
