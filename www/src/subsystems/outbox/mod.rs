//! Transactional messaging (outbox, relays, replicas): the explain sentences and the relays'
//! live-settings form.

pub mod controls;
pub mod explain;

pub use explain::OutboxExplainer;
