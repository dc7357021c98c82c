//! [`ftlog`](https://docs.rs/ftlog) 0.2: a `log` backend that boxes the
//! record on the caller and formats it on one dedicated "logger" thread.
//!
//! Settings, from the README and `src/lib.rs` / `src/appender/file.rs`:
//!
//! * `ftlog::builder()` defaults for the channel: a bounded crossbeam
//!   channel of 100 000 messages that *discards* when full (`try_send`),
//!   printing "Excessive log messages. Log omitted: N" to stderr at most every
//!   5 s; the counter itself is private, so there is no readable drop count.
//! * `.utc()`: the README recommends UTC "for better throughput" (no offset
//!   conversion per record). Default `FtLogFormatter` layout
//!   (`<time> <delay>ms INFO <thread> [file:line] message`).
//! * Feature `tsc` (README: "TSC for clock source for higher performance
//!   without accuracy loss", Linux x86-64): the caller's timestamp comes from
//!   `minstant` instead of `SystemTime::now`.
//! * `FileAppender`: `BufWriter<File>` (8 KiB, std default) opened in
//!   append mode; the logger thread flushes it when idle for 200 ms / at
//!   most once a second, and on `flush`.
//! * Rotation: `Period::Minute` (the shortest; ftlog has no size rotation),
//!   no `expire` (nothing deleted), `Compression::Gzip` (feature `gzip`:
//!   the finished file is gzipped on a detached thread). With rotation the
//!   file name always carries the period: `<stem>-YYYYMMDDThhmm.<ext>`; the
//!   base path itself is never written.
//! * The `LoggerGuard` flushes on drop and waits for the logger thread's
//!   answer. The logger thread itself never exits (the logger is global).

use std::panic::{catch_unwind, AssertUnwindSafe};

use ftlog::appender::{Compression, FileAppender, Period};
use ftlog::{LevelFilter, LogTimezone, LoggerGuard};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// What the table prints about this peer.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "ftlog",
        version: "ftlog 0.2.18",
        settings: "bounded crossbeam channel of 100k messages (builder default), drops \
                   when full (builder default; count only printed to stderr), one logger \
                   thread formatting into an 8 KiB BufWriter, UTC timestamps (README's \
                   throughput advice), TSC clock (feature tsc), default FtLogFormatter \
                   text; rotation: minutely (no size rotation), no expiry, gzip",
        non_blocking: true,
        fastest_rotation: Some("minutely, gzip"),
        counts_drops: false,
    }
}

/// Installs ftlog as the global `log` logger for `setup`.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let path = setup.path.clone();
    let rotate = setup.rotate;
    // `FileAppender`'s builder `unwrap`s/`expect`s the file open: turn that
    // panic into an error.
    let appender = catch_unwind(AssertUnwindSafe(move || {
        if rotate {
            FileAppender::builder()
                .path(&path)
                .rotate(Period::Minute)
                .timezone(LogTimezone::Utc)
                .compress(Compression::Gzip)
                .build()
        } else {
            FileAppender::builder()
                .path(&path)
                .timezone(LogTimezone::Utc)
                .build()
        }
    }))
    .map_err(|panic| {
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("panic");
        format!("ftlog: cannot open {}: {why}", setup.path.display())
    })?;
    let guard = ftlog::builder()
        .max_log_level(LevelFilter::Info)
        .utc()
        .root(appender)
        .try_init()
        .map_err(|e| format!("ftlog: init failed: {e}"))?;
    Ok(Box::new(FtlogPeer { guard }))
}

/// The running ftlog peer: the logger is global, the guard flushes it.
struct FtlogPeer {
    guard: LoggerGuard,
}

impl Peer for FtlogPeer {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        super::log_facade_record(module_path!(), seq, proc_id, thread);
    }

    fn finish(self: Box<Self>) -> Finish {
        // Dropping the guard sends a flush after every queued record and
        // waits for the logger thread to report that it wrote and flushed.
        drop(self.guard);
        Finish { dropped: None }
    }
}
