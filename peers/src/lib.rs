//! Side-by-side benchmarks of jamless and the Rust loggers people use.
//!
//! Every peer runs in its own child process (global loggers cannot
//! collide); the driver binary starts the children, collects their JSON
//! results and writes tables and plots.

#![deny(missing_docs)]

pub mod peer;
pub mod peers;
