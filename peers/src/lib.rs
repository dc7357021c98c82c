//! Side-by-side benchmarks of jamless and the Rust loggers people use.
//!
//! Every peer runs in its own child process (global loggers cannot
//! collide); the driver binary (`peers`) starts the children (binary
//! `peer`), collects their JSON results and writes tables and plots.

#![deny(missing_docs)]

pub mod child;
pub mod clock;
pub mod driver;
pub mod lines;
pub mod peer;
pub mod peers;
pub mod procfs;
pub mod report;
pub mod results;
pub mod scenario;
