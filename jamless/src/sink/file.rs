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
//! * [`Sink::maintain`] notices within `check_interval` that the path no
//!   longer names the open file (deleted, moved by logrotate, replaced by a
//!   link) and closes it so the next write reopens the path.
//!
//! [`FileSinkBuilder::build`] does no I/O; the file is opened by the first
//! write, on the writer thread.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::classify::{classified, classify_open, IoErrorClass};
use super::{classify, Sink};

/// Permission bits of a created log file unless [`FileSinkBuilder::mode`]
/// says otherwise.
const DEFAULT_MODE: u32 = 0o640;
/// Permission bits of directories the sink creates.
const DIR_MODE: u32 = 0o750;
/// How often [`Sink::maintain`] checks the path unless
/// [`FileSinkBuilder::check_interval`] says otherwise.
const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

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

    /// How often [`Sink::maintain`] checks that the path still names the open
    /// file (default one second). Zero checks on every call.
    #[must_use]
    pub fn check_interval(mut self, interval: Duration) -> FileSinkBuilder {
        self.check_interval = interval;
        self
    }

    /// Makes the sink. Does no I/O: the file is opened by the first write.
    #[must_use]
    pub fn build(self) -> FileSink {
        FileSink {
            config: self,
            current: None,
            last_check: None,
        }
    }
}

/// Appends lines to a file, reopening the path whenever the file it had open
/// is gone, moved or replaced, or a write failed.
///
/// Made by [`FileSinkBuilder`].
#[derive(Debug)]
pub struct FileSink {
    config: FileSinkBuilder,
    /// The open file, if any; `None` means the next write opens the path.
    current: Option<OpenFile>,
    /// The `now` of the last check made by `maintain`.
    last_check: Option<SystemTime>,
}

/// An open log file and the identity it had when opened.
#[derive(Debug)]
pub(crate) struct OpenFile {
    pub(crate) file: File,
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    /// The path it was opened from, which `maintain` checks. Kept apart
    /// from the configured path so that rotation can change the target
    /// between writes.
    pub(crate) path: PathBuf,
}

impl FileSink {
    /// The path this sink writes to.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.config.path
    }

    /// The open file, opening the configured path first if needed.
    fn file(&mut self) -> io::Result<&mut OpenFile> {
        let file = match self.current.take() {
            Some(file) => file,
            None => self.config.open_path(&self.config.path)?,
        };
        Ok(self.current.insert(file))
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
    fn open_once(&self, path: &Path) -> io::Result<OpenFile> {
        let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        if !self.follow_symlinks {
            flags |= libc::O_NOFOLLOW;
        }
        // `append` gives O_WRONLY | O_APPEND; without `truncate` there is no
        // O_TRUNC.
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(self.mode)
            .custom_flags(flags)
            .open(path)?;
        clear_nonblocking(&file)?;
        let meta = file.metadata()?;
        Ok(OpenFile {
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            path: path.to_path_buf(),
        })
    }
}

impl OpenFile {
    /// Whether the path this file was opened from still names it.
    pub(crate) fn still_in_place(&self, follow_symlinks: bool) -> io::Result<bool> {
        let open = self;
        let meta = if follow_symlinks {
            fs::metadata(&open.path)
        } else {
            fs::symlink_metadata(&open.path)
        };
        match meta {
            // A link planted at the path (when links are not followed) is an
            // inode of its own, so it never matches the open file.
            Ok(meta) => Ok(meta.dev() == open.dev && meta.ino() == open.ino),
            // ENOTDIR: a directory on the path was replaced by a file.
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) if err.raw_os_error() == Some(libc::ENOTDIR) => Ok(false),
            Err(err) => {
                let context = format!("stat {}", open.path.display());
                Err(classified(classify(&err), context, err))
            }
        }
    }
}

impl Sink for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let open = self.file()?;
        match open.file.write(buf) {
            Ok(n) => Ok(n),
            Err(err) => {
                let context = format!("write {}", open.path.display());
                // Never keep a file that failed: the next write reopens the
                // path, which recreates a deleted file or directory.
                self.current = None;
                Err(classified(classify(&err), context, err))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        // Nothing is buffered: every write went to the kernel.
        Ok(())
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.current = None;
        let file = self.config.open_path(&self.config.path)?;
        self.current = Some(file);
        Ok(())
    }

    fn maintain(&mut self, now: SystemTime) -> io::Result<()> {
        let Some(open) = &self.current else {
            // Nothing open: the next write opens the path anyway.
            return Ok(());
        };
        if let Some(last) = self.last_check {
            // A clock that went backwards counts as due.
            if now
                .duration_since(last)
                .is_ok_and(|elapsed| elapsed < self.config.check_interval)
            {
                return Ok(());
            }
        }
        self.last_check = Some(now);
        if !open.still_in_place(self.config.follow_symlinks)? {
            self.current = None;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("file:{}", self.config.path.display())
    }
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
