//! Report parameters: validated once, with errors that name the parameter and
//! the accepted range.

use super::ReportError;
use domain::Month;

/// Largest accepted `months`.
pub const MAX_MONTHS: u32 = 36;
/// Longest `from`..=`to` range, in months (twenty years).
pub const MAX_RANGE_MONTHS: u32 = 240;

/// Raw window parameters as they arrive in a query string. The window is
/// either `months` ending at `as_of`, or the free range `from`..=`to`: the
/// two styles cannot be mixed in one request.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// Number of calendar months, 1–36 (default 6). Not with `from`/`to`.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 36)]
    pub months: Option<String>,
    /// Last month of the window, `YYYY-MM` (default: the month of the latest
    /// transaction). Not with `from`/`to`.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-05")]
    pub as_of: Option<String>,
    /// First month of a free range, `YYYY-MM`, inclusive (default with `to`:
    /// the first month of the data); not after `to`, at most 240 months
    /// before it. Not with `months`/`as_of`.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-01")]
    pub from: Option<String>,
    /// Last month of a free range, `YYYY-MM`, inclusive (default with
    /// `from`: the latest month of the data). Not with `months`/`as_of`.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-05")]
    pub to: Option<String>,
    /// ISO currency code, e.g. `usd` (default: the currency with the most transactions).
    /// A code the data does not hold answers 400 with the available ones.
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<Format>, inline)]
    pub format: Option<String>,
}

/// The representation of a report (also chosen with `Accept: text/csv`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documents the values of the `format` parameter.
pub enum Format {
    Json,
    Csv,
}

/// `limit`, validated against a range.
pub struct Limit;

impl Limit {
    pub fn parse(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ReportError> {
        parse_int(raw, "limit", default, 1, max)
    }
}

/// A parameter's value as given; absent is `None`. Given but empty is an
/// error (the contract types every parameter; leave it out for the default).
pub(super) fn given<'a>(raw: Option<&'a str>, parameter: &'static str) -> Result<Option<&'a str>, ReportError> {
    match raw {
        Some("") => Err(ReportError::BadParameter {
            parameter,
            message: format!("parameter `{parameter}` is empty: leave it out for the default"),
        }),
        other => Ok(other),
    }
}

pub(super) fn parse_int(
    raw: Option<&str>,
    parameter: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ReportError> {
    let Some(raw) = given(raw, parameter)? else {
        return Ok(default);
    };
    match raw.parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ReportError::BadParameter {
            parameter,
            message: format!("parameter `{parameter}` must be an integer from {min} to {max}, got {raw:?}"),
        }),
    }
}

/// Parses an optional `YYYY-MM` parameter.
pub fn parse_month(raw: Option<&str>, parameter: &'static str) -> Result<Option<Month>, ReportError> {
    let Some(raw) = given(raw, parameter)? else {
        return Ok(None);
    };
    Month::parse(raw).map(Some).ok_or_else(|| ReportError::BadParameter {
        parameter,
        message: format!("parameter `{parameter}` must be a month as YYYY-MM (e.g. 2024-05), got {raw:?}"),
    })
}

/// `from` ..= `to`, each defaulting to the data's first or latest month;
/// 400 when `from` is after `to` or the range is longer than
/// [`MAX_RANGE_MONTHS`].
pub fn parse_range(
    from: Option<&str>,
    to: Option<&str>,
    first: Option<Month>,
    latest: Option<Month>,
) -> Result<Window, ReportError> {
    let from_given = parse_month(from, "from")?;
    let to_given = parse_month(to, "to")?;
    let from = from_given.or(first).ok_or(ReportError::NoData)?;
    let to = to_given.or(latest).ok_or(ReportError::NoData)?;
    let bad = |message: String| ReportError::BadParameter {
        parameter: "from",
        message,
    };
    let shown = |m: Month, given: Option<Month>, default: &str| match given {
        Some(_) => m.to_string(),
        None => format!("{m}, {default}"),
    };
    if from > to {
        return Err(bad(format!(
            "parameter `from` ({}) must not be after `to` ({})",
            shown(from, from_given, "the first month of the data"),
            shown(to, to_given, "the latest month of the data"),
        )));
    }
    let months = from.months_until(to) + 1;
    if months > MAX_RANGE_MONTHS as i32 {
        return Err(bad(format!(
            "the range `from` {from} to `to` {to} spans {months} months: at most {MAX_RANGE_MONTHS}"
        )));
    }
    Ok(Window {
        from,
        to,
        months: months as u32,
    })
}

/// A resolved window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: Month,
    pub to: Month,
    pub months: u32,
}

impl Window {
    pub fn iter(&self) -> impl Iterator<Item = Month> {
        let from = self.from;
        (0..self.months as i32).map(move |i| from.plus(i))
    }

    pub fn contains(&self, m: Month) -> bool {
        self.from <= m && m <= self.to
    }

    pub fn to_api(self) -> api_types::Window {
        api_types::Window {
            from: self.from,
            to: self.to,
            as_of: self.to,
            months: self.months,
        }
    }
}
