//! The standard-output sink: the container log of a service in Kubernetes
//! or under systemd.
//!
//! Writes go straight to file descriptor 1 (through `std::io::stdout`'s
//! lock, so they never interleave inside a line with the program's own
//! `println!`, which takes the same lock). When standard output is a pipe
//! whose reader is slow or stopped, only this sink's pipeline thread
//! blocks: callers never wait, the pipeline's backlog fills and it drops
//! and counts alone, and the watchdog reports it `Stalled`.
//!
//! Whole lines: each write hands the kernel whole lines. POSIX makes a
//! write of at most `PIPE_BUF` bytes (4096 on Linux) to a pipe atomic, so
//! lines of a batch up to that size can never interleave with another
//! process's writes to the same pipe; a larger batch may be split by the
//! kernel between lines or inside one, where another writer's bytes can
//! land. Within this process, the lock keeps `print!` output out of a
//! line.

use std::io::{self, Write};

use super::Sink;

/// Writes lines to the process's standard output.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdoutSink;

impl StdoutSink {
    /// Creates a standard-output sink.
    pub fn new() -> StdoutSink {
        StdoutSink
    }
}

impl Sink for StdoutSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // `Stdout` is line-buffered; writing whole lines and flushing at
        // once makes it pass them on without holding a partial line.
        let mut out = io::stdout().lock();
        let n = out.write(buf)?;
        out.flush()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().lock().flush()
    }

    fn describe(&self) -> String {
        "stdout".to_string()
    }
}
