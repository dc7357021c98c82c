//! The reader thread: standard input to log records, as fast as it comes.
//!
//! It does nothing but `read(2)` into one buffer, cut lines, find their
//! level and offer them with `Logger::log_raw`, which never waits (unless a
//! configuration file asks for `block_for`): when the queue is full the
//! line is dropped and counted. So the program writing into the pipe is
//! never slowed by logging; it can only be slowed by this thread's own CPU
//! time per line.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use jamless::{Level, Logger, Outcome};
use serde::Serialize;

use crate::detect::Detector;
use crate::lines::{Line, LineSplitter};

/// How much one `read(2)` asks for.
const READ_BYTES: usize = 256 << 10;

/// What the reader has seen, for the health endpoint and the final report.
#[derive(Debug, Default)]
pub struct InputStats {
    /// Lines read (complete, or the last one without a newline).
    pub lines: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Lines below every pipeline's filter (not offered, not lost).
    pub filtered: AtomicU64,
}

/// A copy of [`InputStats`] at one moment.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct InputTotals {
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines filtered out on purpose.
    pub filtered: u64,
}

impl InputStats {
    /// The counters now.
    pub fn totals(&self) -> InputTotals {
        InputTotals {
            lines: self.lines.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            filtered: self.filtered.load(Ordering::Relaxed),
        }
    }

    /// The counters in Prometheus text, to follow the logger's.
    pub fn to_prometheus(&self) -> String {
        let t = self.totals();
        let mut out = String::new();
        for (name, help, v) in [
            ("lines", "Lines read from standard input.", t.lines),
            ("bytes", "Bytes read from standard input.", t.bytes),
            (
                "lines_filtered",
                "Lines below every pipeline's filter.",
                t.filtered,
            ),
        ] {
            out.push_str(&format!(
                "# HELP jamless_input_{name}_total {help}\n# TYPE jamless_input_{name}_total counter\njamless_input_{name}_total {v}\n"
            ));
        }
        out
    }
}

/// Offers one line to the logger and counts it.
struct Offer<'a> {
    logger: &'a Logger,
    detector: &'a Detector,
    default_level: Level,
    target: &'a str,
    stats: &'a InputStats,
}

impl Offer<'_> {
    fn line(&self, line: Line<'_>) {
        let s = self.stats;
        s.lines.fetch_add(1, Ordering::Relaxed);
        let level = self
            .detector
            .detect(line.bytes)
            .unwrap_or(self.default_level);
        // The logger's filter (the configuration file's top-level
        // `filter`, or `RUST_LOG`), then the pipelines' in `log_raw`.
        if !self.logger.allows(level, self.target)
            || self.logger.log_raw(level, self.target, line.bytes) == Outcome::Filtered
        {
            s.filtered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Reads `input` to its end. Returns the read error that ended it, if any.
pub fn run(
    mut input: impl Read,
    logger: &Logger,
    detector: &Detector,
    default_level: Level,
    target: &str,
    stats: &InputStats,
) -> io::Result<()> {
    let keep = logger.max_record_bytes();
    let offer = Offer {
        logger,
        detector,
        default_level,
        target,
        stats,
    };
    let mut splitter = LineSplitter::new(keep);
    let mut buf = vec![0u8; READ_BYTES];
    let mut sink = |line: Line<'_>| offer.line(line);
    let result = loop {
        match input.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
                splitter.feed(&buf[..n], &mut sink);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    splitter.finish(&mut sink);
    result
}
