//! What every thread of one logger shares: the logger-level counters and
//! status, the error handler, and its pipelines. The dispatcher, the
//! pipelines' threads and the watchdog each hold an `Arc` of it; callers
//! reach it through the logger.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::control::{Control, Signal};
use crate::counters::Counters;
use crate::health::{LastError, Status};
use crate::pipeline::PipelineShared;
use crate::queue::ByteQueue;
use crate::report::ErrorHandler;

pub(crate) struct Common {
    /// The logger's name (threads are `<name>-...`).
    pub(crate) name: String,
    /// Logger-level counters: accepted, rejections, truncations, and
    /// records the dispatcher could not decode.
    pub(crate) counters: Counters,
    /// Logger-level status: shutdown, waiting callers, and the liveness of
    /// the thread that reads the ring (the dispatcher, or the only
    /// pipeline, which then shares this very status).
    pub(crate) status: Arc<Status>,
    /// Records the dispatcher took from the ring (several pipelines only).
    pub(crate) dispatched: AtomicU64,
    pub(crate) handler: ErrorHandler,
    pub(crate) pipelines: Vec<Arc<PipelineShared>>,
    /// The ring callers push into.
    pub(crate) ring: Arc<ByteQueue>,
    /// The dispatcher's mailbox (several pipelines only).
    pub(crate) dispatch: Control,
    /// How long the dispatcher sleeps when the ring is empty.
    pub(crate) dispatch_idle: std::time::Duration,
    /// Callers waiting for room in the ring (`block_for`), notified by the
    /// thread that reads it.
    pub(crate) space: Signal,
    pub(crate) epoch: Instant,
    /// The process's fork generation when the logger was built.
    pub(crate) fork_generation: u64,
    /// Configuration files applied to the running logger.
    pub(crate) config_reloads: AtomicU64,
    /// Configuration files that could not be applied (did not read, parse
    /// or validate); the running configuration stayed as it was.
    pub(crate) config_errors: AtomicU64,
}

impl Common {
    /// Monotonic nanoseconds since the logger started.
    pub(crate) fn mono_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// True when the one pipeline reads the ring itself (no dispatcher).
    pub(crate) fn single(&self) -> bool {
        self.pipelines.len() == 1
    }

    /// The mailbox of the thread that reads the ring.
    #[inline]
    pub(crate) fn ring_reader(&self) -> &Control {
        match self.pipelines.as_slice() {
            [only] => &only.control,
            _ => &self.dispatch,
        }
    }

    /// Whether every worker thread finished its shutdown.
    pub(crate) fn all_exited(&self) -> bool {
        (self.single() || self.dispatch.exited.load(Ordering::Acquire))
            && self
                .pipelines
                .iter()
                .all(|p| p.control.exited.load(Ordering::Acquire))
    }

    /// Records accepted and not yet written or dropped anywhere: in the
    /// ring, in a backlog, or in a batch being written.
    pub(crate) fn outstanding(&self) -> u64 {
        let in_pipelines: u64 = self.pipelines.iter().map(|p| p.queued()).sum();
        in_pipelines + self.in_ring()
    }

    /// Records accepted and not yet taken from the ring by its reader.
    pub(crate) fn in_ring(&self) -> u64 {
        let taken = match self.pipelines.as_slice() {
            [only] => only.counters.received.load(Ordering::Acquire),
            _ => self.dispatched.load(Ordering::Acquire),
        };
        // The dispatcher counts a record it could not decode as taken and
        // dropped; don't count it again.
        self.counters.accepted.sum().saturating_sub(taken)
    }

    /// Reports an internal error: health (the pipeline's, if any, and the
    /// logger's), then the handler.
    pub(crate) fn report(
        &self,
        pipeline: Option<&PipelineShared>,
        operation: &str,
        class: &str,
        message: String,
    ) {
        let message = match pipeline {
            Some(p) if !self.single() => format!("pipeline {}: {message}", p.name),
            _ => message,
        };
        let e = LastError {
            at_unix_ms: crate::health::unix_ms(SystemTime::now()),
            operation: operation.to_string(),
            class: class.to_string(),
            message,
        };
        if let Some(p) = pipeline {
            p.status.set_last_error(e.clone());
        }
        self.status.set_last_error(e.clone());
        // A panicking handler must not take a worker down with it.
        let h = &self.handler;
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(&e))).is_err() {
            self.status.panics.fetch_add(1, Ordering::Relaxed);
        }
    }
}
