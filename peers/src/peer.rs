//! The contract every peer adapter implements.
//!
//! A child process calls [`crate::peers::init`] once with the peer's name and
//! a [`Setup`], then calls [`Peer::log`] from one or more threads, then
//! [`Peer::finish`]. The adapter installs the peer in its fastest
//! non-blocking mode according to the peer's own documentation and source
//! (see [`PeerInfo::settings`]).
//!
//! Rules for adapters (the driver relies on them):
//!
//! * The child process starts with `RUST_LOG` removed from its environment;
//!   filter at `info` (the record is info level).
//! * Scenario 3 (stall): `path` is a FIFO whose read end the driver holds
//!   open without reading; open it as you would a log file (append). The
//!   driver is the watchdog: `log` or `finish` may block, the driver kills
//!   the child after a deadline and reports the peer as hung. After the
//!   logging phase the driver starts draining the FIFO and the child calls
//!   [`Peer::finish`]; the lines that come through are counted.
//! * Scenario 4 (rotation): several processes (`--proc-id 0..P`) use the
//!   same `path` at the same time; do not put a pid or a random tag in the
//!   file name unless the peer always does. Use the peer's most frequent
//!   rotation: its shortest time period, and where it can rotate by size,
//!   [`Setup::rotate_bytes`]. Where the peer can gzip rotated files, enable
//!   it (`.gz` files are decompressed when read back). Every file under
//!   `path.parent()` is read afterwards, so keep all files (no retention
//!   limit, or the largest one the peer allows — say so in `settings`).
//! * The directory of `path` exists and is empty apart from `path` itself
//!   in scenario 3 (the FIFO); everything under it is read back in
//!   scenarios 2, 4 and 5.
//! * Nothing may be printed to stdout (the driver reads progress from
//!   files, but keep stdout clean anyway); stderr goes to a log file.

use std::path::PathBuf;

/// What the scenario asks of the logger.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The log file (scenarios 1, 2, 3, 5) — may be a FIFO (scenario 3) —
    /// or, with `rotate`, the base path in a directory shared by several
    /// processes (scenario 4).
    pub path: PathBuf,
    /// Scenario 4: use the peer's most frequent rotation (time and/or size)
    /// on `path`. Adapters that cannot rotate return `Err` from `init`; the
    /// driver does not run scenario 4 for a peer whose
    /// [`PeerInfo::fastest_rotation`] is `None` (the table says so).
    pub rotate: bool,
    /// Number of threads that will call [`Peer::log`].
    pub threads: usize,
    /// Scenario 4, for peers that can rotate by size: start a new file
    /// once the current one holds this many bytes (the same for every peer).
    pub rotate_bytes: u64,
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
    /// The peer's own drop counter right now, read while other threads may
    /// still be logging (scenario 3 reads it at the end of the stalled
    /// phase, before [`Peer::finish`], which may block). `None` when the
    /// peer has no such counter.
    fn dropped_so_far(&self) -> Option<u64> {
        None
    }
}
