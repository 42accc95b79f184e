//! Message schemas and their evolution: the explain sentences.

pub mod explain;

pub use explain::SchemaExplainer;
