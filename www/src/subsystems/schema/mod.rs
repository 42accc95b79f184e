//! Message schemas and their evolution: the explain sentences.

pub mod controls;
pub mod explain;
pub mod marks;

pub use explain::SchemaExplainer;
