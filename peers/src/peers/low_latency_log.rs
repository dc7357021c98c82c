//! [`low_latency_log`](https://docs.rs/low_latency_log) 0.2: a native
//! macro that boxes a closure formatting the message (with the arguments
//! moved into it) and sends it over a crossbeam channel to one background
//! thread, which formats and writes.
//!
//! Settings, from the README and `src/lib.rs`:
//!
//! * `Logger::new(RollingCondition::new().daily(), dir, name).init()`, as
//!   the README's example (without `.cpu(1)`: pinning the logger thread to
//!   a core of a 2-core machine would take it from the producers). The
//!   default queue: a bounded channel of 131,072 closures
//!   (`consts::MAX_QUEUE_SIZE`); `send` blocks when it is full, so nothing
//!   is dropped and a caller may wait.
//! * The fixed text format (`<time> [tid] file:line LEVEL message`).
//! * Rotation: minutely is its shortest period, and `max_size`; it renames
//!   files, with no compression. Not run here (the rotation scenario needs
//!   several processes on one path, and this peer's global guard cannot be
//!   stopped and restarted).
//! * Dropping the `LoggerGuard` flushes and stops the background thread.

use ::low_latency_log::{Logger, LoggerGuard, RollingCondition};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Facts for the tables.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "low_latency_log",
        version: "low_latency_log 0.2.0",
        settings: "low_latency_log::info! (a boxed closure formatting the message, sent over \
                   a bounded crossbeam channel of 131,072 (default), blocking send; one background \
                   thread formats), fixed text format, daily file, thread not pinned; no \
                   rotation run",
        non_blocking: true,
        fastest_rotation: None,
        counts_drops: false,
    }
}

struct LowLatencyLog {
    guard: LoggerGuard,
}

/// Installs low_latency_log's global logger for `setup`.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    if setup.rotate {
        return Err("low_latency_log: rotation not run".into());
    }
    let dir = setup
        .path
        .parent()
        .ok_or("low_latency_log: the log path has no directory")?;
    let name = setup
        .path
        .file_name()
        .ok_or("low_latency_log: the log path has no file name")?;
    let guard = Logger::new(
        RollingCondition::new().daily(),
        dir.to_string_lossy().into_owned(),
        name.to_string_lossy().into_owned(),
    )
    .init()
    .map_err(|e| format!("low_latency_log: init: {e}"))?;
    Ok(Box::new(LowLatencyLog { guard }))
}

impl Peer for LowLatencyLog {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        let took = super::TOOK_US;
        ::low_latency_log::info!(
            "request id={} proc={} thread={} took_us={}",
            seq,
            proc_id,
            thread,
            took
        );
    }

    fn finish(self: Box<Self>) -> Finish {
        drop(self.guard);
        Finish { dropped: None }
    }
}
