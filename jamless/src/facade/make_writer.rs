//! A `MakeWriter` for the `tracing-subscriber` fmt layer.
//!
//! The fmt layer formats each event itself and then writes the finished
//! line to a writer it gets from its `MakeWriter`, one writer per event.
//! [`JamlessWriter`] collects what the layer writes in a thread-local
//! buffer that is reused from event to event, and when the layer drops it,
//! offers the bytes to the logger as one raw record (`Kind::Raw`: the
//! message is the whole line). The logger counts, sheds and drops it by the
//! event's level like any other record.

use std::cell::Cell;
use std::fmt;
use std::io;

use tracing_core::Metadata;
use tracing_subscriber::fmt::MakeWriter;

use crate::level::Level;
use crate::logger::{Core, Logger};
use crate::record::{Kind, Site};

/// A line buffer that grew beyond this is not kept for the next event.
const KEEP_CAPACITY: usize = 64 << 10;

thread_local! {
    /// The line buffer reused by this thread's writers. A writer takes it
    /// and puts it back when dropped; a writer made while another is alive
    /// on the same thread starts with a fresh buffer.
    static LINE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// A [`MakeWriter`] that sends each formatted event to a [`Logger`], for
/// the `tracing-subscriber` fmt layer.
///
/// It replaces `tracing_appender::non_blocking` in one line, and adds what
/// that lacks: a bounded queue in bytes, drops counted by cause and written
/// into the log, shedding by level, rotation and health.
///
/// ```no_run
/// let (logger, _guard) = jamless::Builder::new().file("logs/app.log").build()?;
///
/// // Before:
/// // let (writer, _guard) = tracing_appender::non_blocking(std::fs::File::create("app.log")?);
/// // tracing_subscriber::fmt().with_writer(writer).init();
///
/// // After:
/// tracing_subscriber::fmt().with_writer(logger.make_writer()).init();
///
/// tracing::info!(user = "ann", "logged in");
/// # Ok::<(), jamless::Error>(())
/// ```
///
/// Each event becomes one raw record whose message is the whole formatted
/// line. How a raw record is rendered is up to the logger's
/// [`crate::Format`]; in text it is the line as the fmt layer formatted
/// it, with control characters neutralised, so a multi-line event stays
/// one line. Disable ANSI colours on the fmt layer (`.with_ansi(false)`):
/// their escape sequences would be neutralised into visible text.
///
/// The level used for counting and shedding is the event's (the fmt layer
/// calls [`MakeWriter::make_writer_for`]); a writer made without metadata
/// counts as `INFO`.
#[derive(Debug, Clone)]
pub struct JamlessMakeWriter {
    logger: Logger,
}

impl<'a> MakeWriter<'a> for JamlessMakeWriter {
    type Writer = JamlessWriter<'a>;

    fn make_writer(&'a self) -> JamlessWriter<'a> {
        JamlessWriter::new(&self.logger.core, Level::Info)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> JamlessWriter<'a> {
        JamlessWriter::new(&self.logger.core, Level::from(*meta.level()))
    }
}

/// The writer a [`JamlessMakeWriter`] makes for one event.
///
/// Writing appends to a reusable thread-local buffer: it never fails and
/// never blocks. Dropping the writer offers everything written as one
/// record (one trailing newline is removed; the logger ends the line). A
/// writer to which nothing was written offers nothing. Bytes beyond the
/// logger's maximum record size are discarded, and the record is marked
/// as truncated.
pub struct JamlessWriter<'a> {
    core: &'a Core,
    level: Level,
    line: Vec<u8>,
}

impl fmt::Debug for JamlessWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JamlessWriter")
            .field("level", &self.level)
            .field("buffered", &self.line.len())
            .finish_non_exhaustive()
    }
}

impl<'a> JamlessWriter<'a> {
    fn new(core: &'a Core, level: Level) -> JamlessWriter<'a> {
        // During thread-local destruction, use a temporary buffer.
        let line = LINE.try_with(Cell::take).unwrap_or_default();
        JamlessWriter { core, level, line }
    }
}

impl io::Write for JamlessWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Keep one byte more than a record can hold, so the record is
        // still cut (and marked as truncated) by the logger.
        let room = (self.core.max_record + 1).saturating_sub(self.line.len());
        self.line.extend_from_slice(&buf[..buf.len().min(room)]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for JamlessWriter<'_> {
    fn drop(&mut self) {
        let mut line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            let mut text: &[u8] = &line;
            if let Some(t) = text.strip_suffix(b"\n") {
                text = t.strip_suffix(b"\r").unwrap_or(t);
            }
            let level = self.level;
            let site = Site {
                target: "",
                module_path: "",
                file: "",
                line: None,
            };
            self.core
                .submit(level, Kind::Raw, site, |enc| enc.message_bytes(text));
        }
        line.clear();
        if line.capacity() > KEEP_CAPACITY {
            line.shrink_to(KEEP_CAPACITY);
        }
        // Keep the larger of this buffer and one a nested writer put back.
        let _ = LINE.try_with(|cell| {
            let other = cell.take();
            cell.set(if other.capacity() > line.capacity() {
                other
            } else {
                line
            });
        });
    }
}

impl Logger {
    /// A [`MakeWriter`] for the `tracing-subscriber` fmt layer:
    /// `tracing_subscriber::fmt().with_writer(logger.make_writer())`.
    /// See [`JamlessMakeWriter`].
    pub fn make_writer(&self) -> JamlessMakeWriter {
        JamlessMakeWriter {
            logger: self.clone(),
        }
    }
}
