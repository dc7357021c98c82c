//! Shutdown: the guard that flushes with a deadline, and the panic hook.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::level::Level;
use crate::logger::{FlushReport, Logger, Shared};

/// Flushes and stops the logger when dropped, waiting at most the shutdown
/// timeout (see [`crate::Builder::shutdown_timeout`]): process exit can
/// never hang on logging.
///
/// Keep it alive for as long as the program logs, typically as a variable
/// in `main`. Note that `let _ = builder.build()?` drops the guard at once
/// and shuts the logger down immediately; write `let (logger, _guard) = ...`.
#[must_use = "dropping the guard shuts the logger down at once; bind it with `let _guard = ...`"]
pub struct Guard {
    pub(crate) shared: Arc<Shared>,
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
        let report = shutdown(&self.shared, self.timeout);
        if let Some(w) = self.watchdog.take() {
            w.thread().unpark();
            // The watchdog exits once the writer did; if the writer is stuck
            // in a sink, leave both behind rather than hang the exit.
            if self.shared.writer_exited.load(Ordering::Acquire) {
                let _ = w.join();
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

pub(crate) fn shutdown(shared: &Shared, timeout: Duration) -> FlushReport {
    let deadline = Instant::now() + timeout;
    if shared.status.shut_down.swap(true, Ordering::AcqRel) {
        return FlushReport {
            complete: shared.writer_exited.load(Ordering::Acquire),
            unwritten: 0,
        };
    }
    // Callers waiting for room stop waiting now.
    shared.space.notify();
    let report = shared.flush(timeout);
    shared.shutdown_requested.store(true, Ordering::SeqCst);
    shared.wake_writer();
    let exited = shared.progress.wait_until(deadline, || {
        shared.wake_writer();
        shared.writer_exited.load(Ordering::Acquire)
    });
    if !report.complete || !exited {
        shared.report(
            "shutdown",
            "incomplete",
            format!(
                "{} records not written within the {:?} shutdown deadline (writer stalled or failing)",
                report.unwritten, timeout
            ),
        );
    }
    FlushReport {
        complete: report.complete && exited,
        unwritten: report.unwritten,
    }
}

impl Logger {
    /// Installs a panic hook that logs the panic as an `ERROR` record,
    /// flushes with `timeout`, then runs the previous hook. It holds only a
    /// weak reference: once the logger is gone it does nothing.
    pub fn install_panic_hook(&self, timeout: Duration) {
        let weak: Weak<Shared> = Arc::downgrade(&self.shared);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !crate::writer::is_writer_thread() {
                if let Some(shared) = weak.upgrade() {
                    let logger = Logger { shared };
                    logger.log(Level::Error, "panic", format_args!("{info}"));
                    logger.flush(timeout);
                }
            }
            previous(info);
        }));
    }
}
