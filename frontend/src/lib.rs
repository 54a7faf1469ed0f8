//! The revenue dashboard: a Yew single-page app over the revenue API.
//!
//! Logic that can be tested natively (formatting, URL state, routes, chart
//! drawing and tooltip lookup, run summaries, quality scores, the sign-in
//! state, the upload's steps) lives in plain modules; components only wire
//! them to the DOM.

pub mod api;
pub mod app;
pub mod charts;
pub mod components;
pub mod format;
pub mod hooks;
pub mod ingests;
pub mod pages;
pub mod quality;
pub mod recurring;
pub mod session;
pub mod state;
pub mod upload;
