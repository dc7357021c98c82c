//! Helpers shared by the integration tests: in-memory and faulty sinks, and
//! the accounting check every fault test ends with.
#![allow(dead_code)]

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jamless::{HealthSnapshot, Logger, Sink};

/// Asserts both accounting identities against the number of records the
/// test itself offered, with the queue drained.
#[track_caller]
pub fn assert_accounted(h: &HealthSnapshot, offered: u64) {
    assert_eq!(h.offered, offered, "offered by the test vs. counted: {h}");
    assert_eq!(
        h.accepted + h.rejected,
        offered,
        "offered = accepted + rejected: {h}"
    );
    assert_eq!(h.queued, 0, "queue should be drained: {h}");
    assert_eq!(h.queue_used_bytes, 0, "queue bytes should be zero: {h}");
    assert_eq!(
        h.accepted,
        h.written + h.dropped_after_accept + h.queued,
        "accepted = written + dropped_after_accept + queued: {h}"
    );
    let by_level: u64 = h.drops.by_level.iter().sum();
    assert_eq!(
        by_level,
        h.dropped(),
        "per-level drops add up to all drops: {h}"
    );
}

/// Flushes until the logger is quiet or the (generous) deadline passes.
pub fn settle(logger: &Logger) -> HealthSnapshot {
    let r = logger.flush(Duration::from_secs(30));
    assert!(
        r.complete,
        "flush did not complete: {r:?} {}",
        logger.health()
    );
    logger.health()
}

/// A sink that appends to shared memory.
#[derive(Clone, Default)]
pub struct MemorySink {
    pub data: Arc<Mutex<Vec<u8>>>,
    pub writes: Arc<AtomicUsize>,
}

impl MemorySink {
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data.lock().unwrap()).into_owned()
    }

    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

impl Sink for MemorySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.data.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}

/// What a [`FaultySink`] does on its next write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Write everything.
    None,
    /// Return an error (ENOSPC) without writing.
    Error,
    /// Write at most this many bytes.
    Short(usize),
    /// Write half, then fail the following call.
    HalfThenError,
    /// Panic.
    Panic,
}

/// A memory sink whose behaviour a test script controls.
#[derive(Clone)]
pub struct FaultySink {
    pub inner: MemorySink,
    pub fault: Arc<Mutex<Fault>>,
    pub panic_every: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
    half_done: Arc<AtomicBool>,
}

impl FaultySink {
    pub fn new() -> FaultySink {
        FaultySink {
            inner: MemorySink::new(),
            fault: Arc::new(Mutex::new(Fault::None)),
            panic_every: Arc::new(AtomicUsize::new(0)),
            calls: Arc::new(AtomicUsize::new(0)),
            half_done: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn set(&self, f: Fault) {
        *self.fault.lock().unwrap() = f;
    }
}

impl Sink for FaultySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let every = self.panic_every.load(Ordering::Relaxed);
        if every > 0 && call.is_multiple_of(every) {
            panic!("test sink panics on call {call}");
        }
        let fault = *self.fault.lock().unwrap();
        match fault {
            Fault::None => self.inner.write(buf),
            Fault::Error => Err(io::Error::from_raw_os_error(28)),
            Fault::Short(n) => self.inner.write(&buf[..buf.len().min(n)]),
            Fault::HalfThenError => {
                if self.half_done.swap(true, Ordering::Relaxed) {
                    Err(io::Error::from_raw_os_error(28))
                } else {
                    let half = (buf.len() / 2).max(1);
                    self.inner.write(&buf[..half])
                }
            }
            Fault::Panic => panic!("test sink panics"),
        }
    }

    fn describe(&self) -> String {
        "faulty".into()
    }
}

/// An error handler that collects reports instead of printing them.
pub fn collecting_handler() -> (jamless::ErrorHandler, Arc<Mutex<Vec<jamless::LastError>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let h: jamless::ErrorHandler =
        Arc::new(move |e: &jamless::LastError| s.lock().unwrap().push(e.clone()));
    (h, seen)
}

/// Counts lines that are drop notices.
pub fn is_notice(line: &str) -> bool {
    line.contains("records dropped between")
}

/// The lines of a file (none if it does not exist).
pub fn read_lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The line that contains `needle`; fails if there is not exactly one.
#[track_caller]
pub fn line_with<'a>(lines: &'a [String], needle: &str) -> &'a str {
    let found: Vec<&String> = lines.iter().filter(|l| l.contains(needle)).collect();
    assert_eq!(found.len(), 1, "{needle:?} in {lines:#?}");
    found[0]
}

/// A configuration file (TOML): the logger's `filter`, and one pipeline
/// `main` that writes each record's bare message to the file `log`.
pub fn message_config(log: &std::path::Path, filter: &str) -> String {
    format!(
        "filter = \"{filter}\"\n[[pipeline]]\nname = \"main\"\nformat = {{ type = \"text\", pattern = \"{{message}}\" }}\nsink = {{ type = \"file\", path = \"{}\" }}\n",
        log.display()
    )
}
