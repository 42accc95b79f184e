//! Web code grouped by subsystem, one folder each.

pub mod story;
