//! Transactional messaging (outbox, relays, replicas): the explain sentences.

pub mod explain;

pub use explain::OutboxExplainer;
