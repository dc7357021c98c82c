//! The demonstration runner's parts, one idea per module.

pub mod bench;
pub mod chart;
pub mod collector;
pub mod config;
pub mod demo;
pub mod load;
pub mod locate;
pub mod logs;
pub mod phase;
pub mod procs;
pub mod report;
pub mod samples;
pub mod signals;
pub mod stats;
pub mod table;

use anyhow::{Context, Result};

/// The tokio runtime the load generator runs on (two workers: the machine
/// has two cores, shared with the services under test).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("building the tokio runtime")
}

/// The load every phase runs, from the flags.
pub fn load_config(args: &config::Args) -> load::LoadConfig {
    load::LoadConfig {
        workers: args.workers,
        rate: args.rate,
        timeout: args.timeout(),
        keep_alive: args.keep_alive,
        query_bytes: 0,
    }
}
