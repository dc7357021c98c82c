//! Real files: deleted, moved, directory removed, disk full (tmpfs). The
//! writer heals and every record is in some file or counted.

mod common;

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_accounted, collecting_handler, is_notice, settle};
use jamless::{Builder, Level, Logger};

fn read_all(mut f: File) -> String {
    let mut s = String::new();
    f.read_to_string(&mut s).unwrap();
    s
}

fn records(text: &str) -> usize {
    text.lines()
        .filter(|l| l.contains("seq=") && !is_notice(l))
        .count()
}

fn log_n(logger: &Logger, from: u64, n: u64) {
    for i in from..from + n {
        logger.log(Level::Info, "app", format_args!("seq={i} end"));
    }
}

/// Logs in small steps until the sink has reopened `path` (a new inode).
fn log_until_exists(logger: &Logger, path: &Path, seq: &mut u64) {
    let t0 = Instant::now();
    while !path.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "never recreated {path:?}: {}",
            logger.health()
        );
        log_n(logger, *seq, 10);
        *seq += 10;
        logger.flush(Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn builder(path: &Path) -> Builder {
    let (handler, _) = collecting_handler();
    Builder::new()
        .file(path)
        .error_handler(handler)
        .maintain_interval(Duration::from_millis(10))
}

#[test]
fn deleted_file_is_recreated_and_no_record_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard) = builder(&path).build().unwrap();
    let mut seq = 0;
    log_n(&logger, seq, 1_000);
    seq += 1_000;
    settle(&logger);
    // Keep a handle on the old inode so its lines can be counted.
    let old = File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    log_until_exists(&logger, &path, &mut seq);
    log_n(&logger, seq, 1_000);
    seq += 1_000;
    let h = settle(&logger);
    assert_accounted(&h, seq);
    let total = records(&read_all(old)) + records(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(total as u64, h.written, "{h}");
    assert_eq!(h.written, seq, "a deleted file costs no record: {h}");
}

#[test]
fn removed_directory_is_recreated_and_no_record_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/app.log");
    let (logger, _guard) = builder(&path).build().unwrap();
    let mut seq = 0;
    log_n(&logger, seq, 500);
    seq += 500;
    settle(&logger);
    let old = File::open(&path).unwrap();
    std::fs::remove_dir_all(dir.path().join("nested")).unwrap();
    log_until_exists(&logger, &path, &mut seq);
    log_n(&logger, seq, 500);
    seq += 500;
    let h = settle(&logger);
    assert_accounted(&h, seq);
    let total = records(&read_all(old)) + records(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(total as u64, h.written);
    assert_eq!(h.written, seq);
}

#[test]
fn moved_file_is_noticed_and_reopen_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let moved = dir.path().join("app.log.1");
    let (logger, _guard) = builder(&path).build().unwrap();
    let mut seq = 0;
    log_n(&logger, seq, 100);
    seq += 100;
    settle(&logger);
    std::fs::rename(&path, &moved).unwrap();
    log_until_exists(&logger, &path, &mut seq);
    // An explicit reopen (SIGHUP style) also works.
    std::fs::rename(&path, dir.path().join("app.log.2")).unwrap();
    logger.reopen();
    let h = settle(&logger);
    assert!(path.exists(), "reopen created the file again");
    log_n(&logger, seq, 100);
    seq += 100;
    let h2 = settle(&logger);
    assert_accounted(&h2, seq);
    let mut total = 0;
    for p in [&moved, &dir.path().join("app.log.2"), &path] {
        total += records(&std::fs::read_to_string(p).unwrap());
    }
    assert_eq!(total as u64, h2.written);
    assert!(h.written <= h2.written);
}

struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        ok.then_some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status()
            .map(|s| s.success());
        if !matches!(ok, Ok(true)) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

#[test]
fn disk_full_is_survived_and_nothing_is_glued() {
    let Some(fs) = Tmpfs::mount("256k") else {
        panic!("this test needs root to mount a tmpfs (run the suite as root, as CI does)");
    };
    let path = fs.dir.path().join("app.log");
    let filler = fs.dir.path().join("filler");
    let (handler, reports) = collecting_handler();
    let (logger, _guard) = Builder::new()
        .file(&path)
        .error_handler(handler)
        .fallback(None)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .fallback_after(Duration::from_millis(100))
        .build()
        .unwrap();
    let mut seq = 0;
    log_n(&logger, seq, 200);
    seq += 200;
    settle(&logger);
    // Fill the file system.
    let _ = std::fs::write(&filler, vec![b'x'; 512 * 1024]);
    log_n(&logger, seq, 2_000);
    seq += 2_000;
    let h = settle(&logger);
    assert!(
        h.drops.io_failure > 0,
        "writes failed on the full disk: {h}"
    );
    assert!(reports
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.class == "disk_full"));
    // Free space: the writer heals.
    std::fs::remove_file(&filler).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    log_n(&logger, seq, 200);
    seq += 200;
    let h = settle(&logger);
    assert_accounted(&h, seq);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut whole = 0;
    for line in text.lines().filter(|l| !l.is_empty() && !is_notice(l)) {
        assert!(line.matches("seq=").count() <= 1, "glued: {line:?}");
        if line.ends_with(" end") {
            whole += 1;
        }
    }
    assert_eq!(whole as u64, h.written, "{h}");
    assert!(
        text.contains(&format!("seq={} end", seq - 1)),
        "writes resumed after space was freed"
    );
    assert!(
        text.lines().any(is_notice),
        "the losses were written into the log"
    );
}
