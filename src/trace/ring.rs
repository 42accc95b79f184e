//! The trace's ring of recent events, stored in fixed-size chunks that clones share.
//!
//! A [`Ring`] keeps the last `cap` items pushed, oldest first, like a `VecDeque` that evicts its
//! front when full. The items live in chunks of [`CHUNK`] items (fewer when `cap` is smaller)
//! behind `Arc`: every chunk but the last is full and never changes again, so cloning a ring
//! (a timeline checkpoint clones the whole simulation) copies only the list of chunk pointers,
//! and the first push after a clone copies the open last chunk (at most `CHUNK - 1` items).
//! Evicting only moves the start index into the first chunk; the chunk is freed when all its
//! items are evicted (and no clone holds it). In memory at most `cap + CHUNK - 1` items.
//! A fully evicted chunk that no clone holds is emptied and kept as the spare for the next
//! chunk (its capacity, no items), so a full ring that is not shared pushes without allocating.

use std::collections::VecDeque;
use std::sync::Arc;

/// Items per chunk: 64. A clone's first push copies at most 63 items of the open chunk; a
/// chunk list of a 10 000-item ring is 157 pointers.
pub const CHUNK: usize = 64;

/// Bounded ring of the last `cap` items, in chunks shared between clones (see the module docs).
#[derive(Clone, Debug)]
pub struct Ring<T> {
    /// Oldest first; every chunk but the last holds exactly `chunk` items.
    chunks: VecDeque<Arc<Vec<T>>>,
    /// Items of the first chunk already evicted.
    head: usize,
    /// Items kept (at most `cap`).
    len: usize,
    cap: usize,
    /// Items per chunk: `min(CHUNK, cap)`, at least 1.
    chunk: usize,
    /// An emptied chunk (capacity `chunk`) to reuse for the next one; never cloned.
    spare: Spare<T>,
}

/// A ring's spare chunk: not copied by a clone (a shared spare could be reused by neither).
#[derive(Debug)]
struct Spare<T>(Option<Arc<Vec<T>>>);

impl<T> Clone for Spare<T> {
    fn clone(&self) -> Self {
        Spare(None)
    }
}

impl<T: Clone> Ring<T> {
    /// An empty ring keeping the last `cap` items (`cap` 0 keeps none).
    pub fn new(cap: usize) -> Ring<T> {
        Ring {
            chunks: VecDeque::new(),
            head: 0,
            len: 0,
            cap,
            chunk: cap.clamp(1, CHUNK),
            spare: Spare(None),
        }
    }

    /// Items kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no item is kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `item`, evicting the oldest one when `cap` items are kept already.
    pub fn push(&mut self, item: T) {
        if self.cap == 0 {
            return;
        }
        if self.len == self.cap {
            self.head += 1;
            self.len -= 1;
            if self.head == self.chunk {
                if let Some(mut old) = self.chunks.pop_front() {
                    if let Some(v) = Arc::get_mut(&mut old) {
                        v.clear();
                        self.spare.0 = Some(old);
                    }
                }
                self.head = 0;
            }
        }
        let chunk = self.chunk;
        match self.chunks.back_mut() {
            Some(last) if last.len() < chunk => match Arc::get_mut(last) {
                Some(v) => v.push(item),
                None => {
                    // Shared with a clone (a checkpoint): copy the open chunk once.
                    let mut v = Vec::with_capacity(chunk);
                    v.extend(last.iter().cloned());
                    v.push(item);
                    *last = Arc::new(v);
                }
            },
            _ => {
                let mut next = self
                    .spare
                    .0
                    .take()
                    .unwrap_or_else(|| Arc::new(Vec::with_capacity(chunk)));
                match Arc::get_mut(&mut next) {
                    Some(v) => v.push(item),
                    None => {
                        let mut v = Vec::with_capacity(chunk);
                        v.push(item);
                        next = Arc::new(v);
                    }
                }
                self.chunks.push_back(next);
            }
        }
        self.len += 1;
    }

    /// The `i`-th item kept, oldest first.
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let p = self.head + i;
        self.chunks
            .get(p / self.chunk)
            .and_then(|c| c.get(p % self.chunk))
    }

    /// The oldest item kept.
    pub fn front(&self) -> Option<&T> {
        self.get(0)
    }

    /// Items kept from the `from`-th on (oldest first).
    pub fn iter_from(&self, from: usize) -> Iter<'_, T> {
        Iter {
            ring: self,
            front: from.min(self.len),
            back: self.len,
        }
    }

    /// The chunks holding the items, oldest first (the first one may start with evicted items).
    /// Two rings share a chunk when `Arc::ptr_eq` holds for it.
    pub fn chunks(&self) -> impl Iterator<Item = &Arc<Vec<T>>> {
        self.chunks.iter()
    }

    /// Items stored in chunks of this ring that `other` does not hold too: what this ring costs
    /// in memory beyond `other` (`size_of::<T>()` each, plus their heap data). Chunks are
    /// compared by address (`Arc::ptr_eq`).
    pub fn items_not_shared_with(&self, other: &Ring<T>) -> usize {
        let mut theirs: Vec<*const Vec<T>> = other.chunks.iter().map(Arc::as_ptr).collect();
        theirs.sort_unstable();
        self.chunks
            .iter()
            .filter(|c| theirs.binary_search(&Arc::as_ptr(c)).is_err())
            .map(|c| c.len())
            .sum()
    }
}

