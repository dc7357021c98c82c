//! File-system helpers shared by the plain and the rotating file sink:
//! the identity of an open log file, the check that the path still names
//! it, and the [`Appender`], which appends so that no record is lost
//! without being counted when the file is deleted or truncated under the
//! sink, and no record is glued to another process's half-written line.
//!
//! The appender's protocol, per write call on a regular file:
//!
//! 1. Take an advisory `flock(LOCK_EX)` on the open file (every jamless
//!    process appending to the file takes it; bounded wait).
//! 2. `fstat` the descriptor. `st_nlink == 0`: the file was deleted since
//!    the last check, and the bytes written since then (the *window*, kept
//!    by the appender) are written again into the recreated file.
//!    `st_size` below what this process knows it wrote: the file was
//!    truncated (`copytruncate`), and the records written lately (a
//!    second plus the copy's time, see the `recent` module for why that
//!    bounds the loss) may be lost; they are reported through
//!    [`Appender::take_lost`]. Otherwise the window is verified and
//!    released.
//! 3. At most every check interval, `stat` the path: a path that names
//!    another inode (the file was moved away, by logrotate `create` or
//!    `mv`) means the open file still holds its records: the window is
//!    released, never written twice, and the path is reopened.
//! 4. If the file does not end with `\n` (`pread` of its last byte), a
//!    process was killed in the middle of a write: this write starts with
//!    `\n`, so the fragment stays alone on its line, and the fragment is
//!    counted ([`FileStats::fragments_repaired`]).
//! 5. Write, keep the bytes in the window, unlock.
//!
//! FIFOs and devices have no size or link count worth checking: they are
//! written straight through.

use std::fs::{self, File};
use std::io::{self, IoSlice, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::fs::{flock, fstat, FlockOperation};

use super::classify::classified;
use super::recent::{self, Recent};
use super::{classify, LineMeta, Lines, LostLines};
use crate::counters::DropCause;

/// The most bytes one call writes (and the window keeps): a longer call is
/// cut at a line boundary below this (a short write, which the writer
/// resumes), so the window stays bounded whatever the batch size.
const MAX_WINDOW: usize = 1 << 20;

/// How long a write waits for another process's append lock before it
/// appends without it (counted in [`FileStats::lock_timeouts`]): a
/// process stopped while holding the lock must not stop every other one.
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// How often a write reopens a file that keeps vanishing before it gives
/// up this attempt (the writer retries with back-off).
const MAX_REOPENS: usize = 3;

/// An open log file and the identity it had when opened.
#[derive(Debug)]
pub(crate) struct OpenFile {
    pub(crate) file: File,
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    /// The path it was opened from, which the checks compare with. Kept
    /// apart from the configured path so that rotation can change the
    /// target between writes.
    pub(crate) path: PathBuf,
    /// A regular file (not a FIFO or a device): only those are locked,
    /// checked for deletion and truncation, and repaired after fragments.
    pub(crate) regular: bool,
}

impl OpenFile {
    /// Wraps a file just opened from `path`.
    pub(crate) fn new(file: File, path: &Path) -> io::Result<OpenFile> {
        let meta = file.metadata()?;
        Ok(OpenFile {
            dev: meta.dev(),
            ino: meta.ino(),
            regular: meta.file_type().is_file(),
            file,
            path: path.to_path_buf(),
        })
    }

    /// Whether the path this file was opened from still names it.
    pub(crate) fn still_in_place(&self, follow_symlinks: bool) -> io::Result<bool> {
        let meta = if follow_symlinks {
            fs::metadata(&self.path)
        } else {
            fs::symlink_metadata(&self.path)
        };
        match meta {
            // A link planted at the path (when links are not followed) is an
            // inode of its own, so it never matches the open file.
            Ok(meta) => Ok(meta.dev() == self.dev && meta.ino() == self.ino),
            // ENOTDIR: a directory on the path was replaced by a file.
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) if err.raw_os_error() == Some(libc::ENOTDIR) => Ok(false),
            Err(err) => {
                let context = format!("stat {}", self.path.display());
                Err(classified(classify(&err), context, err))
            }
        }
    }
}

