//! [`logforth`](https://docs.rs/logforth) 0.30 as a `log` backend
//! (`starter-log`), with its `Async` appender (`logforth-append-async`
//! 0.4) in front of its `File` appender (`logforth-append-file` 0.4).
//!
//! Settings, from the docs and source of `AsyncBuilder`, `FileBuilder`
//! and `RollingFileWriter`:
//!
//! * `AsyncBuilder::buffered_lines_limit(Some(100_000))` (the default is
//!   `None`: an unbounded `std::sync::mpsc` channel) and
//!   `overflow_drop_incoming()` (the default is block): a bounded
//!   `mpsc::sync_channel`, a full channel drops the record silently (no
//!   counter). The record is copied (`Record::to_owned`, boxed) on the
//!   caller and formatted on the single worker thread.
//! * `File` appender: default `PlainTextLayout`
//!   (`<unix ns> <level> <target>: <file>:<line> message`), one
//!   `write(2)` per record to an unbuffered `std::fs::File` (no
//!   `BufWriter` in logforth-append-file), `jiff::Zoned::now()` per write.
//!   The file name is the last component of `path`, the directory its
//!   parent. A FIFO cannot be the log file: when `build` looks for the
//!   current file it skips everything that is not a regular file, then
//!   creates it with `create_new`, which fails with `EEXIST`; `init`
//!   returns that error.
//! * Rotation: `rollover_minutely()` (the shortest period) and
//!   `rollover_size(rotate_bytes)` (logforth checks both), no
//!   `max_log_files` (nothing deleted). Rotating renames the live file to
//!   `<name>.<YYYY-MM-DD-HH-MM>.1` after shifting `.1`→`.2`… and creates the
//!   live file with `create_new`. No compression in logforth.
//! * `finish`: `Async::flush` queues a flush task and waits for the
//!   worker to run it; with `DropIncoming` the flush task itself can be
//!   dropped on a full queue (it then returns an error at once), so `finish`
//!   retries. The worker thread cannot be stopped: the global logger owns
//!   the appender and `log` never drops it.

use std::num::NonZeroUsize;
use std::os::unix::fs::FileTypeExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use logforth::append::asynchronous::{Async, AsyncBuilder};
use logforth::append::file::FileBuilder;
use logforth::record::{Level, LevelFilter, Record};
use logforth::{Append, Diagnostic, Error};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Channel capacity (records).
const BUFFERED_LINES: usize = 100_000;

/// How long `finish` keeps retrying a flush that was dropped on a full
/// queue.
const FLUSH_RETRY: Duration = Duration::from_secs(120);

/// What the table prints about this peer.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "logforth",
        version: "logforth 0.30.1 (append-async 0.4.0, append-file 0.4.0)",
        settings: "Async appender with buffered_lines_limit 100k (default unbounded), \
                   overflow_drop_incoming (silent, not counted), one worker thread, \
                   File appender writing each record unbuffered (one write per line), \
                   default PlainTextLayout; rotation: minutely + size (rotate_bytes), \
                   no max_log_files, no compression offered",
        non_blocking: true,
        fastest_rotation: Some("minutely + size (rotate_bytes)"),
        counts_drops: false,
    }
}

/// Installs logforth as the global `log` logger for `setup`.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let path = &setup.path;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("logforth: no UTF-8 file name in {}", path.display()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut file = FileBuilder::new(dir, name);
    if setup.rotate {
        let bytes = usize::try_from(setup.rotate_bytes)
            .ok()
            .and_then(NonZeroUsize::new)
            .ok_or_else(|| format!("logforth: bad rotate_bytes {}", setup.rotate_bytes))?;
        file = file.rollover_minutely().rollover_size(bytes);
    }
    let file = file.build().map_err(|e| {
        let fifo = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
        let hint = if fifo {
            " (logforth's File appender skips non-regular files when it looks for \
             the current log, then creates it with create_new: a FIFO cannot be used)"
        } else {
            ""
        };
        format!("logforth: cannot open {}: {e}{hint}", path.display())
    })?;
    let asynchronous = Arc::new(
        AsyncBuilder::new("logforth-async")
            .buffered_lines_limit(Some(BUFFERED_LINES))
            .overflow_drop_incoming()
            .append(file)
            .build(),
    );
    let shared = SharedAsync(asynchronous.clone());
    logforth::starter_log::builder()
        .dispatch(|d| {
            d.filter(LevelFilter::MoreSevereEqual(Level::Info))
                .append(shared)
        })
        .try_apply()
        .map_err(|e| format!("logforth: init failed: {e}"))?;
    Ok(Box::new(LogforthPeer { asynchronous }))
}

/// The `Async` appender, shared between the global logger and the adapter
/// so `finish` can see the result of its flush.
#[derive(Debug)]
struct SharedAsync(Arc<Async>);

impl Append for SharedAsync {
    fn append(&self, record: &Record, diags: &[Box<dyn Diagnostic>]) -> Result<(), Error> {
        self.0.append(record, diags)
    }

    fn flush(&self) -> Result<(), Error> {
        self.0.flush()
    }
}

/// The running logforth peer.
struct LogforthPeer {
    asynchronous: Arc<Async>,
}

impl Peer for LogforthPeer {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        super::log_facade_record(module_path!(), seq, proc_id, thread);
    }

    fn finish(self: Box<Self>) -> Finish {
        let deadline = Instant::now() + FLUSH_RETRY;
        loop {
            match self.asynchronous.flush() {
                Ok(()) => break,
                Err(e) if Instant::now() >= deadline => {
                    eprintln!("logforth: flush failed: {e}");
                    break;
                }
                // The flush task was dropped on a full queue: try again.
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        Finish { dropped: None }
    }
}
