//! The housekeeper thread of a rotating file sink: retention and
//! compression of closed files, off the writer's path.
//!
//! It runs at start-up (finishing what a crashed compressor left behind),
//! whenever the sink rotates, and every few seconds. Each run lists the
//! directory, asks [`crate::rotation::plan`] what to compress and delete,
//! and does it. Several processes may do the same at the same time: the
//! compression protocol lets exactly one of them compress a file, and a
//! file another process already removed is not an error. Errors are kept
//! for the writer, which reports them through the logger's error handler.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::rotation::{self, CompressOutcome, Names, Retention, Rotation};
use crate::Error;

/// How often the housekeeper looks without being poked.
const PERIOD: Duration = Duration::from_secs(5);

/// How long dropping the sink waits for the housekeeper to stop. A stop is
/// seen between two files and between two reads of a file being
/// compressed, so this is only reached if the disk itself hangs.
const STOP_WAIT: Duration = Duration::from_secs(1);

/// The handle of the housekeeper thread; dropping it (with the sink) stops
/// the thread and waits for it, so a process that shuts its logger down
/// cleanly never leaves a half-done step (such as a file and its complete
/// compressed copy side by side) behind.
pub(crate) struct Housekeeper {
    tx: Mutex<Sender<()>>,
    error: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    stopped: Mutex<Receiver<()>>,
}

struct Job {
    names: Names,
    rotation: Rotation,
    tz: TimeZone,
    retention: Retention,
    error: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
}

impl Housekeeper {
    pub(crate) fn spawn(
        names: Names,
        rotation: Rotation,
        tz: TimeZone,
        retention: Retention,
    ) -> Result<Housekeeper, Error> {
        let (tx, rx) = mpsc::channel::<()>();
        let (stopped_tx, stopped_rx) = mpsc::channel::<()>();
        let error = Arc::new(Mutex::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let job = Job {
            names,
            rotation,
            tz,
            retention,
            error: Arc::clone(&error),
            stop: Arc::clone(&stop),
        };
        std::thread::Builder::new()
            .name("jamless-housekeeper".into())
            .spawn(move || {
                // Dropped when the thread ends, however it ends (a panic
                // included): that is what the sink's drop waits for.
                let _stopped = stopped_tx;
                job.recover();
                while !job.stopping() {
                    job.run_once();
                    match rx.recv_timeout(PERIOD) {
                        Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                        // The sink is gone: so is the housekeeper.
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .map_err(|e| Error::io("cannot start the housekeeper thread", e))?;
        Ok(Housekeeper {
            tx: Mutex::new(tx),
            error,
            stop,
            stopped: Mutex::new(stopped_rx),
        })
    }

    /// Asks for a run now (after a rotation).
    pub(crate) fn poke(&self) {
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        // A dead housekeeper thread leaves the channel closed; its last
        // error, if any, is already kept for `take_error`.
        if tx.send(()).is_err() {
            self.keep_error("the housekeeper thread has stopped".into());
        }
    }

    /// The last error since the previous call, for the writer to report.
    pub(crate) fn take_error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    fn keep_error(&self, e: String) {
        *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }
}

impl Drop for Housekeeper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let tx = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        // Wakes a sleeping thread; a thread already gone is what we want.
        let _ = tx.send(());
        drop(tx);
        let stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        // `Disconnected` is the thread's end; a timeout leaves it to finish
        // on its own (the process may exit first: every step is crash-safe
        // and the next start-up recovery completes it).
        let _ = stopped.recv_timeout(STOP_WAIT);
    }
}

impl Job {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn keep(&self, e: impl std::fmt::Display) {
        *self.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!("housekeeping: {e}"));
    }

    fn recover(&self) {
        match rotation::recover(&self.names) {
            Ok(r) => {
                for e in r.errors {
                    self.keep(e);
                }
            }
            Err(e) => self.keep(e),
        }
    }

    fn run_once(&self) {
        let files = match rotation::scan(&self.names, &self.rotation, &self.tz) {
            Ok(f) => f,
            Err(e) => return self.keep(e),
        };
        let active: Vec<_> = self.names.active_path().into_iter().collect();
        let plan = rotation::plan(&files, &self.retention, Timestamp::now(), &active);
        for path in &plan.compress {
            if self.stopping() {
                return;
            }
            match rotation::compress_file_until(path, self.retention.compression(), &self.stop) {
                Ok(CompressOutcome::Compressed { .. } | CompressOutcome::Skipped(_)) => {}
                Err(e) => self.keep(e),
            }
        }
        for path in &plan.delete {
            if self.stopping() {
                return;
            }
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => self.keep(format!("removing {}: {e}", path.display())),
            }
        }
    }
}
