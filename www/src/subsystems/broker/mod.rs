//! The message broker (topics, queues, producers): its live-settings form.

pub mod controls;
pub mod selection;
