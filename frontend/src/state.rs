//! The pages' filters, held in the URL query string so a copied link reopens
//! the same view and back/forward work. Values are validated when parsed, so
//! everything here can be put back into a URL without escaping.

use api_types::{Currency, Month};

/// Window lengths offered by the header.
pub const WINDOW_CHOICES: [u32; 3] = [3, 6, 12];

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewState {
    pub months: u32,
    /// `None`: the latest month in the data.
    pub as_of: Option<Month>,
    /// `None`: the API's default (most transactions).
    pub currency: Option<Currency>,
    /// A free range `from`..=`to` instead of `months` ending at `as_of`; an
    /// end left `None` is the data's first or latest month.
    pub from: Option<Month>,
    pub to: Option<Month>,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            months: 6,
            as_of: None,
            currency: None,
            from: None,
            to: None,
        }
    }
}

impl ViewState {
    /// Parses `?months=12&as_of=2024-05&currency=eur`; unknown or invalid values
    /// fall back to the defaults rather than breaking the page.
    pub fn from_query(query: &str) -> Self {
        let mut state = Self::default();
        for (key, value) in pairs(query) {
            match key {
                "months" => {
                    if let Ok(m) = value.parse::<u32>() {
                        if WINDOW_CHOICES.contains(&m) {
                            state.months = m;
                        }
                    }
                }
                "as_of" => state.as_of = value.parse().ok().or(state.as_of),
                "from" => state.from = value.parse().ok().or(state.from),
                "to" => state.to = value.parse().ok().or(state.to),
                "currency" => state.currency = value.parse().ok().or(state.currency),
                _ => {}
            }
        }
        state
    }

    /// A free range is chosen (it replaces the window and the as-of month).
    pub fn is_range(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }

    /// `from=…&to=…` of a free range (the ends given), else `None`.
    fn range_query(&self) -> Option<String> {
        let ends = [("from", &self.from), ("to", &self.to)];
        let given: Vec<String> = ends
            .iter()
            .filter_map(|(k, v)| Some(format!("{k}={}", v.as_ref()?)))
            .collect();
        (!given.is_empty()).then(|| given.join("&"))
    }

    /// The page's query parameters, defaults omitted.
    pub fn to_pairs(&self) -> QueryPairs {
        let mut pairs = QueryPairs::new();
        if self.is_range() {
            pairs.extend(
                [("from", &self.from), ("to", &self.to)]
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, v.as_ref()?.to_string()))),
            );
        } else if self.months != 6 {
            pairs.push(("months", self.months.to_string()));
        }
        if let Some(a) = self.as_of.filter(|_| !self.is_range()) {
            pairs.push(("as_of", a.to_string()));
        }
        if let Some(c) = self.currency {
            pairs.push(("currency", c.to_string()));
        }
        pairs
    }

    /// The query string for this state (defaults omitted), with a leading `?` or empty.
    pub fn to_query(&self) -> String {
        query_string(&self.to_pairs())
    }

    /// Query parameters for the window reports.
    pub fn api_query(&self) -> String {
        let mut q = format!("months={}", self.months);
        if let Some(range) = self.range_query() {
            q = range;
        } else if let Some(a) = &self.as_of {
            q.push_str(&format!("&as_of={a}"));
        }
        if let Some(c) = &self.currency {
            q.push_str(&format!("&currency={c}"));
        }
        q
    }

    /// Query parameters for reports that take only a currency.
    pub fn currency_query(&self) -> String {
        self.currency
            .as_ref()
            .map(|c| format!("currency={c}"))
            .unwrap_or_default()
    }
}

