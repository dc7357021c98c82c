//! The accounting: atomic counters that callers and the writer update and
//! anyone can read at any time.
//!
//! Every record offered to a logger ends in exactly one of these places:
//!
//! ```text
//! offered  = accepted + rejected            (decided on the caller thread)
//! accepted = written + dropped_after_accept + queued
//! ```
//!
//! `rejected` is split by [`DropCause`] (queue full, shed, timed out,
//! shutdown) and `dropped_after_accept` likewise (I/O failure, panic,
//! internal). Both are also split by level.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;
use serde::Serialize;

use crate::level::Level;

/// Why a record was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropCause {
    /// The queue had no room and the policy said not to wait (or the writer
    /// was known to be dead or stalled, so waiting was pointless).
    QueueFull,
    /// The queue was above the shedding watermark and the record's level was
    /// below the protected level.
    Shed,
    /// The caller chose to wait for room, and its timeout passed first.
    TimedOut,
    /// The logger was shutting down or shut down.
    Shutdown,
    /// The record was accepted, but the sink (and the fallback, if any)
    /// failed to write it within the retry policy.
    IoFailure,
    /// A sink or formatter panicked while handling the record.
    Panic,
    /// The record could not be decoded (a bug in jamless; reported).
    Internal,
    /// The record had been written, then the file was truncated by another
    /// program (logrotate's `copytruncate`, `: > file`): it may be lost.
    /// An upper bound: every record written shortly before the cut (a
    /// second plus the copy's time at 32 MiB/s) counts, though most are
    /// usually in logrotate's copy.
    FileTruncated,
    /// The record had been written into a file that was then deleted, and
    /// could not be written again into the recreated file.
    FileUnlinked,
    /// The record was logged in a child process after `fork()` through a
    /// logger built in the parent, whose threads do not exist in the child
    /// (build a new logger in the child).
    Forked,
    /// The record was accepted, but one pipeline's backlog was full (its
    /// sink was slower than the records came); counted for that pipeline
    /// only.
    BacklogFull,
}

impl DropCause {
    /// All causes, in a stable order.
    pub const ALL: [DropCause; 11] = [
        DropCause::QueueFull,
        DropCause::Shed,
        DropCause::TimedOut,
        DropCause::Shutdown,
        DropCause::IoFailure,
        DropCause::Panic,
        DropCause::Internal,
        DropCause::FileTruncated,
        DropCause::FileUnlinked,
        DropCause::Forked,
        DropCause::BacklogFull,
    ];

    /// The snake_case name used in notices, JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            DropCause::QueueFull => "queue_full",
            DropCause::Shed => "shed",
            DropCause::TimedOut => "timed_out",
            DropCause::Shutdown => "shutdown",
            DropCause::IoFailure => "io_failure",
            DropCause::Panic => "panic",
            DropCause::Internal => "internal",
            DropCause::FileTruncated => "file_truncated",
            DropCause::FileUnlinked => "file_unlinked",
            DropCause::Forked => "forked",
            DropCause::BacklogFull => "backlog_full",
        }
    }

    /// True for causes decided on the caller thread before the record
    /// entered the queue; false for records dropped after acceptance.
    pub fn is_rejection(self) -> bool {
        matches!(
            self,
            DropCause::QueueFull
                | DropCause::Shed
                | DropCause::TimedOut
                | DropCause::Shutdown
                | DropCause::Forked
        )
    }

    /// Position in [`DropCause::ALL`] and in the per-cause counters.
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

const STRIPES: usize = 16;

/// A counter split over cache lines so that threads incrementing it do not
/// contend; reading sums the stripes.
pub(crate) struct StripedCounter {
    cells: [CachePadded<AtomicU64>; STRIPES],
}

impl StripedCounter {
    fn new() -> StripedCounter {
        StripedCounter {
            cells: std::array::from_fn(|_| CachePadded::new(AtomicU64::new(0))),
        }
    }

