//! Network faults, per link and per direction.
//!
//! Vocabulary follows Toxiproxy (latency, jitter, `down`) and turmoil (partition, hold/release).
//! Unlike Toxiproxy, which applies toxics per connection, msgsim applies every probability per
//! message: each message on a direction draws its own loss, duplication and latency.

use crate::error::ScenarioError;
use serde::{Deserialize, Serialize};

/// The faults of one link direction. All fields default to "healthy, 1 ms".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkFaults {
    /// One-way delay, ms (Toxiproxy `latency`). Default 1.
    pub latency_ms: u64,
    /// Uniform ± variation of the delay, ms (Toxiproxy `jitter`). Independent per message, so a
    /// jitter larger than the send interval reorders messages. Default 0.
    pub jitter_ms: u64,
    /// Probability that a message is lost, percent 0–100. Default 0.
    pub loss_percent: f64,
    /// Probability that a message arrives twice (a second copy with its own delay), percent 0–100
    /// (tigerbeetle's "replay"). Default 0.
    pub duplicate_percent: f64,
    /// Partitioned: every message sent is dropped (turmoil `partition`; for one direction only,
    /// `partition_oneway`). Default false.
    pub partitioned: bool,
    /// Held: messages are kept on the link until released, then delivered (turmoil `hold` /
    /// `release`). Default false.
    pub held: bool,
}

impl Default for LinkFaults {
    fn default() -> Self {
        LinkFaults {
            latency_ms: 1,
            jitter_ms: 0,
            loss_percent: 0.0,
            duplicate_percent: 0.0,
            partitioned: false,
            held: false,
        }
    }
}

/// Upper bound of `latency_ms` and `jitter_ms`: one hour ([`crate::ranges::MAX_LATENCY_MS`]).
pub const MAX_LATENCY_MS: u64 = crate::ranges::MAX_LATENCY_MS;

impl LinkFaults {
    /// Checks ranges: percentages finite in 0–100, delays at most [`MAX_LATENCY_MS`]. `at` is the
    /// field path used in errors (`links[2]` gives `links[2].loss_percent: ...`).
    pub fn validate(&self, at: &str) -> Result<(), ScenarioError> {
        use crate::ranges;
        ranges::percent(format!("{at}.loss_percent"), self.loss_percent)?;
        ranges::percent(format!("{at}.duplicate_percent"), self.duplicate_percent)?;
        for (name, v) in [
            ("latency_ms", self.latency_ms),
            ("jitter_ms", self.jitter_ms),
        ] {
            ranges::ms_max(format!("{at}.{name}"), v, 0, MAX_LATENCY_MS)?;
        }
        Ok(())
    }
}

/// Which direction(s) of a link a command applies to, relative to the names given in the command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Both directions.
    #[default]
    Both,
    /// From `a` to `b` only.
    AToB,
    /// From `b` to `a` only.
    BToA,
}

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Random loss (`loss_percent`).
    Loss,
    /// The direction was partitioned when it was sent.
    Partition,
    /// The receiving node was crashed when it arrived.
    NodeDown,
    /// A bounded buffer (queue, inbox, link) was full.
    Overflow,
}

impl DropReason {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::NodeDown => "node_down",
            DropReason::Overflow => "overflow",
        }
    }
}
