//! Where rendered bytes go: the [`Sink`] trait and the sinks jamless ships.
//!
//! The writer thread owns exactly one sink per pipeline. It hands the sink a
//! batch of whole, newline-terminated lines and handles partial writes,
//! retries, back-off, fallback and accounting itself, so a sink only has to
//! move bytes and say honestly how many it moved.

use std::io;
use std::time::SystemTime;

use crate::counters::DropCause;
use crate::level::Level;

mod classify;
mod file;
mod fs;
mod housekeeper;
mod recent;
mod rotating;
mod stderr;
mod stdout;
mod syslog;

pub use classify::IoErrorClass;
pub(crate) use classify::{classified, classify};
pub use file::{FileSink, FileSinkBuilder};
pub use fs::FileStats;
pub use rotating::{Clock, RotatingFileSink, RotatingFileSinkBuilder};
pub use stderr::StderrSink;
pub use stdout::StdoutSink;
pub use syslog::{
    SyslogCounters, SyslogSink, SyslogSinkBuilder, SyslogStats, TlsConfig, Transport,
    MIN_MESSAGE_BYTES,
};

/// What a sink may know about one line of a batch, beside its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineMeta {
    /// The record's level (a drop notice is [`Level::Warn`]).
    pub level: Level,
    /// When the record was made, in nanoseconds since the Unix epoch.
    pub timestamp_unix_ns: u64,
    /// The line is a drop notice written by jamless itself, not a record.
    pub notice: bool,
}

/// One line of a batch, as the writer keeps it: where it ends in the
/// batch buffer, and its metadata.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineEntry {
    /// Offset one past this line's `\n` in the batch buffer.
    pub(crate) end: usize,
    pub(crate) meta: LineMeta,
}

/// The lines of a batch that a sink has still to write: their bytes, one
/// buffer for all, and each line's [`LineMeta`].
///
/// The first line may have been written in part already (the sink returned
/// a short count last time); then [`Lines::bytes`] starts inside it and
/// [`Lines::iter`] yields the rest of that line first.
#[derive(Debug, Clone, Copy)]
pub struct Lines<'a> {
    bytes: &'a [u8],
    /// Offset of `bytes[0]` in the batch buffer.
    base: usize,
    entries: &'a [LineEntry],
}

impl<'a> Lines<'a> {
    /// `entries` are the lines ending after `base`, in order, the last
    /// ending at `base + bytes.len()`.
    pub(crate) fn new(bytes: &'a [u8], base: usize, entries: &'a [LineEntry]) -> Lines<'a> {
        debug_assert!(entries.last().is_none_or(|e| e.end == base + bytes.len()));
        Lines {
            bytes,
            base,
            entries,
        }
    }

    /// All the bytes, as [`Sink::write`] would receive them.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// How many lines (the first possibly in part).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Each line's bytes (ending in `\n`) with its metadata, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], LineMeta)> + 'a {
        let (bytes, base) = (self.bytes, self.base);
        let mut start = 0;
        self.entries.iter().map(move |e| {
            let end = e.end - base;
            let line = &bytes[start..end];
            start = end;
            (line, e.meta)
        })
    }
}

/// A sink's own counters (fragments repaired, reconnections, ...), read
/// by the health snapshot from any thread: a function over the shared
/// counters the sink updates. See [`Sink::stats`].
#[derive(Clone)]
pub struct SinkStats(std::sync::Arc<dyn Fn() -> Vec<(&'static str, u64)> + Send + Sync>);

impl SinkStats {
    /// Counters read by `read`, as `(name, value)` pairs; names are
    /// `snake_case` and stable (they become metric labels).
    pub fn new(read: impl Fn() -> Vec<(&'static str, u64)> + Send + Sync + 'static) -> SinkStats {
        SinkStats(std::sync::Arc::new(read))
    }

    /// The current values.
    pub fn read(&self) -> Vec<(&'static str, u64)> {
        (self.0)()
    }
}

impl std::fmt::Debug for SinkStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.read()).finish()
    }
}

