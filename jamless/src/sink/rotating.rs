//! The rotating file sink: a new file per period and/or per size, in two
//! naming modes, safe when several processes share one path.
//!
//! * **Dated names** (default): the sink appends straight to the period's
//!   file (`app.2026-11-27.log`, then `app.2026-11-27.1.log` when a size
//!   limit splits it). Nothing is renamed, so nothing can race: every
//!   process computes the same name from the clock, and for size splits the
//!   same index from the files on disk (`fstat` sizes include the other
//!   processes' appends), so they converge on the same file.
//! * **Fixed active name** (`app.log`, renamed to its dated name when its
//!   period ends or it is full), for shippers that tail one name. The
//!   rename is coordinated with an advisory lock on a side file
//!   (`.app.log.lock`) plus an inode check: whoever holds the lock renames
//!   once and records the period; everyone else sees the inode changed (or
//!   the period recorded) and only reopens. A rename that finds no file
//!   (another process already moved it) is success. Nothing is truncated.
//!
//! Time comes from an injectable clock so that tests can cross midnight
//! without waiting; the rotation instant is computed, never polled.
//! Retention and compression run on a housekeeper thread
//! ([`super::housekeeper`]), never on the writer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::file::{plain_entries, FileSinkBuilder, OpenFile, DEFAULT_CHECK_INTERVAL};
use super::fs::{self as sinkfs, Appender, FileStats, Found};
use super::housekeeper::{Housekeeper, Writing};
use super::{classify, IoErrorClass, Lines, LostLines, Sink};
use crate::rotation::{self, InstanceEnv, Names, Naming, Retention, Rotation, RotationTz};
use crate::Error;

/// A wall clock, injectable for tests.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How long the writer waits for another process's rotation lock before
/// it gives up this time (and keeps appending to the current file).
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// Builds a [`RotatingFileSink`].
///
/// ```no_run
/// use jamless::{Naming, Rotation, RotatingFileSink, Retention, Compression};
/// let sink = RotatingFileSink::builder(Naming::new("logs", "app").suffix("log"))
///     .rotation(Rotation::DAILY)
///     .max_bytes(100 << 20)
///     .retention(Retention::new().max_files(14).compress(Compression::Gzip))
///     .build()?;
/// let (logger, _guard) = jamless::Builder::new().sink(sink).build()?;
/// # Ok::<(), jamless::Error>(())
/// ```
#[must_use]
pub struct RotatingFileSinkBuilder {
    naming: Naming,
    rotation: Rotation,
    tz: RotationTz,
    max_bytes: Option<u64>,
    retention: Option<Retention>,
    file: FileSinkBuilder,
    clock: Clock,
    check_interval: Duration,
    rotate_on_start: bool,
}

impl std::fmt::Debug for RotatingFileSinkBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingFileSinkBuilder")
            .field("naming", &self.naming)
            .field("rotation", &self.rotation)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl RotatingFileSinkBuilder {
    /// Rotation period (default [`Rotation::DAILY`]).
    pub fn rotation(mut self, rotation: Rotation) -> Self {
        self.rotation = rotation;
        self
    }

    /// The time zone that periods and names follow (default UTC).
    pub fn timezone(mut self, tz: RotationTz) -> Self {
        self.tz = tz;
        self
    }

    /// Start a new file once the current one holds this many bytes. Files
    /// are split between lines, so a file ends up at most one line larger.
    pub fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// Keep, compress and delete old files by this policy, on a housekeeper
    /// thread (default: keep everything, compress nothing).
    pub fn retention(mut self, retention: Retention) -> Self {
        self.retention = Some(retention);
        self
    }

    /// File creation mode (default `0o640`).
    pub fn mode(mut self, mode: u32) -> Self {
        self.file = self.file.mode(mode);
        self
    }

    /// Follow a symbolic link planted at a log file's path (default: refuse).
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        self.file = self.file.follow_symlinks(follow);
        self
    }

    /// How often the sink checks that its path still names its file
    /// (default 5 ms). Whether the open file was deleted is checked before
    /// every write regardless.
    pub fn check_interval(mut self, interval: Duration) -> Self {
        self.check_interval = interval;
        self
    }

    /// Start a new file when the logger starts, even if the period's file
    /// already holds records from an earlier run (default `false`: append to
    /// it). With dated names the next size index is used; with a fixed
    /// active name the old file is renamed to its dated name first.
    pub fn rotate_on_start(mut self, yes: bool) -> Self {
        self.rotate_on_start = yes;
        self
    }

    /// Replaces the wall clock (for tests that cross midnight without
    /// waiting).
    #[doc(hidden)]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the configuration; opens nothing (the writer opens the file).
    pub fn build(self) -> Result<RotatingFileSink, Error> {
        let names = self.naming.resolve(&InstanceEnv::from_process())?;
        let names_note = names.note().map(str::to_owned);
        let tz = self.tz.resolve()?;
        if self.max_bytes == Some(0) {
            return Err(Error::config("max_bytes must be at least 1"));
        }
        let appender = Appender::new();
        let mut free_space = false;
        let housekeeper = match self.retention {
            Some(r) => {
                r.validate()?;
                free_space = r.frees_space();
                Some(Housekeeper::spawn(
                    names.clone(),
                    self.rotation,
                    tz.clone(),
                    r,
                    appender.stats(),
                )?)
            }
            None => None,
        };
        Ok(RotatingFileSink {
            names,
            rotation: self.rotation,
            tz,
            max_bytes: self.max_bytes,
            file: self.file,
            clock: self.clock,
            check_interval: self.check_interval,
            current: None,
            appender,
            free_space,
            last_opened: None,
            warnings: names_warning(&names_note),
            next_boundary: None,
            last_check: None,
            housekeeper,
            start_pending: self.rotate_on_start,
        })
    }
}

