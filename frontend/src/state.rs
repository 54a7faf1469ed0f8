//! The view's filters, held in the URL query string so a copied link reopens
//! the same view and back/forward work.

/// Window lengths offered by the header.
pub const WINDOW_CHOICES: [u32; 3] = [3, 6, 12];

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewState {
    pub months: u32,
    /// `YYYY-MM`; `None`: the latest month in the data.
    pub as_of: Option<String>,
    /// `None`: the API's default (most transactions).
    pub currency: Option<String>,
}

impl Default for ViewState {
    fn default() -> Self {
        Self {
            months: 6,
            as_of: None,
            currency: None,
        }
    }
}

fn valid_month(m: &str) -> bool {
    let b = m.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit())
        && matches!(m[5..].parse::<u32>(), Ok(1..=12))
}

impl ViewState {
    /// Parses `?months=12&as_of=2024-05&currency=eur`; unknown or invalid values
    /// fall back to the defaults rather than breaking the page.
    pub fn from_query(query: &str) -> Self {
        let mut state = Self::default();
        for pair in query.trim_start_matches('?').split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "months" => {
                    if let Ok(m) = value.parse::<u32>() {
                        if WINDOW_CHOICES.contains(&m) {
                            state.months = m;
                        }
                    }
                }
                "as_of" if valid_month(value) => state.as_of = Some(value.to_owned()),
                "currency"
                    if !value.is_empty() && value.len() <= 8 && value.bytes().all(|b| b.is_ascii_alphabetic()) =>
                {
                    state.currency = Some(value.to_ascii_lowercase())
                }
                _ => {}
            }
        }
        state
    }

    /// The query string for this state (defaults omitted), with a leading `?` or empty.
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if self.months != 6 {
            parts.push(format!("months={}", self.months));
        }
        if let Some(a) = &self.as_of {
            parts.push(format!("as_of={a}"));
        }
        if let Some(c) = &self.currency {
            parts.push(format!("currency={c}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// Query parameters for the window reports.
    pub fn api_query(&self) -> String {
        let mut q = format!("months={}", self.months);
        if let Some(a) = &self.as_of {
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

/// `month` moved by `delta` months (`"2024-01"`, -1 → `"2023-12"`).
pub fn shift_month(month: &str, delta: i32) -> Option<String> {
    let (y, m) = month.split_once('-')?;
    let i = y.parse::<i32>().ok()? * 12 + m.parse::<i32>().ok()? - 1 + delta;
    Some(format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1))
}

/// Every month from `first` to `last` inclusive (`YYYY-MM`), newest first.
pub fn months_between(first: &str, last: &str) -> Vec<String> {
    let parse = |m: &str| -> Option<i32> {
        let (y, mo) = m.split_once('-')?;
        Some(y.parse::<i32>().ok()? * 12 + mo.parse::<i32>().ok()? - 1)
    };
    match (parse(first), parse(last)) {
        (Some(a), Some(b)) if a <= b && b - a < 600 => (a..=b)
            .rev()
            .map(|i| format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = ViewState {
            months: 12,
            as_of: Some("2024-05".into()),
            currency: Some("eur".into()),
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
        assert_eq!(ViewState::from_query("currency=USD").currency.as_deref(), Some("usd"));
    }

    #[test]
    fn api_queries() {
        let s = ViewState {
            months: 3,
            as_of: None,
            currency: Some("usd".into()),
        };
        assert_eq!(s.api_query(), "months=3&currency=usd");
        assert_eq!(s.currency_query(), "currency=usd");
    }

    #[test]
    fn month_lists() {
        assert_eq!(shift_month("2024-01", -1).as_deref(), Some("2023-12"));
        assert_eq!(shift_month("2024-05", -5).as_deref(), Some("2023-12"));
        assert_eq!(
            months_between("2023-11", "2024-02"),
            vec!["2024-02", "2024-01", "2023-12", "2023-11"]
        );
        assert!(months_between("2024-02", "2023-01").is_empty());
    }
}
