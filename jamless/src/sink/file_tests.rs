//! Tests of the file sink against real files, directories, links, FIFOs and
//! a tiny tmpfs.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{symlink, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use super::super::classify::{classify, IoErrorClass};
use super::super::{Lines, Sink};
use super::{plain_entries, FileSink, FileSinkBuilder};

/// An arbitrary fixed "now" for injected time.
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn sink(path: &Path) -> FileSink {
    FileSinkBuilder::new(path).build()
}

/// Writes all of `line` (the sink returns the whole count for small writes).
fn put(sink: &mut FileSink, line: &str) {
    let n = sink.write(line.as_bytes()).expect("write");
    assert_eq!(n, line.len());
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).expect("read")
}

/// The OS error code behind a sink error (sink errors wrap the OS error to
/// add a class and the path).
fn os_code(err: &io::Error) -> Option<i32> {
    err.get_ref()
        .and_then(|e| e.source())
        .and_then(|e| e.downcast_ref::<io::Error>())
        .and_then(io::Error::raw_os_error)
}

/// The process umask, read without changing it (changing it would race with
/// the other tests).
fn umask() -> u32 {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .expect("Umask line");
    u32::from_str_radix(line.trim(), 8).expect("octal umask")
}

#[test]
fn build_does_no_io_and_describes_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("app.log");
    let mut s = sink(&path);
    assert_eq!(s.path(), path);
    assert_eq!(s.describe(), format!("file:{}", path.display()));
    assert!(!dir.path().join("sub").exists());
    // Nothing to maintain or flush yet, and an empty write opens nothing.
    s.maintain(t0()).unwrap();
    s.flush().unwrap();
    assert_eq!(s.write(b"").unwrap(), 0);
    assert!(!dir.path().join("sub").exists());
}

#[test]
fn creates_file_0640_and_missing_parent_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a").join("b").join("app.log");
    let mut s = sink(&path);
    put(&mut s, "hello\n");
    assert_eq!(read(&path), "hello\n");

    let mask = umask();
    let file_mode = fs::metadata(&path).unwrap().mode() & 0o777;
    assert_eq!(file_mode, 0o640 & !mask, "umask {mask:o}");
    for d in [dir.path().join("a"), dir.path().join("a").join("b")] {
        let meta = fs::metadata(&d).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o777, 0o750 & !mask, "{}", d.display());
    }
    if mask & 0o137 == 0 {
        assert_eq!(file_mode, 0o640);
    }
}

#[test]
fn custom_mode_and_existing_file_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut s = FileSinkBuilder::new(&path).mode(0o600).build();
    put(&mut s, "x\n");
    assert_eq!(
        fs::metadata(&path).unwrap().mode() & 0o777,
        0o600 & !umask()
    );

    let existing = dir.path().join("existing.log");
    fs::write(&existing, "").unwrap();
    fs::set_permissions(&existing, fs::Permissions::from_mode(0o644)).unwrap();
    let mut s = sink(&existing);
    put(&mut s, "y\n");
    assert_eq!(fs::metadata(&existing).unwrap().mode() & 0o777, 0o644);
}

#[test]
fn open_flags_are_append_cloexec_and_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut s = sink(&path);
    s.reopen().unwrap();
    let fd = s.appender.file().unwrap().file.as_raw_fd();
    let info = fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
    let flags = info
        .lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .map(|f| i32::from_str_radix(f.trim(), 8).unwrap())
        .unwrap();
    // Read access for the fragment check (the file's last byte).
    assert_eq!(flags & libc::O_ACCMODE, libc::O_RDWR, "{flags:o}");
    assert_ne!(flags & libc::O_APPEND, 0, "{flags:o}");
    assert_ne!(flags & libc::O_CLOEXEC, 0, "{flags:o}");
    assert_eq!(flags & libc::O_NONBLOCK, 0, "{flags:o}");
    assert_eq!(flags & libc::O_TRUNC, 0, "{flags:o}");
}

#[test]
fn appends_and_never_truncates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    fs::write(&path, "old line\n").unwrap();
    let mut s = sink(&path);
    put(&mut s, "new 1\n");
    s.reopen().unwrap();
    put(&mut s, "new 2\n");
    drop(s);
    let mut s = sink(&path);
    put(&mut s, "new 3\n");
    assert_eq!(read(&path), "old line\nnew 1\nnew 2\nnew 3\n");
}

