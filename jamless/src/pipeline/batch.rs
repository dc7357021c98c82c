//! One rendered batch and its accounting: which lines (records or notices)
//! have reached a sink, and what happens to the rest.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use super::run::panic_message;
use super::{PipelineParts, PipelineShared};
use crate::common::Common;
use crate::counters::{DropCause, DropTotals};
use crate::level::Level;
use crate::sink::{classify, LineEntry, LineMeta, Lines, Sink};

/// Which sink a write goes to; indexes `PipelineParts::newline_due`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dest {
    Primary = 0,
    Fallback = 1,
}

/// The rendered lines of one batch, in one buffer, and how far they got.
pub(crate) struct Batch {
    pub(crate) buf: Vec<u8>,
    lines: Vec<LineEntry>,
    /// For each drop notice among `lines`: its index and the totals it
    /// reports (few; usually none).
    notices: Vec<(usize, Vec<DropTotals>)>,
    /// Bytes of `buf` already written (or given up on).
    pos: usize,
    /// Index of the first line not yet fully written.
    next: usize,
}

impl Batch {
    pub(crate) fn new() -> Batch {
        Batch {
            buf: Vec::with_capacity(256 * 1024),
            lines: Vec::with_capacity(4096),
            notices: Vec::new(),
            pos: 0,
            next: 0,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.lines.clear();
        self.notices.clear();
        self.pos = 0;
        self.next = 0;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub(crate) fn done(&self) -> bool {
        self.next >= self.lines.len()
    }

    /// Marks the bytes rendered since the previous line as one record.
    pub(crate) fn push_record(&mut self, level: Level, timestamp_unix_ns: u64) {
        self.lines.push(LineEntry {
            end: self.buf.len(),
            meta: LineMeta {
                level,
                timestamp_unix_ns,
                notice: false,
            },
        });
    }

    /// Marks the bytes rendered since the previous line as a drop notice.
    pub(crate) fn push_notice(&mut self, totals: Vec<DropTotals>, timestamp_unix_ns: u64) {
        self.notices.push((self.lines.len(), totals));
        self.lines.push(LineEntry {
            end: self.buf.len(),
            meta: LineMeta {
                level: Level::Warn,
                timestamp_unix_ns,
                notice: true,
            },
        });
    }

    /// The totals a notice line reports.
    fn notice_totals(&self, i: usize) -> Option<&Vec<DropTotals>> {
        self.notices.iter().find(|(at, _)| *at == i).map(|(_, t)| t)
    }

    fn line_start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.lines[i - 1].end
        }
    }

