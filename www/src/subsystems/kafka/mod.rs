//! Kafka-style partitioned topics: the explain sentences and the live-settings form.

pub mod controls;
pub mod explain;
pub mod marks;

pub use explain::KafkaExplainer;
