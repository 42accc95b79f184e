//! Compact storage for the hot path: the event queue and the packets on the wire.
//!
//! [`EventQueue`]: a binary heap of 24-byte `(time, sequence, slot)` keys over a slab of events,
//! so sifting moves keys only, and slots are reused (no allocation per event once warm).
//! [`Transits`]: the packets on the wire in a slab addressed by slot, each keeping its transit id.
//! Both are deterministic: slots are reused last-freed first, and nothing depends on addresses.

use super::{Event, Transit};
use crate::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Scheduled events, earliest `(time, sequence)` first: ties at one time run in the order they
/// were scheduled.
#[derive(Clone, Debug, Default)]
pub(super) struct EventQueue {
    heap: BinaryHeap<Reverse<(SimTime, u64, u32)>>,
    slab: Vec<Option<Event>>,
    free: Vec<u32>,
}

impl EventQueue {
    /// Schedules `event` at `time` with sequence number `seq`.
    #[inline]
    pub(super) fn push(&mut self, time: SimTime, seq: u64, event: Event) {
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(event);
                s
            }
            None => {
                self.slab.push(Some(event));
                (self.slab.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((time, seq, slot)));
    }

    /// The earliest event and its time.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<(SimTime, Event)> {
        let Reverse((time, _, slot)) = self.heap.pop()?;
        let event = self.slab[slot as usize].take()?;
        self.free.push(slot);
        Some((time, event))
    }

    /// The earliest event's time.
    #[inline]
    pub(super) fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|r| r.0 .0)
    }

    /// Events scheduled.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing is scheduled.
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// Packets on the wire, by slot; each [`Transit`] keeps its transit id (`Transit::id`).
#[derive(Clone, Debug, Default)]
pub(super) struct Transits {
    slab: Vec<Option<Transit>>,
    free: Vec<u32>,
    len: usize,
}

impl Transits {
    /// Stores `t` and returns its slot.
    #[inline]
    pub(super) fn insert(&mut self, t: Transit) -> u32 {
        self.len += 1;
        match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(t);
                s
            }
            None => {
                self.slab.push(Some(t));
                (self.slab.len() - 1) as u32
            }
        }
    }

    /// The transit in `slot` if it is transit `id`.
    #[inline]
    pub(super) fn get_mut(&mut self, slot: u32, id: u64) -> Option<&mut Transit> {
        self.slab
            .get_mut(slot as usize)?
            .as_mut()
            .filter(|t| t.id == id)
    }

    /// Removes and returns the transit in `slot` if it is transit `id`.
    #[inline]
    pub(super) fn remove(&mut self, slot: u32, id: u64) -> Option<Transit> {
        let cell = self.slab.get_mut(slot as usize)?;
        if cell.as_ref().is_some_and(|t| t.id == id) {
            self.len -= 1;
            self.free.push(slot);
            cell.take()
        } else {
            None
        }
    }

    /// Packets on the wire.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The packets on the wire in no particular (but deterministic) order.
    pub(super) fn values(&self) -> impl Iterator<Item = &Transit> {
        self.slab.iter().flatten()
    }

    /// The packets on the wire, oldest transit id first.
    pub(super) fn by_id(&self) -> Vec<&Transit> {
        let mut v: Vec<&Transit> = self.values().collect();
        v.sort_unstable_by_key(|t| t.id);
        v
    }
}
