//! Partitioned topics (consumer groups): their live-settings form.

pub mod controls;
