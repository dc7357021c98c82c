//! The logger handle and the caller's path: encode, admit, count.
//!
//! A log call encodes its record's body into the thread's scratch buffer,
//! claims space in the queue (the claim is the admission policy), writes
//! the record's head and body into it and returns. It
//! takes no lock, makes no syscall (the writer is woken only when it sleeps
//! and the queue is filling up) and allocates nothing in steady state.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::counters::{Counters, DropCause};
use crate::health::{HealthSnapshot, LastError, Status};
use crate::level::Level;
use crate::local::{with_local, Caller};
use crate::policy::{Outcome, OverflowKind};
use crate::queue::{ByteQueue, PushError};
use crate::record::{Encoder, Head, Kind, Meta, Pending, Site};
use crate::report::ErrorHandler;
use crate::writer::{WriterConfig, WriterParts};

/// Wall-clock nanoseconds since the Unix epoch.
#[inline]
pub(crate) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A record's metadata: the facade's `site`, the caller thread, the clock.
#[inline]
fn meta<'a>(
    kind: Kind,
    level: Level,
    timestamp_ns: u64,
    caller: Caller<'a>,
    site: Site<'a>,
) -> Meta<'a> {
    Meta {
        kind,
        level,
        timestamp_ns,
        thread_id: caller.id,
        thread_name: caller.name,
        target: site.target,
        module_path: site.module_path,
        file: site.file,
        line: site.line,
    }
}

/// A mutex-and-condvar pair for the rare waits: callers waiting for room,
/// and flushes waiting for the writer. The writer takes the mutex only to
/// notify, never while it does I/O.
pub(crate) struct Signal {
    lock: Mutex<()>,
    cond: Condvar,
    pub(crate) waiters: AtomicU64,
}

impl Signal {
    pub(crate) fn new() -> Signal {
        Signal {
            lock: Mutex::new(()),
            cond: Condvar::new(),
            waiters: AtomicU64::new(0),
        }
    }

