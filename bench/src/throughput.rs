//! Sustained throughput: one thread logs N records of about 100 bytes as
//! fast as it can; the clock stops when `flush` reports them all written.
//! The file's lines are then counted to prove nothing was lost.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jamless::{Builder, FileSinkBuilder, Overflow, Pipeline};

use crate::call;
use crate::latency::scratch_root;
use crate::switch::{self, Target};

/// What a throughput run does.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThroughputConfig {
    /// How the records are logged: [`call::Api::Log`] or
    /// [`call::Api::Native`].
    pub api: call::Api,
    /// Records to log.
    pub records: u64,
    /// The queue's capacity in bytes.
    pub capacity: usize,
    /// How long a call may wait for room (`Overflow::block_for`), so that
    /// a full queue slows the producer down instead of dropping.
    pub block_for: Duration,
    /// 1: one file. 2: two pipelines, each to a file of its own, each with
    /// a backlog of `capacity`; the producer then also waits while a
    /// backlog plus the ring is over half full (a full backlog would drop
    /// for that pipeline, not slow the caller), so the run measures what
    /// both sustain.
    pub pipelines: usize,
}

/// What a throughput run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ThroughputRun {
    /// Records logged.
    pub records: u64,
    /// Accepted by the logger.
    pub accepted: u64,
    /// Dropped for any cause (should be 0).
    pub dropped: u64,
    /// Lines the pipelines report written (per pipeline: `written` divided
    /// by the pipelines).
    pub written: u64,
    /// Pipelines in the run.
    pub pipelines: usize,
    /// Lines counted in the file.
    pub lines_in_file: u64,
    /// The file's size in bytes.
    pub file_bytes: u64,
    /// Time until the producer's last call returned, in seconds.
    pub submit_secs: f64,
    /// Time until `flush` returned complete, in seconds.
    pub total_secs: f64,
    /// Whether the final flush completed before its deadline.
    pub flush_complete: bool,
    /// The file's first line, to show what was written.
    pub first_line: String,
    /// CPU time the producing thread used, first call to flushed (s).
    pub producer_cpu_secs: f64,
    /// CPU time jamless's writer thread used over the same span (s), if
    /// it could be read from `/proc`.
    pub writer_cpu_secs: Option<f64>,
}

impl ThroughputRun {
    /// Lines per second, first call to flushed.
    pub fn lines_per_sec(&self) -> f64 {
        self.lines_in_file as f64 / self.total_secs
    }

    /// Megabytes (10^6) per second written, first call to flushed.
    pub fn mb_per_sec(&self) -> f64 {
        self.file_bytes as f64 / 1e6 / self.total_secs
    }

    /// Average line length in bytes.
    pub fn avg_line_bytes(&self) -> f64 {
        self.file_bytes as f64 / self.lines_in_file.max(1) as f64
    }

    /// Lines the writer renders and writes per second of its own CPU time:
    /// its capacity, whoever limited this run.
    pub fn writer_lines_per_cpu_sec(&self) -> Option<f64> {
        self.writer_cpu_secs
            .map(|w| self.lines_in_file as f64 / w.max(1e-9))
    }

    /// True when every record was accepted, written and found in the file.
    pub fn verified(&self) -> bool {
        self.flush_complete
            && self.dropped == 0
            && self.accepted == self.records
            && self.written == self.records * self.pipelines as u64
            && self.lines_in_file == self.records
    }
}

