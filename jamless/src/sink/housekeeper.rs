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
//!
//! With [`Retention::free_space_on_enospc`], the sink asks for space when
//! a write fails with a full disk: the housekeeper deletes the oldest
//! rotated file of this sink (never the one being written) and reports it;
//! the writer's retry then tells whether that was enough, and asks again
//! if not.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::fs::FileStats;
use crate::rotation::{self, CompressOutcome, Names, Retention, Rotation};
use crate::Error;

/// The most reports kept between two reads by the writer.
const MAX_KEPT: usize = 64;

/// The file a sink is writing, which freeing space must spare.
pub(crate) type Writing = (Timestamp, u32, PathBuf);

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
    error: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    stopped: Mutex<Receiver<()>>,
    /// Space was asked for and not yet looked for.
    free: Arc<Mutex<Option<Writing>>>,
}

struct Job {
    names: Names,
    rotation: Rotation,
    tz: TimeZone,
    retention: Retention,
    error: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    free: Arc<Mutex<Option<Writing>>>,
    stats: FileStats,
}

impl Housekeeper {
    pub(crate) fn spawn(
        names: Names,
        rotation: Rotation,
        tz: TimeZone,
        retention: Retention,
        stats: FileStats,
    ) -> Result<Housekeeper, Error> {
        let (tx, rx) = mpsc::channel::<()>();
        let (stopped_tx, stopped_rx) = mpsc::channel::<()>();
        let error = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let free = Arc::new(Mutex::new(None));
        let job = Job {
            names,
            rotation,
            tz,
            retention,
            error: Arc::clone(&error),
            stop: Arc::clone(&stop),
            free: Arc::clone(&free),
            stats,
        };
        std::thread::Builder::new()
            .name("jamless-housekeeper".into())
            .spawn(move || {
                // Dropped when the thread ends, however it ends (a panic
                // included): that is what the sink's drop waits for.
                let _stopped = stopped_tx;
                job.recover();
                while !job.stopping() {
                    job.free_space();
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
            free,
        })
    }

    /// Asks for space (a write failed with a full disk), sparing the file
    /// being written. A request not yet served is not repeated, so one
    /// failure deletes one file at most.
    pub(crate) fn request_space(&self, writing: Writing) {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        if free.is_none() {
            *free = Some(writing);
            drop(free);
            self.poke();
        }
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

    /// What happened since the previous call (errors, files deleted to
    /// free space), for the writer to report.
    pub(crate) fn take_error(&self) -> Option<String> {
        let mut kept = self.error.lock().unwrap_or_else(|p| p.into_inner());
        (!kept.is_empty()).then(|| std::mem::take(&mut *kept).join("; "))
    }

    fn keep_error(&self, e: String) {
        keep(&self.error, e);
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

fn keep(slot: &Mutex<Vec<String>>, e: String) {
    let mut kept = slot.lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() < MAX_KEPT {
        kept.push(e);
    }
}

impl Job {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn keep(&self, e: impl std::fmt::Display) {
        keep(&self.error, format!("housekeeping: {e}"));
    }

    /// Serves a request for space: deletes the oldest rotated file of this
    /// sink and reports it.
    fn free_space(&self) {
        let request = self.free.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some((start, index, path)) = request else {
            return;
        };
        let result = self.delete_oldest(start, index, path);
        // Served: the next failing write may ask again.
        *self.free.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if let Err(e) = result {
            self.keep(e);
        }
    }

    fn delete_oldest(&self, start: Timestamp, index: u32, writing: PathBuf) -> io::Result<()> {
        let files = rotation::scan(&self.names, &self.rotation, &self.tz)?;
        let mut spared: Vec<PathBuf> = self.names.active_path().into_iter().collect();
        spared.push(writing);
        let victims = rotation::oldest_to_free(&files, (start, index), &spared);
        if victims.is_empty() {
            self.keep("the disk is full and no rotated file of this logger is left to delete");
            return Ok(());
        }
        for path in victims {
            let bytes = std::fs::symlink_metadata(&path).map_or(0, |m| m.len());
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    self.stats.add_freed(bytes);
                    self.keep(format!(
                        "the disk is full: deleted {} ({bytes} bytes) to make room; \
                         {} files deleted so far",
                        path.display(),
                        self.stats.files_freed()
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => self.keep(format!("removing {}: {e}", path.display())),
            }
        }
        Ok(())
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