    /// Wakes all waiters, if there are any.
    pub(crate) fn notify(&self) {
        // SeqCst pairs with the waiter's increment before its re-check, so
        // either the waiter sees the new state or we see the waiter.
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.cond.notify_all();
        }
    }

    /// Waits until `done()` or the deadline; returns `done()`'s last value.
    pub(crate) fn wait_until(&self, deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let result = loop {
            if done() {
                break true;
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            // Wake at least every millisecond to re-check state that changes
            // without a notification (a writer declared dead or stalled).
            let slice = (deadline - now).min(Duration::from_millis(1));
            guard = match self.cond.wait_timeout(guard, slice) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        };
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

/// Everything the callers, the writer and the watchdog share.
pub(crate) struct Shared {
    pub(crate) queue: Arc<ByteQueue>,
    pub(crate) counters: Counters,
    pub(crate) status: Status,
    pub(crate) overflow: OverflowKind,
    /// Records less severe than `shed_keep` may fill the queue only up to
    /// this many bytes; beyond it they are shed.
    pub(crate) shed_at: usize,
    pub(crate) shed_keep: Option<Level>,
    pub(crate) max_record: usize,
    /// Queue fill at which a caller wakes a sleeping writer early.
    pub(crate) wake_at: usize,
    pub(crate) writer_sleeping: AtomicBool,
    pub(crate) writer_thread: Mutex<Option<Thread>>,
    /// Callers waiting for room.
    pub(crate) space: Signal,
    /// Flushes waiting for the writer.
    pub(crate) progress: Signal,
    pub(crate) flush_requested: AtomicU64,
    pub(crate) flush_done: AtomicU64,
    pub(crate) reopen_requested: AtomicBool,
    pub(crate) shutdown_requested: AtomicBool,
    pub(crate) kill_requested: AtomicBool,
    pub(crate) writer_exited: AtomicBool,
    pub(crate) handler: ErrorHandler,
    pub(crate) config: WriterConfig,
    /// The writer's state; locked by the one running writer thread for its
    /// lifetime, so a restarted writer continues with the same sink.
    pub(crate) parts: Mutex<WriterParts>,
    pub(crate) epoch: Instant,
    pub(crate) name: String,
    /// The filter directives (`RUST_LOG` syntax) for the facade adapters.
    pub(crate) filter: String,
}

impl Shared {
    /// Monotonic nanoseconds since the logger started.
    pub(crate) fn mono_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Wakes the writer if it sleeps.
    pub(crate) fn wake_writer(&self) {
        // SeqCst pairs with the writer's store of `true` before its last
        // check of the queue and requests: one of the two sees the other.
        if self.writer_sleeping.swap(false, Ordering::SeqCst) {
            let t = self.writer_thread.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = t.as_ref() {
                t.unpark();
            }
        }
    }

    /// Reports an internal error: health, then the handler.
    pub(crate) fn report(&self, operation: &str, class: &str, message: String) {
        let e = LastError {
            at_unix_ms: crate::health::unix_ms(SystemTime::now()),
            operation: operation.to_string(),
            class: class.to_string(),
            message,
        };
        self.status.set_last_error(e.clone());
        // A panicking handler must not take the writer down with it.
        let h = &self.handler;
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(&e))).is_err() {
            self.status.panics.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[cold]
    #[inline(never)]
    fn reject(&self, cause: DropCause, level: Level) -> Outcome {
        self.counters
            .drop_records(cause, level, 1, crate::clock::raw());
        Outcome::Dropped(cause)
    }

    /// The caller path. `encode` writes the record's body (message, then
    /// fields and spans); the head (level, timestamp, thread, `site`) is
    /// written straight into the queue with it.
    #[inline]
    pub(crate) fn submit(
        &self,
        level: Level,
        kind: Kind,
        site: Site<'_>,
        encode: impl FnOnce(&mut Encoder<'_>),
    ) -> Outcome {
        // Acquire: see the shutdown before any later state of the writer.
        if self.status.shut_down.load(Ordering::Acquire) {
            return self.reject(DropCause::Shutdown, level);
        }
        // Skip the encoding of a record that the claim would shed anyway
        // (the claim stays the real decision).
        if self.shed_keep.is_some_and(|keep| level > keep) && self.queue.fill_at_least(self.shed_at)
        {
            return self.reject(DropCause::Shed, level);
        }
        let timestamp_ns = crate::clock::raw();
        let mut encode = Some(encode);
        let outcome = with_local(|scratch, caller| {
            let mut enc = Encoder::body(scratch);
            if let Some(f) = encode.take() {
                f(&mut enc);
            }
            let msg_len = enc.finish_body();
            let head = Head::new(&meta(kind, level, timestamp_ns, caller, site));
            self.admit(level, Pending::new(head, scratch, msg_len), caller.id)
        });
        match outcome {
            Some(o) => o,
            None => {
                let head = |caller| meta(kind, level, timestamp_ns, caller, site);
                self.submit_without_local(level, head, encode)
            }
        }
    }

    /// [`Shared::submit`] when the thread's state is unavailable: re-entered
    /// from inside an encode, or thread-local storage is gone. Uses a
    /// temporary buffer (allocates; rare).
    #[cold]
    #[inline(never)]
    fn submit_without_local<'s>(
        &self,
        level: Level,
        meta: impl FnOnce(Caller<'s>) -> Meta<'s>,
        encode: Option<impl FnOnce(&mut Encoder<'_>)>,
    ) -> Outcome {
        let Some(f) = encode else {
            // `encode` ran and the record was lost on the way: count it.
            return self.reject(DropCause::Internal, level);
        };
        let mut buf = Vec::new();
        let mut enc = Encoder::body(&mut buf);
        f(&mut enc);
        let msg_len = enc.finish_body();
        let caller = Caller { id: 0, name: "" };
        let head = Head::new(&meta(caller));
        self.admit(level, Pending::new(head, &buf, msg_len), 0)
    }

    #[inline]
    fn admit(&self, level: Level, mut rec: Pending<'_, '_>, tid: u64) -> Outcome {
        if rec.truncate(self.max_record) {
            self.counters.truncated.fetch_add(1, Ordering::Relaxed);
        }
        // Records below the protected level may only fill the queue up to
        // the shedding watermark: the claim itself checks it, so shedding
        // costs no extra read of the shared queue positions.
        let sheddable = self.shed_keep.is_some_and(|keep| level > keep);
        let limit = if sheddable { self.shed_at } else { usize::MAX };
        match self
            .queue
            .try_push_within(rec.len(), limit, |dst| rec.write(dst))
        {
            Ok(()) => {
                self.counters.accepted.incr(tid);
                // Relaxed: a hint; a missed wake-up costs at most one idle
                // interval, never a record.
                if self.writer_sleeping.load(Ordering::Relaxed)
                    && self.queue.used_bytes() >= self.wake_at
                {
                    self.wake_writer();
                }
                Outcome::Accepted
            }
            Err(e) => self.not_pushed(level, &rec, tid, sheddable, e),
        }
    }

    /// The claim failed: shed, drop or wait, as the policy says.
    #[cold]
    #[inline(never)]
    fn not_pushed(
        &self,
        level: Level,
        rec: &Pending<'_, '_>,
        tid: u64,
        sheddable: bool,
        e: PushError,
    ) -> Outcome {
        match e {
            PushError::TooLarge => {
                // max_record is capped to the queue's max payload at build
                // time, so this is a bug; count it and say so.
                self.reject(DropCause::Internal, level)
            }
            PushError::Full if sheddable => self.reject(DropCause::Shed, level),
            PushError::Full => match self.overflow {
                OverflowKind::DropNewest => self.reject(DropCause::QueueFull, level),
                OverflowKind::BlockFor(timeout) => self.wait_for_room(level, rec, tid, timeout),
            },
        }
    }

    #[cold]
    fn wait_for_room(
        &self,
        level: Level,
        rec: &Pending<'_, '_>,
        tid: u64,
        timeout: Duration,
    ) -> Outcome {
        // The writer itself must never wait for room it alone can make.
        if crate::writer::is_writer_thread() {
            return self.reject(DropCause::QueueFull, level);
        }
        let deadline = Instant::now() + timeout;
        self.status.waiting_callers.fetch_add(1, Ordering::Relaxed);
        let mut pushed = false;
        let mut unusable = false;
        self.space.wait_until(deadline, || {
            if !self.status.writer_usable() {
                unusable = true;
                return true;
            }
            pushed = self.queue.try_push(rec.len(), |dst| rec.write(dst)).is_ok();
            if !pushed {
                self.wake_writer();
            }
            pushed
        });
        self.status.waiting_callers.fetch_sub(1, Ordering::Relaxed);
        if pushed {
            self.counters.accepted.incr(tid);
            Outcome::Accepted
        } else if unusable {
            let cause = if self.status.shut_down.load(Ordering::Acquire) {
                DropCause::Shutdown
            } else {
                DropCause::QueueFull
            };
            self.reject(cause, level)
        } else {
            self.reject(DropCause::TimedOut, level)
        }
    }

    /// Records accepted and not yet written or dropped.
    fn outstanding(&self) -> u64 {
        let done =
            self.counters.written.load(Ordering::Acquire) + self.counters.dropped_after_accept();
        self.counters.accepted.sum().saturating_sub(done)
    }

    pub(crate) fn flush(&self, timeout: Duration) -> FlushReport {
        let deadline = Instant::now() + timeout;
        let target = self.counters.accepted.sum();
        let ticket = self.flush_requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.wake_writer();
        let complete = self.progress.wait_until(deadline, || {
            let done = self.counters.written.load(Ordering::Acquire)
                + self.counters.dropped_after_accept();
            if done < target || self.flush_done.load(Ordering::Acquire) < ticket {
                // Ask again in case the writer went to sleep in between.
                self.wake_writer();
                return false;
            }
            true
        });
        FlushReport {
            complete,
            unwritten: self.outstanding(),
        }
    }

    pub(crate) fn snapshot(&self) -> HealthSnapshot {
        HealthSnapshot::collect(
            &self.status,
            &self.counters,
            self.queue.consumed(),
            self.queue.used_bytes(),
            self.queue.capacity(),
        )
    }
}

/// The result of a flush or shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushReport {
    /// True if every record accepted before the call was written or
    /// counted as dropped, and the sink was flushed, before the deadline.
    pub complete: bool,
    /// Records accepted and still not written when the call returned.
    pub unwritten: u64,
}

/// A handle to a logger. Cheap to clone; all clones share one queue and
/// one writer. Obtain one from [`crate::Builder::build`].
#[derive(Clone)]
pub struct Logger {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("name", &self.shared.name)
            .finish_non_exhaustive()
    }
}

impl Logger {
    /// Logs a message with a level and target. Returns at once; the outcome
    /// says whether the record was accepted or dropped (and why).
    pub fn log(&self, level: Level, target: &str, message: fmt::Arguments<'_>) -> Outcome {
        let site = Site {
            target,
            module_path: "",
            file: "",
            line: None,
        };
        self.shared
            .submit(level, Kind::Event, site, |enc| enc.message_fmt(message))
    }

    /// Waits until every record accepted before this call is written (or
    /// counted as dropped) and the sink is flushed, or until `timeout`
    /// passes. Never waits longer than `timeout`.
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        self.shared.flush(timeout)
    }

    /// Asks the writer to close and reopen its sink (for a `SIGHUP` handler
    /// after an external rotation). Returns at once.
    pub fn reopen(&self) {
        self.shared.reopen_requested.store(true, Ordering::SeqCst);
        self.shared.wake_writer();
    }

    /// A snapshot of the logger's health and counters. Cheap: a few dozen
    /// atomic loads.
    pub fn health(&self) -> HealthSnapshot {
        self.shared.snapshot()
    }

    /// Makes the writer thread exit as if it had died, to exercise the
    /// supervision. The watchdog restarts it. For tests and drills only.
    #[doc(hidden)]
    pub fn simulate_writer_death(&self) {
        self.shared.kill_requested.store(true, Ordering::SeqCst);
        self.shared.wake_writer();
    }
}
