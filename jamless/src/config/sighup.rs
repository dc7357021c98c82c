//! The opt-in `SIGHUP` handler: reopen the files, reload the configuration.

use std::path::PathBuf;
use std::thread::JoinHandle;

use signal_hook::consts::SIGHUP;
use signal_hook::iterator::{Handle, Signals};

use crate::error::Error;
use crate::logger::Logger;

/// An installed `SIGHUP` handler (see [`Logger::install_sighup`]).
/// Dropping it (or [`Sighup::uninstall`]) removes the handler and stops
/// its thread.
#[derive(Debug)]
pub struct Sighup {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl Sighup {
    /// Removes the handler and waits for its thread.
    pub fn uninstall(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        self.handle.close();
        if let Some(t) = self.thread.take() {
            // The thread catches and reports its panics (see `survive`), so
            // a join error cannot carry one that was not told.
            let _ = t.join();
        }
    }
}

impl Drop for Sighup {
    fn drop(&mut self) {
        self.shut();
    }
}

impl Logger {
    /// Handles `SIGHUP` on a thread of its own (`<name>-sighup`; the
    /// signal handler itself only wakes it): every pipeline reopens its
    /// sink ([`Logger::reopen`], for logrotate's `create` with a
    /// `postrotate` that sends `kill -HUP`), then, with `config`, the
    /// configuration file is reloaded as [`Logger::reload_config_file`]
    /// does and the outcome told as [`Logger::watch_config`] tells it.
    ///
    /// Nothing is installed unless this is called. Fails with an I/O error
    /// if the handler or the thread cannot be set up.
    pub fn install_sighup(&self, config: Option<PathBuf>) -> Result<Sighup, Error> {
        let mut signals = Signals::new([SIGHUP])
            .map_err(|e| Error::io("cannot install the SIGHUP handler", e))?;
        let handle = signals.handle();
        let logger = self.clone();
        let thread = std::thread::Builder::new()
            .name(format!("{}-sighup", self.core.common.name))
            .spawn(move || {
                for _ in signals.forever() {
                    super::survive(&logger, "sighup", || {
                        logger.reopen();
                        if let Some(path) = &config {
                            super::reload::reload_and_tell(&logger, path, "SIGHUP");
                        }
                    });
                }
            });
        match thread {
            Ok(t) => Ok(Sighup {
                handle,
                thread: Some(t),
            }),
            Err(e) => {
                handle.close();
                Err(Error::io("cannot start the SIGHUP thread", e))
            }
        }
    }
}
