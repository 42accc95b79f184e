//! Service discovery: the explain sentences.

pub mod explain;

pub use explain::DiscoveryExplainer;
