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

/// ticklog's `info!` finds its configuration through macros that
/// `configure!` exports to the crate root, which resolve only in the root
/// module: its two calls live here (used by `peers/ticklog.rs`).
// `configure!` defines exported macros without docs.
#[allow(missing_docs)]
fn ticklog_configure(sink: ::ticklog::FileSink) -> Result<::ticklog::Guard, String> {
    ::ticklog::configure! {
        sink: sink,
        max_level: ::ticklog::Level::Info,
        backpressure: ::ticklog::Backpressure::Drop,
    }
    .map_err(|e| format!("ticklog: configure: {e}"))
}

/// The benchmark record through ticklog's `info!` (see [`ticklog_configure`]).
#[inline(always)]
fn ticklog_record(seq: u64, proc_id: u32, thread: u32) {
    ::ticklog::info!(
        "request id={} proc={} thread={} took_us={}",
        seq,
        proc_id,
        thread,
        peers::TOOK_US
    );
}
