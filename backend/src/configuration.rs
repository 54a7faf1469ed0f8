//! Settings read from the environment outside the command line: the
//! database's, resolved with the store ([`store::settings`]).

pub use store::settings::*;