#[test]
fn two_sinks_on_one_path_both_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut a = sink(&path);
    let mut b = sink(&path);
    put(&mut a, "a1\n");
    put(&mut b, "b1\n");
    put(&mut a, "a2\n");
    put(&mut b, "b2\n");
    assert_eq!(read(&path), "a1\nb1\na2\nb2\n");
}

#[test]
fn deleted_file_is_recreated_and_unverified_records_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut s = sink(&path);
    put(&mut s, "first\n");
    // Checked while still linked: "first" was delivered, the deletion
    // below is the user's and is not undone.
    s.maintain(t0()).unwrap();
    fs::remove_file(&path).unwrap();
    // The next write sees the open file's link count at zero and goes to a
    // recreated file.
    put(&mut s, "second\n");
    assert_eq!(read(&path), "second\n");
    // Deleted after "third" was written and before any check: "third" is
    // written again, by maintain even if nothing more is logged.
    put(&mut s, "third\n");
    fs::remove_file(&path).unwrap();
    s.maintain(t0() + secs(0.001)).unwrap();
    assert_eq!(read(&path), "third\n");
    assert_eq!(s.stats().unlinks_seen(), 2);
    assert_eq!(s.stats().records_replayed(), 1);
    put(&mut s, "fourth\n");
    assert_eq!(read(&path), "third\nfourth\n");
    assert!(s.take_lost().is_none());
}

#[test]
fn maintain_checks_the_path_at_most_every_interval() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let moved = dir.path().join("app.log.1");
    let mut s = FileSinkBuilder::new(&path)
        .check_interval(Duration::from_secs(10))
        .build();
    put(&mut s, "a\n");
    s.maintain(t0()).unwrap();
    fs::rename(&path, &moved).unwrap();
    s.maintain(t0() + secs(9.9)).unwrap();
    assert!(s.appender.is_open(), "checked before the interval");
    // A clock that went backwards counts as due.
    s.maintain(t0() - secs(1.0)).unwrap();
    assert!(!s.appender.is_open(), "backwards clock not treated as due");
    // Moved, not deleted: its record stays there and is not written again.
    put(&mut s, "b\n");
    assert_eq!(read(&moved), "a\n");
    assert_eq!(read(&path), "b\n");

    // Interval zero: every call checks.
    let mut s = FileSinkBuilder::new(&path)
        .check_interval(Duration::ZERO)
        .build();
    s.maintain(t0()).unwrap();
    fs::rename(&path, &moved).unwrap();
    s.maintain(t0()).unwrap();
    assert!(!s.appender.is_open());
}

#[test]
fn removed_directory_is_recreated_and_records_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("logs");
    let path = logdir.join("app.log");
    let mut s = sink(&path);
    put(&mut s, "before\n");
    s.maintain(t0()).unwrap();
    fs::remove_dir_all(&logdir).unwrap();
    // The write notices the deleted file and recreates the directory.
    put(&mut s, "after\n");
    assert_eq!(read(&path), "after\n");
    assert!(fs::metadata(&logdir).unwrap().is_dir());
    // Removed right after a write: maintain writes it again.
    fs::remove_dir_all(&logdir).unwrap();
    s.maintain(t0() + secs(1.0)).unwrap();
    assert_eq!(read(&path), "after\n");
}

#[test]
fn directory_replaced_by_a_file_is_noticed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("logs");
    let path = logdir.join("app.log");
    let mut s = sink(&path);
    put(&mut s, "before\n");
    fs::remove_dir_all(&logdir).unwrap();
    fs::write(&logdir, "not a directory\n").unwrap();
    // The file is gone and cannot be recreated: ENOTDIR, reported.
    let err = s.maintain(t0() + secs(1.0)).unwrap_err();
    assert_eq!(os_code(&err), Some(libc::ENOTDIR), "{err}");
    assert!(!s.appender.is_open());
    let err = s.write(b"x\n").unwrap_err();
    assert_eq!(os_code(&err), Some(libc::ENOTDIR), "{err}");
    assert_eq!(classify(&err), IoErrorClass::Other, "{err}");
    assert_eq!(read(&logdir), "not a directory\n");
    // Shutting down with "before" unwritable reports it lost.
    s.close().unwrap();
    let lost = s.take_lost().expect("reported lost");
    assert_eq!(lost.cause, crate::DropCause::FileUnlinked);
    assert_eq!(lost.by_level.iter().sum::<u64>(), 1);
}

