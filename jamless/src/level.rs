//! Severity levels.

use std::fmt;

/// The severity of a record, most severe first.
///
/// The numeric order is `Error < Warn < Info < Debug < Trace`, as in the
/// `log` crate: a level is "more verbose" when it compares greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Something failed.
    Error = 1,
    /// Something is wrong but work goes on.
    Warn = 2,
    /// Normal operational messages.
    Info = 3,
    /// Detail for developers.
    Debug = 4,
    /// Very detailed tracing.
    Trace = 5,
}

impl Level {
    /// All levels, most severe first.
    pub const ALL: [Level; 5] = [
        Level::Error,
        Level::Warn,
        Level::Info,
        Level::Debug,
        Level::Trace,
    ];

    /// The upper-case name, as written in text output (`INFO`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }

    /// The lower-case name, as written in JSON output (`info`).
    pub fn as_lower_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }

    /// Index into per-level arrays: `Error` is 0, `Trace` is 4.
    pub(crate) fn index(self) -> usize {
        self as usize - 1
    }

    pub(crate) fn from_u8(v: u8) -> Option<Level> {
        match v {
            1 => Some(Level::Error),
            2 => Some(Level::Warn),
            3 => Some(Level::Info),
            4 => Some(Level::Debug),
            5 => Some(Level::Trace),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(feature = "log")]
impl From<log::Level> for Level {
    fn from(l: log::Level) -> Level {
        match l {
            log::Level::Error => Level::Error,
            log::Level::Warn => Level::Warn,
            log::Level::Info => Level::Info,
            log::Level::Debug => Level::Debug,
            log::Level::Trace => Level::Trace,
        }
    }
}

#[cfg(feature = "tracing")]
impl From<tracing_core::Level> for Level {
    fn from(l: tracing_core::Level) -> Level {
        match l {
            tracing_core::Level::ERROR => Level::Error,
            tracing_core::Level::WARN => Level::Warn,
            tracing_core::Level::INFO => Level::Info,
            tracing_core::Level::DEBUG => Level::Debug,
            _ => Level::Trace,
        }
    }
}
