//! The last-seen copy of each message (issue 11, "The message, close up"): the engine forgets a
//! message once it is processed, so the page keeps the copy it last saw (kind, channel, key,
//! headers, payload) for the inspector. Bounded: at most [`MEMO_MESSAGES`] messages, the lowest
//! ids (the oldest messages) dropped first.

use msgsim::{Message, MessageId, SimTime, Simulation};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Messages kept at most.
pub const MEMO_MESSAGES: usize = 4_096;

/// The last-seen copy of recent messages, with the virtual time each was first seen.
#[derive(Clone, Debug, Default)]
pub struct MessageMemo {
    kept: BTreeMap<MessageId, (Arc<Message>, SimTime)>,
}

impl MessageMemo {
    /// Keeps (or refreshes) every message `sim` holds now. One pass over the messages held.
    pub fn observe(&mut self, sim: &Simulation) {
        let now = sim.now();
        for m in sim.held_messages() {
            self.kept
                .entry(m.id)
                .and_modify(|e| e.0 = Arc::clone(m))
                .or_insert_with(|| (Arc::clone(m), now));
        }
        while self.kept.len() > MEMO_MESSAGES {
            self.kept.pop_first();
        }
    }

    /// The last-seen copy of `id`, if kept.
    pub fn get(&self, id: MessageId) -> Option<Arc<Message>> {
        self.kept.get(&id).map(|e| Arc::clone(&e.0))
    }

    /// History branched at `at` (a command applied there): copies first seen after it may
    /// belong to messages the new branch never makes, so they are dropped.
    pub fn branch_at(&mut self, at: SimTime) {
        self.kept.retain(|_, e| e.1 <= at);
    }

    /// Forgets everything (a new run).
    pub fn clear(&mut self) {
        self.kept.clear();
    }

    /// Messages kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processed_messages_keep_their_last_seen_copy() {
        let s =
            msgsim::Scenario::from_json(msgsim::scenarios::get("order-events").unwrap()).unwrap();
        let mut sim = Simulation::new(s, 42).unwrap();
        let mut memo = MessageMemo::default();
        for t in (0..=3_000).step_by(16) {
            sim.run_until(SimTime::from_ms(t), 1_000_000);
            memo.observe(&sim);
        }
        // m1 was processed long ago: the engine forgot it, the memo did not.
        assert!(sim.message(MessageId(1)).is_none());
        let m = memo.get(MessageId(1)).expect("kept");
        assert_eq!(
            (m.kind.as_str(), &*m.type_name, &*m.channel),
            ("event", "OrderCreated", "order-events")
        );
        assert_eq!(m.headers.key.as_deref(), Some("order-1"));
        // Every message the run sent so far (each lives longer than a 16 ms frame).
        let sent: std::collections::BTreeSet<MessageId> = sim
            .trace()
            .events()
            .filter_map(|e| match &e.what {
                msgsim::TraceKind::Send { msg, .. } => Some(*msg),
                _ => None,
            })
            .collect();
        assert_eq!(sent.len(), 24);
        assert!(sent.iter().all(|&id| memo.get(id).is_some()));
        assert_eq!(memo.len(), 24);
        memo.branch_at(SimTime::from_ms(1_000));
        assert_eq!(memo.len(), 8, "first seen by 1 s");
        memo.clear();
        assert!(memo.is_empty());
    }
}