/// Why a log directory is unsafe, if it is: writable by others without
/// the sticky bit (anyone may replace or remove the log files), or owned
/// by someone other than this user or root. `None` if it is fine or does
/// not exist yet (the sink creates it, mode `0o750`).
pub(crate) fn unsafe_dir(dir: &Path) -> Option<String> {
    let meta = fs::metadata(dir).ok()?;
    let mode = meta.permissions().mode();
    let euid = rustix::process::geteuid().as_raw();
    if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        return Some(format!(
            "log directory {} is writable by every user (mode {:o}, no sticky bit): \
             anyone can replace or delete the log files",
            dir.display(),
            mode & 0o7777
        ));
    }
    if meta.uid() != euid && meta.uid() != 0 {
        return Some(format!(
            "log directory {} belongs to user {}, not to this process's user {euid} or root",
            dir.display(),
            meta.uid()
        ));
    }
    None
}

/// Counters a file sink keeps about its file, readable from any thread
/// through [`FileStats`] (from [`super::FileSink::stats`] or
/// [`super::RotatingFileSink::stats`]).
#[derive(Debug, Default)]
struct StatsInner {
    fragments: AtomicU64,
    replayed: AtomicU64,
    unlinked: AtomicU64,
    truncated: AtomicU64,
    lock_timeouts: AtomicU64,
    files_freed: AtomicU64,
    bytes_freed: AtomicU64,
}

/// What a file sink has seen happen to its files; a cheap handle to
/// counters the sink updates (clone it before handing the sink to the
/// builder).
#[derive(Debug, Clone, Default)]
pub struct FileStats(Arc<StatsInner>);

impl FileStats {
    /// Half-written lines found at the end of the file before a write
    /// (another process was killed in the middle of its write, or a write
    /// failed part way): each got a newline so that the next record
    /// starts a line of its own.
    pub fn fragments_repaired(&self) -> u64 {
        self.0.fragments.load(Ordering::Relaxed)
    }

    /// Records written again into a recreated file because the file they
    /// had been written into was deleted before they were verified.
    pub fn records_replayed(&self) -> u64 {
        self.0.replayed.load(Ordering::Relaxed)
    }

    /// How often the open file was found deleted.
    pub fn unlinks_seen(&self) -> u64 {
        self.0.unlinked.load(Ordering::Relaxed)
    }

    /// How often the open file was found shorter than this process had
    /// made it (truncated by another program).
    pub fn truncations_seen(&self) -> u64 {
        self.0.truncated.load(Ordering::Relaxed)
    }

    /// Writes that waited a second for another process's append lock
    /// and then appended without it.
    pub fn lock_timeouts(&self) -> u64 {
        self.0.lock_timeouts.load(Ordering::Relaxed)
    }

    /// Rotated files deleted to make room on a full disk
    /// ([`crate::Retention::free_space_on_enospc`]).
    pub fn files_freed(&self) -> u64 {
        self.0.files_freed.load(Ordering::Relaxed)
    }

    /// The bytes those files held.
    pub fn bytes_freed(&self) -> u64 {
        self.0.bytes_freed.load(Ordering::Relaxed)
    }

    /// The counters as the health snapshot shows them.
    pub(crate) fn sink_stats(&self) -> super::SinkStats {
        let s = self.clone();
        super::SinkStats::new(move || {
            vec![
                ("fragments_repaired", s.fragments_repaired()),
                ("records_replayed", s.records_replayed()),
                ("unlinks_seen", s.unlinks_seen()),
                ("truncations_seen", s.truncations_seen()),
                ("lock_timeouts", s.lock_timeouts()),
                ("files_freed", s.files_freed()),
                ("bytes_freed", s.bytes_freed()),
            ]
        })
    }

