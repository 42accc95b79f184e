//! A service's processed-messages table: the ids of the messages it has processed, used to tell a
//! redelivered (or network-duplicated) message from a new one. This is the table of Eventuate
//! Tram's idempotent consumer (`received_messages`: one row per message id a consumer handled),
//! shared by all instances of the service, with a retention bound.
//!
//! Retention: at most [`super::bounds::MAX_PROCESSED_IDS`] ids (default 1 000 000) per service;
//! beyond it the smallest id — the oldest message, ids being handed out in send order — is
//! forgotten. A duplicate of a forgotten message that arrives after that is not recognised: it
//! is processed again (a second effect under `dedup`), as with a real table pruned by age; so is
//! an id smaller than every id of a full table (it is forgotten as soon as it is recorded).
//!
//! Storage: 64-id bitmaps in a persistent B-tree ([`crate::id_bitmap::IdBitmap`]: a word per
//! 64-id window holding a bit per processed id, plus a count), so an id costs a few bits rather
//! than a B-tree slot of its own. Cloning the table — every timeline checkpoint clones the
//! simulation — is O(1) and shares every node with the original; a later insert or eviction
//! copies only the nodes on its path. So checkpoints of a long run cost the ids added since the
//! previous one (and those the current table forgot since), not the whole table each. Lookups
//! and inserts are O(log n); nothing depends on hashing.

use crate::message::MessageId;

/// The processed-messages table of one service (see the module docs for the retention).
#[derive(Clone, Debug, Default)]
pub(super) struct ProcessedIds {
    ids: crate::id_bitmap::IdBitmap<(), { super::bounds::MAX_PROCESSED_IDS }>,
}

impl ProcessedIds {
    /// Records `id` as processed. Returns true when it is new (not in the table: never seen, or
    /// forgotten since); then, beyond the retention bound, the smallest id is forgotten.
    pub(super) fn insert(&mut self, id: MessageId) -> bool {
        self.ids.insert(id.0, ())
    }

    /// Whether `id` is in the table.
    pub(super) fn contains(&self, id: &MessageId) -> bool {
        self.ids.contains(id.0, ())
    }

    /// Ids held.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seen_id_is_not_new_and_the_smallest_is_forgotten_beyond_the_bound() {
        let mut t = ProcessedIds::default();
        assert!(t.insert(MessageId(5)));
        assert!(!t.insert(MessageId(5)));
        assert!(t.contains(&MessageId(5)));
        assert!(!t.contains(&MessageId(6)));
        let max = super::super::bounds::MAX_PROCESSED_IDS as u64;
        for i in 10..10 + max {
            t.insert(MessageId(i));
        }
        // 5 (the smallest) went when the table passed the bound; 10 is still there.
        assert_eq!(t.len(), max as usize);
        assert!(!t.contains(&MessageId(5)));
        assert!(t.contains(&MessageId(10)));
        // A clone shares the table and then goes its own way.
        let mut c = t.clone();
        assert!(c.insert(MessageId(10 + max)));
        assert!(c.contains(&MessageId(10 + max)) && !c.contains(&MessageId(10)));
        assert!(!t.contains(&MessageId(10 + max)) && t.contains(&MessageId(10)));
        // A forgotten id counts as new again (and, being the smallest, goes at once).
        assert!(c.insert(MessageId(5)));
        assert!(!c.contains(&MessageId(5)));
    }
}
