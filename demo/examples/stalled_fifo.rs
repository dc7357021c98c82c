//! The older jamless demonstration (before the HTTP incident runner): the
//! failure of the incident, where a log sink stops draining, reproduced
//! against jamless. Run it with
//! `cargo run --release -p jamless-demo --example stalled_fifo`.
//!
//! Four "request handler" threads log through the `log` facade into a file
//! that is a FIFO nobody reads: exactly what a logger whose consumer died
//! looks like from the caller's side. With a blocking logger every handler
//! would hang on its first log call once the buffer is full. With jamless
//! every call returns, the health snapshot says `stalled` and counts the
//! drops, and when a reader appears the writer drains, writes a notice of
//! what it lost into the log itself and reports `healthy` again.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HANDLERS: usize = 4;
const STALL_FOR: Duration = Duration::from_secs(3);
const RECOVER_FOR: Duration = Duration::from_secs(2);

fn mkfifo(path: &Path) -> std::io::Result<()> {
    let status = std::process::Command::new("mkfifo").arg(path).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "mkfifo {}: {status}",
            path.display()
        )))
    }
}

struct Stats {
    calls: AtomicU64,
    max_ns: AtomicU64,
}

fn handler(id: usize, stop: Arc<AtomicBool>, stats: Arc<Stats>) {
    let mut req = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let t0 = Instant::now();
        log::info!("request id={id}-{req} path=/v1/healthCheck status=200 took_us=12");
        let ns = t0.elapsed().as_nanos() as u64;
        stats.max_ns.fetch_max(ns, Ordering::Relaxed);
        stats.calls.fetch_add(1, Ordering::Relaxed);
        req += 1;
        // About 20k requests per second per handler.
        std::thread::sleep(Duration::from_micros(50));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::Builder::new().prefix("jamless-demo-").tempdir()?;
    let fifo = dir.path().join("app.log");
    mkfifo(&fifo)?;
    // A reader that opens the FIFO and never reads: the sink stalls as soon
    // as the 64 KiB pipe buffer is full.
    let reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)?;

    let (logger, guard) = jamless::Builder::new()
        .file(&fifo)
        .capacity_bytes(1 << 20)
        .stall_timeout(Duration::from_millis(500))
        .filter("info")
        .build()?;
    logger.install_log()?;

    println!(
        "jamless demo: {HANDLERS} handler threads log to a FIFO nobody reads ({})",
        fifo.display()
    );
    println!("phase 1: the sink is stalled for {STALL_FOR:?}\n");
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats {
        calls: AtomicU64::new(0),
        max_ns: AtomicU64::new(0),
    });
    let handlers: Vec<_> = (0..HANDLERS)
        .map(|id| {
            let (stop, stats) = (Arc::clone(&stop), Arc::clone(&stats));
            std::thread::spawn(move || handler(id, stop, stats))
        })
        .collect();

    let started = Instant::now();
    let drained = Arc::new(AtomicU64::new(0));
    let reading = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let drainer = {
        let finished = Arc::clone(&finished);
        let (drained, reading) = (Arc::clone(&drained), Arc::clone(&reading));
        std::thread::spawn(move || drain(reader, drained, reading, finished))
    };
    while started.elapsed() < STALL_FOR + RECOVER_FOR {
        std::thread::sleep(Duration::from_millis(250));
        if !reading.load(Ordering::Relaxed) && started.elapsed() >= STALL_FOR {
            reading.store(true, Ordering::Relaxed);
            println!("\nphase 2: a reader drains the FIFO; the writer recovers\n");
        }
        let h = logger.health();
        println!(
            "t={:>4.1}s state={:<8} calls={:>7} max_call={:>6.1}µs written={:>7} dropped={:>7} queue={:>4}KiB",
            started.elapsed().as_secs_f64(),
            h.state.as_str(),
            stats.calls.load(Ordering::Relaxed),
            stats.max_ns.load(Ordering::Relaxed) as f64 / 1000.0,
            h.written,
            h.dropped(),
            h.queue_used_bytes / 1024,
        );
    }
    stop.store(true, Ordering::Relaxed);
    for h in handlers {
        h.join().map_err(|_| "a handler thread panicked")?;
    }
    let report = logger.flush(Duration::from_secs(5));
    finished.store(true, Ordering::Relaxed);
    let h = logger.health();
    println!("\nfinal health snapshot:\n  {h}\n");
    println!(
        "health as JSON (what a /health/logging endpoint serves):\n  {}",
        health_json(&h)
    );
    println!(
        "\nevery handler returned from every call (slowest call {:.1} µs); \
         {} records offered = {} written + {} dropped ({} queued); flush complete: {}; {} KiB read from the FIFO",
        stats.max_ns.load(Ordering::Relaxed) as f64 / 1000.0,
        h.offered,
        h.written,
        h.dropped(),
        h.queued,
        report.complete,
        drained.load(Ordering::Relaxed) / 1024
    );
    drop(guard);
    drainer.join().map_err(|_| "the reader thread panicked")??;
    Ok(())
}

/// Reads the FIFO once `reading` is set, until `stop` and nothing is left.
fn drain(
    mut reader: File,
    drained: Arc<AtomicU64>,
    reading: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        if !reading.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        match reader.read(&mut buf) {
            Ok(n) if n > 0 => {
                drained.fetch_add(n as u64, Ordering::Relaxed);
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => return Err(e),
        }
    }
}

fn health_json(h: &jamless::HealthSnapshot) -> String {
    serde_json::to_string(h).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
