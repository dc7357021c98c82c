//! The file sink: appends lines to one path, and keeps appending to whatever
//! that path names as files are deleted, moved away or recreated.
//!
//! Guarantees, each for a reason in the incident or the design:
//!
//! * Only `O_APPEND` writes, one `write(2)` per call, never a truncation, so
//!   several processes can append to one file and logrotate's `copytruncate`
//!   cannot create holes.
//! * Opening never blocks: the file is opened with `O_NONBLOCK`, so a FIFO
//!   without a reader fails at once with `ENXIO`; the flag is cleared right
//!   after, so writes block as usual (only the writer thread ever waits).
//! * A symbolic link planted at the path is refused (`O_NOFOLLOW`) unless the
//!   user allows links.
//! * No error is sticky: after any failed write the file is closed and the
//!   next write reopens the path, recreating a deleted file or directory.
//! * Nothing is lost to a deleted file: every write first checks the open
//!   file's link count (and, at most every `check_interval`, that the path
//!   still names it); records written into a file deleted since the last
//!   check are written again into the recreated file. A file moved away
//!   (logrotate `create`, `mv`) keeps its records and is not written twice.
//! * A truncation by another program (`copytruncate`) is noticed and the
//!   records that may have been cut are reported
//!   ([`crate::DropCause::FileTruncated`]).
//! * Records of several processes appending to one file never share a
//!   line, even when one of them is killed in the middle of a write (see
//!   [`super::fs`]).
//! * A log directory writable by other users is reported once, as a
//!   warning through the error handler.
//!
//! [`FileSinkBuilder::build`] does no I/O; the file is opened by the first
//! write, on the writer thread.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::classify::{classified, classify_open, IoErrorClass};
pub(crate) use super::fs::OpenFile;
use super::fs::{self as sinkfs, Appender, FileStats, Found};
use super::{LineEntry, LineMeta, Lines, LostLines, Sink};

/// Permission bits of a created log file unless [`FileSinkBuilder::mode`]
/// says otherwise.
const DEFAULT_MODE: u32 = 0o640;
/// Permission bits of directories the sink creates.
const DIR_MODE: u32 = 0o750;
/// How often the path is compared with the open file unless
/// [`FileSinkBuilder::check_interval`] says otherwise. The open file's own
/// link count is checked before every write.
pub(crate) const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_millis(5);

/// Configures a [`FileSink`].
///
/// ```ignore
/// let sink = FileSinkBuilder::new("/var/log/app/app.log")
///     .mode(0o600)
///     .build();
/// ```
#[derive(Debug, Clone)]
pub struct FileSinkBuilder {
    path: PathBuf,
    mode: u32,
    follow_symlinks: bool,
    create_dirs: bool,
    check_interval: Duration,
}

impl FileSinkBuilder {
    /// Starts configuring a sink that appends to `path`.
    #[must_use]
    pub fn new(path: impl Into<PathBuf>) -> FileSinkBuilder {
        FileSinkBuilder {
            path: path.into(),
            mode: DEFAULT_MODE,
            follow_symlinks: false,
            create_dirs: true,
            check_interval: DEFAULT_CHECK_INTERVAL,
        }
    }

    /// Permission bits given to the file when the sink creates it (default
    /// `0o640`), reduced by the process umask as usual. An existing file
    /// keeps its permissions.
    #[must_use]
    pub fn mode(mut self, mode: u32) -> FileSinkBuilder {
        self.mode = mode;
        self
    }

    /// Whether a symbolic link at the path is followed (default `false`).
    ///
    /// When `false`, the file is opened with `O_NOFOLLOW`: a link found at
    /// the path is an error ([`IoErrorClass::PermissionDenied`]) and nothing
    /// is written to its target. Only the last path component is checked;
    /// links among the parent directories are followed.
    #[must_use]
    pub fn follow_symlinks(mut self, follow: bool) -> FileSinkBuilder {
        self.follow_symlinks = follow;
        self
    }

    /// Whether missing parent directories are created (mode `0o750`) when the
    /// file is opened (default `true`), including when the directory is
    /// removed while the program runs.
    #[must_use]
    pub fn create_dirs(mut self, create: bool) -> FileSinkBuilder {
        self.create_dirs = create;
        self
    }