    /// Adds one on the stripe chosen by `thread_id`.
    #[inline]
    pub(crate) fn incr(&self, thread_id: u64) {
        // Relaxed: a counter; readers only need each increment exactly once.
        self.cells[(thread_id as usize) % STRIPES].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sum(&self) -> u64 {
        self.cells.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

/// Per-cause and per-level drop counters plus the time span of the drops
/// not yet reported in the log.
pub(crate) struct Counters {
    /// Records admitted into the queue (hot path, striped).
    pub(crate) accepted: StripedCounter,
    /// Records handed to a sink in full (primary or fallback).
    pub(crate) written: CachePadded<AtomicU64>,
    /// Of `written`, those that went to the fallback sink.
    pub(crate) written_fallback: AtomicU64,
    /// Bytes handed to sinks, notices included.
    pub(crate) bytes_written: AtomicU64,
    /// Records given to this pipeline (unused at the logger level, where
    /// `accepted` counts them).
    pub(crate) received: AtomicU64,
    /// Drop-notice lines the writer put into the log.
    pub(crate) notices: AtomicU64,
    /// Records whose message was cut to the maximum record size.
    pub(crate) truncated: AtomicU64,
    by_cause: [AtomicU64; DropCause::ALL.len()],
    by_level: [AtomicU64; 5],
    /// Raw clock reading of the first drop ever counted here (0: none).
    first_drop_ns: AtomicU64,
    /// Raw clock reading of the most recent drop.
    last_drop_ns: AtomicU64,
}

impl Counters {
    pub(crate) fn new() -> Counters {
        Counters {
            accepted: StripedCounter::new(),
            written: CachePadded::new(AtomicU64::new(0)),
            written_fallback: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            received: AtomicU64::new(0),
            notices: AtomicU64::new(0),
            truncated: AtomicU64::new(0),
            by_cause: std::array::from_fn(|_| AtomicU64::new(0)),
            by_level: std::array::from_fn(|_| AtomicU64::new(0)),
            first_drop_ns: AtomicU64::new(0),
            last_drop_ns: AtomicU64::new(0),
        }
    }

    /// Counts `n` dropped records of `level` for `cause`; `now_raw` is a raw
    /// clock reading ([`crate::clock::raw`]), converted by the writer when
    /// it writes the notice (a wall-clock read would cost the caller more).
    pub(crate) fn drop_records(&self, cause: DropCause, level: Level, n: u64, now_raw: u64) {
        if n == 0 {
            return;
        }
        // Relaxed throughout: independent counters; the notice reads them
        // later and only needs every increment to show up eventually.
        self.by_cause[cause.index()].fetch_add(n, Ordering::Relaxed);
        self.by_level[level.index()].fetch_add(n, Ordering::Relaxed);
        // Only the first drop sets it; a plain load keeps later drops from
        // writing the shared line.
        if self.first_drop_ns.load(Ordering::Relaxed) == 0 {
            let _ = self.first_drop_ns.compare_exchange(
                0,
                now_raw.max(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        // The latest drop: approximately (a racing older reading may win),
        // which is all a notice's "between T1 and T2" needs.
        self.last_drop_ns.store(now_raw, Ordering::Relaxed);
    }

    /// Moves records that a sink had written, and then found lost, from
    /// `written` to the drops of `cause`. The drops are counted first, so a
    /// reader summing `written + dropped` never sees them missing.
    pub(crate) fn written_then_lost(&self, cause: DropCause, by_level: &[u64; 5], now_raw: u64) {
        let mut total = 0;
        for (level, n) in Level::ALL.iter().zip(by_level) {
            self.drop_records(cause, *level, *n, now_raw);
            total += n;
        }
        // Release, as for the increments of `written`.
        self.written.fetch_sub(total, Ordering::Release);
    }

    pub(crate) fn dropped(&self, cause: DropCause) -> u64 {
        self.by_cause[cause.index()].load(Ordering::Relaxed)
    }

    pub(crate) fn rejected(&self) -> u64 {
        DropCause::ALL
            .iter()
            .filter(|c| c.is_rejection())
            .map(|c| self.dropped(*c))
            .sum()
    }

    pub(crate) fn dropped_after_accept(&self) -> u64 {
        DropCause::ALL
            .iter()
            .filter(|c| !c.is_rejection())
            .map(|c| self.dropped(*c))
            .sum()
    }

    /// Raw clock readings of the first drop ever and of the most recent
    /// one (0 when there was none).
    pub(crate) fn drop_span(&self) -> (u64, u64) {
        (
            self.first_drop_ns.load(Ordering::Relaxed),
            self.last_drop_ns.load(Ordering::Relaxed),
        )
    }

    /// Totals by cause and by level, for notices and snapshots.
    pub(crate) fn drop_totals(&self) -> DropTotals {
        DropTotals {
            by_cause: std::array::from_fn(|i| self.by_cause[i].load(Ordering::Relaxed)),
            by_level: std::array::from_fn(|i| self.by_level[i].load(Ordering::Relaxed)),
        }
    }
}

/// A copy of the drop counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DropTotals {
    pub(crate) by_cause: [u64; DropCause::ALL.len()],
    pub(crate) by_level: [u64; 5],
}

impl DropTotals {
    pub(crate) fn total(&self) -> u64 {
        self.by_cause.iter().sum()
    }

    /// The sum of two totals.
    pub(crate) fn plus(&self, other: &DropTotals) -> DropTotals {
        DropTotals {
            by_cause: std::array::from_fn(|i| self.by_cause[i] + other.by_cause[i]),
            by_level: std::array::from_fn(|i| self.by_level[i] + other.by_level[i]),
        }
    }

    /// The drops in `self` that are not in `earlier`.
    pub(crate) fn since(&self, earlier: &DropTotals) -> DropTotals {
        DropTotals {
            by_cause: std::array::from_fn(|i| self.by_cause[i].saturating_sub(earlier.by_cause[i])),
            by_level: std::array::from_fn(|i| self.by_level[i].saturating_sub(earlier.by_level[i])),
        }
    }
}
