//! Reusable view pieces.

pub mod chart_canvas;
pub mod section;
