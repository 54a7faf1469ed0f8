//! One row of transactions.csv, parsed and validated (no more: what becomes
//! of a valid row is pass 2's business).

use super::COLUMNS;
use crate::read::source::RawRow;
use crate::rows::{FactRef, Reject};
use domain::{check_id, parse_amount, parse_timestamp, AmountError, Currency, DateBounds, ParseMoneyError};

/// A valid row, borrowing its text from the input record.
pub(super) struct Parsed<'a> {
    pub fact: FactRef<'a>,
    pub currency: Currency,
}

/// Parses the row whose columns are at `p` (in [`COLUMNS`]' order).
pub(super) fn parse<'a>(row: &'a RawRow<'_>, p: &[usize], dates: &DateBounds) -> Result<Parsed<'a>, Reject> {
    let date = row.field(p[0], COLUMNS[0].name)?;
    let id = row.field(p[1], COLUMNS[1].name)?;
    let customer = row.field(p[2], COLUMNS[2].name)?;
    let subscription = row.field(p[3], COLUMNS[3].name)?;
    let total = row.field(p[4], COLUMNS[4].name)?;
    let currency_text = row.field(p[5], COLUMNS[5].name)?;
    if id.is_empty() {
        return Err(Reject::new("empty_transaction_id", "empty Transaction ID"));
    }
    if customer.is_empty() {
        return Err(Reject::new("empty_customer_id", "empty Customer ID"));
    }
    for (value, column) in [(id, &COLUMNS[1]), (customer, &COLUMNS[2]), (subscription, &COLUMNS[3])] {
        check_id(value, column.name).map_err(|e| Reject::new("id_too_long", e))?;
    }
    let date_utc =
        parse_timestamp(date).map_err(|e| Reject::new("invalid_date", format!("column \"Date (UTC)\": {e}")))?;
    dates
        .check(date_utc)
        .map_err(|e| Reject::new("implausible_date", format!("column \"Date (UTC)\": {e}")))?;
    let amount_reject = |e: AmountError| Reject::new(e.reason_code(), format!("column \"Total\": {e}"));
    // The amount's decimals depend on the currency; a Total that is no number
    // at all is still named first, whatever the currency says.
    let currency = match Currency::parse(currency_text) {
        Ok(currency) => currency,
        Err(e) => {
            if let Err(e @ AmountError::Parse(ParseMoneyError::NotADecimal { .. })) = parse_amount(total, 0, true) {
                return Err(amount_reject(e));
            }
            return Err(Reject::new("unknown_currency", format!("column \"Currency\": {e}")));
        }
    };
    let total = parse_amount(total, currency.exponent(), true).map_err(|e| {
        let mut reject = amount_reject(e);
        // The limit depends on the currency: name it.
        reject.message.push_str(&format!(" (currency {currency})"));
        reject
    })?;
    Ok(Parsed {
        fact: FactRef {
            transaction_id: id,
            date_utc,
            customer_id: customer,
            subscription_id: (!subscription.is_empty()).then_some(subscription),
            total_cents: total.minor(),
            currency: currency.as_str(),
        },
        currency,
    })
}
