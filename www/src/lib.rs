//! # msgsim-web — the msgsim playground
//!
//! A Yew (CSR) app that runs the deterministic `msgsim` engine in the browser and animates every
//! message. One reducer ([`state::Playground`]) owns the simulation; components render its
//! snapshots; callbacks send [`state::Action`]s.
//!
//! Pure modules, tested natively: [`geometry`] (layout, lanes, message positions), [`format`]
//! (URL fallbacks, seed parsing, speed slider, fault clamping), [`explain`] (trace → sentences),
//! [`sequence`] (the sequence diagram's layout, its SVG and windowed Mermaid exports),
//! [`state`] (the reducer). Browser glue lives in [`web`].

#![warn(missing_docs)]

pub mod canvas;
pub mod compare;
pub mod components;
pub mod embed;
pub mod embed_web;
pub mod explain;
#[cfg(feature = "full")]
pub mod exports;
#[cfg(not(feature = "full"))]
#[path = "exports_lean.rs"]
pub mod exports;
pub mod format;
pub mod geometry;
pub mod maturity;
pub mod rpc_marks;
pub mod sequence;
pub mod share;
pub mod state;
pub mod subsystems;
pub mod web;

pub use components::app::{App, AppProps};
pub use state::{Action, AppInit, Playground};
