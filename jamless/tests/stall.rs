//! A log file that nobody reads: a FIFO whose reader never reads. The
//! writer blocks in write(); callers must not.

mod common;

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::{assert_accounted, collecting_handler, is_notice, settle};
use jamless::{Builder, DropCause, Level, Outcome, Overflow, State};

fn make_fifo(dir: &Path) -> PathBuf {
    let path = dir.join("stalled.log");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo failed: {status}");
    path
}

/// Opens the read end without ever reading from it (yet).
fn idle_reader(path: &Path) -> File {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap()
}

fn wait_for_state(logger: &jamless::Logger, want: State) {
    let t0 = Instant::now();
    while logger.health().state != want {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "never reached {want}: {}",
            logger.health()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reads everything the FIFO holds until `stop`, then drains what is left.
fn drain(mut reader: File, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => std::thread::sleep(Duration::from_millis(1)),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if stop.load(Ordering::SeqCst) {
                        return out;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("fifo read: {e}"),
            }
        }
    })
}

#[test]
fn million_records_into_a_stalled_fifo_never_hang_and_all_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = make_fifo(dir.path());
    let reader = idle_reader(&fifo);
    let (handler, reports) = collecting_handler();
    let (logger, guard) = Builder::new()
        .file(&fifo)
        .fallback(None)
        .error_handler(handler)
        .capacity_bytes(1 << 20)
        .stall_timeout(Duration::from_millis(200))
        .watch_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    let threads = 4;
    let per_thread: u64 = if cfg!(debug_assertions) {
        100_000
    } else {
        250_000
    };
    let (tx, rx) = mpsc::channel();
    for t in 0..threads {
        let logger = logger.clone();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut max = Duration::ZERO;
            let mut accepted = 0u64;
            for i in 0..per_thread {
                let t0 = Instant::now();
                let level = if i % 10 == 0 {
                    Level::Warn
                } else {
                    Level::Info
                };
                if logger.log(
                    level,
                    "load",
                    format_args!("t={t} i={i} payload=0123456789abcdef"),
                ) == Outcome::Accepted
                {
                    accepted += 1;
                }
                max = max.max(t0.elapsed());
            }
            tx.send((max, accepted)).unwrap();
        });
    }
    drop(tx);
    let mut max = Duration::ZERO;
    for _ in 0..threads {
        // A generous bound that only a hang exceeds.
        let (m, _) = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("a logging thread hung");
        max = max.max(m);
    }
    assert!(max < Duration::from_secs(1), "a log call took {max:?}");
    wait_for_state(&logger, State::Stalled);
    let h = logger.health();
    assert!(h.drops.queue_full > 0, "the queue filled: {h}");
    assert!(h.drops.shed > 0, "info was shed above the watermark: {h}");
    assert_eq!(
        h.drops.by_level[1],
        h.drops.queue_full.min(h.drops.by_level[1]),
        "{h}"
    );
    assert!(reports.lock().unwrap().iter().any(|r| r.class == "stalled"));

    // Now someone reads: the writer unblocks, drains, and heals.
    let stop = Arc::new(AtomicBool::new(false));
    let drained = drain(reader, Arc::clone(&stop));
    let h = settle(&logger);
    wait_for_state(&logger, State::Healthy);
    stop.store(true, Ordering::SeqCst);
    let text = String::from_utf8(drained.join().unwrap()).unwrap();
    let offered = threads * per_thread;
    assert_accounted(&h, offered);
    assert_eq!(h.dropped_after_accept, 0, "{h}");
    let lines: Vec<&str> = text.lines().collect();
    let notices = lines.iter().filter(|l| is_notice(l)).count() as u64;
    assert_eq!(lines.len() as u64, h.written + notices, "{h}");
    assert!(notices >= 1, "the drops were written into the log");
    drop(guard);
}

#[test]
fn waiting_callers_stop_at_once_when_the_writer_stalls() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = make_fifo(dir.path());
    let _reader = idle_reader(&fifo);
    let (handler, _r) = collecting_handler();
    let (logger, guard) = Builder::new()
        .file(&fifo)
        .fallback(None)
        .error_handler(handler)
        .capacity_bytes(64 * 1024)
        .shedding(None)
        .overflow(Overflow::block_for(Duration::from_secs(8)))
        .stall_timeout(Duration::from_millis(300))
        .watch_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    // Fill the pipe and the queue; once stalled, nobody waits any more.
    let mut offered = 0u64;
    while logger.health().state != State::Stalled {
        logger.log(
            Level::Info,
            "fill",
            format_args!("filler record {offered} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        );
        offered += 1;
        assert!(offered < 10_000_000, "never stalled");
    }
    // Stalled: what is left of the queue (the last filler may have found
    // no room while a shorter record would) fills without a wait, then
    // a record of the same size is dropped at once.
    let t0 = Instant::now();
    let out = loop {
        let out = logger.log(
            Level::Error,
            "fill",
            format_args!("filler record {offered} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        );
        offered += 1;
        if out != Outcome::Accepted {
            break out;
        }
        assert!(offered < 10_000_000, "the stalled queue never filled");
    };
    let took = t0.elapsed();
    assert_eq!(out, Outcome::Dropped(DropCause::QueueFull));
    assert!(
        took < Duration::from_secs(4),
        "waited {took:?} although the writer is stalled"
    );
    assert_eq!(logger.health().waiting_callers, 0);
    // Shutting down with a stalled sink returns by its deadline.
    let t0 = Instant::now();
    let report = guard.shutdown(Duration::from_millis(300));
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "shutdown hung: {:?}",
        t0.elapsed()
    );
    assert!(!report.complete);
    assert!(report.unwritten > 0);
    let h = logger.health();
    assert_eq!(h.state, State::ShutDown);
    assert_eq!(h.offered, offered);
    assert_eq!(h.accepted + h.rejected, offered);
    assert_eq!(
        logger.log(Level::Error, "late", format_args!("x")),
        Outcome::Dropped(DropCause::Shutdown)
    );
}

#[test]
fn flush_with_a_stalled_sink_returns_by_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = make_fifo(dir.path());
    let reader = idle_reader(&fifo);
    let (handler, _r) = collecting_handler();
    let (logger, _guard) = Builder::new()
        .file(&fifo)
        .fallback(None)
        .error_handler(handler)
        .capacity_bytes(1 << 20)
        .build()
        .unwrap();
    // More than the pipe holds, so the writer blocks.
    let mut offered = 0;
    for i in 0..5_000 {
        logger.log(
            Level::Warn,
            "t",
            format_args!("record {i} with some padding to fill the pipe buffer quickly"),
        );
        offered += 1;
    }
    let t0 = Instant::now();
    let r = logger.flush(Duration::from_millis(200));
    let took = t0.elapsed();
    assert!(!r.complete, "{r:?}");
    assert!(r.unwritten > 0);
    assert!(took < Duration::from_secs(5), "flush took {took:?}");
    let stop = Arc::new(AtomicBool::new(false));
    let drained = drain(reader, Arc::clone(&stop));
    let h = settle(&logger);
    stop.store(true, Ordering::SeqCst);
    let text = String::from_utf8(drained.join().unwrap()).unwrap();
    assert_accounted(&h, offered);
    assert_eq!(text.lines().count() as u64, h.written + h.notices_written);
}