    /// Records that `n` more bytes reached `dest` and counts the lines that
    /// are now complete.
    fn advance(
        &mut self,
        p: &PipelineShared,
        reported: &mut Vec<DropTotals>,
        n: usize,
        dest: Dest,
    ) {
        self.pos += n;
        p.counters
            .bytes_written
            .fetch_add(n as u64, Ordering::Relaxed);
        while self.next < self.lines.len() && self.lines[self.next].end <= self.pos {
            match self.notice_totals(self.next) {
                Some(totals) => {
                    p.counters.notices.fetch_add(1, Ordering::Relaxed);
                    reported.clone_from(totals);
                }
                None => {
                    // Release: a flush that sees this count sees the write.
                    p.counters.written.fetch_add(1, Ordering::Release);
                    if dest == Dest::Fallback {
                        p.counters.written_fallback.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            self.next += 1;
        }
    }

    /// If the next line was written in part to `dest`, gives it up (counted
    /// as an I/O failure) so that another sink starts on a whole line.
    pub(crate) fn skip_partial_line(
        &mut self,
        p: &PipelineShared,
        dest: Dest,
        newline_due: &mut [bool; 2],
    ) {
        if self.done() || self.pos == self.line_start(self.next) {
            return;
        }
        newline_due[dest as usize] = true;
        let line = self.lines[self.next];
        if !line.meta.notice {
            p.counters.drop_records(
                DropCause::IoFailure,
                line.meta.level,
                1,
                crate::clock::raw(),
            );
        }
        self.pos = line.end;
        self.next += 1;
    }

    /// Gives up every line not yet written, counting records under `cause`.
    /// A line cut short in `dest` makes its next write start on a new line.
    pub(crate) fn drop_rest(
        &mut self,
        p: &PipelineShared,
        cause: DropCause,
        dest: Dest,
        newline_due: &mut [bool; 2],
    ) {
        if !self.done() && self.pos > self.line_start(self.next) {
            newline_due[dest as usize] = true;
        }
        let now = crate::clock::raw();
        let mut counts = [0u64; 5];
        for line in &self.lines[self.next..] {
            if !line.meta.notice {
                counts[line.meta.level.index()] += 1;
            }
        }
        for (level, n) in Level::ALL.iter().zip(counts) {
            p.counters.drop_records(cause, *level, n, now);
        }
        self.pos = self.buf.len();
        self.next = self.lines.len();
    }
}

/// One failed attempt: reported, and the caller decides what comes next.
enum Failure {
    Error,
    Panic,
}

/// Writes `buf[from..]` (the lines of `lines` that end after `from`) to
/// `sink`, retrying partial writes and `EINTR`; `progress` is told of every
/// byte that got through.
fn write_all(
    common: &Common,
    p: &PipelineShared,
    sink: &mut dyn Sink,
    buf: &[u8],
    from: usize,
    lines: &[LineEntry],
    mut progress: impl FnMut(usize),
) -> Result<(), Failure> {
    let bytes = &buf[from..];
    let mut off = 0;
    let mut first = lines.partition_point(|l| l.end <= from);
    while off < bytes.len() {
        while first < lines.len() && lines[first].end <= from + off {
            first += 1;
        }
        let pending = Lines::new(&bytes[off..], from + off, &lines[first..]);
        match catch_unwind(AssertUnwindSafe(|| sink.write_lines(&pending))) {
            Ok(Ok(0)) => {
                p.status.io_errors.fetch_add(1, Ordering::Relaxed);
                common.report(
                    Some(p),
                    "write",
                    "other",
                    format!("{}: wrote 0 bytes", sink.describe()),
                );
                return Err(Failure::Error);
            }
            Ok(Ok(n)) => {
                let n = n.min(bytes.len() - off);
                off += n;
                progress(n);
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(Err(e)) => {
                p.status.io_errors.fetch_add(1, Ordering::Relaxed);
                common.report(
                    Some(p),
                    "write",
                    classify(&e).as_str(),
                    format!("{}: {e}", sink.describe()),
                );
                return Err(Failure::Error);
            }
            Err(payload) => {
                p.status.panics.fetch_add(1, Ordering::Relaxed);
                common.report(
                    Some(p),
                    "write",
                    "panic",
                    format!("{}: {}", sink.describe(), panic_message(&*payload)),
                );
                return Err(Failure::Panic);
            }
        }
    }
    Ok(())
}

/// Writes the rest of the batch to `dest`. Returns true if all of it got
/// through, false if the sink failed (the rest is still pending) — except
/// after a panic, where the rest is dropped (counted) and false returned.
pub(crate) fn write_to(
    common: &Common,
    p: &PipelineShared,
    parts: &mut PipelineParts,
    dest: Dest,
) -> bool {
    let PipelineParts {
        sink,
        fallback,
        batch,
        newline_due,
        reported,
        ..
    } = parts;
    let sink: &mut dyn Sink = match dest {
        Dest::Primary => &mut **sink,
        Dest::Fallback => match fallback.as_mut() {
            Some(f) => &mut **f,
            None => return false,
        },
    };
    if newline_due[dest as usize] {
        let newline = [LineEntry {
            end: 1,
            meta: LineMeta {
                level: Level::Warn,
                timestamp_unix_ns: crate::logger::now_ns(),
                notice: true,
            },
        }];
        match write_all(common, p, sink, b"\n", 0, &newline, |_| {}) {
            Ok(()) => newline_due[dest as usize] = false,
            Err(Failure::Error) => return false,
            Err(Failure::Panic) => {
                batch.drop_rest(p, DropCause::Panic, dest, newline_due);
                return false;
            }
        }
    }
    let mut wrote = 0;
    let result = write_all(common, p, sink, &batch.buf, batch.pos, &batch.lines, |n| {
        wrote += n;
    });
    batch.advance(p, reported, wrote, dest);
    match result {
        Ok(()) => true,
        Err(Failure::Error) => false,
        Err(Failure::Panic) => {
            batch.drop_rest(p, DropCause::Panic, dest, newline_due);
            newline_due[dest as usize] = true;
            false
        }
    }
}
