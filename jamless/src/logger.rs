//! The logger handle and the caller's path: encode, admit, count.
//!
//! A log call encodes its record's body into the thread's scratch buffer,
//! claims space in the queue (the claim is the admission policy), writes
//! the record's head and body into it and returns. It
//! takes no lock, makes no syscall (the writer is woken only when it sleeps
//! and the queue is filling up) and allocates nothing in steady state.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::Common;
use crate::counters::DropCause;
use crate::health::HealthSnapshot;
use crate::level::Level;
use crate::live::Live;
use crate::local::{with_local, Caller};
use crate::policy::{Outcome, OverflowKind};
use crate::queue::{ByteQueue, PushError};
use crate::record::{Encoder, Head, Kind, Meta, Pending, Site};

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

/// The caller side of a logger: admission into the ring (the policy and
/// the producer side of the queue) and the routes callers check before
/// they encode. Everything the worker threads share is in [`Common`].
pub(crate) struct Core {
    pub(crate) common: Arc<Common>,
    pub(crate) queue: Arc<ByteQueue>,
    pub(crate) overflow: OverflowKind,
    /// Records less severe than `shed_keep` may fill the queue only up to
    /// this many bytes; beyond it they are shed.
    pub(crate) shed_at: usize,
    pub(crate) shed_keep: Option<Level>,
    pub(crate) max_record: usize,
    /// Queue fill at which a caller wakes a sleeping ring reader early.
    pub(crate) wake_at: usize,
    /// The filters that change at runtime: the union of the pipelines'
    /// filters, and the logger's directives for the facade adapters.
    pub(crate) live: Live,
    /// The process's fork generation when the logger was built: a child
    /// process has no worker threads, so its records are counted as
    /// dropped instead of being queued for nobody.
    pub(crate) fork_generation: u64,
}

impl Core {
    /// Wakes the thread that reads the ring, if it sleeps.
    pub(crate) fn wake_reader(&self) {
        self.common.ring_reader().wake();
    }

