//! The mailbox between threads: what callers, flushes, the guard and the
//! watchdog ask of a worker thread (the dispatcher or a pipeline's thread),
//! and the wake-up handshake that lets the worker sleep without callers
//! paying a syscall per record.
//!
//! A worker owns its state outright; the only things other threads touch
//! are the atomics and the two [`Signal`]s here.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::Thread;
use std::time::{Duration, Instant};

thread_local! {
    static IS_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as a jamless worker, which must never wait on
/// a queue that it alone drains.
pub(crate) fn mark_worker_thread() {
    let _ = IS_WORKER.try_with(|w| w.set(true));
}

/// True on a jamless worker thread.
pub(crate) fn is_worker_thread() -> bool {
    IS_WORKER.try_with(Cell::get).unwrap_or(false)
}

/// `now + d`, or a far instant when that would overflow: every timeout the
/// API accepts is safe, however large.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// A mutex-and-condvar pair for the rare waits: callers waiting for room,
/// and flushes waiting for a worker. A worker takes the mutex only to
/// notify, never while it does I/O.
pub(crate) struct Signal {
    lock: Mutex<()>,
    cond: Condvar,
    waiters: AtomicU64,
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
            // without a notification (a worker declared dead or stalled).
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

/// Requests to one worker thread, and its sleep/wake handshake.
pub(crate) struct Control {
    sleeping: AtomicBool,
    thread: Mutex<Option<Thread>>,
    /// Flush tickets asked for and completed (completed <= requested).
    pub(crate) flush_requested: AtomicU64,
    pub(crate) flush_done: AtomicU64,
    pub(crate) reopen_requested: AtomicBool,
    pub(crate) shutdown_requested: AtomicBool,
    /// A drill: make the thread exit as if it had died.
    pub(crate) kill_requested: AtomicBool,
    /// The worker finished its shutdown.
    pub(crate) exited: AtomicBool,
    /// Notified whenever the worker made progress (flushes wait on it).
    pub(crate) progress: Signal,
}

impl Control {
    pub(crate) fn new() -> Control {
        Control {
            sleeping: AtomicBool::new(false),
            thread: Mutex::new(None),
            flush_requested: AtomicU64::new(0),
            flush_done: AtomicU64::new(0),
            reopen_requested: AtomicBool::new(false),
            shutdown_requested: AtomicBool::new(false),
            kill_requested: AtomicBool::new(false),
            exited: AtomicBool::new(false),
            progress: Signal::new(),
        }
    }

    /// Called by the worker when it starts, so that it can be woken.
    pub(crate) fn register_current(&self) {
        *self.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::thread::current());
    }

    /// Relaxed: a hint for callers deciding whether to wake the worker.
    #[inline]
    pub(crate) fn is_sleeping(&self) -> bool {
        self.sleeping.load(Ordering::Relaxed)
    }

    /// Wakes the worker if it sleeps.
    pub(crate) fn wake(&self) {
        // SeqCst pairs with the worker's store of `true` before its last
        // check of its queue and requests: one of the two sees the other.
        if self.sleeping.swap(false, Ordering::SeqCst) {
            let t = self.thread.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = t.as_ref() {
                t.unpark();
            }
        }
    }

    /// Any request the worker has not handled yet.
    pub(crate) fn pending(&self) -> bool {
        self.kill_requested.load(Ordering::SeqCst)
            || self.reopen_requested.load(Ordering::SeqCst)
            || self.shutdown_requested.load(Ordering::SeqCst)
            || self.flush_pending()
    }

    pub(crate) fn flush_pending(&self) -> bool {
        self.flush_requested.load(Ordering::SeqCst) > self.flush_done.load(Ordering::SeqCst)
    }

    /// Asks for a flush and returns its ticket.
    pub(crate) fn request_flush(&self) -> u64 {
        let ticket = self.flush_requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.wake();
        ticket
    }

    pub(crate) fn flush_done(&self, ticket: u64) -> bool {
        self.flush_done.load(Ordering::Acquire) >= ticket
    }

    /// Sleeps until `until`, or until woken, or until `has_work()` (checked
    /// after advertising the sleep, so that a wake-up cannot be lost).
    /// `heartbeat` runs after every wake-up.
    pub(crate) fn sleep_until(
        &self,
        until: Instant,
        mut has_work: impl FnMut() -> bool,
        mut heartbeat: impl FnMut(),
    ) {
        loop {
            let now = Instant::now();
            if now >= until {
                return;
            }
            // SeqCst: pairs with `wake`'s swap (see there).
            self.sleeping.store(true, Ordering::SeqCst);
            if self.pending() || has_work() {
                self.sleeping.store(false, Ordering::SeqCst);
                return;
            }
            std::thread::park_timeout(until - now);
            let woken = !self.sleeping.swap(false, Ordering::SeqCst);
            heartbeat();
            if woken {
                return;
            }
        }
    }

    /// Sleeps while holding work for a failing sink, without advertising
    /// the sleep: callers filling the queue meanwhile must not pay a wake-up
    /// syscall each for a worker that waits on purpose. Shutdown, flushes
    /// and drills are noticed within a slice.
    /// With `flush_interrupts`, a flush request ends the hold too (the
    /// caller then has somewhere else to go: a fallback).
    pub(crate) fn hold_until(
        &self,
        until: Instant,
        flush_interrupts: bool,
        mut heartbeat: impl FnMut(),
    ) {
        const SLICE: Duration = Duration::from_millis(20);
        loop {
            let now = Instant::now();
            if now >= until
                || self.shutdown_requested.load(Ordering::SeqCst)
                || self.kill_requested.load(Ordering::SeqCst)
                || (flush_interrupts && self.flush_pending())
            {
                return;
            }
            std::thread::park_timeout((until - now).min(SLICE));
            heartbeat();
        }
    }
}
