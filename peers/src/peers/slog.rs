//! [`slog`](https://docs.rs/slog) 2 with
//! [`slog-async`](https://docs.rs/slog-async) 2.8 in front of
//! [`slog-term`](https://docs.rs/slog-term)'s `FullFormat` on a plain file.
//!
//! Settings, from the docs and source of `slog_async::{Async, AsyncCore}`
//! and `slog_term::{FullFormat, PlainDecorator}`:
//!
//! * `Async::new(..).chan_size(100_000)` (the default is 128): a bounded
//!   crossbeam channel (one cloned sender per thread) to one worker thread.
//! * `OverflowStrategy::DropAndReport` (the default; `Drop` is the same
//!   `try_send` without the report, `Block` blocks): a full channel drops
//!   the record and counts it; the next record that fits is preceded by an
//!   error-level record "slog-async: logger dropped messages due to channel
//!   overflow" with `count => N`. The counter itself is private, so this
//!   adapter reads the reports on the worker side (a pass-through drain
//!   before `FullFormat`) and returns their sum from `finish`. The count is
//!   slog-async's own: a report that does not fit either is counted as one
//!   more dropped message, so under sustained overflow it is about twice
//!   the number of records lost (300 000 records into a stalled FIFO:
//!   199 054 lost, count 398 107). Mid-run the count is not readable (the
//!   reports wait for room in the channel), so `dropped_so_far` is `None`.
//! * The record's message is formatted into a `String` on the caller
//!   (`AsyncRecord::from`); `slog::LevelFilter` at info on the caller side.
//! * `FullFormat` + `PlainDecorator` over a `BufWriter<File>` (append mode):
//!   default layout `Mon DD HH:MM:SS.mmm INFO message`, local time.
//!   `FullFormat` flushes the decorator after every record, so the 8 KiB
//!   `BufWriter` only merges the pieces of one line: one `write(2)` per
//!   record on the worker.
//! * No rotation in slog / slog-term / slog-async.
//! * `finish`: wait until the worker has worked off its backlog (not inside
//!   a write, nothing taken off the channel for 5 ms), so that the channel has room for the last drop
//!   report; drop the `Logger` (the `Async` drain: its `drop` queues that
//!   report with `try_send`), then drop the `AsyncGuard`, which sends
//!   `Finish` after it and joins the worker thread; dropping the worker's
//!   drain flushes.

use std::fs::OpenOptions;
use std::io::BufWriter;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slog::{Drain, Key, Level, Never, OwnedKVList, Record, Serializer, KV};
use slog_async::{Async, AsyncGuard, OverflowStrategy};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Channel capacity (records).
const CHAN_SIZE: usize = 100_000;

/// `finish` waits for the worker's backlog until it has been idle this long…
const IDLE: Duration = Duration::from_millis(5);

/// …or at most this long.
const BACKLOG_WAIT: Duration = Duration::from_secs(120);

/// What the table prints about this peer.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "slog",
        version: "slog 2.8.2 + slog-async 2.8.0 + slog-term 2.9.2",
        settings: "slog_async::Async, channel of 100k records (default 128), \
                   OverflowStrategy::DropAndReport (default; drops when full and logs a \
                   count record, summed for Finish::dropped; the count includes its own \
                   failed reports, ~2x the records lost), one worker thread running \
                   slog_term::FullFormat + PlainDecorator over an 8 KiB BufWriter<File> \
                   (FullFormat flushes every record: one write per line), default text \
                   with local time; no rotation",
        non_blocking: true,
        fastest_rotation: None,
        counts_drops: true,
    }
}

