//! Scaling services out and in (`scale`): how many of a service's instances run.

pub mod controls;
