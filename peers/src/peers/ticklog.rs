//! [`ticklog`](https://docs.rs/ticklog) 0.1: a native deferred-format
//! logger: its `info!` encodes the call's arguments into the calling
//! thread's private ring, one drain thread formats and writes.
//!
//! Settings, from the README and `src/builder.rs` / `src/ring.rs`:
//!
//! * `ticklog::configure!` with a `FileSink::new(path)` (a buffered file,
//!   appended to), `max_level: Info`, `Backpressure::Drop` (the default:
//!   "discards the record and returns immediately, never blocking the
//!   caller"; there is no counter of what it discarded), the default
//!   format `{timestamp} {level} {file}:{line} {message}`.
//! * One 1 MiB ring per logging thread (`RING_SIZE`), allocated on the
//!   thread's first call (the child warms every thread up before timing).
//! * No rotation: the README points to other crates for it.
//! * Dropping the `Guard` flushes the sink and stops the drain thread.
//! * `configure!` and `info!` are called from the crate root (`lib.rs`):
//!   ticklog's macros resolve their configuration only there.

use ::ticklog::{FileSink, Guard};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Facts for the tables.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "ticklog",
        version: "ticklog 0.1.2",
        settings: "ticklog::info! (native deferred formatting: binary record into a 1 MiB \
                   per-thread ring, one drain thread formats), FileSink (buffered, append), \
                   Backpressure::Drop (default; drops are not counted), default format; no \
                   rotation (README: use another crate)",
        non_blocking: true,
        fastest_rotation: None,
        counts_drops: false,
    }
}

struct Ticklog {
    guard: Guard,
}

/// Configures ticklog's global logger for `setup`.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    if setup.rotate {
        return Err("ticklog cannot rotate".into());
    }
    let sink = FileSink::new(&setup.path)
        .map_err(|e| format!("ticklog: cannot open {}: {e}", setup.path.display()))?;
    let guard = crate::ticklog_configure(sink)?;
    Ok(Box::new(Ticklog { guard }))
}

impl Peer for Ticklog {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        crate::ticklog_record(seq, proc_id, thread);
    }

    fn finish(self: Box<Self>) -> Finish {
        drop(self.guard);
        Finish { dropped: None }
    }
}