/// The file being written (open in the sink's appender) and the period it
/// belongs to.
struct Current {
    path: PathBuf,
    period_start: Timestamp,
    /// The size index (dated mode; 0 in fixed mode).
    index: u32,
}

/// A file sink that rotates by time and/or size (see the module docs).
pub struct RotatingFileSink {
    names: Names,
    rotation: Rotation,
    tz: TimeZone,
    max_bytes: Option<u64>,
    file: FileSinkBuilder,
    clock: Clock,
    check_interval: Duration,
    current: Option<Current>,
    /// The open file (`Some` exactly when `current` is) and what was
    /// written into it since its last check.
    appender: Appender,
    next_boundary: Option<Timestamp>,
    last_check: Option<Instant>,
    housekeeper: Option<Housekeeper>,
    /// Ask the housekeeper for space when a write finds the disk full.
    free_space: bool,
    /// The file opened last (kept when a failure closes it): freeing
    /// space spares it.
    last_opened: Option<Writing>,
    /// Warnings for the error handler, given by the first `maintain`: a
    /// sanitised instance tag, an unsafe log directory.
    warnings: Option<Vec<String>>,
    /// `rotate_on_start` was asked for and the first file is not open yet.
    start_pending: bool,
}

impl std::fmt::Debug for RotatingFileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatingFileSink")
            .field("names", &self.names)
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

/// The warnings a new sink has for the error handler.
fn names_warning(note: &Option<String>) -> Option<Vec<String>> {
    Some(note.iter().cloned().collect())
}

