//! Kafka-style partitioned topics: the explain sentences.

pub mod explain;

pub use explain::KafkaExplainer;