/// Builds the slog logger for `setup` (slog has no global logger here).
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    if setup.rotate {
        return Err("no rotation".to_string());
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&setup.path)
        .map_err(|e| format!("slog: cannot open {}: {e}", setup.path.display()))?;
    let decorator = slog_term::PlainDecorator::new(BufWriter::new(file));
    let format = slog_term::FullFormat::new(decorator).build().fuse();
    let reported = Arc::new(AtomicU64::new(0));
    let processed = Arc::new(AtomicU64::new(0));
    let busy = Arc::new(AtomicBool::new(false));
    let tap = DropReportTap {
        inner: format,
        reported: reported.clone(),
        processed: processed.clone(),
        busy: busy.clone(),
    };
    let (drain, guard) = Async::new(tap)
        .chan_size(CHAN_SIZE)
        .overflow_strategy(OverflowStrategy::DropAndReport)
        .thread_name("slog-async".to_string())
        .build_with_guard();
    let drain = drain.filter_level(Level::Info).fuse();
    let logger = slog::Logger::root(drain, slog::o!());
    Ok(Box::new(SlogPeer {
        logger,
        guard,
        reported,
        processed,
        busy,
    }))
}

/// Passes every record on to `inner`, adding up the `count` of the
/// "dropped messages" records that `slog_async::Async` emits (tag
/// `slog-async`).
struct DropReportTap<D> {
    inner: D,
    reported: Arc<AtomicU64>,
    /// Records the worker has taken off the channel (written only by the
    /// worker thread, so uncontended).
    processed: Arc<AtomicU64>,
    /// The worker is inside `inner.log` (e.g. blocked writing to a FIFO).
    busy: Arc<AtomicBool>,
}

impl<D: Drain<Ok = (), Err = Never>> Drain for DropReportTap<D> {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<(), Never> {
        self.busy.store(true, Ordering::Relaxed);
        if record.tag() == "slog-async" {
            let mut count = CountField(None);
            let _ = record.kv().serialize(record, &mut count);
            if let Some(n) = count.0 {
                self.reported.fetch_add(n, Ordering::Relaxed);
            }
        }
        let result = self.inner.log(record, values);
        self.processed.fetch_add(1, Ordering::Relaxed);
        self.busy.store(false, Ordering::Relaxed);
        result
    }
}

/// Picks the `count` field out of a record's key-values.
struct CountField(Option<u64>);

impl Serializer for CountField {
    fn emit_arguments(&mut self, _key: Key, _val: &std::fmt::Arguments) -> slog::Result {
        Ok(())
    }

    fn emit_usize(&mut self, key: Key, val: usize) -> slog::Result {
        if key == "count" {
            self.0 = Some(val as u64);
        }
        Ok(())
    }

    fn emit_u64(&mut self, key: Key, val: u64) -> slog::Result {
        if key == "count" {
            self.0 = Some(val);
        }
        Ok(())
    }
}

/// The running slog peer.
struct SlogPeer {
    logger: slog::Logger,
    guard: AsyncGuard,
    reported: Arc<AtomicU64>,
    processed: Arc<AtomicU64>,
    busy: Arc<AtomicBool>,
}

impl Peer for SlogPeer {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        slog::info!(
            self.logger,
            "request id={} proc={} thread={} took_us={}",
            seq,
            proc_id,
            thread,
            super::TOOK_US
        );
    }

    fn finish(self: Box<Self>) -> Finish {
        let SlogPeer {
            logger,
            guard,
            reported,
            processed,
            busy,
        } = *self;
        // `Async` reports its pending drop count from its `drop`, with a
        // `try_send`: on a still-full channel that report is lost. So first
        // let the worker work off its backlog: wait until it is outside a
        // write and has taken nothing off the channel for `IDLE`.
        let deadline = Instant::now() + BACKLOG_WAIT;
        let mut last = processed.load(Ordering::Relaxed);
        let mut idle_since = Instant::now();
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
            let now = processed.load(Ordering::Relaxed);
            if now != last || busy.load(Ordering::Relaxed) {
                last = now;
                idle_since = Instant::now();
            } else if idle_since.elapsed() >= IDLE {
                break;
            }
        }
        // Last reference to the `Async` drain: its drop queues the pending
        // drop report (if the channel has room).
        drop(logger);
        // Sends `Finish` behind every queued record and joins the worker.
        drop(guard);
        Finish {
            dropped: Some(reported.load(Ordering::Relaxed)),
        }
    }
}
