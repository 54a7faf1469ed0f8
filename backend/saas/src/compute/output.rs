//! How one currency's sums become figures: money in the currency's
//! exponent, fractions rounded once (§1, §9), months named, and the errors
//! that name the currency.

use api_types::{Money, Month, Percent};

use super::rounding::div_round;
use crate::calendar::{month_of, MonthIndex};
use crate::SaasError;

/// The currency being reported and its window's first month.
pub(super) struct Output<'a> {
    pub(super) currency: &'a str,
    pub(super) exponent: u8,
    pub(super) first_month: MonthIndex,
}

impl Output<'_> {
    /// Reported month `m` (0 = the window's first month).
    pub(super) fn label(&self, m: usize) -> Month {
        month_of(self.first_month + m as i64)
    }

    /// A sum as money, or an overflow error when it does not fit 64 bits.
    pub(super) fn money(&self, v: i128, what: &'static str) -> Result<Money, SaasError> {
        i64::try_from(v)
            .map(|minor| Money::new(minor, self.exponent))
            .map_err(|_| SaasError::Overflow {
                currency: self.currency.to_owned(),
                what,
            })
    }

    /// `scale × num / den` rounded half away from zero; `None` when `den` is 0.
    pub(super) fn fraction(
        &self,
        num: i128,
        den: i128,
        scale: i128,
        what: &'static str,
    ) -> Result<Option<i64>, SaasError> {
        if den == 0 {
            return Ok(None);
        }
        let v = num
            .checked_mul(scale)
            .map(|x| div_round(x, den))
            .and_then(|v| i64::try_from(v).ok());
        v.map(Some).ok_or_else(|| SaasError::Overflow {
            currency: self.currency.to_owned(),
            what,
        })
    }

    /// A percentage with two decimals; `None` when `den` is 0.
    pub(super) fn pct(&self, num: i128, den: i128, what: &'static str) -> Result<Option<Percent>, SaasError> {
        Ok(self.fraction(num, den, 10_000, what)?.map(Percent))
    }

    /// A §13 violation at reported month `m`.
    pub(super) fn invariant(&self, m: usize, what: String) -> SaasError {
        SaasError::Invariant {
            month: self.label(m).to_string(),
            currency: self.currency.to_owned(),
            what,
        }
    }
}