/// Records that a sink had written and has since found lost, reported by
/// [`Sink::take_lost`]. The writer moves them from `written` to the drops of
/// `cause`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LostLines {
    /// Why they are lost, for example [`DropCause::FileTruncated`].
    pub cause: DropCause,
    /// How many records of each level, in the order of [`Level::ALL`]
    /// (drop notices are not records and are not counted here).
    pub by_level: [u64; 5],
}

/// A destination for rendered log lines.
///
/// # For implementors
///
/// * [`Sink::write`] receives bytes that consist of whole lines, each ending
///   in `\n`. It may write fewer bytes than it was given (like
///   [`std::io::Write::write`]); the writer then calls it again with the
///   remainder. Return `Ok(0)` only if nothing could be written *and* there
///   is no error to report; the writer treats it as a failed attempt.
/// * Errors are never fatal: the writer classifies them, backs off, retries,
///   and may route batches to a fallback sink meanwhile. A sink should keep
///   no state that makes the next call fail forever; for example, a file sink
///   reopens its file on the next call after an error.
/// * A sink may block (a slow disk, a full pipe). Callers of the logger never
///   wait for it; only the writer thread and the stall watchdog see it.
/// * A panic inside a sink is caught by the writer, the batch is counted as
///   dropped, and the sink is used again for the next batch.
pub trait Sink: Send + 'static {
    /// Writes a prefix of `buf` and returns how many bytes were written.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;

    /// Writes a prefix of `lines` and returns how many bytes were written,
    /// with the same contract as [`Sink::write`]; the writer always calls
    /// this one. Override it when the sink needs each line's level or
    /// timestamp (a syslog sink's severity, for example); the default
    /// passes the bytes to [`Sink::write`], so a sink that only moves bytes
    /// pays nothing for the metadata.
    fn write_lines(&mut self, lines: &Lines<'_>) -> io::Result<usize> {
        self.write(lines.bytes())
    }

    /// Records this sink reported as written (by the byte counts it
    /// returned) and has since found lost: the file was truncated by
    /// another program before they could have been copied, for example.
    /// The writer calls this after each write and each `maintain`, and
    /// again while it returns `Some`. The default reports nothing.
    fn take_lost(&mut self) -> Option<LostLines> {
        None
    }

    /// Pushes buffered bytes to the operating system, if the sink buffers.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Closes and reopens the destination (for `SIGHUP`-style handlers after
    /// an external rotation). The default does nothing.
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Called by the writer about every `maintain_interval` (and before a
    /// batch when that much time has passed) with the current wall-clock
    /// time; a sink checks here whether its destination moved or should
    /// rotate. The default does nothing.
    fn maintain(&mut self, now: SystemTime) -> io::Result<()> {
        let _ = now;
        Ok(())
    }

    /// Called once when the logger shuts down, after the last flush: stop
    /// background work (a rotating sink stops and waits for its
    /// housekeeper). The sink is not used again. The default does nothing.
    fn close(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// A short human-readable description used in health reports, such as
    /// `file:/var/log/app.log`.
    fn describe(&self) -> String;

    /// The sink's own counters for the health snapshot (its pipeline's
    /// `sink_counters`), if it keeps any. Called once, when the logger is
    /// built; the returned handle is read from other threads while the
    /// sink works. The default has none.
    fn stats(&self) -> Option<SinkStats> {
        None
    }
}

impl Sink for Box<dyn Sink> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (**self).write(buf)
    }
    fn write_lines(&mut self, lines: &Lines<'_>) -> io::Result<usize> {
        (**self).write_lines(lines)
    }
    fn take_lost(&mut self) -> Option<LostLines> {
        (**self).take_lost()
    }
    fn flush(&mut self) -> io::Result<()> {
        (**self).flush()
    }
    fn reopen(&mut self) -> io::Result<()> {
        (**self).reopen()
    }
    fn maintain(&mut self, now: SystemTime) -> io::Result<()> {
        (**self).maintain(now)
    }
    fn close(&mut self) -> io::Result<()> {
        (**self).close()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn stats(&self) -> Option<SinkStats> {
        (**self).stats()
    }
}