/// Iterator over a [`Ring`]'s items, oldest first (double-ended, exact size).
#[derive(Clone, Debug)]
pub struct Iter<'a, T> {
    ring: &'a Ring<T>,
    front: usize,
    back: usize,
}

impl<'a, T: Clone> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        if self.front >= self.back {
            return None;
        }
        let item = self.ring.get(self.front);
        self.front += 1;
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }

    fn last(mut self) -> Option<&'a T> {
        self.next_back()
    }

    fn nth(&mut self, n: usize) -> Option<&'a T> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }
}

impl<T: Clone> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.ring.get(self.back)
    }
}

impl<T: Clone> ExactSizeIterator for Iter<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(cap: usize, n: u32) -> Ring<u32> {
        let mut r = Ring::new(cap);
        for i in 0..n {
            r.push(i);
        }
        r
    }

    #[test]
    fn keeps_the_last_cap_items_in_order_like_a_deque() {
        for cap in [0, 1, 2, 5, 63, 64, 65, 130, 1000] {
            for n in [0u32, 1, 3, 64, 65, 200, 2500] {
                let r = ring(cap, n);
                let first = n.saturating_sub(cap as u32);
                let want: Vec<u32> = (first..n).collect();
                assert_eq!(r.iter_from(0).copied().collect::<Vec<_>>(), want);
                assert_eq!(r.iter_from(0).rev().copied().collect::<Vec<_>>(), {
                    let mut w = want.clone();
                    w.reverse();
                    w
                });
                assert_eq!(r.len(), want.len());
                assert_eq!(r.iter_from(0).len(), want.len());
                assert_eq!(r.front().copied(), want.first().copied());
                assert_eq!(
                    r.iter_from(3).copied().collect::<Vec<_>>(),
                    want[3.min(want.len())..]
                );
                // Memory stays bounded: at most cap + CHUNK - 1 items stored.
                let stored: usize = r.chunks().map(|c| c.len()).sum();
                assert!(stored < cap + CHUNK, "cap {cap} n {n}: {stored} stored");
            }
        }
    }

    #[test]
    fn a_full_ring_reuses_its_evicted_chunk_and_a_clone_never_shares_the_spare() {
        // cap 128 after 1 000 pushes: chunks 832.. (40 evicted), 896.., 960.. (40 items).
        let mut a = ring(128, 1_000);
        assert!(a.spare.0.is_none());
        for i in 1_000..1_024 {
            a.push(i); // evicts the rest of the first chunk: emptied, kept as the spare
        }
        let spare = a.spare.0.as_ref().map(Arc::as_ptr).expect("a spare chunk");
        assert_eq!(
            a.spare.0.as_ref().map(|v| (v.len(), v.capacity())),
            Some((0, 64))
        );
        a.push(1_024); // opens a new chunk: the spare
        assert!(a.spare.0.is_none());
        assert_eq!(a.chunks().last().map(Arc::as_ptr), Some(spare));
        assert_eq!(
            a.iter_from(0).copied().collect::<Vec<_>>(),
            (897..1_025).collect::<Vec<_>>()
        );
        // A clone shares the chunks and has no spare; a chunk a clone holds is never reused.
        let b = a.clone();
        assert!(b.spare.0.is_none());
        for i in 1_025..1_153 {
            a.push(i);
        }
        assert!(a.spare.0.is_none());
        assert_eq!(
            b.iter_from(0).copied().collect::<Vec<_>>(),
            (897..1_025).collect::<Vec<_>>()
        );
        assert_eq!(
            a.iter_from(0).copied().collect::<Vec<_>>(),
            (1_025..1_153).collect::<Vec<_>>()
        );
    }

    #[test]
    fn clones_share_their_full_chunks_and_copy_only_the_open_one() {
        let mut a = ring(10_000, 20_030);
        let b = a.clone();
        // 10 030 evicted = 156 chunks freed + 46 items of the first; 156 full chunks + 62 items.
        assert_eq!(a.chunks().count(), 157);
        assert_eq!(b.items_not_shared_with(&a), 0);
        a.push(20_030);
        // The open chunk (62 items, now 63) was copied; the other 156 chunks are the same.
        let shared = a
            .chunks()
            .zip(b.chunks())
            .filter(|(x, y)| Arc::ptr_eq(x, y))
            .count();
        assert_eq!(shared, 156);
        assert_eq!(a.items_not_shared_with(&b), 63);
        assert_eq!(b.items_not_shared_with(&a), 62);
        // After 1 000 more pushes, `a` holds the copied chunk (now full), 15 new full chunks and
        // an open one of 39 items.
        for i in 20_031..21_031 {
            a.push(i);
        }
        assert_eq!(a.items_not_shared_with(&b), 1_063);
        assert_eq!(b.iter_from(0).next_back(), Some(&20_029));
        assert_eq!(a.iter_from(0).next(), Some(&11_031));
    }
}
