//! Shutdown: the guard that flushes with a deadline, and the panic hook.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::common::Common;
use crate::level::Level;
use crate::logger::{Core, FlushReport, Logger};

/// Flushes and stops the logger when dropped, waiting at most the shutdown
/// timeout (see [`crate::Builder::shutdown_timeout`]): process exit can
/// never hang on logging.
///
/// Keep it alive for as long as the program logs, typically as a variable
/// in `main`. Note that `let _ = builder.build()?` drops the guard at once
/// and shuts the logger down immediately; write `let (logger, _guard) = ...`.
#[must_use = "dropping the guard shuts the logger down at once; bind it with `let _guard = ...`"]
pub struct Guard {
    pub(crate) core: Arc<Core>,
    pub(crate) timeout: Duration,
    pub(crate) watchdog: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Guard {
    /// Shuts down now with the given deadline and says what was left
    /// unwritten. Records offered afterwards are dropped and counted under
    /// [`crate::DropCause::Shutdown`].
    pub fn shutdown(mut self, timeout: Duration) -> FlushReport {
        self.timeout = timeout;
        self.stop()
    }

    fn stop(&mut self) -> FlushReport {
        let report = shutdown(&self.core, self.timeout);
        if let Some(w) = self.watchdog.take() {
            // In a fork() child the watchdog does not exist: never join it.
            if !forked(&self.core.common) {
                w.thread().unpark();
                // The watchdog exits once the workers did; if one is stuck
                // in a sink, leave them behind rather than hang the exit.
                if self.core.common.all_exited() {
                    let _ = w.join();
                }
            }
        }
        report
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop();
    }
}

fn forked(c: &Common) -> bool {
    crate::fork::generation() != c.fork_generation
}

pub(crate) fn shutdown(core: &Core, timeout: Duration) -> FlushReport {
    let c = &*core.common;
    let deadline = crate::control::deadline_after(timeout);
    if forked(c) {
        // The workers live in the parent; this process's records were all
        // counted as dropped (`forked`) at the call.
        c.status.shut_down.store(true, Ordering::Release);
        return FlushReport {
            complete: true,
            unwritten: 0,
        };
    }
    if c.status.shut_down.swap(true, Ordering::AcqRel) {
        return FlushReport {
            complete: c.all_exited(),
            unwritten: c.outstanding(),
        };
    }
    // Callers waiting for room stop waiting now.
    c.space.notify();
    let report = core.flush(timeout);
    // The dispatcher passes the shutdown on to the pipelines once the ring
    // is empty; if it cannot (dead, stuck), tell them directly at the end.
    let first = c.ring_reader();
    first.shutdown_requested.store(true, Ordering::SeqCst);
    first.wake();
    let reader_done = first.progress.wait_until(deadline, || {
        first.wake();
        first.exited.load(Ordering::Acquire)
    });
    let mut exited = reader_done;
    for p in &c.pipelines {
        p.control.shutdown_requested.store(true, Ordering::SeqCst);
        p.control.wake();
        exited &= p.control.progress.wait_until(deadline, || {
            p.control.wake();
            p.control.exited.load(Ordering::Acquire)
        });
    }
    if !report.complete || !exited {
        c.report(
            None,
            "shutdown",
            "incomplete",
            format!(
                "{} records not written within the {:?} shutdown deadline (a pipeline stalled or failing)",
                c.outstanding(),
                timeout
            ),
        );
    }
    FlushReport {
        complete: report.complete && exited,
        unwritten: c.outstanding(),
    }
}

impl Logger {
    /// Installs a panic hook that logs the panic as an `ERROR` record,
    /// flushes with `timeout`, then runs the previous hook. It holds only a
    /// weak reference: once the logger is gone it does nothing.
    pub fn install_panic_hook(&self, timeout: Duration) {
        let weak: Weak<Core> = Arc::downgrade(&self.core);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !crate::control::is_worker_thread() {
                if let Some(core) = weak.upgrade() {
                    let logger = Logger { core };
                    logger.log(Level::Error, "panic", format_args!("{info}"));
                    logger.flush(timeout);
                }
            }
            previous(info);
        }));
    }
}