    /// How often a write (or [`Sink::maintain`]) checks that the path still
    /// names the open file (default 5 ms); a file moved away is noticed
    /// within this time. Zero checks on every call. Whether the open file
    /// was deleted is checked before every write regardless.
    #[must_use]
    pub fn check_interval(mut self, interval: Duration) -> FileSinkBuilder {
        self.check_interval = interval;
        self
    }

    pub(crate) fn follows_symlinks(&self) -> bool {
        self.follow_symlinks
    }

    /// Makes the sink. Does no I/O: the file is opened by the first write.
    #[must_use]
    pub fn build(self) -> FileSink {
        FileSink {
            config: self,
            appender: Appender::new(),
            last_check: None,
            dir_checked: false,
        }
    }
}

/// Appends lines to a file, reopening the path whenever the file it had open
/// is gone, moved or replaced, or a write failed; records written into a
/// file deleted under it are written again into the new one.
///
/// Made by [`FileSinkBuilder`].
#[derive(Debug)]
pub struct FileSink {
    config: FileSinkBuilder,
    /// The open file and what was written into it since its last check.
    appender: Appender,
    /// The `now` of the last check made by `maintain`.
    last_check: Option<SystemTime>,
    /// The log directory's permissions were checked (once, at start).
    dir_checked: bool,
}

impl FileSink {
    /// The path this sink writes to.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// A handle to what this sink has seen happen to its file (fragments
    /// repaired, records written again after a deletion, truncations);
    /// take it before handing the sink to the logger.
    #[must_use]
    pub fn stats(&self) -> FileStats {
        self.appender.stats()
    }

    /// Reopens the path now and writes into it what a deleted file held.
    fn reopen_now(&mut self) -> io::Result<()> {
        let open = self.config.open_path(&self.config.path)?;
        self.appender.install(open)
    }

    /// Checks the open file; a deleted one is replaced at once, so that
    /// its unverified records reach the new file even if nothing more is
    /// logged.
    fn verify(&mut self, path_due: bool) -> io::Result<()> {
        match self.appender.check(path_due, self.config.follow_symlinks)? {
            Found::InPlace | Found::Moved => Ok(()),
            Found::Unlinked => self.reopen_now(),
        }
    }
}

impl FileSinkBuilder {
    /// Opens `path` for appending, creating it and (if allowed) its missing
    /// parent directories. Errors are classified and name the path.
    /// Opens `path` with this configuration (creating directories if
    /// allowed). Used by the plain and the rotating file sinks.
    pub(crate) fn open_path(&self, path: &Path) -> io::Result<OpenFile> {
        let err = match self.open_once(path) {
            Ok(file) => return Ok(file),
            Err(err) => err,
        };
        let parent = parent_dir(path);
        if err.kind() != io::ErrorKind::NotFound {
            return Err(open_error(path, err, true));
        }
        let Some(dir) = parent.filter(|_| self.create_dirs) else {
            let parent_exists = parent.is_none_or(Path::exists);
            return Err(open_error(path, err, parent_exists));
        };
        if let Err(err) = DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir) {
            let context = format!("create directory {}", dir.display());
            return Err(classified(classify_open(&err, false), context, err));
        }
        self.open_once(path)
            .map_err(|err| open_error(path, err, dir.exists()))
    }

    /// One attempt at opening `path`; the raw error on failure.
    ///
    /// A regular file is opened for reading too (`O_RDWR | O_APPEND`): a
    /// write reads the file's last byte to see whether another process
    /// left half a line there. A FIFO is opened write-only, so that one
    /// without a reader fails with `ENXIO` instead of the sink becoming its
    /// own reader; so is a file this process may not read.
    fn open_once(&self, path: &Path) -> io::Result<OpenFile> {
        // Look first: even opening a FIFO for reading and closing it again
        // would wake a reader blocked in its open and then show it EOF.
        let meta = if self.follow_symlinks {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        };
        if meta.is_ok_and(|m| !m.file_type().is_file()) {
            return self.open_with(path, false);
        }
        match self.open_with(path, true) {
            Ok(open) if open.regular => return Ok(open),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {}
            Err(err) => return Err(err),
        }
        self.open_with(path, false)
    }

    fn open_with(&self, path: &Path, read: bool) -> io::Result<OpenFile> {
        let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        if !self.follow_symlinks {
            flags |= libc::O_NOFOLLOW;
        }
        // `append` gives O_APPEND; without `truncate` there is no O_TRUNC.
        let file = OpenOptions::new()
            .read(read)
            .append(true)
            .create(true)
            .mode(self.mode)
            .custom_flags(flags)
            .open(path)?;
        clear_nonblocking(&file)?;
        OpenFile::new(file, path)
    }
}

