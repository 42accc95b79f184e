//! Web code that belongs to one subsystem of the engine, one folder each. For now: the compact
//! forms for the live-settings commands (`controls.rs` per subsystem), built on [`form`].
//!
//! Where to mount them (the layout decides): each takes the scenario, the snapshot and the
//! playground's dispatch, and renders nothing when the scenario has nothing it can change, so
//! all four can sit in the fault drawer side by side.

pub mod broker;
pub mod form;
pub mod kafka;
pub mod outbox;
pub mod resilience;
