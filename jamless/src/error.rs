//! The one error type of jamless.

use std::fmt;
use std::io;

/// An error from building or controlling a logger.
///
/// Logging itself never returns an error: a log call has an outcome
/// (accepted or dropped, see [`crate::Outcome`]), and failures of the writer
/// are reported to the error handler and the health snapshot.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

#[derive(Debug)]
enum ErrorKind {
    Config(String),
    Io {
        context: String,
        source: io::Error,
    },
    // Only the `log` facade and the native macros install themselves.
    #[cfg_attr(not(feature = "log"), allow(dead_code))]
    AlreadyInstalled(&'static str),
}

impl Error {
    pub(crate) fn config(msg: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Config(msg.into()),
        }
    }

    /// What went wrong, without the kind's prefix (to embed in another
    /// configuration error).
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn detail(&self) -> String {
        match &self.kind {
            ErrorKind::Config(msg) => msg.clone(),
            _ => self.to_string(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error {
            kind: ErrorKind::Io {
                context: context.into(),
                source,
            },
        }
    }

    #[cfg_attr(not(feature = "log"), allow(dead_code))]
    pub(crate) fn already_installed(what: &'static str) -> Error {
        Error {
            kind: ErrorKind::AlreadyInstalled(what),
        }
    }

    /// True if the configuration was invalid (a bad pattern, filter or size).
    pub fn is_config(&self) -> bool {
        matches!(self.kind, ErrorKind::Config(_))
    }

    /// True if an I/O operation failed; the cause is in [`std::error::Error::source`].
    pub fn is_io(&self) -> bool {
        matches!(self.kind, ErrorKind::Io { .. })
    }

    /// True if a global logger (the `log` facade) was already set.
    pub fn is_already_installed(&self) -> bool {
        matches!(self.kind, ErrorKind::AlreadyInstalled(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Config(msg) => write!(f, "invalid configuration: {msg}"),
            ErrorKind::Io { context, .. } => write!(f, "{context}"),
            ErrorKind::AlreadyInstalled(what) => {
                write!(f, "a global {what} logger is already installed")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
