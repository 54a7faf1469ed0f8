//! One module per page of [`crate::app::Route`]: a page reads its URL state and
//! lays out its sections.

pub mod ingests;
pub mod not_found;
pub mod quality;
pub mod reports;