#[test]
fn removed_directory_without_create_dirs_is_directory_gone() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("logs");
    let path = logdir.join("app.log");
    let mut s = FileSinkBuilder::new(&path).create_dirs(false).build();
    let err = s.write(b"x\n").unwrap_err();
    assert_eq!(classify(&err), IoErrorClass::DirectoryGone, "{err}");
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(!logdir.exists());

    fs::create_dir(&logdir).unwrap();
    put(&mut s, "x\n");
    assert_eq!(read(&path), "x\n");
}

#[test]
fn renamed_away_logrotate_create_style() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let rotated = dir.path().join("app.log.1");
    let mut s = sink(&path);
    put(&mut s, "one\n");
    s.maintain(t0()).unwrap();
    fs::rename(&path, &rotated).unwrap();
    // Until the check, lines follow the open file to its new name.
    put(&mut s, "two\n");
    s.maintain(t0() + secs(1.0)).unwrap();
    put(&mut s, "three\n");
    assert_eq!(read(&rotated), "one\ntwo\n");
    assert_eq!(read(&path), "three\n");
}

#[test]
fn renamed_away_and_recreated_by_logrotate_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let rotated = dir.path().join("app.log.1");
    let mut s = sink(&path);
    put(&mut s, "one\n");
    s.maintain(t0()).unwrap();
    fs::rename(&path, &rotated).unwrap();
    fs::write(&path, "created by logrotate\n").unwrap();
    s.maintain(t0() + secs(1.0)).unwrap();
    put(&mut s, "two\n");
    assert_eq!(read(&rotated), "one\n");
    assert_eq!(read(&path), "created by logrotate\ntwo\n");
}

#[test]
fn reopen_switches_to_the_new_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let rotated = dir.path().join("app.log.1");
    let mut s = sink(&path);
    put(&mut s, "one\n");
    fs::rename(&path, &rotated).unwrap();
    s.reopen().unwrap();
    assert!(path.exists(), "reopen did not create the file");
    put(&mut s, "two\n");
    assert_eq!(read(&rotated), "one\n");
    assert_eq!(read(&path), "two\n");
}

#[test]
fn reopen_returns_the_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.log");
    let path = dir.path().join("app.log");
    fs::write(&target, "").unwrap();
    symlink(&target, &path).unwrap();
    let mut s = sink(&path);
    let err = s.reopen().unwrap_err();
    assert_eq!(classify(&err), IoErrorClass::PermissionDenied, "{err}");
    assert!(!s.appender.is_open());
}

#[test]
fn symlink_at_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.log");
    let path = dir.path().join("app.log");
    fs::write(&target, "secret\n").unwrap();
    symlink(&target, &path).unwrap();

    let mut s = sink(&path);
    let err = s.write(b"planted\n").unwrap_err();
    assert_eq!(classify(&err), IoErrorClass::PermissionDenied, "{err}");
    assert_eq!(err.raw_os_error(), None, "wrapped with context");
    assert_eq!(os_code(&err), Some(libc::ELOOP), "{err}");
    assert!(err.to_string().contains("app.log"), "{err}");
    assert_eq!(read(&target), "secret\n");
    // Still refused on the next attempt.
    assert!(s.write(b"planted\n").is_err());
    assert_eq!(read(&target), "secret\n");

    // A dangling link is not used to create its target either.
    let missing = dir.path().join("missing.log");
    let dangling = dir.path().join("dangling.log");
    symlink(&missing, &dangling).unwrap();
    let mut s = sink(&dangling);
    let err = s.write(b"planted\n").unwrap_err();
    assert_eq!(classify(&err), IoErrorClass::PermissionDenied, "{err}");
    assert!(!missing.exists());
}

#[test]
fn symlink_followed_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.log");
    let path = dir.path().join("app.log");
    fs::write(&target, "old\n").unwrap();
    symlink(&target, &path).unwrap();
    let mut s = FileSinkBuilder::new(&path).follow_symlinks(true).build();
    put(&mut s, "new\n");
    // maintain compares with the link's target, so it does not churn.
    s.maintain(t0()).unwrap();
    assert!(s.appender.is_open());
    put(&mut s, "newer\n");
    assert_eq!(read(&target), "old\nnew\nnewer\n");
}

