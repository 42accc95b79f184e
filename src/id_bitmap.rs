//! A bounded, persistent set of `(message id, tag)` entries stored as 64-id bitmaps: the compact
//! storage of the processed-messages tables ([`crate::sim`]) and the claim checker's message
//! tables ([`crate::invariants`]).
//!
//! Semantics: a set of `(id, tag)` pairs ordered by id, then tag, holding at most `MAX` entries;
//! inserting a new entry beyond `MAX` forgets the smallest one (ids are handed out in send order,
//! so the smallest is the oldest message) — exactly an ordered set with `remove_min`, including
//! when the inserted entry is itself the smallest (it is forgotten at once).
//!
//! Storage: a persistent B-tree ([`imbl::OrdMap`], nodes shared through reference counts) from
//! `(id >> 6, tag)` to a 64-bit word whose bit `id & 63` is set when `(id, tag)` is held, plus a
//! count. A service handles a large share of the ids in any 64-id window, so an entry costs a few
//! bits instead of a B-tree slot (8 bytes for an id alone) of its own; a clone (every timeline
//! checkpoint clones the simulation) is O(1) and shares every node, and a later insert or
//! eviction copies only the nodes on its path. Iteration and lookups never hash.

use std::ops::Bound;

/// Bits per word: the ids `64·k … 64·k + 63` share the word of chunk `k`.
const BITS: u64 = 64;

/// At most `MAX` entries `(id, tag)`, the smallest forgotten first (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct IdBitmap<S: Ord + Clone, const MAX: usize> {
    words: imbl::OrdMap<(u64, S), u64>,
    len: usize,
}

impl<S: Ord + Clone, const MAX: usize> Default for IdBitmap<S, MAX> {
    fn default() -> Self {
        IdBitmap {
            words: imbl::OrdMap::new(),
            len: 0,
        }
    }
}

impl<S: Ord + Clone, const MAX: usize> IdBitmap<S, MAX> {
    /// Adds `(id, tag)`. Returns true when it was not held (never added, or forgotten since);
    /// then, beyond `MAX` entries, the smallest entry is forgotten (possibly this one).
    pub(crate) fn insert(&mut self, id: u64, tag: S) -> bool {
        let key = (id / BITS, tag);
        let bit = 1u64 << (id % BITS);
        // Look before writing: a write copies the path of nodes a checkpoint shares.
        let word = self.words.get(&key).copied().unwrap_or(0);
        if word & bit != 0 {
            return false;
        }
        self.words.insert(key, word | bit);
        self.len += 1;
        if self.len > MAX {
            self.pop_min();
        }
        true
    }

    /// Whether `(id, tag)` is held.
    pub(crate) fn contains(&self, id: u64, tag: S) -> bool {
        self.words
            .get(&(id / BITS, tag))
            .is_some_and(|w| w & (1u64 << (id % BITS)) != 0)
    }

    /// Removes `(id, tag)`; returns whether it was held.
    pub(crate) fn remove(&mut self, id: u64, tag: S) -> bool {
        let key = (id / BITS, tag);
        let bit = 1u64 << (id % BITS);
        let Some(word) = self.words.get(&key).copied() else {
            return false;
        };
        if word & bit == 0 {
            return false;
        }
        if word == bit {
            self.words.remove(&key);
        } else {
            self.words.insert(key, word & !bit);
        }
        self.len -= 1;
        true
    }

