//! Errors. Every error says what was wrong and where.

use thiserror::Error;

/// A scenario could not be parsed or is inconsistent.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ScenarioError {
    /// JSON syntax or shape error, with its 1-based position.
    #[error("scenario JSON, line {line} column {column}: {message}")]
    Parse {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's message (names the field).
        message: String,
    },
    /// A name refers to nothing.
    #[error("{field}: unknown name `{name}`")]
    UnknownName {
        /// Path of the field, e.g. `links[2].b`.
        field: String,
        /// The name that was not found.
        name: String,
    },
    /// A value is out of range or inconsistent.
    #[error("{field}: {message}")]
    Invalid {
        /// Path of the field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A size limit was exceeded.
    #[error("too many {what}: {got} (maximum {max})")]
    TooLarge {
        /// What was counted.
        what: &'static str,
        /// How many were given.
        got: u64,
        /// The limit.
        max: u64,
    },
}

/// A command could not be applied. The simulation is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CommandError {
    /// No node of that name.
    #[error("unknown node `{0}`")]
    UnknownNode(String),
    /// The node has fewer instances.
    #[error("node `{node}` has no instance {instance} (it has {count})")]
    UnknownInstance {
        /// Node name.
        node: String,
        /// Requested instance.
        instance: u32,
        /// Instances it has.
        count: u32,
    },
    /// No link joins these nodes.
    #[error("no link between `{0}` and `{1}`")]
    UnknownLink(String, String),
    /// Faults out of range.
    #[error("invalid faults: {0}")]
    InvalidFaults(String),
    /// The command log is full (a bound on what a run records); reset the run to go on.
    #[error("the command log is full ({0} commands); reset the run to apply more")]
    LogFull(usize),
    /// The command does not apply to that target (e.g. `stop_relay` on a service).
    #[error("{0}")]
    NotApplicable(String),
    /// The command does not fit the scenario or the current state (what and why).
    #[error("{0}")]
    Invalid(String),
    /// A schema command (`set_schema_version`) names no declared schema, channel or producer, or
    /// the producer's payload is not valid for the version.
    #[error("schema: {0}")]
    Schema(String),
}