impl Sink for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let entries = plain_entries(buf);
        self.write_lines(&Lines::new(buf, 0, &entries))
    }

    fn write_lines(&mut self, lines: &Lines<'_>) -> io::Result<usize> {
        if lines.bytes().is_empty() {
            return Ok(0);
        }
        let config = &self.config;
        self.appender.write(
            lines,
            usize::MAX,
            config.check_interval,
            config.follow_symlinks,
            || config.open_path(&config.path),
        )
    }

    fn take_lost(&mut self) -> Option<LostLines> {
        self.appender.take_lost()
    }

    fn flush(&mut self) -> io::Result<()> {
        // Nothing is buffered: every write went to the kernel. But a file
        // deleted since the last write must get its records back now.
        self.verify(false)
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.appender.retire();
        self.reopen_now()
    }

    fn maintain(&mut self, now: SystemTime) -> io::Result<()> {
        if !std::mem::replace(&mut self.dir_checked, true) {
            let dir = parent_dir(&self.config.path).unwrap_or(Path::new("."));
            if let Some(warning) = sinkfs::unsafe_dir(dir) {
                return Err(classified(
                    IoErrorClass::PermissionDenied,
                    "warning".into(),
                    io::Error::other(warning),
                ));
            }
        }
        if !self.appender.is_open() {
            // Nothing open: the next write opens the path anyway.
            return Ok(());
        }
        // A clock that went backwards counts as due.
        let path_due = self.last_check.is_none_or(|last| {
            now.duration_since(last)
                .map_or(true, |elapsed| elapsed >= self.config.check_interval)
        });
        if path_due {
            self.last_check = Some(now);
        }
        self.verify(path_due)
    }

    fn close(&mut self) -> io::Result<()> {
        let result = self.verify(false);
        // Whatever a deleted file held and could not be written again is
        // lost now: say so.
        self.appender.abandon();
        result
    }

    fn describe(&self) -> String {
        format!("file:{}", self.config.path.display())
    }

    fn stats(&self) -> Option<super::SinkStats> {
        Some(self.stats().sink_stats())
    }
}

/// Line entries for bytes that come without metadata (a direct
/// [`Sink::write`] call): each line counts as an `INFO` record.
pub(crate) fn plain_entries(buf: &[u8]) -> Vec<LineEntry> {
    let meta = LineMeta {
        level: crate::Level::Info,
        timestamp_unix_ns: 0,
        notice: false,
    };
    let mut entries = Vec::new();
    let mut start = 0;
    while let Some(i) = buf[start..].iter().position(|&b| b == b'\n') {
        start += i + 1;
        entries.push(LineEntry { end: start, meta });
    }
    if entries.last().is_none_or(|e| e.end != buf.len()) && !buf.is_empty() {
        entries.push(LineEntry {
            end: buf.len(),
            meta,
        });
    }
    entries
}

/// The directory `path` is in, or `None` for a bare file name (the current
/// directory) or the root.
fn parent_dir(path: &Path) -> Option<&Path> {
    path.parent().filter(|dir| !dir.as_os_str().is_empty())
}

/// Classifies an open error and adds the path to its message.
fn open_error(path: &Path, err: io::Error, parent_exists: bool) -> io::Error {
    let class: IoErrorClass = classify_open(&err, parent_exists);
    classified(class, format!("open {}", path.display()), err)
}

/// Clears `O_NONBLOCK`, set only so that opening a FIFO without a reader
/// fails instead of blocking; writes should block as usual.
/// Clears `O_NONBLOCK` after the open, so writes block as usual (only the
/// writer thread ever waits on them).
fn clear_nonblocking(file: &File) -> io::Result<()> {
    use rustix::fs::{fcntl_getfl, fcntl_setfl, OFlags};
    let flags = fcntl_getfl(file)?;
    if flags.contains(OFlags::NONBLOCK) {
        fcntl_setfl(file, flags - OFlags::NONBLOCK)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "file_tests.rs"]
mod tests;
