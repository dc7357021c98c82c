//! The jamless benchmark harness: what a log call costs the caller, and
//! how fast the writer empties the queue.
//!
//! Each latency scenario starts a fresh logger (a file in a new temporary
//! directory, or a stalled FIFO), warms its producer threads up, then has
//! every producer time each single call with a cheap clock (`quanta`'s raw
//! counter: the TSC where it is invariant) into an
//! [`hdrhistogram::Histogram`]. The logger's health counters, read before
//! and after the measured calls, say how many calls were accepted and how
//! many were dropped (and why): a fast call that dropped its record
//! measured the drop path, not logging, so the two are reported side by
//! side. Scenarios run back to back or spin-paced (one call per period
//! per thread), since a writer that cannot keep up turns a back-to-back
//! run into a drop benchmark.
//!
//! The throughput scenario logs N records with a blocking overflow policy
//! (so nothing is dropped), stops the clock when `flush` reports them
//! written, and counts the lines in the file.
//!
//! The `log` facade allows one global logger per process, so the harness
//! installs a [`Switch`] once and points each producer thread at its
//! target; the baselines pay for the same switch.
//!
//! Run `cargo run --release -p jamless-bench --bin latency -- --help`.
#![deny(missing_docs, unreachable_pub)]

mod call;
mod clock;
mod fifo;
mod latency;
mod report;
mod scenario;
mod switch;
mod throughput;

pub use call::{log_facade, logger_api, native_macro, tracing_event, Api, PATH};
pub use clock::{
    instant_overhead, new_histogram, systemtime_cost, Stopwatch, ThreadStats, HIST_MAX_NS,
};
pub use fifo::StalledFifo;
pub use latency::{run as run_latency, scratch_root, Counts, Dest, LatencyConfig, Run};
pub use report::{
    ClockResult, LatencyResult, Percentiles, Report, RunSummary, ThroughputResult,
    STALL_MAX_TARGET_NS,
};
pub use scenario::{find, latency_config, run_all, Kind, Plan, Scenario, SCENARIOS};
pub use switch::{install as install_switch, set_target, FormatLog, NoopLog, Switch, Target};
pub use throughput::{run as run_throughput, ThroughputConfig, ThroughputRun};
