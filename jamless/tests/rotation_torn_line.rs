//! A write that fails halfway through a line (ENOSPC after a partial
//! write), then succeeds again only after the sink has moved on to another
//! file (the period ended, or logrotate moved the file away). The rest of
//! the line must not be written at the start of the other file: that tears
//! the record across two files while counting it as written.
//!
//! The partial write is real: a small tmpfs is filled up, so the file can
//! only grow to the end of its last page, and one long line is logged.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use jamless::{
    Builder, Clock, Format, HealthSnapshot, Level, Logger, Naming, RotatingFileSink, Rotation,
};

struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mounting a tmpfs needs root (CI runs as root)");
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(self.0.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
        }
    }
}

fn builder() -> Builder {
    let (handler, _) = common::collecting_handler();
    Builder::new()
        .format(Format::text_pattern("{message}").unwrap())
        .fallback(None)
        // Hold the batch and retry: the rest of the line is written once
        // there is space again.
        .fallback_after(Duration::from_secs(60))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(20))
        .maintain_interval(Duration::from_millis(10))
        .error_handler(handler)
}

/// Fills the file system; returns the filler's path.
fn fill(dir: &Path) -> std::path::PathBuf {
    let filler = dir.join("filler");
    let mut f = fs::File::create(&filler).unwrap();
    let chunk = vec![b'x'; 4096];
    while f.write_all(&chunk).is_ok() {}
    let small = [b'x'; 1];
    while f.write_all(&small).is_ok() {}
    filler
}

/// The long line: longer than what is left in the log file's last page.
fn long_line(room: usize) -> String {
    format!("long-start {} long-end", "y".repeat(room + 200))
}

fn wait_for_failure(logger: &Logger) {
    let t0 = Instant::now();
    while logger.health().io_errors == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the write never failed: {}",
            logger.health()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Every line is whole (`rec-N-end`, the long line, or a drop notice);
/// a fragment of the long line is only allowed if that record was counted
/// as dropped, and then only as a prefix in one file.
fn check(files: &[(String, String)], h: &HealthSnapshot, long: &str) {
    common::assert_accounted(h, h.offered);
    let mut whole_long = 0;
    let mut fragments = Vec::new();
    for (name, text) in files {
        for line in text.lines() {
            if line == long {
                whole_long += 1;
            } else if (line.starts_with("rec-") && line.ends_with("-end"))
                || line.is_empty()
                || common::is_notice(line)
            {
            } else {
                fragments.push(format!("{name}: {}...", &line[..line.len().min(40)]));
            }
        }
    }
    if whole_long == 1 {
        assert!(fragments.is_empty(), "{fragments:?}");
        assert_eq!(h.dropped(), 0, "{h}");
    } else {
        assert_eq!(
            h.drops.io_failure, 1,
            "the long line is not whole in any file ({fragments:?}), so it must be \
             counted as dropped: {h}"
        );
        assert!(
            fragments.len() <= 1 && fragments.iter().all(|f| f.contains("long-start")),
            "the long line was torn across files and counted as written: {fragments:?} {h}"
        );
    }
}

fn read_dir(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The period ends while the writer retries the rest of a line cut short
/// by a full disk.
#[test]
fn line_cut_by_full_disk_is_not_finished_in_the_next_period_file() {
    let fs_ = Tmpfs::mount("64k");
    let dir = fs_.0.path().join("logs");
    let start: jiff::Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
    let ms = Arc::new(AtomicU64::new(start.as_millisecond() as u64));
    let m = Arc::clone(&ms);
    let clock: Clock =
        Arc::new(move || UNIX_EPOCH + Duration::from_millis(m.load(Ordering::SeqCst)));
    let sink = RotatingFileSink::builder(Naming::new(&dir, "app"))
        .rotation(Rotation::HOURLY)
        .clock(clock)
        .build()
        .unwrap();
    let (logger, _guard) = builder().sink(sink).build().unwrap();
    for i in 0..10 {
        logger.log(Level::Info, "t", format_args!("rec-{i}-end"));
    }
    assert!(logger.flush(Duration::from_secs(10)).complete);
    let first = dir.join("app.2026-11-27T12.log");
    let size = fs::metadata(&first).unwrap().len() as usize;
    let filler = fill(fs_.0.path());
    let room = 4096 - size % 4096;
    let long = long_line(room);
    logger.log(Level::Info, "t", format_args!("{long}"));
    wait_for_failure(&logger);
    let cut = fs::metadata(&first).unwrap().len() as usize;
    assert!(
        cut > size && cut < size + long.len(),
        "the write was partial: {size} -> {cut}"
    );
    // The hour ends, then space comes back.
    ms.fetch_add(3_600_000, Ordering::SeqCst);
    fs::remove_file(&filler).unwrap();
    for i in 10..20 {
        logger.log(Level::Info, "t", format_args!("rec-{i}-end"));
    }
    let h = common::settle(&logger);
    check(&read_dir(&dir), &h, &long);
}

/// logrotate moves the file away while the writer retries the rest of a
/// line cut short by a full disk; the plain file sink then reopens the
/// path.
#[test]
fn line_cut_by_full_disk_is_not_finished_in_a_reopened_file() {
    let fs_ = Tmpfs::mount("64k");
    let dir = fs_.0.path().join("logs");
    let path = dir.join("app.log");
    let (logger, _guard) = builder().file(&path).build().unwrap();
    for i in 0..10 {
        logger.log(Level::Info, "t", format_args!("rec-{i}-end"));
    }
    assert!(logger.flush(Duration::from_secs(10)).complete);
    let size = fs::metadata(&path).unwrap().len() as usize;
    let filler = fill(fs_.0.path());
    let room = 4096 - size % 4096;
    let long = long_line(room);
    logger.log(Level::Info, "t", format_args!("{long}"));
    wait_for_failure(&logger);
    fs::rename(&path, dir.join("app.log.1")).unwrap();
    // Let the sink notice the move (its check runs about every second).
    std::thread::sleep(Duration::from_millis(1300));
    fs::remove_file(&filler).unwrap();
    for i in 10..20 {
        logger.log(Level::Info, "t", format_args!("rec-{i}-end"));
    }
    let h = common::settle(&logger);
    check(&read_dir(&dir), &h, &long);
}
