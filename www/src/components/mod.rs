//! Yew components. They render snapshots and turn clicks into [`crate::state::Action`]s.

pub mod app;
pub mod controls;
pub mod fault_panel;
pub mod info;
pub mod input;
pub mod kafka_view;
pub mod log;
pub mod metrics;
pub mod schema_view;
pub mod sync_view;
pub mod topology;
pub mod views;

/// A `class` value: `base` plus every flagged class. One out-of-line helper instead of many
/// inlined `classes!` expansions keeps the wasm smaller.
#[inline(never)]
pub fn cls(base: &str, flags: &[(bool, &str)]) -> String {
    let mut s = String::from(base);
    for (on, c) in flags {
        if *on && !c.is_empty() {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(c);
        }
    }
    s
}