#[test]
fn symlink_swapped_in_while_open_is_noticed_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.log");
    let path = dir.path().join("app.log");
    fs::write(&target, "").unwrap();
    let mut s = sink(&path);
    put(&mut s, "mine\n");
    s.maintain(t0()).unwrap();
    fs::remove_file(&path).unwrap();
    symlink(&target, &path).unwrap();
    s.maintain(t0() + secs(1.0)).unwrap_err();
    assert!(!s.appender.is_open());
    let err = s.write(b"planted\n").unwrap_err();
    assert_eq!(classify(&err), IoErrorClass::PermissionDenied, "{err}");
    assert_eq!(read(&target), "");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

/// Runs `f` on another thread and fails (instead of hanging the test run)
/// if it takes longer than `limit`.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).expect("blocked: took too long")
}

#[test]
fn fifo_without_reader_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.fifo");
    mkfifo(&path);
    let (err, elapsed) = within(Duration::from_secs(10), move || {
        let mut s = sink(&path);
        let start = Instant::now();
        let err = s.write(b"line\n").unwrap_err();
        assert_eq!(os_code(&err), Some(libc::ENXIO), "{err}");
        // Every attempt fails fast, not only the first.
        assert!(s.write(b"line\n").is_err());
        (err, start.elapsed())
    });
    assert_eq!(classify(&err), IoErrorClass::NoReader, "{err}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[test]
fn fifo_with_reader_receives_lines_and_reader_loss_is_no_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.fifo");
    mkfifo(&path);
    let mut reader = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .unwrap();
    let path2 = path.clone();
    let s = within(Duration::from_secs(10), move || {
        let mut s = sink(&path2);
        put(&mut s, "one\n");
        put(&mut s, "two\n");
        s
    });
    let mut got = String::new();
    reader
        .read_to_string(&mut got)
        .or_else(ignore_would_block)
        .unwrap();
    assert_eq!(got, "one\ntwo\n");
    drop(reader);

    let (first, second) = within(Duration::from_secs(10), move || {
        let mut s = s;
        // The reader left: EPIPE (SIGPIPE is ignored in Rust programs), then
        // the reopen finds no reader: ENXIO.
        (first_error(&mut s), first_error(&mut s))
    });
    assert_eq!(first.kind(), io::ErrorKind::BrokenPipe, "{first}");
    assert_eq!(classify(&first), IoErrorClass::NoReader, "{first}");
    assert_eq!(classify(&second), IoErrorClass::NoReader, "{second}");
    assert_eq!(os_code(&second), Some(libc::ENXIO), "{second}");
}

