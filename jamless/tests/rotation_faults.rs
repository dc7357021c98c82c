//! Fault injection against a live writer with real files: a full disk, a
//! directory without write permission (for an unprivileged child process),
//! a read-only remount, a removed directory or file, and logrotate
//! (`create` and `copytruncate`, with `tail -F` following). Each test ends
//! with the accounting identities and checks that every record written is
//! in some file, whole, and every record missing was counted as dropped.
//!
//! These tests need root (mount, chown, setpriv) and `logrotate`, as CI
//! has; they fail rather than skip without them.

mod common;
#[path = "common/procs.rs"]
mod procs;

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jamless::{
    Builder, ErrorHandler, Format, HealthSnapshot, LastError, Level, Logger, Naming, Outcome,
    Retention, RotatingFileSink, Rotation,
};
use procs::{ChildReport, Tally};
use serde::{Deserialize, Serialize};

const PROC: u32 = 0;

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn second() -> Rotation {
    Rotation::every(Duration::from_secs(1)).unwrap()
}

fn text() -> Format {
    Format::text_pattern("{message}").unwrap()
}

/// A builder that drops (and counts) what it cannot write after `give_up`,
/// instead of sending it to standard error, and retries fast.
fn failing_fast(sink: RotatingFileSink, handler: ErrorHandler, give_up: Duration) -> Builder {
    Builder::new()
        .sink(sink)
        .format(text())
        .fallback(None)
        .fallback_after(give_up)
        .retry_backoff(Duration::from_millis(2), Duration::from_millis(50))
        .maintain_interval(Duration::from_millis(20))
        .notice_interval(Duration::from_millis(200))
        .error_handler(handler)
}

/// A thread that logs `proc=0 seq=<n>` records at a steady rate until
/// stopped, remembering which calls were refused.
struct Pump {
    stop: Arc<AtomicBool>,
    next: Arc<AtomicU64>,
    rejected: Arc<Mutex<Vec<u64>>>,
    handle: Option<JoinHandle<()>>,
}

