//! Synchronous calls' Resilience4j policies: their live-settings forms.

pub mod controls;
