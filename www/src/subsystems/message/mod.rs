//! The message, close up: its life from the trace ([`life`], pure) and the inspector panel
//! ([`inspector`]).

pub mod inspector;
pub mod life;
pub mod memo;

pub use inspector::MessageInspector;
pub use life::{life_of, LifeLine};
pub use memo::MessageMemo;
