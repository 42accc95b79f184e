//! Broker-side duplicate detection by message id within a time window.
//!
//! A [`DedupWindow`] answers "was this message id already accepted within the last `window_us`?",
//! as brokers that deduplicate by an application-supplied id do:
//!
//! | broker | setting | default |
//! | --- | --- | --- |
//! | NATS JetStream | stream `duplicate_window`, id in the `Nats-Msg-Id` header | 2 minutes |
//! | Amazon SQS FIFO | `MessageDeduplicationId`, fixed deduplication interval | 5 minutes |
//! | Azure Service Bus | `duplicateDetectionHistoryTimeWindow`, id = `MessageId` | 10 minutes (20 s to 7 days) |
//!
//! The window counts from the **first** acceptance of an id: a duplicate arriving inside the
//! window is reported and does not extend it (SQS: copies sent during the interval are accepted
//! but not delivered; JetStream acknowledges them with `duplicate: true`). An id accepted at `t`
//! is a duplicate until `t + window_us`, exclusive; from then on it counts as new again.
//! `window_us = 0` turns detection off.
//!
//! Memory is bounded: at most `max_entries` ids are remembered. When a new id arrives with the
//! window full of unexpired ids, the oldest is forgotten early (counted in
//! [`DedupWindow::evicted_early`]), and a later duplicate of it passes as new — the same trade-off
//! a broker makes when its deduplication store is full. Expired ids are dropped as time passes.
//!
//! Time never goes backwards here: a `now_us` earlier than one already seen is taken as the
//! latest one seen.

use super::LogError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// NATS JetStream's default `duplicate_window` (2 minutes), µs.
pub const NATS_JETSTREAM_DEFAULT_WINDOW_US: u64 = 120_000_000;
/// Amazon SQS FIFO's deduplication interval (5 minutes, fixed), µs.
pub const SQS_FIFO_DEDUPLICATION_INTERVAL_US: u64 = 300_000_000;
/// Azure Service Bus's default duplicate detection history window (10 minutes), µs.
pub const AZURE_SERVICE_BUS_DEFAULT_WINDOW_US: u64 = 600_000_000;
/// Upper bound of `max_entries`, the same as the engine's processed-messages table.
pub const MAX_DEDUP_ENTRIES: u32 = 1_000_000;

/// Configuration of a [`DedupWindow`] (`windowUs`, `maxEntries` in JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct DedupConfig {
    /// How long an id is remembered, µs, from its first acceptance. Default 120 000 000
    /// (NATS JetStream's 2 minutes). 0 turns detection off.
    pub window_us: u64,
    /// Most ids remembered, 1 to [`MAX_DEDUP_ENTRIES`]. Default 100 000.
    pub max_entries: u32,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            window_us: NATS_JETSTREAM_DEFAULT_WINDOW_US,
            max_entries: 100_000,
        }
    }
}

impl DedupConfig {
    /// Checks `max_entries` (every `window_us` is valid).
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] for `maxEntries` outside 1..=[`MAX_DEDUP_ENTRIES`].
    pub fn validate(&self) -> Result<(), LogError> {
        if self.max_entries == 0 || self.max_entries > MAX_DEDUP_ENTRIES {
            return Err(LogError::invalid(
                "maxEntries",
                self.max_entries,
                "must be between 1 and 1000000",
            ));
        }
        Ok(())
    }
}

/// The answer of [`DedupWindow::observe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DedupVerdict {
    /// Not seen within the window: accepted and remembered from now.
    New,
    /// Seen within the window: a duplicate (to acknowledge without storing or delivering).
    Duplicate {
        /// When the id was first accepted, µs.
        first_seen_us: u64,
    },
}

/// Message ids accepted within the last `window_us` (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DedupWindow {
    window_us: u64,
    max_entries: u32,
    /// id → first accepted at.
    seen: BTreeMap<u64, u64>,
    /// (accepted at, id) in acceptance order, which is time order.
    order: VecDeque<(u64, u64)>,
    latest_us: u64,
    evicted_early: u64,
}

impl DedupWindow {
    /// An empty window.
    ///
    /// # Errors
    /// [`LogError::InvalidConfig`] from [`DedupConfig::validate`].
    pub fn new(config: &DedupConfig) -> Result<DedupWindow, LogError> {
        config.validate()?;
        Ok(DedupWindow {
            window_us: config.window_us,
            max_entries: config.max_entries,
            seen: BTreeMap::new(),
            order: VecDeque::new(),
            latest_us: 0,
            evicted_early: 0,
        })
    }

    /// An empty window of `window_us` with the default `max_entries` (100 000).
    pub fn with_window(window_us: u64) -> DedupWindow {
        DedupWindow {
            window_us,
            max_entries: DedupConfig::default().max_entries,
            seen: BTreeMap::new(),
            order: VecDeque::new(),
            latest_us: 0,
            evicted_early: 0,
        }
    }

    /// The window, µs.
    pub fn window_us(&self) -> u64 {
        self.window_us
    }

    /// Ids remembered now (expired ones not yet dropped included).
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// `true` when no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Ids forgotten before their window ended because the window was full.
    pub fn evicted_early(&self) -> u64 {
        self.evicted_early
    }

    fn clamp(&mut self, now_us: u64) -> u64 {
        self.latest_us = self.latest_us.max(now_us);
        self.latest_us
    }