impl Pump {
    fn start(logger: &Logger, rate: u64) -> Pump {
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicU64::new(0));
        let rejected = Arc::new(Mutex::new(Vec::new()));
        let (s, n, r, logger) = (
            Arc::clone(&stop),
            Arc::clone(&next),
            Arc::clone(&rejected),
            logger.clone(),
        );
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut seq = 0;
            while !s.load(Ordering::SeqCst) {
                let target = procs::due(start, rate);
                while seq < target {
                    let line = procs::record_line(PROC, seq);
                    if logger.log(Level::Info, "fault", format_args!("{line}")) != Outcome::Accepted
                    {
                        r.lock().unwrap().push(seq);
                    }
                    seq += 1;
                    // Published after the call returned: every record below
                    // `next` has been offered.
                    n.store(seq, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Pump {
            stop,
            next,
            rejected,
            handle: Some(handle),
        }
    }

    /// Records offered so far.
    fn offered(&self) -> u64 {
        self.next.load(Ordering::SeqCst)
    }

    /// Stops logging; returns how many records were offered.
    fn finish(&mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            h.join().expect("the logging thread panicked");
        }
        self.offered()
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Flushes and builds the report the shared checks take.
fn report(
    logger: &Logger,
    pump: &mut Pump,
    errors: &Mutex<Vec<LastError>>,
) -> (ChildReport, HealthSnapshot) {
    let offered = pump.finish();
    let h = common::settle(logger);
    common::assert_accounted(&h, offered);
    let r = ChildReport {
        proc: PROC,
        offered_by_test: offered,
        rejected_seqs: pump.rejected.lock().unwrap().clone(),
        error_classes: classes(&errors.lock().unwrap()),
        flush_complete: true,
        health: serde_json::to_value(&h).unwrap(),
        extra: serde_json::Value::Null,
    };
    r.assert_accounted();
    (r, h)
}

fn classes(errors: &[LastError]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for e in errors {
        *m.entry(format!("{}:{}", e.operation, e.class)).or_insert(0) += 1;
    }
    m
}

fn has_class(r: &ChildReport, class: &str) -> bool {
    r.error_classes
        .keys()
        .any(|k| k.ends_with(&format!(":{class}")))
}

/// Waits (generously) until the writer has written a whole batch
/// successfully after `since_ms` (the fault was removed before) while the
/// pump keeps logging; returns the records offered by then: the writer no
/// longer fails, so every later one must reach the files.
fn offered_after_healing(logger: &Logger, pump: &Pump, since_ms: u64) -> u64 {
    let t0 = Instant::now();
    loop {
        if logger.health().last_write_unix_ms > since_ms {
            // Read only now: a record offered before the success was seen
            // may still have been in a batch given up on just before it.
            return pump.offered();
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the writer never wrote again: {}",
            logger.health()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The checks every test ends with: no torn or merged line, no NUL,
/// every record found once or counted, lines cut short by a failing write
/// belong to dropped records, and everything from `healed_from` on is
/// there.
#[track_caller]
fn assert_files_complete(tally: &Tally, r: &ChildReport, healed_from: u64, what: &str) -> u64 {
    assert!(
        tally.bad.is_empty(),
        "{what}: {} torn or merged lines, e.g. {:?}",
        tally.bad.len(),
        &tally.bad[..tally.bad.len().min(5)]
    );
    assert_eq!(tally.nul_bytes, 0, "{what}: NUL bytes");
    let missing = procs::assert_process_complete(tally, r);
    for (p, s) in tally.fragment_records() {
        assert!(
            p == PROC && tally.count(p, s) == 0,
            "{what}: a line cut short belongs to a record that was also written: {s}"
        );
    }
    let late: Vec<u64> = (healed_from..r.offered_by_test)
        .filter(|&s| tally.count(PROC, s) == 0)
        .collect();
    assert!(
        late.is_empty(),
        "{what}: records offered after the writer healed are missing: {:?}",
        &late[..late.len().min(10)]
    );
    missing
}

/// Mount points made by a test, unmounted (in reverse) when dropped.
#[derive(Default)]
struct Mounts(Vec<PathBuf>);

impl Mounts {
    fn mount(&mut self, args: &[&str], at: &Path) {
        procs::run(Command::new("mount").args(args).arg(at));
        self.0.push(at.to_path_buf());
    }

    fn tmpfs(&mut self, at: &Path, size: &str) {
        self.mount(&["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"], at);
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        while let Some(p) = self.0.pop() {
            let ok = Command::new("umount")
                .arg(&p)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                let _ = Command::new("umount").arg("-l").arg(&p).status();
            }
        }
    }
}

/// The file system is filled up while the writer logs and rotates every
/// second, then freed: writes fail with ENOSPC (losses counted as I/O
/// failures, reported as `disk_full`), resume when space is back, and a
/// drop notice reaches the log. No line is glued to another.
#[test]
fn disk_full_while_rotating_then_freed() {
    let work = tempfile::tempdir().unwrap();
    let mut mounts = Mounts::default();
    mounts.tmpfs(work.path(), "256k");
    let dir = work.path().join("logs");
    let filler = work.path().join("filler");
    let sink = RotatingFileSink::builder(Naming::new(&dir, "app"))
        .rotation(second())
        .check_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    let (handler, errors) = common::collecting_handler();
    let (logger, _guard) = failing_fast(sink, handler, Duration::from_millis(300))
        .build()
        .unwrap();
    // About 20 KB/s: the 256 KiB file system holds the whole test.
    let mut pump = Pump::start(&logger, 200);
    std::thread::sleep(Duration::from_millis(1000));
    // Fill every free block.
    let mut f = fs::File::create(&filler).unwrap();
    let chunk = vec![b'x'; 4096];
    let mut filled = 0;
    while f.write_all(&chunk).is_ok() {
        filled += chunk.len();
    }
    drop(f);
    let t_full = Instant::now();
    while logger.health().drops.io_failure == 0 {
        assert!(
            t_full.elapsed() < Duration::from_secs(30),
            "writes never failed on a full disk: {}",
            logger.health()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Stay full across at least one rotation.
    std::thread::sleep(Duration::from_millis(1200));
    fs::remove_file(&filler).unwrap();
    let freed_ms = unix_ms();
    let healed = offered_after_healing(&logger, &pump, freed_ms);
    std::thread::sleep(Duration::from_millis(1200));
    let (r, h) = report(&logger, &mut pump, &errors);
    let tally = Tally::of_dir(&dir);
    let missing = assert_files_complete(&tally, &r, healed, "disk full");
    assert!(h.drops.io_failure > 0, "{h}");
    assert!(has_class(&r, "disk_full"), "{:?}", r.error_classes);
    assert!(tally.notices > 0, "no drop notice in the log");
    assert_eq!(tally.notices, h.notices_written, "{h}");
    eprintln!(
        "disk full: filled {filled} B, offered {}, missing {missing} (= dropped {}), \
         lines cut short {}, files {}, notices {}, errors {:?}",
        r.offered_by_test,
        h.dropped(),
        tally.fragments.len(),
        tally.files,
        tally.notices,
        r.error_classes
    );
}

/// A read-only remount while logging with rotation. The kernel refuses to
/// remount read-only a mount with files open for writing (EBUSY), so the
/// directory is bind-mounted over itself and that new mount, which nobody
/// writes through, is remounted `ro`: the open file still takes writes,
/// but the next rotation's open fails with EROFS. `remount,rw` heals it.
#[test]
fn read_only_remount_while_rotating_then_rw() {
    let work = tempfile::tempdir().unwrap();
    let mut mounts = Mounts::default();
    mounts.tmpfs(work.path(), "4m");
    let dir = work.path().join("logs");
    let sink = RotatingFileSink::builder(Naming::new(&dir, "app"))
        .rotation(second())
        .check_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    let (handler, errors) = common::collecting_handler();
    let (logger, _guard) = failing_fast(sink, handler, Duration::from_millis(300))
        .build()
        .unwrap();
    let mut pump = Pump::start(&logger, 500);
    std::thread::sleep(Duration::from_millis(800));
    let top = work.path();
    mounts.mount(&["--bind", top.to_str().unwrap()], top);
    // A rotation (or a reopen) between the two mount commands opens the new
    // file through the new mount, which then refuses to go read-only
    // (EBUSY) until the next rotation closes it: retry for a few periods.
    let t_mount = Instant::now();
    loop {
        let out = Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(top)
            .output()
            .expect("mount (util-linux) must be installed");
        if out.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("busy") && t_mount.elapsed() < Duration::from_secs(5),
            "remount,bind,ro {}: {stderr}",
            top.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        fs::File::create(dir.join("probe")).is_err(),
        "the remount is not read-only"
    );
    let t_ro = Instant::now();
    while !errors
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.class == "read_only_filesystem")
    {
        assert!(
            t_ro.elapsed() < Duration::from_secs(30),
            "no EROFS seen: {}",
            logger.health()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(800));
    procs::run(
        Command::new("mount")
            .args(["-o", "remount,bind,rw"])
            .arg(top),
    );
    let rw_ms = unix_ms();
    let healed = offered_after_healing(&logger, &pump, rw_ms);
    std::thread::sleep(Duration::from_millis(1200));
    let (r, h) = report(&logger, &mut pump, &errors);
    let tally = Tally::of_dir(&dir);
    let missing = assert_files_complete(&tally, &r, healed, "read-only");
    assert!(
        has_class(&r, "read_only_filesystem"),
        "{:?}",
        r.error_classes
    );
    assert!(h.state.is_serving(), "{h}");
    assert_eq!(tally.notices, h.notices_written, "{h}");
    if h.dropped() > 0 {
        assert!(tally.notices > 0, "losses but no drop notice: {h}");
    }
    eprintln!(
        "read-only: offered {}, missing {missing} (= dropped {}), files {}, notices {}, errors {:?}",
        r.offered_by_test,
        h.dropped(),
        tally.files,
        tally.notices,
        r.error_classes
    );
}

/// Opens every file in `dir` for reading, to keep the lines of files about
/// to be deleted.
fn hold_files(dir: &Path) -> Vec<(PathBuf, fs::File)> {
    let mut held = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with('.') && p.is_file() {
            held.push((p.clone(), fs::File::open(&p).unwrap()));
        }
    }
    held
}

/// Sleeps until the middle of a 2-second rotation period, so that nothing
/// rotates while the test lists and removes files.
fn wait_mid_period() {
    let phase = unix_ms() % 2000;
    let wait = (3000 - phase) % 2000;
    std::thread::sleep(Duration::from_millis(wait.max(1)));
}

#[derive(Clone, Copy, Debug)]
enum Removal {
    Directory,
    CurrentFile,
}

/// The directory, or the file being written, is removed while the writer
/// logs and rotates. The test keeps the removed files open to count their
/// lines: nothing may be lost and nothing dropped, and the sink recreates
/// the directory and file and goes on rotating.
fn removed_while_rotating(removal: Removal, fixed: bool) {
    let what = format!("{removal:?} removed (fixed name: {fixed})");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("a/logs");
    let naming = Naming::new(&dir, "app").fixed_active_name(fixed);
    let sink = RotatingFileSink::builder(naming)
        .rotation(Rotation::every(Duration::from_secs(2)).unwrap())
        .check_interval(Duration::from_millis(20))
        .build()
        .unwrap();
    let (handler, errors) = common::collecting_handler();
    let (logger, _guard) = failing_fast(sink, handler, Duration::from_secs(10))
        .build()
        .unwrap();
    let mut pump = Pump::start(&logger, 1000);
    std::thread::sleep(Duration::from_millis(1500));
    wait_mid_period();
    let held = match removal {
        Removal::Directory => {
            let held = hold_files(&dir);
            fs::remove_dir_all(work.path().join("a")).unwrap();
            held
        }
        Removal::CurrentFile => {
            let current = if fixed {
                dir.join("app.log")
            } else {
                // The newest period's file: dated names sort by time.
                let mut names: Vec<PathBuf> = hold_files(&dir).into_iter().map(|h| h.0).collect();
                names.sort();
                names.pop().unwrap()
            };
            let f = fs::File::open(&current).unwrap();
            fs::remove_file(&current).unwrap();
            vec![(current, f)]
        }
    };
    let t0 = Instant::now();
    while !dir.exists() || hold_files(&dir).is_empty() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{what}: never recreated: {}",
            logger.health()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Cross at least one more rotation.
    std::thread::sleep(Duration::from_millis(2500));
    let (r, h) = report(&logger, &mut pump, &errors);
    let mut tally = Tally::of_dir(&dir);
    // The removed files' records written after their last check were
    // written again into the recreated files: count each record of a
    // removed file only if it is not in a live one.
    let live = Tally::of_dir(&dir);
    let mut replayed = 0;
    for (path, mut f) in held {
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        let only_removed: String = text
            .lines()
            .filter(|l| match procs::parse_line(l) {
                procs::Line::Record { proc, seq } if live.count(proc, seq) > 0 => {
                    replayed += 1;
                    false
                }
                _ => true,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        tally.add_text(&path, &only_removed);
    }
    assert_files_complete(&tally, &r, 0, &what);
    eprintln!("{what}: {replayed} records of the removed files written again");
    assert_eq!(h.dropped(), 0, "{what}: nothing may be lost: {h}");
    assert!(tally.fragments.is_empty(), "{what}: {:?}", tally.fragments);
    eprintln!(
        "{what}: offered {}, all found; files now {}, errors {:?}",
        r.offered_by_test, tally.files, r.error_classes
    );
}

#[test]
fn directory_removed_while_rotating_dated() {
    removed_while_rotating(Removal::Directory, false);
}

#[test]
fn directory_removed_while_rotating_fixed_name() {
    removed_while_rotating(Removal::Directory, true);
}

#[test]
fn current_file_removed_while_rotating_dated() {
    removed_while_rotating(Removal::CurrentFile, false);
}

#[test]
fn current_file_removed_while_rotating_fixed_name() {
    removed_while_rotating(Removal::CurrentFile, true);
}

// ---------------------------------------------------------------------
// Permission denied, for an unprivileged child (root ignores modes).

const PERM_VAR: &str = "JAMLESS_PERM_CHILD";
const PERM_CHILD: &str = "permission_child";
const NOBODY: u32 = 65534;

#[derive(Debug, Serialize, Deserialize)]
struct PermParams {
    dir: PathBuf,
    /// Created by the parent once the directory is writable again.
    restored_flag: PathBuf,
    rate: u64,
}

/// The unprivileged child: logs with rotation every second until the parent
/// says the directory is writable again, waits for a successful write after
/// that, logs a little longer, and reports.
#[test]
fn permission_child() {
    let Some(p) = procs::child_params::<PermParams>(PERM_VAR) else {
        return;
    };
    let sink = RotatingFileSink::builder(Naming::new(&p.dir, "app"))
        .rotation(second())
        .check_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    let (handler, errors) = common::collecting_handler();
    let (logger, guard) = failing_fast(sink, handler, Duration::from_millis(300))
        .build()
        .unwrap();
    let mut pump = Pump::start(&logger, p.rate);
    std::thread::sleep(Duration::from_millis(1000));
    println!("\nREADY uid={}", uid());
    std::io::stdout().flush().unwrap();
    let t0 = Instant::now();
    while !p.restored_flag.exists() && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let restored_ms = unix_ms();
    let healed = offered_after_healing(&logger, &pump, restored_ms);
    std::thread::sleep(Duration::from_millis(1200));
    let offered = pump.finish();
    let flushed = logger.flush(Duration::from_secs(30));
    let shut = guard.shutdown(Duration::from_secs(10));
    let h = logger.health();
    procs::print_report(&ChildReport {
        proc: PROC,
        offered_by_test: offered,
        rejected_seqs: pump.rejected.lock().unwrap().clone(),
        error_classes: classes(&errors.lock().unwrap()),
        flush_complete: flushed.complete && shut.complete,
        health: serde_json::to_value(&h).unwrap(),
        extra: serde_json::json!({ "healed": healed, "uid": uid() }),
    });
}

/// This process's user id (the owner of `/proc/self`).
fn uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").unwrap().uid()
}

/// The test binary, where user `nobody` can execute it: in place if it
/// already can, else a copy in a world-readable temporary directory.
fn binary_for_nobody(wrapper: &[String], scratch: &Path) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let can = Command::new(&wrapper[0])
        .args(&wrapper[1..])
        .args(["test", "-x"])
        .arg(&exe)
        .status()
        .is_ok_and(|s| s.success());
    if can {
        return exe;
    }
    let copy = scratch.join("test-binary");
    fs::copy(&exe, &copy).unwrap();
    procs::chmod(&copy, 0o755);
    copy
}

/// The log directory loses its write permission (`chmod 0500`) while an
/// unprivileged process logs with rotation every second, then gets it
/// back (`0700`). Opening the next period's file fails with EACCES: losses
/// are counted, reported as `permission_denied`, and logging resumes.
#[test]
fn permission_denied_on_directory_then_restored() {
    let setpriv = procs::program("setpriv").expect("setpriv (util-linux) is needed");
    let wrapper: Vec<String> = vec![
        setpriv.to_string_lossy().into_owned(),
        "--reuid=65534".into(),
        "--regid=65534".into(),
        "--clear-groups".into(),
    ];
    // /tmp is world-searchable; the temporary directory itself is 0700.
    let work = tempfile::tempdir().unwrap();
    procs::chmod(work.path(), 0o755);
    let exe = binary_for_nobody(&wrapper, work.path());
    let dir = work.path().join("logs");
    fs::create_dir(&dir).unwrap();
    std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    procs::chmod(&dir, 0o700);
    let flag = work.path().join("restored");
    let out = work.path().join("out");
    fs::create_dir(&out).unwrap();
    let params = PermParams {
        dir: dir.clone(),
        restored_flag: flag.clone(),
        rate: 500,
    };
    let child = procs::spawn_child(
        &exe, &wrapper, PERM_CHILD, PERM_VAR, &params, &out, "nobody",
    );
    let stdout_path = child.stdout_path.clone();
    let mut guard = procs::KillOnDrop(Some(child));
    let t0 = Instant::now();
    while !fs::read_to_string(&stdout_path)
        .unwrap_or_default()
        .contains("READY")
    {
        let c = guard.0.as_mut().unwrap();
        if let Some(status) = c.child.try_wait().unwrap() {
            panic!(
                "the child exited early ({status}): {}",
                fs::read_to_string(&c.stderr_path).unwrap_or_default()
            );
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "child never ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    let ready = fs::read_to_string(&stdout_path).unwrap();
    assert!(ready.contains("READY uid=65534"), "{ready}");
    procs::chmod(&dir, 0o500);
    // Long enough for two rotations to fail.
    std::thread::sleep(Duration::from_millis(2500));
    procs::chmod(&dir, 0o700);
    fs::write(&flag, b"").unwrap();
    let child = guard.0.take().unwrap();
    let finished = procs::wait_all(vec![child], Instant::now() + Duration::from_secs(60));
    let r: ChildReport = finished[0].report();
    r.assert_accounted();
    let healed = r.extra["healed"].as_u64().unwrap();
    let tally = Tally::of_dir(&dir);
    let missing = assert_files_complete(&tally, &r, healed, "permission denied");
    assert!(has_class(&r, "permission_denied"), "{:?}", r.error_classes);
    assert!(r.drop_cause("io_failure") > 0, "{}", r.health);
    assert!(tally.notices > 0, "no drop notice in the log");
    assert_eq!(tally.notices, r.h("notices_written"));
    eprintln!(
        "permission denied: offered {}, missing {missing} (= dropped {}), files {}, notices {}, \
         errors {:?}",
        r.offered_by_test,
        r.h("dropped_after_accept") + r.h("rejected"),
        tally.files,
        tally.notices,
        r.error_classes
    );
}

// ---------------------------------------------------------------------
// logrotate against a plain file sink, with `tail -F` following.

/// `tail -F` as a real follower, polling (`---disable-inotify`): with
/// inotify GNU tail drops a renamed file at once and misses what the
/// writer appends to it before it notices the rotation; polling, it reads
/// the old file until it has been quiet for `--max-unchanged-stats`
/// rounds (20 x 50 ms), then the new one from its start — as log shippers
/// do. (A follower that waits longer than the time between two rotations
/// skips a whole file: it only opens whatever the name is by then.)
struct Tail {
    child: procs::KillOnDrop,
    out: PathBuf,
}

impl Tail {
    fn follow(path: &Path, out: PathBuf) -> Tail {
        let child = Command::new("tail")
            .args([
                "---disable-inotify",
                "-s",
                "0.05",
                "--max-unchanged-stats=20",
                "-n",
                "+1",
                "-F",
            ])
            .arg(path)
            .stdout(fs::File::create(&out).unwrap())
            .stderr(fs::File::create(out.with_extension("err")).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .expect("tail");
        Tail {
            child: procs::KillOnDrop(Some(procs::ChildProc {
                name: "tail".into(),
                child,
                stdout_path: out.clone(),
                stderr_path: out.with_extension("err"),
            })),
            out,
        }
    }

    /// Waits until tail has shown record `last` (or a generous deadline),
    /// then stops it and returns what it saw.
    fn finish(self, last: u64) -> Tally {
        let want = procs::record_line(PROC, last);
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            let seen = fs::read_to_string(&self.out).unwrap_or_default();
            if seen.lines().any(|l| l == want) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(self.child);
        let mut t = Tally::default();
        t.add_text(&self.out, &fs::read_to_string(&self.out).unwrap());
        t
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Create,
    CopyTruncate,
}

/// Runs logrotate three times against a live writer (a plain
/// `Builder::file`) logging 1000 records a second, with `tail -F`
/// following. Returns the check results for the mode to judge.
fn logrotate_against_live_writer(mode: Mode) {
    let logrotate = procs::program("logrotate")
        .expect("logrotate is needed (apt-get install logrotate; .ci/run does)");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("logs");
    fs::create_dir(&dir).unwrap();
    let path = dir.join("app.log");
    let directive = match mode {
        Mode::Create => "create 0640",
        Mode::CopyTruncate => "copytruncate",
    };
    let conf = work.path().join("logrotate.conf");
    fs::write(
        &conf,
        format!(
            "{} {{\n    rotate 50\n    {directive}\n    nocompress\n    missingok\n    ifempty\n}}\n",
            path.display()
        ),
    )
    .unwrap();
    procs::chmod(&conf, 0o644);
    let state = work.path().join("logrotate.state");
    let (handler, errors) = common::collecting_handler();
    let (logger, _guard) = Builder::new()
        .file(&path)
        .format(text())
        .fallback(None)
        .error_handler(handler)
        .build()
        .unwrap();
    let mut pump = Pump::start(&logger, 1000);
    let t0 = Instant::now();
    while !path.exists() {
        assert!(t0.elapsed() < Duration::from_secs(30), "no log file");
        std::thread::sleep(Duration::from_millis(10));
    }
    let tail = Tail::follow(&path, work.path().join("tail.out"));
    // Windows (in sequence numbers) during which copytruncate may lose:
    // every record offered before `from` was written before logrotate
    // started, every record offered after `to` after it finished.
    let mut windows = Vec::new();
    for _ in 0..3 {
        // More than the writer needs to notice a rotation (up to about
        // 1.25 s) plus the second tail waits before it looks at the name
        // again, with room to spare.
        std::thread::sleep(Duration::from_millis(3500));
        let from = pump.offered();
        assert!(logger.flush(Duration::from_secs(10)).complete);
        let started = Instant::now();
        procs::run(
            Command::new(&logrotate)
                .arg("-f")
                .arg("-s")
                .arg(&state)
                .arg(&conf),
        );
        let took = started.elapsed();
        let to = pump.offered();
        windows.push((from, to, took));
    }
    std::thread::sleep(Duration::from_millis(2000));
    let (r, h) = report(&logger, &mut pump, &errors);
    let seen_by_tail = tail.finish(r.offered_by_test - 1);
    let tally = Tally::of_dir(&dir);
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.len() >= 4, "logrotate rotated three times: {names:?}");
    assert_eq!(
        tally.nul_bytes, 0,
        "{mode:?}: NUL bytes (holes) in the files"
    );
    assert!(
        tally.bad.is_empty(),
        "{mode:?}: torn or merged lines: {:?}",
        &tally.bad[..tally.bad.len().min(5)]
    );
    // Only a truncation can lose records, and it counts what it may
    // have cut.
    assert_eq!(
        h.dropped(),
        h.drops.file_truncated,
        "{mode:?}: the writer dropped nothing else: {h}"
    );
    if mode == Mode::Create {
        assert_eq!(h.dropped(), 0, "create: nothing lost: {h}");
    }
    let dups = tally.duplicates(PROC);
    assert!(dups.is_empty(), "{mode:?}: duplicated records: {dups:?}");
    let missing = tally.missing(PROC, r.offered_by_test);
    let tail_missing = seen_by_tail.missing(PROC, r.offered_by_test);
    let tail_dups = seen_by_tail.duplicates(PROC).len();
    let window_records: u64 = windows.iter().map(|w| w.1 - w.0).sum();
    match mode {
        Mode::Create => {
            assert!(tally.fragments.is_empty(), "{:?}", tally.fragments);
            assert!(
                missing.is_empty(),
                "create: records lost: {:?}",
                &missing[..missing.len().min(10)]
            );
            assert_eq!(tally.found(PROC), h.written);
            assert!(
                tail_missing.is_empty(),
                "create: tail -F missed {} records: {:?} (logrotate runs: {windows:?}); tail said: {}",
                tail_missing.len(),
                ranges(&tail_missing),
                fs::read_to_string(work.path().join("tail.err")).unwrap_or_default()
            );
        }
        Mode::CopyTruncate => {
            // logrotate(8): "there is a very small time slice between
            // copying the file and truncating it, so some logging data
            // might be lost". Only there.
            let outside: Vec<u64> = missing
                .iter()
                .copied()
                .filter(|s| !windows.iter().any(|w| (w.0..w.1).contains(s)))
                .collect();
            assert!(
                outside.is_empty(),
                "copytruncate: records lost outside logrotate's runs {windows:?}: {:?}",
                &outside[..outside.len().min(10)]
            );
            assert!(missing.len() as u64 <= window_records);
            // Every record lost in the cut is counted (file_truncated
            // counts all that were written in a lookback before the cut,
            // so it counts many that the copy did keep).
            assert!(
                missing.len() as u64 <= h.drops.file_truncated,
                "copytruncate: {} records missing, {} counted: {h}",
                missing.len(),
                h.drops.file_truncated
            );
            // ... and says so in the log itself.
            if h.drops.file_truncated > 0 {
                assert!(tally.notices > 0, "copytruncate: no drop notice in the log");
            }
            // A line cut by the copy (read while being appended) is lost
            // with the truncation; it must be a record that is missing.
            for (_, s) in tally.fragment_records() {
                assert!(
                    missing.contains(&s),
                    "fragment of a record found whole: {s}"
                );
            }
        }
    }
    eprintln!(
        "logrotate {mode:?}: offered {}, written {}, lost {} (records offered during the \
         logrotate runs: {window_records}, runs took {:?}), lines cut short {}, \
         tail -F missed {} and repeated {tail_dups}; files {names:?}; errors {:?}",
        r.offered_by_test,
        h.written,
        missing.len(),
        windows.iter().map(|w| w.2).collect::<Vec<_>>(),
        tally.fragments.len(),
        tail_missing.len(),
        r.error_classes
    );
}

/// `[1, 2, 3, 7]` as `[(1, 3), (7, 7)]`.
fn ranges(seqs: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &s in seqs {
        match out.last_mut() {
            Some(r) if r.1 + 1 == s => r.1 = s,
            _ => out.push((s, s)),
        }
    }
    out
}

#[test]
fn logrotate_create_against_live_writer() {
    logrotate_against_live_writer(Mode::Create);
}

#[test]
fn logrotate_copytruncate_against_live_writer() {
    logrotate_against_live_writer(Mode::CopyTruncate);
}

/// A size-limited tmpfs fills up with this logger's own rotated files
/// (64 KiB each) while it logs fast; with `free_space_on_enospc` the
/// housekeeper deletes the oldest of them whenever a write fails with
/// ENOSPC, and logging goes on. Other programs' files in the same
/// directory, files named like the logger's but of another prefix, and
/// the file being written are never touched; every deletion is reported
/// and counted; every record after the oldest one kept is in the files
/// or counted as dropped.
#[test]
fn disk_full_frees_space_by_deleting_the_oldest_rotated_files() {
    let work = tempfile::tempdir().unwrap();
    let mut mounts = Mounts::default();
    mounts.tmpfs(work.path(), "1m");
    let dir = work.path().join("logs");
    fs::create_dir(&dir).unwrap();
    // Other programs' files: must survive.
    let foreign = [
        (dir.join("other-program.dat"), 200 << 10),
        (dir.join("db.2026-01-01.log"), 50 << 10),
        (dir.join("app.notes"), 10 << 10),
    ];
    for (path, len) in &foreign {
        fs::write(path, vec![b'z'; *len]).unwrap();
    }
    let sink = RotatingFileSink::builder(Naming::new(&dir, "app"))
        .max_bytes(64 << 10)
        .retention(Retention::new().free_space_on_enospc(true))
        .build()
        .unwrap();
    let stats = sink.stats();
    let (handler, errors) = common::collecting_handler();
    let (logger, _guard) = failing_fast(sink, handler, Duration::from_secs(20))
        .build()
        .unwrap();
    // About 1 MB/s: the 1 MiB file system is full after well under a
    // second, and again and again after that.
    let mut pump = Pump::start(&logger, 10_000);
    let t0 = Instant::now();
    while stats.files_freed() < 10 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the housekeeper freed only {} files: {}",
            stats.files_freed(),
            logger.health()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let (r, h) = report(&logger, &mut pump, &errors);
    for (path, len) in &foreign {
        assert_eq!(
            fs::metadata(path).map(|m| m.len()).ok(),
            Some(*len as u64),
            "{} was touched",
            path.display()
        );
    }
    // This logger's files only (the foreign ones hold no records).
    let mut tally = Tally::default();
    for e in fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("app.") && name.ends_with(".log") {
            tally.add_file(&procs::read_log_file(&path));
        }
    }
    assert!(
        tally.bad.is_empty(),
        "{:?}",
        &tally.bad[..tally.bad.len().min(5)]
    );
    assert!(tally.duplicates(PROC).is_empty());
    // The deleted files were the oldest: every record from the oldest one
    // still on disk on is there, or counted as dropped.
    let first = (0..r.offered_by_test)
        .find(|&s| tally.count(PROC, s) > 0)
        .expect("records on disk");
    let missing_later = (first..r.offered_by_test)
        .filter(|&s| tally.count(PROC, s) == 0)
        .count() as u64;
    assert!(
        missing_later <= h.dropped(),
        "{missing_later} records missing after the oldest kept, {} counted: {h}",
        h.dropped()
    );
    // The newest records were written: logging kept working.
    assert_eq!(tally.count(PROC, r.offered_by_test - 1), 1, "{h}");
    let reported = errors
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.message.contains("deleted") && e.message.contains("to make room"))
        .count() as u64;
    assert!(
        reported > 0,
        "deletions not reported: {:?}",
        r.error_classes
    );
    // Each file deleted held 64 KiB (one line more at most).
    assert!(
        stats.bytes_freed() >= stats.files_freed() * (60 << 10),
        "{}",
        stats.bytes_freed()
    );
    eprintln!(
        "disk full with free_space_on_enospc: offered {}, written {}, dropped {}, \
         {} files ({} bytes) deleted, first record kept {first}, files now {}, errors {:?}",
        r.offered_by_test,
        h.written,
        h.dropped(),
        stats.files_freed(),
        stats.bytes_freed(),
        tally.files,
        r.error_classes
    );
}