/// A page's query parameters in order, as the router serialises them.
pub type QueryPairs = Vec<(&'static str, String)>;

/// `?a=1&b=2`, or empty without parameters.
pub fn query_string(pairs: &[(&'static str, String)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("?{}", joined.join("&"))
}

/// `key=value` pairs of a query string (leading `?` optional), in order.
pub(crate) fn pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// Rows per page of the run list.
pub const RUNS_PER_PAGE: u32 = 20;
/// Rows per page of a run's rejected rows.
pub const REJECTIONS_PER_PAGE: u32 = 50;

/// The most rows the CSV of `GET /ingests/{id}/rejections` holds (its CSV default and maximum).
pub const CSV_ROW_LIMIT: u32 = 1_000_000;

/// The input files an ingest reads: the only values the `file` filter takes.
pub const INPUT_FILES: [&str; 3] = ["products.csv", "transactions.csv", "users.csv"];

pub(crate) fn parse_offset(value: &str) -> Option<u64> {
    value.parse::<u64>().ok().filter(|o| *o <= u64::from(u32::MAX))
}

/// The run list's query: `/runs?offset=20`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunsQuery {
    pub offset: u64,
}

impl RunsQuery {
    pub fn from_query(query: &str) -> Self {
        let mut state = Self::default();
        for (key, value) in pairs(query) {
            if let ("offset", Some(o)) = (key, parse_offset(value)) {
                state.offset = o;
            }
        }
        state
    }

    pub fn to_pairs(self) -> QueryPairs {
        if self.offset == 0 {
            Vec::new()
        } else {
            vec![("offset", self.offset.to_string())]
        }
    }

    /// With a leading `?`, or empty on the first page.
    pub fn to_query(self) -> String {
        query_string(&self.to_pairs())
    }

    /// `GET /ingests` parameters.
    pub fn api_query(self) -> String {
        format!("limit={RUNS_PER_PAGE}&offset={}", self.offset)
    }
}

/// A run's rejected-rows filter: `/runs/7?file=users.csv&reason=invalid_date&offset=50`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RejectionQuery {
    /// One of [`INPUT_FILES`]; `None`: every file.
    pub file: Option<String>,
    /// A reason code (`invalid_date`); `None`: every reason.
    pub reason: Option<String>,
    pub offset: u64,
}

/// The API's reason codes are lower-case words joined by `_`.
fn valid_reason(r: &str) -> bool {
    !r.is_empty() && r.len() <= 64 && r.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

impl RejectionQuery {
    pub fn from_query(query: &str) -> Self {
        let mut state = Self::default();
        for (key, value) in pairs(query) {
            match key {
                "file" if INPUT_FILES.contains(&value) => state.file = Some(value.to_owned()),
                "reason" if valid_reason(value) => state.reason = Some(value.to_owned()),
                "offset" => state.offset = parse_offset(value).unwrap_or(0),
                _ => {}
            }
        }
        state
    }

    /// The filter parameters alone (what the CSV download takes too).
    fn filter_pairs(&self) -> QueryPairs {
        let mut pairs = QueryPairs::new();
        if let Some(f) = &self.file {
            pairs.push(("file", f.clone()));
        }
        if let Some(r) = &self.reason {
            pairs.push(("reason", r.clone()));
        }
        pairs
    }

    /// The page's query parameters, defaults omitted.
    pub fn to_pairs(&self) -> QueryPairs {
        let mut pairs = self.filter_pairs();
        if self.offset > 0 {
            pairs.push(("offset", self.offset.to_string()));
        }
        pairs
    }

    /// With a leading `?`, or empty without a filter.
    pub fn to_query(&self) -> String {
        query_string(&self.to_pairs())
    }

    /// `GET /ingests/{id}/rejections` parameters for the page shown.
    pub fn api_query(&self) -> String {
        let mut pairs = self.filter_pairs();
        pairs.push(("limit", REJECTIONS_PER_PAGE.to_string()));
        pairs.push(("offset", self.offset.to_string()));
        query_string(&pairs).trim_start_matches('?').to_owned()
    }

    /// Parameters of the CSV download: every row the filter matches (the API's
    /// CSV holds up to [`CSV_ROW_LIMIT`] rows without a `limit`).
    pub fn csv_query(&self) -> String {
        query_string(&self.filter_pairs()).trim_start_matches('?').to_owned()
    }

    /// The same filter with another file: back to the first page, and the
    /// reason dropped when that file has no rows for it.
    pub fn with_file(&self, file: Option<String>, reasons: &[api_types::RejectionReason]) -> Self {
        let keeps_reason = |r: &String| {
            reasons
                .iter()
                .any(|x| &x.reason == r && file.as_ref().is_none_or(|f| &x.file == f))
        };
        Self {
            reason: self.reason.clone().filter(keeps_reason),
            file,
            offset: 0,
        }
    }

    /// The same filter with another reason, back to the first page.
    pub fn with_reason(&self, reason: Option<String>) -> Self {
        Self {
            file: self.file.clone(),
            reason,
            offset: 0,
        }
    }
}

/// Every month from `first` to `last` inclusive, newest first (none for
/// more than 50 years: a choice no one scrolls through).
pub fn months_between(first: Month, last: Month) -> Vec<Month> {
    if first.months_until(last) >= 600 {
        return Vec::new();
    }
    let mut months: Vec<Month> = first.through(last).collect();
    months.reverse();
    months
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = ViewState {
            months: 12,
            as_of: Month::parse("2024-05"),
            currency: "eur".parse().ok(),
            ..ViewState::default()
        };
        assert_eq!(s.to_query(), "?months=12&as_of=2024-05&currency=eur");
        assert_eq!(ViewState::from_query(&s.to_query()), s);
        assert_eq!(ViewState::default().to_query(), "");
        assert_eq!(ViewState::from_query(""), ViewState::default());
    }

    #[test]
    fn invalid_values_fall_back() {
        let s = ViewState::from_query("?months=7&as_of=2024-13&currency=%3Cscript%3E&x=1");
        assert_eq!(s, ViewState::default());
        assert_eq!(
            ViewState::from_query("currency=USD")
                .currency
                .map(|c| c.to_string())
                .as_deref(),
            Some("usd")
        );
    }

    #[test]
    fn api_queries() {
        let s = ViewState {
            months: 3,
            currency: "usd".parse().ok(),
            ..ViewState::default()
        };
        assert_eq!(s.api_query(), "months=3&currency=usd");
        assert_eq!(s.currency_query(), "currency=usd");
    }

    #[test]
    fn a_free_range_replaces_the_window_in_the_url_and_the_api() {
        let s = ViewState::from_query("?from=2024-02&to=2024-09&months=12&as_of=2024-05&currency=eur");
        assert!(s.is_range());
        assert_eq!(s.to_query(), "?from=2024-02&to=2024-09&currency=eur");
        assert_eq!(s.api_query(), "from=2024-02&to=2024-09&currency=eur");
        assert_eq!(
            ViewState::from_query(&s.to_query()),
            ViewState {
                months: 6,
                as_of: None,
                ..s
            }
        );
        let open = ViewState::from_query("?from=2024-02");
        assert_eq!(
            (open.to_query().as_str(), open.api_query().as_str()),
            ("?from=2024-02", "from=2024-02")
        );
        assert!(!ViewState::from_query("?from=2024-13").is_range());
    }

    #[test]
    fn month_lists() {
        let m = |s| Month::parse(s).unwrap();
        assert_eq!(
            months_between(m("2023-11"), m("2024-02")),
            vec!["2024-02", "2024-01", "2023-12", "2023-11"]
        );
        assert!(months_between(m("2024-02"), m("2023-01")).is_empty());
        assert!(months_between(m("1990-01"), m("2040-01")).is_empty());
    }

    #[test]
    fn run_list_offsets() {
        assert_eq!(RunsQuery::from_query("?offset=40"), RunsQuery { offset: 40 });
        assert_eq!(RunsQuery::from_query("offset=-3&x=1"), RunsQuery::default());
        assert_eq!(RunsQuery { offset: 40 }.to_query(), "?offset=40");
        assert_eq!(RunsQuery::default().to_query(), "");
        assert_eq!(RunsQuery { offset: 40 }.api_query(), "limit=20&offset=40");
    }

    #[test]
    fn rejection_filters_round_trip() {
        let q = RejectionQuery {
            file: Some("users.csv".into()),
            reason: Some("empty_customer_id".into()),
            offset: 50,
        };
        assert_eq!(q.to_query(), "?file=users.csv&reason=empty_customer_id&offset=50");
        assert_eq!(RejectionQuery::from_query(&q.to_query()), q);
        assert_eq!(RejectionQuery::default().to_query(), "");
        assert_eq!(
            q.api_query(),
            "file=users.csv&reason=empty_customer_id&limit=50&offset=50"
        );
        assert_eq!(q.csv_query(), "file=users.csv&reason=empty_customer_id");
    }

    #[test]
    fn rejection_filters_only_take_safe_values() {
        // Anything else would have to be escaped to go back into a URL.
        let q = RejectionQuery::from_query("?file=../etc&reason=Invalid%20Date&offset=abc");
        assert_eq!(q, RejectionQuery::default());
        assert_eq!(RejectionQuery::from_query("file=secret.csv").file, None);
        assert_eq!(
            RejectionQuery::from_query("reason=invalid_date").reason.as_deref(),
            Some("invalid_date")
        );
    }

    #[test]
    fn changing_a_filter_goes_back_to_the_first_page() {
        let reason = |file: &str, code: &str| api_types::RejectionReason {
            file: file.into(),
            reason: code.into(),
            rows: 1,
            first_line: 2,
            example: String::new(),
        };
        let reasons = [
            reason("transactions.csv", "invalid_date"),
            reason("users.csv", "empty_customer_id"),
        ];
        let q = RejectionQuery {
            file: None,
            reason: Some("invalid_date".into()),
            offset: 100,
        };
        let same_file = q.with_file(Some("transactions.csv".into()), &reasons);
        assert_eq!(same_file.reason.as_deref(), Some("invalid_date"));
        assert_eq!(same_file.offset, 0);
        // users.csv has no invalid_date rows: the reason would only empty the table.
        let other = q.with_file(Some("users.csv".into()), &reasons);
        assert_eq!((other.file.as_deref(), other.reason), (Some("users.csv"), None));
        let reason_only = q.with_reason(Some("empty_customer_id".into()));
        assert_eq!(reason_only.offset, 0);
        assert_eq!(reason_only.reason.as_deref(), Some("empty_customer_id"));
    }
}