    fn live(&self, seen_at: u64, now: u64) -> bool {
        now < seen_at.saturating_add(self.window_us)
    }

    /// Drops the ids whose window has ended by `now_us`.
    pub fn expire(&mut self, now_us: u64) {
        let now = self.clamp(now_us);
        while let Some(&(at, id)) = self.order.front() {
            if self.live(at, now) {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&id);
        }
    }

    /// When `message_id` was first accepted, if that is within the window at `now_us`
    /// (read-only).
    pub fn first_seen(&self, now_us: u64, message_id: u64) -> Option<u64> {
        let now = self.latest_us.max(now_us);
        self.seen
            .get(&message_id)
            .copied()
            .filter(|&at| self.live(at, now))
    }

    /// `true` when `message_id` was accepted within the window at `now_us` (read-only).
    pub fn contains(&self, now_us: u64, message_id: u64) -> bool {
        self.first_seen(now_us, message_id).is_some()
    }

    /// A message with `message_id` arrives at `now_us`: [`DedupVerdict::Duplicate`] if it was
    /// accepted within the window, else [`DedupVerdict::New`] and it is remembered from now.
    pub fn observe(&mut self, now_us: u64, message_id: u64) -> DedupVerdict {
        self.expire(now_us);
        let now = self.latest_us;
        if let Some(&first_seen_us) = self.seen.get(&message_id) {
            return DedupVerdict::Duplicate { first_seen_us };
        }
        if self.window_us == 0 {
            return DedupVerdict::New;
        }
        while self.seen.len() >= self.max_entries as usize {
            let Some((_, id)) = self.order.pop_front() else {
                break;
            };
            self.seen.remove(&id);
            self.evicted_early += 1;
        }
        self.seen.insert(message_id, now);
        self.order.push_back((now, message_id));
        DedupVerdict::New
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    #[test]
    fn duplicates_within_the_window_only() {
        let mut w = DedupWindow::with_window(SQS_FIFO_DEDUPLICATION_INTERVAL_US);
        assert_eq!(w.observe(0, 7), DedupVerdict::New);
        assert_eq!(
            w.observe(299 * S, 7),
            DedupVerdict::Duplicate { first_seen_us: 0 }
        );
        // The duplicate did not extend the window: at exactly 300 s the id is new again.
        assert!(w.contains(300 * S - 1, 7));
        assert!(!w.contains(300 * S, 7));
        assert_eq!(w.observe(300 * S, 7), DedupVerdict::New);
        assert_eq!(w.first_seen(301 * S, 7), Some(300 * S));
        assert_eq!(w.observe(301 * S, 8), DedupVerdict::New);
        w.expire(600 * S);
        assert_eq!(w.len(), 1);
        w.expire(601 * S);
        assert!(w.is_empty());
    }

    #[test]
    fn bounded_size_evicts_oldest_early() {
        let mut w = DedupWindow::new(&DedupConfig {
            window_us: 60 * S,
            max_entries: 2,
        })
        .unwrap();
        assert_eq!(w.observe(0, 1), DedupVerdict::New);
        assert_eq!(w.observe(1, 2), DedupVerdict::New);
        assert_eq!(w.observe(2, 3), DedupVerdict::New);
        assert_eq!((w.len(), w.evicted_early()), (2, 1));
        // 1 was forgotten early, so its duplicate passes; 3 is still caught.
        assert_eq!(w.observe(3, 1), DedupVerdict::New);
        assert_eq!(
            w.observe(4, 3),
            DedupVerdict::Duplicate { first_seen_us: 2 }
        );
    }

    #[test]
    fn zero_window_and_time_going_backwards() {
        let mut w = DedupWindow::with_window(0);
        assert_eq!(w.observe(5, 1), DedupVerdict::New);
        assert_eq!(w.observe(5, 1), DedupVerdict::New);
        assert!(w.is_empty());
        let mut w = DedupWindow::with_window(10);
        assert_eq!(w.observe(100, 1), DedupVerdict::New);
        // An earlier now_us is taken as 100.
        assert_eq!(
            w.observe(50, 1),
            DedupVerdict::Duplicate { first_seen_us: 100 }
        );
        assert_eq!(w.observe(50, 2), DedupVerdict::New);
        assert_eq!(w.first_seen(0, 2), Some(100));
        assert_eq!(w.observe(110, 1), DedupVerdict::New);
        // The end of the window saturates at u64::MAX instead of overflowing.
        assert_eq!(w.observe(u64::MAX - 5, 3), DedupVerdict::New);
        assert!(w.contains(u64::MAX - 1, 3));
    }

    #[test]
    fn config_validation_and_defaults() {
        let c = DedupConfig::default();
        assert_eq!((c.window_us, c.max_entries), (120 * S, 100_000));
        assert!(DedupWindow::new(&DedupConfig {
            window_us: 1,
            max_entries: 0
        })
        .is_err());
        assert!(DedupWindow::new(&DedupConfig {
            window_us: 1,
            max_entries: MAX_DEDUP_ENTRIES + 1
        })
        .is_err());
        assert_eq!(AZURE_SERVICE_BUS_DEFAULT_WINDOW_US, 600 * S);
        assert_eq!(NATS_JETSTREAM_DEFAULT_WINDOW_US, 120 * S);
    }
}
