//! One module per page of [`crate::app::Route`]: a page reads its URL state and
//! lays out its sections. The sign-in page stands in for any of them while
//! nobody is signed in.

pub mod customer;
pub mod ingests;
pub mod month;
pub mod not_found;
pub mod quality;
pub mod recurring;
pub mod reports;
pub mod sign_in;
