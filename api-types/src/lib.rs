//! The JSON contract of the revenue API, shared by the backend (which serialises
//! it and documents it in OpenAPI) and the dashboard (which deserialises it), so
//! the two cannot drift apart.
//!
//! Money is carried as integer hundredths ([`Money`]) and serialised as a decimal
//! string with exactly two decimals: exact to the cent, no binary floating point.

mod ingests;
mod money;
mod reports;
mod session;

pub use ingests::*;
pub use money::{Money, ParseMoneyError, Percent};
pub use reports::*;
pub use session::*;