/// Runs `cfg` once through the `log` facade (or the native macro) into a
/// file on disk.
pub fn run(cfg: &ThroughputConfig) -> Result<ThroughputRun, String> {
    switch::install()?;
    let dir = tempfile::Builder::new()
        .prefix("jamless-bench-")
        .tempdir_in(scratch_root())
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let path = dir.path().join("throughput.log");
    let b = Builder::new().name("bench");
    let b = match cfg.pipelines {
        1 => b.file(&path),
        2 => b
            .pipeline(
                Pipeline::new("file", FileSinkBuilder::new(&path).build())
                    .backlog_bytes(cfg.capacity),
            )
            .pipeline(
                Pipeline::new(
                    "second",
                    FileSinkBuilder::new(dir.path().join("second.log")).build(),
                )
                .backlog_bytes(cfg.capacity),
            ),
        n => return Err(format!("throughput with {n} pipelines is not a scenario")),
    };
    let (logger, guard) = b
        .filter("info")
        .capacity_bytes(cfg.capacity)
        .overflow(Overflow::block_for(cfg.block_for))
        .shedding(None)
        .build()
        .map_err(|e| format!("cannot build the logger: {e}"))?;
    let adapter = Arc::new(
        logger
            .log_adapter()
            .map_err(|e| format!("log adapter: {e}"))?,
    );
    let before = logger.health();
    switch::set_target(Target::Jamless(Arc::clone(&adapter)));
    // With one pipeline its thread reads the ring itself; with two, the
    // first pipeline's thread is the one rendering this file.
    let writer_name = if cfg.pipelines == 1 {
        "bench-writer"
    } else {
        "bench-file"
    };
    // The writer names itself when it first runs: give it a moment.
    let mut writer0 = thread_cpu_ns(writer_name);
    let wait_from = Instant::now();
    while writer0.is_none() && wait_from.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(1));
        writer0 = thread_cpu_ns(writer_name);
    }
    let producer0 = own_cpu_ns();
    let t0 = Instant::now();
    for i in 0..cfg.records {
        // Ids of the same width keep every line the same length.
        if cfg.api == call::Api::Native {
            call::native_macro(&adapter, 1_000_000_000 + i);
        } else {
            call::log_facade(1_000_000_000 + i);
        }
        if cfg.pipelines > 1 && i % 1024 == 0 {
            // Records still in the ring reach a backlog soon: count them too.
            loop {
                let h = logger.health();
                let full = h.pipelines.iter().any(|p| {
                    (p.backlog_used_bytes + h.queue_used_bytes) * 2 > p.backlog_capacity_bytes
                });
                if !full {
                    break;
                }
                std::thread::yield_now();
            }
        }
    }
    let submit = t0.elapsed();
    let report = logger.flush(Duration::from_secs(120));
    let total = t0.elapsed();
    let (writer1, producer1) = (thread_cpu_ns(writer_name), own_cpu_ns());
    switch::set_target(Target::Nothing);
    let after = logger.health();
    let _ = guard.shutdown(Duration::from_secs(30));
    let (lines, bytes, first_line) =
        count_lines(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(ThroughputRun {
        records: cfg.records,
        accepted: after.accepted - before.accepted,
        dropped: after.dropped() - before.dropped(),
        written: after.written - before.written,
        pipelines: cfg.pipelines,
        lines_in_file: lines,
        file_bytes: bytes,
        submit_secs: submit.as_secs_f64(),
        total_secs: total.as_secs_f64(),
        flush_complete: report.complete,
        first_line,
        producer_cpu_secs: producer1.saturating_sub(producer0) as f64 / 1e9,
        writer_cpu_secs: match (writer0, writer1) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / 1e9),
            _ => None,
        },
    })
}

/// Nanoseconds on CPU of this process's thread named `comm`, from
/// `/proc/self/task/*/schedstat`.
fn thread_cpu_ns(comm: &str) -> Option<u64> {
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let dir = entry.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if name.trim_end() == comm {
            return schedstat_ns(&dir.join("schedstat"));
        }
    }
    None
}

/// Nanoseconds on CPU of the calling thread.
fn own_cpu_ns() -> u64 {
    schedstat_ns(std::path::Path::new("/proc/thread-self/schedstat")).unwrap_or(0)
}

fn schedstat_ns(path: &std::path::Path) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Counts newline bytes and all bytes in a file, and returns its first
/// line.
fn count_lines(path: &std::path::Path) -> std::io::Result<(u64, u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut first = None;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok((lines, bytes, first.unwrap_or_default()));
        }
        if first.is_none() {
            let end = buf[..n].iter().position(|&b| b == b'\n').unwrap_or(n);
            first = Some(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
        bytes += n as u64;
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
}