    pub(crate) fn add_freed(&self, bytes: u64) {
        FileStats::add(&self.0.files_freed, 1);
        FileStats::add(&self.0.bytes_freed, bytes);
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// Bytes written since the open file was last verified, with the line
/// structure needed to write them again or to count what they held.
#[derive(Debug, Default)]
struct Window {
    bytes: Vec<u8>,
    /// Lines that end in `bytes` (offset one past their `\n`), in order.
    lines: Vec<(usize, LineMeta)>,
    /// `bytes` starts inside a line begun before the window: that line
    /// cannot be written again whole.
    head_partial: bool,
}

impl Window {
    fn clear(&mut self) {
        self.bytes.clear();
        self.lines.clear();
        self.head_partial = false;
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Records (not notices) per level among `lines`.
    fn count(lines: &[(usize, LineMeta)]) -> [u64; 5] {
        let mut by_level = [0u64; 5];
        for (_, meta) in lines.iter().filter(|(_, m)| !m.notice) {
            by_level[meta.level.index()] += 1;
        }
        by_level
    }

    /// The window from byte `at` on, whose first line is `lines[first]`.
    fn split_off(self, at: usize, first: usize) -> Window {
        Window {
            bytes: self.bytes[at..].to_vec(),
            lines: self.lines[first.min(self.lines.len())..]
                .iter()
                .map(|&(end, meta)| (end - at, meta))
                .collect(),
            head_partial: false,
        }
    }

    /// Appends the first `n` bytes of `lines`, which start inside a line
    /// when `mid_line`; returns the records (not notices) per level whose
    /// line ends in them.
    fn push(&mut self, lines: &Lines<'_>, n: usize, mid_line: bool) -> [u64; 5] {
        if self.bytes.is_empty() && mid_line {
            self.head_partial = true;
        }
        let base = self.bytes.len();
        let first = self.lines.len();
        self.bytes.extend_from_slice(&lines.bytes()[..n]);
        let mut end = 0;
        for (line, meta) in lines.iter() {
            end += line.len();
            if end > n {
                break;
            }
            self.lines.push((base + end, meta));
        }
        Window::count(&self.lines[first..])
    }
}

/// How the open file looked at a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Found {
    /// Still the path's file: the window is verified.
    InPlace,
    /// Deleted: the window must be written again into the next file.
    Unlinked,
    /// Moved away but still linked: its records are safe; reopen the path.
    Moved,
}

/// Appends to one open file at a time with the protocol in the module
/// docs; owned by a file sink.
#[derive(Debug, Default)]
pub(crate) struct Appender {
    open: Option<OpenFile>,
    window: Window,
    /// What was written into the open file lately: a truncation's count.
    recent: Recent,
    /// The window was written into a file since deleted and must be
    /// written again into the next file installed.
    replay_due: bool,
    /// The size the open file has at least: its size at the last check
    /// plus what this process wrote since.
    expected_min: u64,
    /// Where this process's last write into the open file ended, if it
    /// ended inside a line.
    own_end: Option<u64>,
    /// The last write call returned inside a line: the writer's next call
    /// starts with the rest of that line.
    writer_mid_line: bool,
    last_path_check: Option<Instant>,
    /// The size the last check saw (with the append lock held, so the
    /// write that follows it lands there unless another program appends).
    checked_size: u64,
    lost: Vec<LostLines>,
    stats: FileStats,
}

impl Appender {
    pub(crate) fn new() -> Appender {
        Appender::default()
    }

    pub(crate) fn stats(&self) -> FileStats {
        self.stats.clone()
    }

    pub(crate) fn file(&self) -> Option<&OpenFile> {
        self.open.as_ref()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The next record the sink found lost, for [`super::Sink::take_lost`].
    pub(crate) fn take_lost(&mut self) -> Option<LostLines> {
        self.lost.pop()
    }

    fn lose(&mut self, cause: DropCause, by_level: [u64; 5]) {
        if by_level.iter().any(|&n| n > 0) {
            self.lost.push(LostLines { cause, by_level });
        }
    }

    /// Makes `open` the file written to; writes the window into it first
    /// if the previous file was deleted. On error the file is closed
    /// again (the window stays due).
    pub(crate) fn install(&mut self, open: OpenFile) -> io::Result<()> {
        self.open = Some(open);
        self.own_end = None;
        self.expected_min = 0;
        self.recent.clear();
        self.last_path_check = Some(Instant::now());
        if self.replay_due {
            self.replay()?;
        }
        Ok(())
    }

    /// Writes the window into the open file (just installed).
    fn replay(&mut self) -> io::Result<()> {
        let mut window = std::mem::take(&mut self.window);
        if window.head_partial {
            // The start of that line was in the deleted file: it is lost.
            let skip = match window.lines.first() {
                Some(&first) => {
                    self.lose(DropCause::FileUnlinked, Window::count(&[first]));
                    first.0
                }
                None => window.bytes.len(),
            };
            window = window.split_off(skip, 1);
        }
        if window.is_empty() {
            self.replay_due = false;
            return Ok(());
        }
        let locked = self.lock();
        let result = match self.size() {
            Ok(size) => self.locked_write(&window.bytes, false, size),
            Err(e) => Err((0, e)),
        };
        self.unlock(locked);
        let (n, err) = match result {
            Ok(n) => (n, None),
            Err((n, e)) => (n, Some(e)),
        };
        let kept = window.lines.iter().filter(|(end, _)| *end <= n).count();
        let replayed_by_level = Window::count(&window.lines[..kept]);
        self.recent.add(Instant::now(), replayed_by_level);
        FileStats::add(&self.stats.0.replayed, replayed_by_level.iter().sum());
        let Some(e) = err else {
            // All of it is in the new file, as its unverified window.
            self.replay_due = false;
            self.window = window;
            return Ok(());
        };
        if n > 0 {
            // Part got through and stays in that file. The line cut short
            // there is lost; the lines after it are due again.
            let torn = window.lines.get(kept).copied();
            let tail = torn.map_or(window.bytes.len(), |(end, _)| end);
            if let Some(line) = torn {
                self.lose(DropCause::FileUnlinked, Window::count(&[line]));
            }
            window = window.split_off(tail, kept + usize::from(torn.is_some()));
        }
        self.replay_due = !window.is_empty();
        self.window = window;
        self.open = None;
        self.own_end = None;
        Err(e)
    }

    /// Checks the open file without writing (from `maintain`, `flush` and
    /// before the sink switches files itself). `path_due` also compares
    /// the path's inode.
    pub(crate) fn check(&mut self, path_due: bool, follow: bool) -> io::Result<Found> {
        let Some(open) = &self.open else {
            return Ok(Found::InPlace);
        };
        if !open.regular {
            return Ok(Found::InPlace);
        }
        let locked = self.lock();
        let found = self.inspect(path_due, follow);
        self.unlock(locked);
        found
    }

    /// Closes the open file after checking it: the sink moves on to
    /// another file (rotation, reopen) or gave up on this one after an
    /// error. A deleted file's window is written into the next file.
    pub(crate) fn retire(&mut self) {
        if let Some(open) = &self.open {
            let unlinked = open.regular && fstat(&open.file).is_ok_and(|st| st.st_nlink == 0);
            if unlinked {
                self.mark_unlinked();
            } else {
                self.verified();
            }
        }
        self.open = None;
    }

    /// Gives up on the window for good (the sink shuts down with no file
    /// to write it into): its records are reported lost.
    pub(crate) fn abandon(&mut self) {
        if self.replay_due {
            // A line whose start was verified earlier counts too: its
            // start went with the deleted file.
            let by_level = Window::count(&self.window.lines);
            self.lose(DropCause::FileUnlinked, by_level);
            self.window.clear();
            self.replay_due = false;
        }
    }

    fn verified(&mut self) {
        self.window.clear();
        self.replay_due = false;
    }

    fn mark_unlinked(&mut self) {
        FileStats::add(&self.stats.0.unlinked, 1);
        self.replay_due = !self.window.is_empty();
        self.open = None;
        self.own_end = None;
    }

    /// fstat (and stat the path if due) with the lock held; handles the
    /// window for each outcome.
    fn inspect(&mut self, path_due: bool, follow: bool) -> io::Result<Found> {
        let Some(open) = self.open.as_ref() else {
            return Ok(Found::InPlace);
        };
        // The path first: if it no longer names the file and the file is
        // still linked afterwards, it was moved, not deleted.
        let in_place = if path_due {
            Some(open.still_in_place(follow)?)
        } else {
            None
        };
        let st = fstat(&open.file).map_err(|e| {
            let err = io::Error::from(e);
            let context = format!("fstat {}", open.path.display());
            classified(classify(&err), context, err)
        })?;
        if path_due {
            self.last_path_check = Some(Instant::now());
        }
        if st.st_nlink == 0 {
            self.mark_unlinked();
            return Ok(Found::Unlinked);
        }
        let size = u64::try_from(st.st_size).unwrap_or(0);
        if size < self.expected_min {
            // Shorter than what this process wrote: truncated by another
            // program. What was written lately may not have been copied
            // before the cut (see `recent`).
            FileStats::add(&self.stats.0.truncated, 1);
            let by_level = self.recent.take(recent::lookback(self.expected_min));
            self.lose(DropCause::FileTruncated, by_level);
            self.own_end = None;
        }
        self.verified();
        self.expected_min = size;
        self.checked_size = size;
        if in_place == Some(false) {
            // Moved away, still linked: the records are in it.
            self.open = None;
            self.own_end = None;
            return Ok(Found::Moved);
        }
        Ok(Found::InPlace)
    }

    /// Whether the path check is due (at most every `interval`).
    pub(crate) fn path_due(&self, interval: Duration) -> bool {
        self.last_path_check.is_none_or(|t| t.elapsed() >= interval)
    }

    /// Writes a prefix of `lines` (at most `limit` bytes) into the open
    /// file, checking it first; `reopen` opens the path again when the
    /// file turns out deleted or moved. Returns the bytes written.
    pub(crate) fn write(
        &mut self,
        lines: &Lines<'_>,
        limit: usize,
        check_interval: Duration,
        follow: bool,
        reopen: impl FnMut() -> io::Result<OpenFile>,
    ) -> io::Result<usize> {
        let result = self.write_checked(lines, limit, check_interval, follow, reopen);
        if result.is_err() {
            // After an error the writer gives up on a line it had begun
            // and starts the next write on a new line.
            self.writer_mid_line = false;
        }
        result
    }

    fn write_checked(
        &mut self,
        lines: &Lines<'_>,
        limit: usize,
        check_interval: Duration,
        follow: bool,
        mut reopen: impl FnMut() -> io::Result<OpenFile>,
    ) -> io::Result<usize> {
        let mut reopens = 0;
        loop {
            if self.open.is_none() {
                reopens += 1;
                if reopens > MAX_REOPENS {
                    return Err(io::Error::other("the log file keeps disappearing"));
                }
                let open = reopen()?;
                self.install(open)?;
            }
            let Some(open) = &self.open else {
                continue;
            };
            let regular = open.regular;
            let mid_line = self.writer_mid_line;
            let bytes = &lines.bytes()[..limit.min(lines.bytes().len())];
            let bytes = cut_at_line(bytes, MAX_WINDOW);
            if !regular {
                let result = self.plain_write(bytes);
                self.writer_mid_line = match &result {
                    Ok(n) if *n > 0 => bytes[*n - 1] != b'\n',
                    Ok(_) => self.writer_mid_line,
                    Err(_) => false,
                };
                return result;
            }
            let locked = self.lock();
            let path_due = self.path_due(check_interval);
            match self.inspect(path_due, follow) {
                Ok(Found::InPlace) => {}
                Ok(Found::Unlinked | Found::Moved) => {
                    self.unlock(locked);
                    continue;
                }
                Err(e) => {
                    self.unlock(locked);
                    self.writer_mid_line = false;
                    return Err(e);
                }
            }
            let result = self.append_locked(bytes, mid_line);
            self.unlock(locked);
            let (n, err) = match result {
                Ok(n) => (n, None),
                Err((n, e)) => (n, Some(e)),
            };
            let pushed = self.window.push(lines, n, mid_line);
            self.recent.add(Instant::now(), pushed);
            return match err {
                Some(e) if n == 0 => {
                    // The writer gives up on a line it had begun.
                    self.writer_mid_line = false;
                    self.retire();
                    Err(e)
                }
                // Report what got through; the next call fails again or
                // goes on.
                _ => {
                    if n > 0 {
                        self.writer_mid_line = bytes[n - 1] != b'\n';
                    }
                    Ok(n)
                }
            };
        }
    }

    fn plain_write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let Some(open) = &mut self.open else {
            return Err(io::Error::other("no file open"));
        };
        match open.file.write(bytes) {
            Ok(n) => Ok(n),
            Err(err) => {
                let context = format!("write {}", open.path.display());
                self.open = None;
                Err(classified(classify(&err), context, err))
            }
        }
    }

    /// `locked_write` for a write call: a line resumed by the writer must
    /// continue right behind our own bytes.
    fn append_locked(&mut self, bytes: &[u8], mid_line: bool) -> Result<usize, (usize, io::Error)> {
        let size = self.checked_size;
        if mid_line && Some(size) != self.own_end {
            // Someone appended behind our half-written line: the rest of
            // it cannot join it any more. The writer counts the line as
            // lost and starts the next write on a new line.
            self.own_end = None;
            return Err((
                0,
                io::Error::other("a line cut short was continued by another process"),
            ));
        }
        self.locked_write(bytes, mid_line, size)
    }

    fn size(&self) -> io::Result<u64> {
        let open = self
            .open
            .as_ref()
            .ok_or_else(|| io::Error::other("no file open"))?;
        let st = fstat(&open.file)?;
        Ok(u64::try_from(st.st_size).unwrap_or(0))
    }

    /// With the lock held: starts with `\n` if the file ends inside a line
    /// that is not our own, then writes all of `bytes` (resuming short
    /// writes). Returns how many of `bytes` got through, with the error
    /// that stopped it.
    fn locked_write(
        &mut self,
        bytes: &[u8],
        continuing: bool,
        size: u64,
    ) -> Result<usize, (usize, io::Error)> {
        let Some(open) = &mut self.open else {
            return Err((0, io::Error::other("no file open")));
        };
        let fragment = !continuing
            && size > 0
            && bytes.first() != Some(&b'\n')
            && last_byte(&open.file, size).is_ok_and(|b| b != b'\n');
        let mut prefix: &[u8] = if fragment { b"\n" } else { b"" };
        let mut done = 0;
        let mut end = size;
        while done < bytes.len() || !prefix.is_empty() {
            let slices = [IoSlice::new(prefix), IoSlice::new(&bytes[done..])];
            match open.file.write_vectored(&slices) {
                Ok(0) => {
                    let err = io::Error::new(io::ErrorKind::WriteZero, "wrote 0 bytes");
                    self.note_end(bytes, done, end);
                    return Err((done, err));
                }
                Ok(mut n) => {
                    end += n as u64;
                    let p = n.min(prefix.len());
                    if p > 0 {
                        // The fragment now ends its own line.
                        FileStats::add(&self.stats.0.fragments, 1);
                    }
                    prefix = &prefix[p..];
                    n -= p;
                    done += n;
                    // With the lock held the write started at `size`
                    // (unless a program that takes no lock appended
                    // meanwhile: then `end` is a lower bound, and a
                    // resumed line finds the size changed and gives up).
                    self.expected_min = self.expected_min.max(end);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => {
                    let context = format!("write {}", open.path.display());
                    self.note_end(bytes, done, end);
                    return Err((done, classified(classify(&err), context, err)));
                }
            }
        }
        self.note_end(bytes, done, end);
        Ok(done)
    }

    fn note_end(&mut self, bytes: &[u8], done: usize, end: u64) {
        // Nothing written: still where the previous write left off.
        if done > 0 {
            self.own_end = (bytes[done - 1] != b'\n').then_some(end);
        }
    }

    /// Takes the append lock; `false` if it could not be had in time or
    /// the file system has no locks (appending goes on without it).
    fn lock(&self) -> bool {
        let Some(open) = &self.open else {
            return false;
        };
        let deadline = Instant::now() + LOCK_WAIT;
        let mut pause = Duration::from_micros(20);
        loop {
            match flock(&open.file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return true,
                Err(rustix::io::Errno::WOULDBLOCK | rustix::io::Errno::INTR) => {
                    if Instant::now() >= deadline {
                        FileStats::add(&self.stats.0.lock_timeouts, 1);
                        return false;
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(1));
                }
                // ENOLCK, EOPNOTSUPP: no locks here; append anyway.
                Err(_) => return false,
            }
        }
    }

    fn unlock(&self, locked: bool) {
        if let (true, Some(open)) = (locked, &self.open) {
            // Closing the file releases it too; an unlock that fails
            // leaves nothing held beyond that.
            let _ = flock(&open.file, FlockOperation::Unlock);
        }
    }
}

/// `bytes` cut to at most `max`, at a line boundary when one is in reach.
fn cut_at_line(bytes: &[u8], max: usize) -> &[u8] {
    if bytes.len() <= max {
        return bytes;
    }
    match bytes[..max].iter().rposition(|&b| b == b'\n') {
        Some(i) => &bytes[..=i],
        None => &bytes[..max],
    }
}

/// The byte at `size - 1`.
fn last_byte(file: &File, size: u64) -> io::Result<u8> {
    let mut b = [0u8; 1];
    let n = rustix::io::pread(file, &mut b, size - 1)?;
    if n == 1 {
        Ok(b[0])
    } else {
        // Truncated between the fstat and the read: nothing to repair.
        Ok(b'\n')
    }
}