    /// Forgets the smallest entry (by id, then tag) and returns it.
    pub(crate) fn pop_min(&mut self) -> Option<(u64, S)> {
        let (first, _) = self.words.get_min()?.clone();
        let chunk = first.0;
        // Among the words of the smallest chunk (one per tag, in tag order), the lowest set bit;
        // the first tag that has it.
        let (bit, key) = self
            .words
            .range::<_, (u64, S)>((Bound::Included(&first), Bound::Unbounded))
            .take_while(|((c, _), _)| *c == chunk)
            .map(|(k, w)| (w.trailing_zeros(), k))
            .min_by_key(|(b, _)| *b)?;
        let key = key.clone();
        let id = chunk * BITS + u64::from(bit);
        self.remove(id, key.1.clone());
        Some((id, key.1))
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The ids held with tag `tag`, ascending (scans every word: for rare operations only).
    pub(crate) fn ids_with<'a>(&'a self, tag: &'a S) -> impl Iterator<Item = u64> + 'a {
        self.words
            .iter()
            .filter(move |((_, s), _)| s == tag)
            .flat_map(|((c, _), w)| {
                let (c, mut w) = (*c, *w);
                std::iter::from_fn(move || {
                    (w != 0).then(|| {
                        let b = w.trailing_zeros();
                        w &= w - 1;
                        c * BITS + u64::from(b)
                    })
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The reference semantics: an ordered set that drops its minimum beyond `max`.
    fn reference_insert(set: &mut BTreeSet<(u64, u8)>, max: usize, e: (u64, u8)) -> bool {
        let new = set.insert(e);
        if set.len() > max {
            set.pop_first();
        }
        new
    }

    #[test]
    fn equals_an_ordered_set_with_remove_min_on_a_generated_sequence() {
        const MAX: usize = 1_000;
        let mut bits: IdBitmap<u8, MAX> = IdBitmap::default();
        let mut set = BTreeSet::new();
        // Mostly growing ids (send order) with redeliveries of recent and of long-forgotten
        // ones, three tags, and removals: xorshift, fixed seed.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut top, mut news, mut forgotten_again) = (0u64, 0u32, 0u32);
        for step in 0..60_000u32 {
            let r = next();
            let tag = (r % 3) as u8;
            let id = match (r >> 8) % 10 {
                0..=5 => {
                    top += 1 + (r >> 16) % 3;
                    top
                }
                6 | 7 => top.saturating_sub((r >> 16) % 200),
                8 => (r >> 16) % (top + 1),
                _ => {
                    let id = top.saturating_sub((r >> 16) % 300);
                    assert_eq!(bits.remove(id, tag), set.remove(&(id, tag)), "step {step}");
                    continue;
                }
            };
            let was_forgotten = set.first().is_some_and(|&f| (id, tag) < f);
            let a = bits.insert(id, tag);
            let b = reference_insert(&mut set, MAX, (id, tag));
            assert_eq!(a, b, "insert {id}/{tag} at step {step}");
            news += u32::from(a);
            forgotten_again += u32::from(a && was_forgotten && set.len() == MAX);
            assert_eq!(bits.len(), set.len());
            let probe = next() % (top + 2);
            for t in 0..3 {
                assert_eq!(bits.contains(probe, t), set.contains(&(probe, t)));
            }
        }
        assert_eq!(bits.len(), MAX);
        // The generator hit every case: new entries, and ids below a full table's smallest
        // (new again, forgotten at once).
        assert_eq!((news, forgotten_again), (51_507, 5_353));
        for t in 0..3 {
            let want: Vec<u64> = set.iter().filter(|e| e.1 == t).map(|e| e.0).collect();
            assert_eq!(bits.ids_with(&t).collect::<Vec<_>>(), want);
        }
        // Eviction order: the smallest (id, tag) first, to the last one.
        while let Some(e) = bits.pop_min() {
            assert_eq!(Some(e), set.pop_first());
        }
        assert!(set.is_empty() && bits.len() == 0);
    }

    #[test]
    fn a_clone_shares_and_then_goes_its_own_way() {
        let mut a: IdBitmap<(), 4> = IdBitmap::default();
        for id in [1, 2, 70, 3] {
            assert!(a.insert(id, ()));
        }
        let mut b = a.clone();
        // 5 is new; the table is full, so 1 (the smallest) goes, in b only.
        assert!(b.insert(5, ()));
        assert!(!b.contains(1, ()) && b.contains(5, ()));
        assert!(a.contains(1, ()) && !a.contains(5, ()));
        // Below the smallest of a full table: new, and forgotten at once.
        assert!(b.insert(0, ()));
        assert!(!b.contains(0, ()));
        assert_eq!(b.ids_with(&()).collect::<Vec<_>>(), [2, 3, 5, 70]);
        assert_eq!(a.ids_with(&()).collect::<Vec<_>>(), [1, 2, 3, 70]);
    }
}
