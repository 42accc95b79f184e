//! Synchronous calls (RPI over REST, Resilience4j policies): the explain sentences.

pub mod controls;
pub mod explain;
pub mod marks;

pub use explain::SyncExplainer;
