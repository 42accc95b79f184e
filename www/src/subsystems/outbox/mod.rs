//! Transactional messaging (relays): its live-settings form.

pub mod controls;
