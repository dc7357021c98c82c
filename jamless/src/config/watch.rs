//! Watching the configuration file: a thread that reads it every poll
//! interval and reloads it when its contents change.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::Error;
use crate::logger::Logger;

/// A running watch of a configuration file (see [`Logger::watch_config`]).
/// Dropping it (or [`ConfigWatch::stop`]) stops the thread.
#[derive(Debug)]
pub struct ConfigWatch {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl ConfigWatch {
    /// Stops watching and waits for the thread (at most one reload).
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(|p| p.into_inner()) = true;
        wake.notify_all();
        if let Some(t) = self.thread.take() {
            // The thread catches and reports its panics (see `survive`), so
            // a join error cannot carry one that was not told.
            let _ = t.join();
        }
    }
}

impl Drop for ConfigWatch {
    fn drop(&mut self) {
        self.shut();
    }
}

/// What the watcher last saw: the contents it applied (or refused), or
/// the read error it reported, so each is told of once.
#[derive(PartialEq)]
enum Seen {
    Text(String),
    Unreadable(String),
}

fn look(path: &Path) -> Seen {
    match std::fs::read_to_string(path) {
        Ok(text) => Seen::Text(text),
        Err(e) => Seen::Unreadable(e.kind().to_string()),
    }
}

impl Logger {
    /// Watches a configuration file: a thread (`<name>-config`) reads it
    /// every `poll` and, when its contents changed, reloads it as
    /// [`Logger::reload_config_file`] does. The contents when the watch
    /// starts are taken as applied.
    ///
    /// A new version that does not read, parse or validate leaves the
    /// running configuration untouched and is told of once: through the
    /// error handler, the health snapshot (`config_errors`, `last_error`)
    /// and a `WARN` notice line in the log (target `jamless::config`). An
    /// applied one writes an `INFO` notice line (`WARN` if some of it
    /// needs a restart). Replace the file by renaming a new one over it
    /// so the watcher never reads half a file.
    ///
    /// Fails with an I/O error if the thread cannot start.
    pub fn watch_config(
        &self,
        path: impl Into<PathBuf>,
        poll: Duration,
    ) -> Result<ConfigWatch, Error> {
        let path = path.into();
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let logger = self.clone();
        let flag = Arc::clone(&stop);
        let poll = poll.max(Duration::from_millis(1));
        // Read before returning, so a change made after the call is seen.
        let seen = look(&path);
        let thread = std::thread::Builder::new()
            .name(format!("{}-config", self.core.common.name))
            .spawn(move || watch(&logger, &path, seen, poll, &flag))
            .map_err(|e| Error::io("cannot start the configuration watch thread", e))?;
        Ok(ConfigWatch {
            stop,
            thread: Some(thread),
        })
    }
}

fn watch(
    logger: &Logger,
    path: &Path,
    mut seen: Seen,
    poll: Duration,
    stop: &(Mutex<bool>, Condvar),
) {
    let (stopped, wake) = stop;
    loop {
        {
            let guard = stopped.lock().unwrap_or_else(|p| p.into_inner());
            let (guard, _) = wake
                .wait_timeout_while(guard, poll, |stopped| !*stopped)
                .unwrap_or_else(|p| p.into_inner());
            if *guard {
                return;
            }
        }
        let now = look(path);
        if now == seen {
            continue;
        }
        // An unreadable file is reloaded too, so the read error is told.
        super::survive(logger, "config_watch", || {
            super::reload::reload_and_tell(logger, path, "file changed");
        });
        seen = now;
    }
}
