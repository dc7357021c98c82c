//! Where rendered bytes go: the [`Sink`] trait and the sinks jamless ships.
//!
//! The writer thread owns exactly one sink per pipeline. It hands the sink a
//! batch of whole, newline-terminated lines and handles partial writes,
//! retries, back-off, fallback and accounting itself, so a sink only has to
//! move bytes and say honestly how many it moved.

use std::io;
use std::time::SystemTime;

mod classify;
mod file;
mod housekeeper;
mod rotating;
mod stderr;

pub use classify::IoErrorClass;
pub(crate) use classify::{classified, classify};
pub use file::{FileSink, FileSinkBuilder};
pub use rotating::{Clock, RotatingFileSink, RotatingFileSinkBuilder};
pub use stderr::StderrSink;

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
}

impl Sink for Box<dyn Sink> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (**self).write(buf)
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
}
