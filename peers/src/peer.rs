//! The contract every peer adapter implements.
//!
//! A child process calls [`crate::peers::init`] once with the peer's name and
//! a [`Setup`], then calls [`Peer::log`] from one or more threads, then
//! [`Peer::finish`]. The adapter installs the peer in its fastest
//! non-blocking mode according to the peer's own documentation and source
//! (see [`PeerInfo::settings`]).

use std::path::PathBuf;

/// What the scenario asks of the logger.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The log file (scenarios 1, 2, 3, 5) — may be a FIFO (scenario 3) —
    /// or, with `rotate`, the base path in a directory shared by several
    /// processes (scenario 4).
    pub path: PathBuf,
    /// Scenario 4: use the peer's most frequent rotation (time and/or size)
    /// on `path`. Adapters that cannot rotate return `Err` from `init`.
    pub rotate: bool,
    /// Number of threads that will call [`Peer::log`].
    pub threads: usize,
}

/// Static facts about a peer, printed next to every number.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PeerInfo {
    /// Short name used on the command line and in tables (`fast_log`).
    pub name: &'static str,
    /// Crate and version as resolved in Cargo.lock (`fast_log 1.7.10`).
    pub version: &'static str,
    /// The configuration used, in one sentence: mode, channel/buffer size,
    /// overflow policy, format (e.g. "async channel of 10k records, block
    /// when full, text format, fmt layer without ANSI").
    pub settings: &'static str,
    /// Whether the caller hands the record to a background thread.
    pub non_blocking: bool,
    /// The most frequent rotation the peer offers (e.g. "minutely", "size
    /// 64 KiB"), or `None` when it cannot rotate.
    pub fastest_rotation: Option<&'static str>,
    /// Whether the peer reports how many records it dropped.
    pub counts_drops: bool,
}

/// What a peer says when it finishes.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Finish {
    /// Records the peer itself reports as dropped (`None` when it has no
    /// such counter).
    pub dropped: Option<u64>,
}

/// A running peer.
pub trait Peer: Send + Sync {
    /// Logs the benchmark record: the info-level message
    /// `"request id={seq} proc={proc} thread={thread} took_us={took}"`
    /// (four arguments, `took` = 1234), through the peer's own idiomatic
    /// macro (`log::info!`, `tracing::info!`, `slog::info!`, …).
    fn log(&self, seq: u64, proc_id: u32, thread: u32);
    /// Flushes everything the peer buffered and stops its background
    /// threads, waiting for the peer's own flush to return.
    fn finish(self: Box<Self>) -> Finish;
}
