//! The JSON contract of the revenue API, shared by the backend (which serialises
//! it and documents it in OpenAPI) and the dashboard (which deserialises it), so
//! the two cannot drift apart.
//!
//! Money is carried as integer minor units of its currency with the currency's
//! ISO 4217 exponent ([`Money`]) and serialised as a decimal string with exactly
//! that many decimals (`"1234.50"` usd, `"1500"` jpy, `"12.345"` kwd): exact to
//! the minor unit, no binary floating point.

mod currency;
mod dimension;
mod drill;
mod ingests;
mod money;
mod month;
mod percent;
mod quality;
mod reports;
mod saas;
mod session;
mod vocabulary;

pub use currency::{Currency, ParseCurrencyError};
pub use dimension::*;
pub use drill::*;
pub use ingests::*;
pub use money::{rescale_per_currency, rescaled, Money, ParseMoneyError};
pub use month::{Month, ParseMonthError};
pub use percent::Percent;
pub use quality::*;
pub use reports::*;
pub use saas::*;
pub use session::*;
pub use vocabulary::*;
