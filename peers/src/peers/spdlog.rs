//! [`spdlog-rs`](https://docs.rs/spdlog-rs) 0.5: its own logger and
//! macros; asynchrony comes from an `AsyncPoolSink` (a crossbeam channel and
//! a worker thread pool) wrapping the real file sink.
//!
//! Settings, from the docs of `AsyncPoolSink`, `ThreadPool`, `FileSink`,
//! `RotatingFileSink` and their source:
//!
//! * A dedicated `ThreadPool` (one worker thread, the only count the
//!   builder exposes) with `capacity(100_000)`; the default is 8192 and the
//!   `AsyncPoolSink` docs say to raise it when the queue fills.
//! * `OverflowPolicy::DropIncoming` (the default is `Block`): a full queue
//!   drops the record and calls the logger's error handler with
//!   `SendToChannel(Full, Record)`, which this adapter counts.
//! * `FileSink`: `BufWriter<File>` (8 KiB, std default), append mode,
//!   default `FullFormatter` (`[date time.ms] [info] message`), no
//!   auto-flush (`flush_level_filter` stays `Off`). The logger is not made
//!   the global default: the adapter keeps it and passes it to
//!   `spdlog::info!(logger: ...)`, so `finish` can drop it.
//! * Rotation: `RotatingFileSink` with `RotationPolicy::FileSize(rotate_bytes)`
//!   (one policy per sink: size, or time down to `Period(1 min)`), and
//!   `max_files(10_000)`. Not `0` ("no limit"): with `FileSize`, `0` makes
//!   every rotation reopen the base file truncated, keeping nothing. Each
//!   rotation renames `base_{i-1}` to `base_i` for every `i` below
//!   `max_files` (one `stat` per index). No compression in spdlog-rs.
//! * `finish`: `Logger::flush` (an async flush task), then dropping the
//!   logger drops the `AsyncPoolSink`, whose `ThreadPool` drop closes the
//!   channel and joins the worker after it ran every queued task; the file
//!   sink is then flushed once more and dropped.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use spdlog::error::{SendToChannelError, SendToChannelErrorDropped};
use spdlog::sink::{
    AsyncPoolSink, FileSink, OverflowPolicy, RotatingFileSink, RotationPolicy, Sink,
};
use spdlog::{Level, LevelFilter, Logger, ThreadPool};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Queue capacity of the thread pool (records).
const CAPACITY: usize = 100_000;

/// Largest number of rotated files kept (see the module docs).
const MAX_FILES: usize = 10_000;

/// What the table prints about this peer.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "spdlog-rs",
        version: "spdlog-rs 0.5.3",
        settings: "AsyncPoolSink on its own ThreadPool (1 worker) with a 100k-task \
                   crossbeam queue, OverflowPolicy::DropIncoming (counted through the \
                   logger's error handler), FileSink with 8 KiB BufWriter, default \
                   FullFormatter text, no auto-flush; rotation: size only (rotate_bytes; \
                   one policy per sink, time >= 1 min), max_files 10000 (0 would keep \
                   nothing), no compression offered",
        non_blocking: true,
        fastest_rotation: Some(
            "size (rotate_bytes), max_files 10000; time down to 1 min exists but not combined",
        ),
        counts_drops: true,
    }
}

/// Builds the spdlog-rs logger for `setup` (not installed globally).
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let path = &setup.path;
    let file_sink: Arc<dyn Sink> = if setup.rotate {
        RotatingFileSink::builder()
            .base_path(path)
            .rotation_policy(RotationPolicy::FileSize(setup.rotate_bytes.max(1)))
            .max_files(MAX_FILES)
            .build_arc()
            .map_err(|e| format!("spdlog-rs: cannot open {}: {e}", path.display()))?
    } else {
        FileSink::builder()
            .path(path)
            .build_arc()
            .map_err(|e| format!("spdlog-rs: cannot open {}: {e}", path.display()))?
    };
    let capacity = NonZeroUsize::new(CAPACITY).ok_or("spdlog-rs: zero capacity")?;
    let pool = ThreadPool::builder()
        .capacity(capacity)
        .build_arc()
        .map_err(|e| format!("spdlog-rs: thread pool: {e}"))?;
    let async_sink = AsyncPoolSink::builder()
        .sink(file_sink.clone())
        .overflow_policy(OverflowPolicy::DropIncoming)
        .thread_pool(pool)
        .build_arc()
        .map_err(|e| format!("spdlog-rs: async sink: {e}"))?;
    let dropped = Arc::new(AtomicU64::new(0));
    let counter = dropped.clone();
    let logger = Logger::builder()
        .sink(async_sink)
        .level_filter(LevelFilter::MoreSevereEqual(Level::Info))
        .error_handler(move |err: spdlog::Error| match err {
            spdlog::Error::SendToChannel(
                SendToChannelError::Full,
                SendToChannelErrorDropped::Record(_),
            ) => {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            // A dropped flush task is retried by `finish`; other errors go
            // to stderr like spdlog's default handler.
            spdlog::Error::SendToChannel(SendToChannelError::Full, _) => {}
            other => eprintln!("spdlog-rs error: {other}"),
        })
        .build_arc()
        .map_err(|e| format!("spdlog-rs: logger: {e}"))?;
    Ok(Box::new(SpdlogPeer {
        logger,
        file_sink,
        dropped,
    }))
}

/// The running spdlog-rs peer.
struct SpdlogPeer {
    logger: Arc<Logger>,
    file_sink: Arc<dyn Sink>,
    dropped: Arc<AtomicU64>,
}

impl Peer for SpdlogPeer {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        spdlog::info!(
            logger: self.logger,
            "request id={} proc={} thread={} took_us={}",
            seq,
            proc_id,
            thread,
            super::TOOK_US
        );
    }

    fn finish(self: Box<Self>) -> Finish {
        let SpdlogPeer {
            logger,
            file_sink,
            dropped,
        } = *self;
        logger.flush();
        // Last reference to the logger → AsyncPoolSink → its ThreadPool:
        // the pool's drop closes the queue and joins the worker, which runs
        // every task still queued first.
        drop(logger);
        if let Err(e) = file_sink.flush() {
            eprintln!("spdlog-rs: final flush failed: {e}");
        }
        drop(file_sink);
        Finish {
            dropped: Some(dropped.load(Ordering::Relaxed)),
        }
    }

    fn dropped_so_far(&self) -> Option<u64> {
        Some(self.dropped.load(Ordering::Relaxed))
    }
}