/// Writes until the sink fails and returns the error. A process forked by
/// a test running in parallel holds a copy of every descriptor (the FIFO's
/// read end too) for a moment between fork and exec, so a write right after
/// the reader closed may still succeed.
fn first_error(s: &mut FileSink) -> io::Error {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match s.write(b"late\n") {
            Err(err) => return err,
            Ok(n) => {
                assert!(Instant::now() < deadline, "still writable after 5 s ({n})");
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn ignore_would_block(err: io::Error) -> io::Result<usize> {
    if err.kind() == io::ErrorKind::WouldBlock {
        Ok(0)
    } else {
        Err(err)
    }
}

/// A tmpfs mounted for one test, unmounted when dropped (also on panic).
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Still busy (a descriptor left open by a failed test): detach.
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

#[test]
fn disk_full_is_reported_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    // Declared after `dir` and before the sink, so it is dropped after the
    // sink closes its file and before the directory is removed.
    let tmpfs = match Tmpfs::mount(&mnt, "64k") {
        Ok(t) => t,
        Err(reason) => {
            eprintln!("skipping disk_full_is_reported_and_recovers: cannot mount tmpfs: {reason}");
            return;
        }
    };
    let filler = mnt.join("filler");
    fs::write(&filler, vec![0u8; 32 * 1024]).unwrap();
    let path = tmpfs.dir.join("app.log");
    let mut s = sink(&path);

    let line = format!("{}\n", "x".repeat(999));
    let mut written = 0usize;
    let mut short = 0usize;
    let mut err = None;
    for _ in 0..1000 {
        match s.write(line.as_bytes()) {
            Ok(n) => {
                written += n;
                if n < line.len() {
                    short += 1;
                }
            }
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    let err = err.expect("the 64k tmpfs never filled up");
    assert_eq!(classify(&err), IoErrorClass::DiskFull, "{err}");
    assert_eq!(os_code(&err), Some(libc::ENOSPC), "{err}");
    assert!(!s.appender.is_open(), "the failed file was kept open");
    // Still full: still an error, never a panic.
    assert!(s.write(line.as_bytes()).is_err());
    // The counts were honest: the file holds exactly what was reported.
    assert_eq!(fs::metadata(&path).unwrap().len(), written as u64);
    eprintln!("disk full after {written} bytes, {short} short write(s): {err}");

    // A line cut short by the full disk gets a newline before the next one.
    let cut_short = fs::read(&path).unwrap().last().is_some_and(|&b| b != b'\n');
    fs::remove_file(&filler).unwrap();
    // The space comes back once the last descriptor of the filler closes;
    // a process forked meanwhile by a parallel test may hold a copy for a
    // moment, so allow a few retries.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match s.write(b"after\n") {
            Ok(n) => {
                assert_eq!(n, "after\n".len());
                break;
            }
            Err(e) if classify(&e) == IoErrorClass::DiskFull && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("still failing after the filler was removed: {e}"),
        }
    }
    let content = fs::read(&path).unwrap();
    let repair = usize::from(cut_short);
    assert_eq!(content.len(), written + repair + "after\n".len());
    assert!(content.ends_with(b"after\n"));
    assert_eq!(s.stats().fragments_repaired(), repair as u64);
    drop(s);
    drop(tmpfs);
}

#[test]
fn truncation_reports_the_records_written_lately() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut s = sink(&path);
    put(&mut s, "a\n");
    s.maintain(t0()).unwrap();
    put(&mut s, "b\nc\n");
    // copytruncate's cut: the file is emptied under the open descriptor.
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    put(&mut s, "d\n");
    let lost = s.take_lost().expect("the truncation is reported");
    assert_eq!(lost.cause, crate::DropCause::FileTruncated);
    // All three were written within the lookback, a before the last
    // check too: the copy may have begun before it.
    assert_eq!(lost.by_level, [0, 0, 3, 0, 0], "a, b and c may be lost");
    assert!(s.take_lost().is_none());
    assert_eq!(s.stats().truncations_seen(), 1);
    // O_APPEND: no hole, the next line is at the new end.
    assert_eq!(read(&path), "d\n");
    // Growing again is not a truncation.
    put(&mut s, "e\n");
    s.maintain(t0() + secs(1.0)).unwrap();
    assert!(s.take_lost().is_none());
}

#[test]
fn another_writers_fragment_gets_a_newline_before_our_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut s = sink(&path);
    put(&mut s, "one\n");
    // A process killed in the middle of its write leaves this behind.
    let mut other = fs::OpenOptions::new().append(true).open(&path).unwrap();
    other.write_all(b"half a rec").unwrap();
    put(&mut s, "two\n");
    assert_eq!(read(&path), "one\nhalf a rec\ntwo\n");
    assert_eq!(s.stats().fragments_repaired(), 1);
    // Our own line, resumed after a short write, is continued in place.
    let entries = plain_entries(b"thr");
    let n = s.write_lines(&Lines::new(b"thr", 0, &entries)).unwrap();
    assert_eq!(n, 3);
    put(&mut s, "ee\n");
    assert_eq!(read(&path), "one\nhalf a rec\ntwo\nthree\n");
    assert_eq!(s.stats().fragments_repaired(), 1);
}

#[test]
fn a_world_writable_log_directory_is_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("shared");
    fs::create_dir(&logdir).unwrap();
    fs::set_permissions(&logdir, fs::Permissions::from_mode(0o777)).unwrap();
    let mut s = sink(&logdir.join("app.log"));
    let err = s.maintain(t0()).unwrap_err();
    assert!(err.to_string().contains("writable by every user"), "{err}");
    s.maintain(t0() + secs(1.0)).unwrap();
    // A warning, not a refusal: logging goes on.
    put(&mut s, "x\n");
    // The sticky bit (as on /tmp) makes it safe.
    fs::set_permissions(&logdir, fs::Permissions::from_mode(0o1777)).unwrap();
    let mut s = sink(&logdir.join("app.log"));
    s.maintain(t0()).unwrap();
}