fn to_ts(t: SystemTime) -> Timestamp {
    Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl RotatingFileSink {
    /// A builder for files named by `naming`.
    pub fn builder(naming: Naming) -> RotatingFileSinkBuilder {
        RotatingFileSinkBuilder {
            naming,
            rotation: Rotation::DAILY,
            tz: RotationTz::Utc,
            max_bytes: None,
            retention: None,
            file: FileSinkBuilder::new(""),
            clock: Arc::new(SystemTime::now),
            check_interval: DEFAULT_CHECK_INTERVAL,
            rotate_on_start: false,
        }
    }

    /// The path being written, if a file is open.
    pub fn current_path(&self) -> Option<PathBuf> {
        self.current.as_ref().map(|c| c.path.clone())
    }

    /// A handle to what this sink has seen happen to its files (fragments
    /// repaired, records written again after a deletion, truncations);
    /// take it before handing the sink to the logger.
    pub fn stats(&self) -> FileStats {
        self.appender.stats()
    }

    /// Makes `open` the file written to (after checking the one it
    /// replaces: a deleted file's records are written into the new one).
    fn switch_to(&mut self, open: OpenFile, period_start: Timestamp, index: u32) -> io::Result<()> {
        self.appender.retire();
        self.last_opened = Some((period_start, index, open.path.clone()));
        self.current = Some(Current {
            path: open.path.clone(),
            period_start,
            index,
        });
        if let Err(e) = self.appender.install(open) {
            self.current = None;
            return Err(e);
        }
        Ok(())
    }

    /// Forgets the current file (the appender closed it or must).
    fn drop_current(&mut self) {
        self.appender.retire();
        self.current = None;
    }

    /// The identity of the open file.
    fn open_identity(&self) -> Option<(u64, u64)> {
        self.appender.file().map(|f| (f.dev, f.ino))
    }

    fn period(&self, now: Timestamp) -> (Timestamp, String) {
        let start = rotation::period_start(&self.rotation, &self.tz, now);
        (
            start,
            rotation::period_label(&self.rotation, &self.tz, start),
        )
    }

    fn fixed(&self) -> bool {
        self.names.is_fixed_active()
    }

    /// Makes sure the right file is open for `now` and returns its size.
    fn prepare(&mut self, now: Timestamp) -> io::Result<u64> {
        let due = self.next_boundary.is_some_and(|b| now >= b);
        if !self.appender.is_open() {
            self.current = None;
        }
        if due || self.current.is_none() {
            let previous = self.current.as_ref().map(|c| c.period_start);
            self.drop_current();
            self.next_boundary = rotation::next_boundary(&self.rotation, &self.tz, now);
            if self.fixed() {
                self.open_fixed(now, previous)?;
            } else {
                self.open_dated(now, 0)?;
            }
            if due {
                if let Some(h) = &self.housekeeper {
                    h.poke();
                }
            }
        }
        let size = self.size()?;
        if std::mem::take(&mut self.start_pending) && size > 0 {
            if self.fixed() {
                self.rotate_fixed(now, Reason::Start)?;
            } else {
                self.next_dated_index(now)?;
            }
            return self.size();
        }
        if let Some(max) = self.max_bytes {
            if size >= max {
                if self.fixed() {
                    self.rotate_fixed(now, Reason::Size)?;
                } else {
                    self.next_dated_index(now)?;
                }
                if let Some(h) = &self.housekeeper {
                    h.poke();
                }
                return self.size();
            }
        }
        Ok(size)
    }

    fn size(&self) -> io::Result<u64> {
        match self.appender.file() {
            Some(f) => Ok(f.file.metadata()?.len()),
            None => Ok(0),
        }
    }

    /// Dated mode: opens the period's file with the highest index on disk,
    /// or the next one if that is full.
    /// `at_least` skips indices below it (a split because the next line does
    /// not fit, although the file is not full by size).
    fn open_dated(&mut self, now: Timestamp, at_least: u32) -> io::Result<()> {
        let (start, label) = self.period(now);
        let on_disk = match self.max_bytes {
            Some(_) => {
                let files = rotation::scan(&self.names, &self.rotation, &self.tz)?;
                rotation::highest_index(&files, start).unwrap_or(0)
            }
            None => 0,
        };
        let mut index = on_disk.max(at_least);
        loop {
            let open = self.file.open_path(&self.names.path(&label, index))?;
            let full = match self.max_bytes {
                Some(max) => open.file.metadata()?.len() >= max,
                None => false,
            };
            if !full || index == u32::MAX {
                return self.switch_to(open, start, index);
            }
            index += 1;
        }
    }

    fn next_dated_index(&mut self, now: Timestamp) -> io::Result<()> {
        let next = self
            .current
            .as_ref()
            .map_or(0, |c| c.index.saturating_add(1));
        self.open_dated(now, next)
    }

    /// Fixed mode: opens the active name; if it holds an earlier period's
    /// records (a restart after midnight, or our own period ended), it is
    /// renamed first.
    fn open_fixed(&mut self, now: Timestamp, previous: Option<Timestamp>) -> io::Result<()> {
        let active = self.active_path()?;
        let (start, _) = self.period(now);
        let stale_period = match previous {
            Some(p) if p < start => Some(p),
            Some(_) => None,
            None => match fs::symlink_metadata(&active) {
                Ok(meta) if meta.len() > 0 => {
                    let mtime = to_ts(meta.modified().unwrap_or(SystemTime::UNIX_EPOCH));
                    let (p, _) = self.period(mtime);
                    (p < start).then_some(p)
                }
                _ => None,
            },
        };
        if let Some(p) = stale_period {
            let open = self.file.open_path(&active)?;
            self.switch_to(open, p, 0)?;
            self.rotate_fixed(now, Reason::Time(p))?;
        }
        if self.current.is_none() {
            let open = self.file.open_path(&active)?;
            self.switch_to(open, start, 0)?;
        }
        Ok(())
    }

    fn active_path(&self) -> io::Result<PathBuf> {
        self.names
            .active_path()
            .ok_or_else(|| io::Error::other("fixed active name without an active path"))
    }

    /// Renames the active file to its dated name under the side lock, unless
    /// another process already did; then reopens the active name.
    fn rotate_fixed(&mut self, now: Timestamp, reason: Reason) -> io::Result<()> {
        let active = self.active_path()?;
        let Some(lock) = SideLock::acquire(&active, LOCK_WAIT)? else {
            // Another process holds the lock for too long: keep appending to
            // the current file and try again at the next write.
            return Ok(());
        };
        let (start, _) = self.period(now);
        let ours = self
            .open_identity()
            .zip(self.current.as_ref().map(|c| c.period_start))
            .map(|((dev, ino), period)| (dev, ino, period));
        let on_disk = match fs::symlink_metadata(&active) {
            Ok(m) => Some((m.dev(), m.ino(), m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let same =
            matches!((ours, on_disk), (Some((d, i, _)), Some((d2, i2, _))) if d == d2 && i == i2);
        let rename_as = match (reason, on_disk) {
            (_, None) => None,
            (_, Some(_)) if !same => None, // someone else rotated it
            // The active file holds records from the last recorded rotation
            // on: if another process rotated after our own period (we were
            // idle meanwhile), the file is that later period's, not ours.
            (Reason::Time(period), Some(_)) => {
                let recorded = lock.recorded()?;
                (recorded < start).then_some(period.max(recorded))
            }
            (Reason::Start, Some((_, _, len))) => {
                (len > 0).then(|| ours.map(|o| o.2).unwrap_or(start))
            }
            (Reason::Size, Some((_, _, len))) => {
                let max = self.max_bytes.unwrap_or(u64::MAX);
                (len >= max).then(|| ours.map(|o| o.2).unwrap_or(start))
            }
        };
        if let Some(period) = rename_as {
            let label = rotation::period_label(&self.rotation, &self.tz, period);
            self.rename_to_dated(&active, &label)?;
            if matches!(reason, Reason::Time(_)) {
                lock.record(start)?;
            }
        }
        let open = self.file.open_path(&active)?;
        self.switch_to(open, start, 0)?;
        drop(lock);
        Ok(())
    }

    fn rename_to_dated(&self, active: &std::path::Path, label: &str) -> io::Result<()> {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        let files = rotation::scan(&self.names, &self.rotation, &self.tz)?;
        let mut index = files
            .iter()
            .filter(|f| rotation::period_label(&self.rotation, &self.tz, f.period_start) == label)
            .map(|f| f.index + 1)
            .max()
            .unwrap_or(0);
        loop {
            let target = self.names.path(label, index);
            match renameat_with(CWD, active, CWD, &target, RenameFlags::NOREPLACE) {
                Ok(()) => return Ok(()),
                Err(rustix::io::Errno::EXIST) => index += 1,
                // Another process moved it first: that is success.
                Err(rustix::io::Errno::NOENT) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
            if index == u32::MAX {
                return Err(io::Error::other("no free rotation index"));
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Reason {
    /// The period that just ended.
    Time(Timestamp),
    Size,
    /// `rotate_on_start`: the file holds an earlier run's records.
    Start,
}

/// The advisory lock on `.NAME.lock` beside the active file. Its content
/// records the start of the last period rotated, in Unix seconds.
struct SideLock {
    file: File,
}

impl SideLock {
    fn acquire(active: &std::path::Path, wait: Duration) -> io::Result<Option<SideLock>> {
        use rustix::fs::{flock, FlockOperation};
        let name = active
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = active.with_file_name(format!(".{name}.lock"));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o640)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)?;
        let deadline = Instant::now() + wait;
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(Some(SideLock { file })),
                Err(rustix::io::Errno::WOULDBLOCK) | Err(rustix::io::Errno::INTR) => {
                    if Instant::now() >= deadline {
                        return Ok(None);
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn recorded(&self) -> io::Result<Timestamp> {
        let mut s = String::new();
        (&self.file).rewind()?;
        (&self.file).read_to_string(&mut s)?;
        Ok(s.trim()
            .parse::<i64>()
            .ok()
            .and_then(|secs| Timestamp::from_second(secs).ok())
            .unwrap_or(Timestamp::MIN))
    }

    fn record(&self, start: Timestamp) -> io::Result<()> {
        self.file.set_len(0)?;
        (&self.file).rewind()?;
        (&self.file).write_all(format!("{}\n", start.as_second()).as_bytes())
    }
}

/// Cuts `buf` to the whole lines that fit in `room` bytes; at least one
/// line, so a line larger than a whole file still goes out (alone).
fn fit_lines(buf: &[u8], room: u64, file_empty: bool) -> usize {
    if (buf.len() as u64) <= room {
        return buf.len();
    }
    let limit = room.min(buf.len() as u64) as usize;
    match buf[..limit].iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        None if file_empty => buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1),
        None => 0,
    }
}

impl RotatingFileSink {
    /// Writes a prefix of `lines` into the right file for now.
    fn write_checked(&mut self, lines: &Lines<'_>) -> io::Result<usize> {
        let buf = lines.bytes();
        if buf.is_empty() {
            return Ok(0);
        }
        let now = to_ts((self.clock)());
        let size = self.prepare(now)?;
        let n = match self.max_bytes {
            Some(max) => {
                let n = fit_lines(buf, max.saturating_sub(size), size == 0);
                if n == 0 {
                    // The file is too full for the next line: split now.
                    if self.fixed() {
                        self.rotate_fixed(now, Reason::Size)?;
                    } else {
                        self.next_dated_index(now)?;
                    }
                    fit_lines(buf, max, true)
                } else {
                    n
                }
            }
            None => buf.len(),
        };
        let Some(path) = self.current.as_ref().map(|c| c.path.clone()) else {
            return Err(io::Error::other("no file open after rotation"));
        };
        let file = &self.file;
        let result = self.appender.write(
            lines,
            n,
            self.check_interval,
            file.follows_symlinks(),
            || file.open_path(&path),
        );
        if !self.appender.is_open() {
            // Never keep a file that failed: the next write reopens.
            self.current = None;
        }
        result
    }

    /// A full disk, with `free_space_on_enospc`: ask the housekeeper to
    /// delete the oldest rotated file (the writer retries the batch).
    fn on_write_error(&self, e: &io::Error) {
        if !self.free_space || classify(e) != IoErrorClass::DiskFull {
            return;
        }
        if let (Some(h), Some(w)) = (&self.housekeeper, &self.last_opened) {
            h.request_space(w.clone());
        }
    }

    /// Checks the open file; a deleted one is replaced at once, so that
    /// its unverified records reach the new file even if nothing more is
    /// logged.
    fn verify(&mut self, path_due: bool) -> io::Result<()> {
        match self
            .appender
            .check(path_due, self.file.follows_symlinks())?
        {
            Found::InPlace => Ok(()),
            // Moved by logrotate or another process: the next write opens
            // the path again.
            Found::Moved => {
                self.current = None;
                Ok(())
            }
            Found::Unlinked => {
                self.current = None;
                let now = to_ts((self.clock)());
                self.prepare(now).map(|_| ())
            }
        }
    }
}

impl Sink for RotatingFileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let entries = plain_entries(buf);
        self.write_lines(&Lines::new(buf, 0, &entries))
    }

    fn write_lines(&mut self, lines: &Lines<'_>) -> io::Result<usize> {
        let result = self.write_checked(lines);
        if let Err(e) = &result {
            self.on_write_error(e);
        }
        result
    }

    fn take_lost(&mut self) -> Option<LostLines> {
        self.appender.take_lost()
    }

    fn flush(&mut self) -> io::Result<()> {
        // Nothing is buffered, but a file deleted since the last write
        // must get its records back now.
        self.verify(false)
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.drop_current();
        let now = to_ts((self.clock)());
        self.prepare(now).map(|_| ())
    }

    fn close(&mut self) -> io::Result<()> {
        let verified = self.verify(false);
        // Whatever a deleted file held and could not be written again is
        // lost now: say so.
        self.appender.abandon();
        // Dropping the housekeeper stops it between two steps and waits for
        // it (bounded), so a clean exit leaves no half-done compression.
        if let Some(h) = self.housekeeper.take() {
            let error = h.take_error();
            drop(h);
            if let Some(err) = error {
                return Err(io::Error::other(err));
            }
        }
        verified
    }

    fn maintain(&mut self, _now: SystemTime) -> io::Result<()> {
        if let Some(mut warnings) = self.warnings.take() {
            warnings.extend(sinkfs::unsafe_dir(self.names.dir()));
            if !warnings.is_empty() {
                return Err(super::classified(
                    IoErrorClass::PermissionDenied,
                    "warning".into(),
                    io::Error::other(warnings.join("; ")),
                ));
            }
        }
        if let Some(h) = &self.housekeeper {
            if let Some(err) = h.take_error() {
                return Err(io::Error::other(err));
            }
        }
        let due = self
            .last_check
            .is_none_or(|t| t.elapsed() >= self.check_interval);
        if due {
            self.last_check = Some(Instant::now());
        }
        self.verify(due)
    }

    fn describe(&self) -> String {
        match &self.current {
            Some(c) => format!("file:{}", c.path.display()),
            None => format!("rotating:{}", self.names.dir().display()),
        }
    }

    fn stats(&self) -> Option<super::SinkStats> {
        Some(self.stats().sink_stats())
    }
}

#[cfg(test)]
#[path = "rotating_tests.rs"]
mod tests;
