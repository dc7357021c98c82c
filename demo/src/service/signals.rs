//! The exit path: `SIGTERM` or `SIGINT` handled on a dedicated std thread,
//! independent of the tokio runtime.
//!
//! With the naive logger a blocked log call blocks a tokio worker thread;
//! once every worker is blocked the runtime runs nothing at all (the
//! incident: the kernel accepts connections, the program never answers).
//! So the final statistics cannot come from the runtime: this thread shuts
//! jamless down (flushing within its deadline), writes the statistics file
//! and ends the process with `std::process::exit`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::logging::Logging;
use super::metrics::DemoMetrics;
use super::stats::Stats;

/// How long shutting jamless down may take (its default shutdown timeout).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a live naive consumer gets to empty its channel at exit.
const NAIVE_CLOSE_GRACE: Duration = Duration::from_millis(100);

/// What the exit path needs.
#[derive(Debug)]
pub struct ExitPath {
    /// The installed logger.
    pub logging: Arc<Logging>,
    /// jamless's guard, shut down at exit.
    pub guard: Option<jamless::Guard>,
    /// The demo counters.
    pub metrics: Arc<DemoMetrics>,
    /// The `--instance` label.
    pub instance: String,
    /// Where to write the statistics, if anywhere.
    pub stats_file: Option<PathBuf>,
}

impl ExitPath {
    /// Installs the handlers and starts the thread that waits for a signal.
    ///
    /// # Errors
    ///
    /// The handlers cannot be registered or the thread cannot start.
    pub fn spawn(self) -> Result<()> {
        let mut signals =
            Signals::new([SIGTERM, SIGINT]).context("registering SIGTERM/SIGINT handlers")?;
        std::thread::Builder::new()
            .name("exit-on-signal".into())
            .spawn(move || {
                if signals.forever().next().is_some() {
                    self.exit();
                }
            })
            .context("starting the signal thread")?;
        Ok(())
    }

    /// Shuts the logger down, writes the statistics and ends the process:
    /// status 0, or 1 if the statistics could not be written.
    fn exit(self) -> ! {
        let at_signal = self.logging.health();
        let flush_complete = self.guard.map(|g| g.shutdown(SHUTDOWN_TIMEOUT).complete);
        self.logging.settle(NAIVE_CLOSE_GRACE);
        let stats = Stats::new(
            self.logging.kind(),
            &self.instance,
            &at_signal,
            self.logging.health(),
            self.metrics.snapshot(),
            flush_complete,
        );
        if let Some(path) = &self.stats_file {
            if let Err(e) = stats.write(path) {
                eprintln!("jamless-demo-service: {e:#}");
                std::process::exit(1);
            }
        }
        std::process::exit(0)
    }
}
