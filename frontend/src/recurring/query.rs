//! The page's URL state: `/recurring-revenue?currency=usd&month=2024-05&kind=churn&offset=25&cohorts=mrr`.
//! Values are validated when parsed, so every field goes back into a URL
//! without escaping.

use api_types::{Currency, Month, SaasMovementKind};

use crate::state::{pairs, parse_offset, query_string, QueryPairs};

/// Customers per page of a movement's list.
pub const CUSTOMERS_PER_PAGE: u32 = 25;

/// What the cohort table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CohortMeasure {
    #[default]
    Customers,
    Mrr,
}

/// One movement of one month: a bar segment of the movements chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovementPick {
    pub month: Month,
    pub kind: SaasMovementKind,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecurringQuery {
    /// `None`: the API's default (the currency with the most transactions).
    pub currency: Option<Currency>,
    /// The movement whose customers are listed.
    pub movement: Option<MovementPick>,
    /// The first customer of the list's page.
    pub offset: u64,
    pub cohorts: CohortMeasure,
}

impl RecurringQuery {
    /// Unknown or invalid values fall back to the defaults; a month without a
    /// kind (or the reverse) selects nothing.
    pub fn from_query(query: &str) -> Self {
        let mut state = Self::default();
        let (mut month, mut kind) = (None, None);
        for (key, value) in pairs(query) {
            match key {
                "currency" => state.currency = value.parse().ok().or(state.currency),
                "month" => month = value.parse().ok().or(month),
                "kind" => kind = value.parse::<SaasMovementKind>().ok(),
                "offset" => state.offset = parse_offset(value).unwrap_or(0),
                "cohorts" if value == "mrr" => state.cohorts = CohortMeasure::Mrr,
                _ => {}
            }
        }
        if let (Some(month), Some(kind)) = (month, kind) {
            state.movement = Some(MovementPick { month, kind });
        } else {
            state.offset = 0;
        }
        state
    }

    /// The page's query parameters, defaults omitted.
    pub fn to_pairs(&self) -> QueryPairs {
        let mut pairs = QueryPairs::new();
        if let Some(c) = self.currency {
            pairs.push(("currency", c.to_string()));
        }
        if let Some(p) = &self.movement {
            pairs.push(("month", p.month.to_string()));
            pairs.push(("kind", p.kind.as_str().to_owned()));
            if self.offset > 0 {
                pairs.push(("offset", self.offset.to_string()));
            }
        }
        if self.cohorts == CohortMeasure::Mrr {
            pairs.push(("cohorts", "mrr".to_owned()));
        }
        pairs
    }

    /// With a leading `?`, or empty for the defaults.
    pub fn to_query(&self) -> String {
        query_string(&self.to_pairs())
    }

    /// Parameters of `/reports/saas/mrr` and `/reports/saas/cohorts`.
    pub fn report_query(&self) -> String {
        self.currency
            .as_ref()
            .map(|c| format!("currency={c}"))
            .unwrap_or_default()
    }

    /// Parameters of `/reports/saas/movements` for the page of customers shown.
    pub fn movements_query(&self, pick: &MovementPick) -> String {
        format!(
            "{}&limit={CUSTOMERS_PER_PAGE}&offset={}",
            self.movement_filter(pick),
            self.offset
        )
    }

    /// Parameters of the CSV of a movement's customers: as many as the API gives at once.
    pub fn movements_csv_query(&self, pick: &MovementPick) -> String {
        self.movement_filter(pick)
    }

    fn movement_filter(&self, pick: &MovementPick) -> String {
        let mut pairs = QueryPairs::new();
        if let Some(c) = self.currency {
            pairs.push(("currency", c.to_string()));
        }
        pairs.push(("month", pick.month.to_string()));
        pairs.push(("kind", pick.kind.as_str().to_owned()));
        query_string(&pairs).trim_start_matches('?').to_owned()
    }

    /// Another currency: the same movement (every currency has the same
    /// months), back to its first page.
    pub fn with_currency(&self, currency: Option<Currency>) -> Self {
        Self {
            currency,
            offset: 0,
            ..self.clone()
        }
    }

    /// Another movement, from its first page.
    pub fn with_movement(&self, movement: Option<MovementPick>) -> Self {
        Self {
            movement,
            offset: 0,
            ..self.clone()
        }
    }

    pub fn with_offset(&self, offset: u64) -> Self {
        Self { offset, ..self.clone() }
    }

    pub fn with_cohorts(&self, cohorts: CohortMeasure) -> Self {
        Self {
            cohorts,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn churn_in_may() -> MovementPick {
        MovementPick {
            month: Month::parse("2024-05").unwrap(),
            kind: SaasMovementKind::Churn,
        }
    }

    #[test]
    fn round_trips() {
        let q = RecurringQuery {
            currency: "eur".parse().ok(),
            movement: Some(churn_in_may()),
            offset: 25,
            cohorts: CohortMeasure::Mrr,
        };
        assert_eq!(
            q.to_query(),
            "?currency=eur&month=2024-05&kind=churn&offset=25&cohorts=mrr"
        );
        assert_eq!(RecurringQuery::from_query(&q.to_query()), q);
        assert_eq!(RecurringQuery::default().to_query(), "");
        assert_eq!(RecurringQuery::from_query(""), RecurringQuery::default());
    }

    #[test]
    fn invalid_values_fall_back() {
        let q = RecurringQuery::from_query("?currency=%3Cx%3E&month=2024-13&kind=churn&offset=5&cohorts=x");
        assert_eq!(q, RecurringQuery::default());
        // A kind without a month, or an unknown kind, selects nothing.
        assert_eq!(RecurringQuery::from_query("kind=new").movement, None);
        assert_eq!(RecurringQuery::from_query("month=2024-05&kind=net_new").movement, None);
        assert_eq!(
            RecurringQuery::from_query("currency=USD")
                .currency
                .map(|c| c.to_string())
                .as_deref(),
            Some("usd")
        );
    }

    #[test]
    fn api_queries() {
        let q = RecurringQuery {
            currency: "usd".parse().ok(),
            offset: 50,
            ..RecurringQuery::default()
        };
        assert_eq!(q.report_query(), "currency=usd");
        assert_eq!(RecurringQuery::default().report_query(), "");
        assert_eq!(
            q.movements_query(&churn_in_may()),
            "currency=usd&month=2024-05&kind=churn&limit=25&offset=50"
        );
        assert_eq!(
            RecurringQuery::default().movements_csv_query(&churn_in_may()),
            "month=2024-05&kind=churn"
        );
    }

    #[test]
    fn changes_go_back_to_the_first_page() {
        let q = RecurringQuery {
            movement: Some(churn_in_may()),
            offset: 25,
            ..RecurringQuery::default()
        };
        let eur = q.with_currency("eur".parse().ok());
        assert_eq!((eur.offset, eur.movement.clone()), (0, Some(churn_in_may())));
        assert_eq!(q.with_movement(None).offset, 0);
        assert_eq!(q.with_cohorts(CohortMeasure::Mrr).offset, 25);
    }
}
