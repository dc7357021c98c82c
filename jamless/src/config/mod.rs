//! The configuration file (cargo feature `config`, on by default): a TOML
//! file that describes a logger and its pipelines, read at start-up and
//! re-read while the logger runs.
//!
//! * [`Builder::from_config_file`], [`Builder::from_config_str`] and
//!   [`Builder::from_env_config`] (the file named by `JAMLESS_CONFIG`).
//! * [`Logger::reload_config_file`] / [`Logger::reload_config_str`] apply
//!   a new version live: filters and formats; everything else is reported
//!   as needing a restart ([`ReloadReport`]).
//! * [`Logger::watch_config`] polls the file and reloads it on change;
//!   [`Logger::install_sighup`] reopens the files and reloads it on
//!   `SIGHUP`.
//!
//! `RUST_LOG`, when set and not empty, replaces the file's logger-level
//! `filter` (at start-up and on every reload): the environment is the
//! operator's override for one run, the file is the deployed default.
//! Pipeline filters still apply on top.
//!
//! The keys are documented in `docs/configuration.md`.

use std::path::Path;

use crate::builder::Builder;
use crate::error::Error;

mod build;
mod error;
mod format;
mod model;
mod reload;
mod sighup;
mod sink;
mod watch;

pub(crate) use model::ConfigFile;

/// Runs one round of a watch or signal thread's work: a panic in it (a
/// sink's `reopen`, a reload) is reported to the error handler, class
/// `panic`, and the thread goes on serving the next change or signal.
fn survive(logger: &crate::logger::Logger, operation: &str, work: impl FnOnce()) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        logger.core.common.report(
            None,
            operation,
            "panic",
            format!(
                "{operation} panicked: {}; the thread goes on",
                crate::pipeline::panic_message(payload.as_ref())
            ),
        );
    }
}
pub use reload::ReloadReport;
pub use sighup::Sighup;
pub use watch::ConfigWatch;

use error::Source;

/// The environment variable [`Builder::from_env_config`] reads.
pub const CONFIG_ENV: &str = "JAMLESS_CONFIG";

/// Parses and checks a configuration: the model and the builder.
pub(crate) fn parse(text: &str, origin: &str) -> Result<(ConfigFile, Builder), Error> {
    let src = Source { origin, text };
    let file: ConfigFile = error::parse(src)?;
    let builder = build::builder(src, &file)?;
    Ok((file, builder))
}

/// Reads a configuration file, naming it in any error.
pub(crate) fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| {
        Error::io(
            format!("cannot read the configuration file {}", path.display()),
            e,
        )
    })
}

impl Builder {
    /// A builder from a TOML configuration file (see
    /// `docs/configuration.md`). Keys left out keep the builder's
    /// defaults. `RUST_LOG`, when set, replaces the file's `filter`.
    ///
    /// Fails with an I/O error if the file cannot be read, and with a
    /// configuration error naming the file, line and column, the key and
    /// what was expected if it does not parse or a value is invalid.
    ///
    /// ```no_run
    /// let (logger, _guard) = jamless::Builder::from_config_file("logging.toml")?.build()?;
    /// logger.install_log()?;
    /// # Ok::<(), jamless::Error>(())
    /// ```
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<Builder, Error> {
        let path = path.as_ref();
        let text = read(path)?;
        Builder::from_config_str(&text, &path.display().to_string())
    }

    /// A builder from TOML text; `origin` names it in errors (a file
    /// name, `"<inline>"`). See [`Builder::from_config_file`].
    pub fn from_config_str(text: &str, origin: &str) -> Result<Builder, Error> {
        let (file, mut builder) = parse(text, origin)?;
        builder.config = Some(Box::new(file));
        Ok(builder)
    }

    /// A builder from the file named by the `JAMLESS_CONFIG` environment
    /// variable ([`CONFIG_ENV`]). Fails with a configuration error if it
    /// is not set.
    pub fn from_env_config() -> Result<Builder, Error> {
        match std::env::var_os(CONFIG_ENV) {
            Some(path) if !path.is_empty() => Builder::from_config_file(Path::new(&path)),
            _ => Err(Error::config(format!(
                "{CONFIG_ENV} is not set: it should name a configuration file"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use crate::health::LastError;

    #[test]
    fn a_panic_in_a_round_is_reported_and_the_next_round_runs() {
        let dir = tempfile::tempdir().unwrap();
        let seen: Arc<Mutex<Vec<LastError>>> = Arc::default();
        let sink = Arc::clone(&seen);
        let (logger, _guard) = crate::Builder::new()
            .file(dir.path().join("app.log"))
            .error_handler(Arc::new(move |e: &LastError| {
                sink.lock().unwrap().push(e.clone())
            }))
            .build()
            .unwrap();
        let mut rounds = 0;
        for _ in 0..2 {
            super::survive(&logger, "sighup", || {
                rounds += 1;
                panic!("reopen failed hard");
            });
        }
        assert_eq!(rounds, 2);
        let seen = seen.lock().unwrap();
        let panics: Vec<_> = seen.iter().filter(|e| e.class == "panic").collect();
        assert_eq!(panics.len(), 2, "{seen:?}");
        assert!(panics[0].message.contains("reopen failed hard"), "{seen:?}");
        assert_eq!(panics[0].operation, "sighup");
    }
}
