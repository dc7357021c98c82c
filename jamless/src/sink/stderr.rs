//! The standard-error sink, the default fallback.
//!
//! In a container, standard error is the container log, so records that
//! cannot reach their file still leave the process.

use std::io::{self, Write};

use super::Sink;

/// Writes lines to the process's standard error.
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrSink;

impl StderrSink {
    /// Creates a standard-error sink.
    pub fn new() -> StderrSink {
        StderrSink
    }
}

impl Sink for StderrSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io::stderr().lock().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().lock().flush()
    }

    fn describe(&self) -> String {
        "stderr".to_string()
    }
}
