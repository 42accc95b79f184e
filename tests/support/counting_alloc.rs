//! A counting global allocator shared by `tests/checkpoint_memory.rs` and
//! `examples/timeline_memory.rs` (included with `#[path]`; not a test target of its own): it counts
//! the bytes allocated and freed since the start of the process, over every thread. Deltas of
//! [`allocated`] around a clone measure what the clone copies; [`live`] (allocated − freed) around
//! a drop measures what the dropped value held. A `realloc` counts its growth as allocated and its
//! shrinking as freed.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;
static ALLOCATED: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            ALLOCATED.fetch_add((new_size - layout.size()) as u64, Ordering::Relaxed);
        } else {
            FREED.fetch_add((layout.size() - new_size) as u64, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated since the start of the process.
pub fn allocated() -> u64 {
    ALLOCATED.load(Ordering::Relaxed)
}

/// Bytes allocated and not freed yet.
pub fn live() -> u64 {
    allocated().saturating_sub(FREED.load(Ordering::Relaxed))
}