    #[cold]
    #[inline(never)]
    fn reject(&self, cause: DropCause, level: Level) -> Outcome {
        self.common
            .counters
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
        if !self.live.wanted(level, site.target) {
            return Outcome::Filtered;
        }
        // Acquire: see the shutdown before any later state of the workers.
        if self.common.status.shut_down.load(Ordering::Acquire) {
            return self.reject(DropCause::Shutdown, level);
        }
        if crate::fork::generation() != self.fork_generation {
            return self.reject(DropCause::Forked, level);
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

    /// [`Core::submit`] when the thread's state is unavailable: re-entered
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

    #[inline(always)]
    fn admit(&self, level: Level, mut rec: Pending<'_, '_>, tid: u64) -> Outcome {
        if rec.truncate(self.max_record) {
            self.common
                .counters
                .truncated
                .fetch_add(1, Ordering::Relaxed);
        }
        // Records below the protected level may only fill the queue up to
        // the shedding watermark: the claim itself checks it, so shedding
        // costs no extra read of the shared queue positions.
        let sheddable = self.shed_keep.is_some_and(|keep| level > keep);
        let limit = if sheddable { self.shed_at } else { usize::MAX };
        match self.queue.try_push_within(rec.len(), limit, |dst| {
            // Counted as soon as the space is ours, before the record's
            // bytes are stored: the increment is a locked instruction,
            // which waits for every earlier store to reach the cache, and
            // after the copy it would wait for this record's cache lines
            // (cold after a lap of the ring) to arrive; here the claim's
            // CAS has already drained the store buffer. `rec.write` cannot
            // fail after the count: `dst` is exactly `rec.len()` bytes.
            self.common.counters.accepted.incr(tid);
            rec.write(dst)
        }) {
            Ok(()) => {
                // Relaxed: a hint; a missed wake-up costs at most one idle
                // interval, never a record.
                let reader = self.common.ring_reader();
                if reader.is_sleeping() && self.queue.used_bytes() >= self.wake_at {
                    reader.wake();
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
        // A worker must never wait for room that only workers can make.
        if crate::control::is_worker_thread() {
            return self.reject(DropCause::QueueFull, level);
        }
        let status = &self.common.status;
        let deadline = crate::control::deadline_after(timeout);
        status.waiting_callers.fetch_add(1, Ordering::Relaxed);
        let mut pushed = false;
        let mut unusable = false;
        self.common.space.wait_until(deadline, || {
            if !status.writer_usable() {
                unusable = true;
                return true;
            }
            pushed = self.queue.try_push(rec.len(), |dst| rec.write(dst)).is_ok();
            if !pushed {
                self.wake_reader();
            }
            pushed
        });
        status.waiting_callers.fetch_sub(1, Ordering::Relaxed);
        if pushed {
            self.common.counters.accepted.incr(tid);
            Outcome::Accepted
        } else if unusable {
            let cause = if status.shut_down.load(Ordering::Acquire) {
                DropCause::Shutdown
            } else {
                DropCause::QueueFull
            };
            self.reject(cause, level)
        } else {
            self.reject(DropCause::TimedOut, level)
        }
    }

    /// Waits until every record accepted before the call is written or
    /// counted as dropped in every pipeline and every sink is flushed, or
    /// until the deadline.
    pub(crate) fn flush(&self, timeout: Duration) -> FlushReport {
        let c = &*self.common;
        let deadline = crate::control::deadline_after(timeout);
        if c.status.shut_down.load(Ordering::Acquire) && c.all_exited() {
            // Nothing runs any more: nothing to wait for.
            let unwritten = c.outstanding();
            return FlushReport {
                complete: unwritten == 0,
                unwritten,
            };
        }
        let target = c.counters.accepted.sum();
        let mut complete = true;
        if !c.single() {
            // First the dispatcher: every record accepted so far is in a
            // backlog (or counted dropped there).
            let d = &c.dispatch;
            d.wake();
            complete = d.progress.wait_until(deadline, || {
                if c.dispatched.load(Ordering::Acquire) < target {
                    d.wake();
                    return false;
                }
                true
            });
        }
        let drops = || -> u64 {
            c.pipelines
                .iter()
                .map(|p| p.counters.dropped_after_accept())
                .sum()
        };
        // A flush writes a drop notice in every pipeline. If a pipeline
        // dropped records while the others flushed, flush once more so
        // that their outputs tell of it too.
        for _pass in 0..2 {
            let before = drops();
            // Ask them all first, so a stalled one delays nobody's flush.
            let tickets: Vec<(u64, u64)> = c
                .pipelines
                .iter()
                .map(|p| {
                    let goal = if c.single() {
                        target
                    } else {
                        p.counters.received.load(Ordering::Acquire)
                    };
                    (goal, p.control.request_flush())
                })
                .collect();
            for (p, (goal, ticket)) in c.pipelines.iter().zip(tickets) {
                let done = p.control.progress.wait_until(deadline, || {
                    if p.done() < goal || !p.control.flush_done(ticket) {
                        // Ask again in case the thread went to sleep.
                        p.control.wake();
                        return false;
                    }
                    true
                });
                complete &= done;
            }
            if c.single() || !complete || drops() == before {
                break;
            }
        }
        FlushReport {
            complete,
            unwritten: c.outstanding(),
        }
    }

    pub(crate) fn snapshot(&self) -> HealthSnapshot {
        HealthSnapshot::collect(&self.common)
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
    pub(crate) core: Arc<Core>,
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("name", &self.core.common.name)
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
        self.core
            .submit(level, Kind::Event, site, |enc| enc.message_fmt(message))
    }

    /// Logs a line that another program wrote (the `jamless` command reads
    /// them from its standard input): a raw record whose message is the
    /// whole line, written like a line from [`Logger::make_writer`].
    ///
    /// One trailing `\n` (or `\r\n`) is removed; the logger ends the line.
    /// The text format writes the line as it is, the JSON format embeds it
    /// as the `message` (or passes a clean JSON object through unchanged);
    /// both escape control characters and invalid UTF-8, so a multi-line or
    /// binary line stays one line. `level` decides filtering, shedding and
    /// the per-level counters; `target` is the record's target (the JSON
    /// format's `log.logger`, left out when empty).
    ///
    /// A line longer than the maximum record
    /// ([`Logger::max_record_bytes`]) is cut at a character boundary and
    /// marked `…[truncated from N bytes]`. Only the first
    /// `max_record_bytes() + 1` bytes are copied, so the cost of a huge
    /// line is bounded, and `N` counts the bytes kept: a caller that reads
    /// a longer line in pieces passes at most that many. Returns at once,
    /// like [`Logger::log`].
    pub fn log_raw(&self, level: Level, target: &str, line: &[u8]) -> Outcome {
        let mut text = line;
        if let Some(t) = text.strip_suffix(b"\n") {
            text = t.strip_suffix(b"\r").unwrap_or(t);
        }
        // One byte more than a record holds, so the record is still cut
        // (and marked) by the logger.
        let keep = self.core.max_record.saturating_add(1);
        let text = &text[..text.len().min(keep)];
        let site = Site {
            target,
            module_path: "",
            file: "",
            line: None,
        };
        self.core
            .submit(level, Kind::Raw, site, |enc| enc.message_bytes(text))
    }

    /// The largest record, in bytes, that the logger accepts whole
    /// ([`crate::Builder::max_record_bytes`], capped by the queue's and the
    /// backlogs' sizes); longer records are cut and marked.
    pub fn max_record_bytes(&self) -> usize {
        self.core.max_record
    }

    /// Waits until every record accepted before this call is written (or
    /// counted as dropped) and the sink is flushed, or until `timeout`
    /// passes. Never waits longer than `timeout`.
    pub fn flush(&self, timeout: Duration) -> FlushReport {
        self.core.flush(timeout)
    }

    /// Asks every pipeline to close and reopen its sink (for a `SIGHUP`
    /// handler after an external rotation). Returns at once.
    pub fn reopen(&self) {
        for p in &self.core.common.pipelines {
            p.control.reopen_requested.store(true, Ordering::SeqCst);
            p.control.wake();
        }
    }

    /// A snapshot of the logger's health and counters. Cheap: a few dozen
    /// atomic loads.
    pub fn health(&self) -> HealthSnapshot {
        self.core.snapshot()
    }

    /// Makes the thread that reads the ring (the dispatcher, or the only
    /// pipeline's thread) exit as if it had died, to exercise the
    /// supervision. The watchdog restarts it. For tests and drills only.
    #[doc(hidden)]
    pub fn simulate_writer_death(&self) {
        let reader = self.core.common.ring_reader();
        reader.kill_requested.store(true, Ordering::SeqCst);
        reader.wake();
    }

    /// Makes one pipeline's thread exit as if it had died (see
    /// [`Logger::simulate_writer_death`]). For tests and drills only.
    #[doc(hidden)]
    pub fn simulate_pipeline_death(&self, name: &str) {
        if let Some(p) = self.core.common.pipelines.iter().find(|p| p.name == name) {
            p.control.kill_requested.store(true, Ordering::SeqCst);
            p.control.wake();
        }
    }
}
