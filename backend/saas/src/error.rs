//! Why the figures could not be computed.

use api_types::Money;

/// Errors of [`crate::compute()`] and of the checks on its result. A negative
/// threshold is the request's fault (answer 400); the others are bugs or
/// data beyond the arithmetic's range (answer 500, log the whole message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaasError {
    #[error("annual_threshold {threshold} is negative")]
    NegativeThreshold { threshold: Money },
    /// A §13 invariant does not hold: a bug, never served as a figure.
    #[error("invariant violated for {currency} in {month}: {what}")]
    Invariant {
        month: String,
        currency: String,
        what: String,
    },
    /// A sum beyond 64-bit minor units.
    #[error("{currency}: {what} does not fit 64-bit minor units")]
    Overflow { currency: String, what: &'static str },
    /// An invoice's currency is not a code the API can name.
    #[error(transparent)]
    Currency(api_types::ParseCurrencyError),
    /// A service period or grace end beyond the calendar's range.
    #[error("{currency}: the service period of transaction {transaction_id} ends beyond the supported dates")]
    DateOutOfRange { currency: String, transaction_id: String },
}

impl SaasError {
    /// True when the request's parameters are at fault (HTTP 400), false for a 500.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, SaasError::NegativeThreshold { .. })
    }
}
