//! Compresses one closed log file, safe against crashes and against other
//! processes compressing the same file at the same moment.
//!
//! The protocol for `x.log` and gzip:
//!
//! 1. `x.log.gz` exists: someone finished; skip.
//! 2. **Claim**: create `x.log.gz.tmp` with `O_CREAT|O_EXCL`. If it exists
//!    and was modified within the last 10 minutes, another process is
//!    compressing: skip. If it is older, its compressor died: remove it and
//!    try once more.
//! 3. Stream-compress `x.log` into the temporary file, give it the
//!    original's permissions and modification time, `fsync` it.
//! 4. If `x.log` changed meanwhile (a late batch), drop the work: retention
//!    will try again once the file is quiet.
//! 5. **Publish** without ever replacing: on Linux, hard-link the open
//!    temporary file (`linkat` via `/proc/self/fd`) to `x.log.gz`, which fails if the
//!    name exists and publishes exactly the inode we wrote, even if a
//!    stale-breaker renamed or removed our temporary name meanwhile (a
//!    removed one cannot be linked: skip). Elsewhere, after checking that
//!    the temporary name is still ours, `renameat2(RENAME_NOREPLACE)` or
//!    `link` + `unlink`. An existing `x.log.gz` means someone finished
//!    first: remove our temporary file and skip.
//! 6. `fsync` the directory, then remove the temporary name and `x.log`.
//!
//! A crash at any point leaves either no `.gz` (the original is intact) or
//! a complete one: a `.gz` only ever appears by step 5. [`recover`] cleans
//! up after crashes at start-up. `ENOENT` is never an error: it means
//! another process did the work.

use std::fs::{self, File, FileTimes, OpenOptions, Permissions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::naming::{Names, TEMP_EXT};
use super::retention::Compression;
use crate::Error;

/// A temporary file not modified for this long belongs to a dead compressor.
const STALE_TEMP: Duration = Duration::from_secs(600);
/// Buffer size for reading and writing.
const BUFFER: usize = 64 * 1024;
/// zstd's level: its default, a good speed/size balance for logs.
#[cfg(feature = "zstd")]
const ZSTD_LEVEL: i32 = 3;

/// What [`compress_file`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CompressOutcome {
    /// The compressed copy is published and the original removed.
    Compressed {
        /// Bytes read from the original.
        original: u64,
        /// Bytes of the compressed copy.
        compressed: u64,
    },
    /// Nothing to do, or someone else is doing or did it.
    Skipped(SkipReason),
}

/// Why [`compress_file`] did nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SkipReason {
    /// [`Compression::None`].
    Disabled,
    /// The original is gone (compressed or deleted by another process).
    SourceGone,
    /// The original is not a regular file (a symbolic link, a FIFO...).
    NotAFile,
    /// Another process holds a fresh claim on it.
    InProgress,
    /// The compressed copy already exists.
    AlreadyDone,
    /// The original grew or changed while being compressed.
    SourceChanged,
    /// Our claim was broken as stale by another process.
    Lost,
    /// Stopped half-way because the sink is shutting down; the temporary
    /// copy was removed and the original is untouched.
    Stopped,
}

/// Compresses `path` into `path.gz` (or `.zst`) and removes `path`
/// (see the module documentation for the protocol).
#[cfg(test)]
pub(crate) fn compress_file(
    path: &Path,
    compression: Compression,
) -> Result<CompressOutcome, Error> {
    compress_file_until(path, compression, &AtomicBool::new(false))
}

/// [`compress_file`] that gives up, removing its temporary copy, as soon
/// as `stop` is set: a sink shutting down does not wait for a large file,
/// and never leaves both the original and a complete copy behind.
pub(crate) fn compress_file_until(
    path: &Path,
    compression: Compression,
    stop: &AtomicBool,
) -> Result<CompressOutcome, Error> {
    compress_with(path, compression, STALE_TEMP, stop)
}

fn compress_with(
    path: &Path,
    compression: Compression,
    stale_after: Duration,
    stop: &AtomicBool,
) -> Result<CompressOutcome, Error> {
    use CompressOutcome::Skipped;
    let Some(ext) = compression.extension() else {
        return Ok(Skipped(SkipReason::Disabled));
    };
    compression.check_available()?;
    let target = with_ext(path, ext);
    let temp = with_ext(&target, TEMP_EXT);
    let context = |what: &str| format!("compressing {}: {what}", path.display());
    if exists(&target).map_err(|err| Error::io(context("checking for the compressed copy"), err))? {
        return Ok(Skipped(SkipReason::AlreadyDone));
    }
    let source = match open_source(path) {
        Ok(source) => source,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Ok(Skipped(SkipReason::SourceGone))
        }
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Skipped(SkipReason::NotAFile))
        }
        Err(err) => return Err(Error::io(context("opening"), err)),
    };
    let before = source
        .metadata()
        .map_err(|err| Error::io(context("inspecting"), err))?;
    if !before.is_file() {
        return Ok(Skipped(SkipReason::NotAFile));
    }
    let Some(out) = claim(&temp, stale_after).map_err(|err| Error::io(context("claiming"), err))?
    else {
        return Ok(Skipped(SkipReason::InProgress));
    };
    let guard = TempGuard::new(&temp, &out);
    let out = match write_compressed(
        Until {
            inner: &source,
            stop,
        },
        out,
        compression,
        &before,
    ) {
        Ok(out) => out,
        Err(_) if stop.load(Ordering::Relaxed) => return Ok(Skipped(SkipReason::Stopped)),
        Err(err) => return Err(Error::io(context("writing"), err)),
    };
    let after = source
        .metadata()
        .map_err(|err| Error::io(context("inspecting"), err))?;
    if changed(&before, &after) {
        return Ok(Skipped(SkipReason::SourceChanged));
    }
    match publish(&out, &temp, &target).map_err(|err| Error::io(context("publishing"), err))? {
        Publish::Done => {}
        Publish::Exists => return Ok(Skipped(SkipReason::AlreadyDone)),
        Publish::Lost => return Ok(Skipped(SkipReason::Lost)),
    }
    sync_dir(path).map_err(|err| Error::io(context("syncing the directory"), err))?;
    drop(guard);
    remove_if_exists(path).map_err(|err| Error::io(context("removing the original"), err))?;
    let compressed = out.metadata().map_or(0, |meta| meta.len());
    Ok(CompressOutcome::Compressed {
        original: before.len(),
        compressed,
    })
}

/// What a start-up [`recover`] cleaned.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// Originals removed because their compressed copy was complete.
    pub(crate) originals_removed: usize,
    /// Stale temporary files removed.
    pub(crate) temps_removed: usize,
    /// Entries that could not be cleaned; the rest was.
    pub(crate) errors: Vec<Error>,
}

/// Cleans up after compressors that died: removes originals whose
/// compressed copy exists (a copy only exists once complete) and temporary
/// files older than 10 minutes. Only this logger's files are touched.
///
/// # Errors
///
/// Only if the directory cannot be listed; a missing directory is clean.
pub(crate) fn recover(names: &Names) -> Result<Recovered, Error> {
    recover_with(names, STALE_TEMP)
}

fn recover_with(names: &Names, stale_after: Duration) -> Result<Recovered, Error> {
    let dir = names.dir();
    let mut done = Recovered::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(done),
        Err(err) => {
            return Err(Error::io(
                format!("listing log directory {}", dir.display()),
                err,
            ))
        }
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        let Some(parsed) = names.parse(name) else {
            continue;
        };
        let path = dir.join(name);
        let outcome = if parsed.temp {
            match is_stale(&path, stale_after) {
                Ok(true) => {
                    remove_if_exists(&path).map(|gone| done.temps_removed += usize::from(gone))
                }
                Ok(false) => Ok(()),
                Err(err) => Err(err),
            }
        } else if parsed.compression != Compression::None {
            let original = path.with_extension("");
            match fs::symlink_metadata(&original) {
                Ok(meta) if meta.is_file() => remove_if_exists(&original)
                    .map(|gone| done.originals_removed += usize::from(gone)),
                Ok(_) => Ok(()),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(err) => Err(err),
            }
        } else {
            Ok(())
        };
        if let Err(err) = outcome {
            done.errors
                .push(Error::io(format!("recovering {}", path.display()), err));
        }
    }
    Ok(done)
}

/// `path` with `.ext` appended.
fn with_ext(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

fn exists(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

/// Opens the original without following a link or blocking on a FIFO.
fn open_source(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// Removes `path`; `Ok(false)` if it was already gone.
fn remove_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

/// Not modified for longer than `stale_after` (or gone).
fn is_stale(path: &Path, stale_after: Duration) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) => Ok(meta
            .modified()?
            .elapsed()
            .is_ok_and(|age| age > stale_after)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(err) => Err(err),
    }
}

/// Creates the temporary file exclusively; `None` if another process holds
/// a fresh claim. A stale claim is removed and the creation tried once more.
fn claim(temp: &Path, stale_after: Duration) -> io::Result<Option<File>> {
    for attempt in 0..2 {
        let created = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(temp);
        match created {
            Ok(file) => return Ok(Some(file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                if attempt > 0 || !is_stale(temp, stale_after)? {
                    return Ok(None);
                }
                remove_if_exists(temp)?;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(None)
}

/// Streams `source` through the encoder into `out`, copies permissions and
/// modification time, and syncs.
/// A reader that fails once `stop` is set.
struct Until<'a> {
    inner: &'a File,
    stop: &'a AtomicBool,
}

impl Read for Until<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("the sink is shutting down"));
        }
        self.inner.read(buf)
    }
}

fn write_compressed(
    source: Until<'_>,
    out: File,
    compression: Compression,
    meta: &fs::Metadata,
) -> io::Result<File> {
    let mut reader = BufReader::with_capacity(BUFFER, source);
    let writer = BufWriter::with_capacity(BUFFER, out);
    let writer = match compression {
        Compression::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(writer, flate2::Compression::default());
            io::copy(&mut reader, &mut encoder)?;
            encoder.finish()?
        }
        #[cfg(feature = "zstd")]
        Compression::Zstd => {
            let mut encoder = zstd::stream::write::Encoder::new(writer, ZSTD_LEVEL)?;
            io::copy(&mut reader, &mut encoder)?;
            encoder.finish()?
        }
        other => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{other:?} compression is not available in this build"),
            ))
        }
    };
    let mut out = writer
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    out.flush()?;
    out.set_permissions(Permissions::from_mode(meta.mode() & 0o777))?;
    out.set_times(
        FileTimes::new()
            .set_modified(meta.modified()?)
            .set_accessed(meta.modified()?),
    )?;
    out.sync_all()?;
    Ok(out)
}

/// Whether the original changed between two observations of it.
fn changed(before: &fs::Metadata, after: &fs::Metadata) -> bool {
    (
        before.len(),
        before.mtime(),
        before.mtime_nsec(),
        before.ino(),
    ) != (after.len(), after.mtime(), after.mtime_nsec(), after.ino())
}

/// How publishing ended.
#[derive(Debug, PartialEq, Eq)]
enum Publish {
    /// The compressed copy is in place.
    Done,
    /// Someone published first.
    Exists,
    /// Our temporary file was taken from us.
    Lost,
}

/// Puts the finished temporary file in place as `target`, never replacing.
fn publish(out: &File, temp: &Path, target: &Path) -> io::Result<Publish> {
    #[cfg(target_os = "linux")]
    {
        match link_open_file(out, target) {
            Ok(()) => return Ok(Publish::Done),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Ok(Publish::Exists),
            // Our inode has no name left: a stale-breaker removed it.
            Err(err)
                if err.kind() == io::ErrorKind::NotFound && Path::new("/proc/self/fd").is_dir() =>
            {
                return Ok(Publish::Lost)
            }
            Err(_) => {} // No /proc, or the file system refuses: use the name.
        }
    }
    publish_by_name(out, temp, target)
}

/// `linkat("/proc/self/fd/N", target, AT_SYMLINK_FOLLOW)`: gives the open
/// file a new name; fails with `EEXIST` if `target` exists.
#[cfg(target_os = "linux")]
fn link_open_file(out: &File, target: &Path) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let source = format!("/proc/self/fd/{}", out.as_raw_fd());
    rustix::fs::linkat(
        rustix::fs::CWD,
        source.as_str(),
        rustix::fs::CWD,
        target,
        rustix::fs::AtFlags::SYMLINK_FOLLOW,
    )
    .map_err(io::Error::from)
}

/// Publishes by the temporary name, after checking it still names our file.
fn publish_by_name(out: &File, temp: &Path, target: &Path) -> io::Result<Publish> {
    if !names_file(temp, out)? {
        return Ok(Publish::Lost);
    }
    #[cfg(target_os = "linux")]
    {
        match rename_noreplace(temp, target) {
            Ok(()) => return Ok(Publish::Done),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Ok(Publish::Exists),
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Publish::Lost),
            Err(err)
                if matches!(
                    err.raw_os_error(),
                    Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
                ) => {}
            Err(err) => return Err(err),
        }
    }
    match fs::hard_link(temp, target) {
        Ok(()) => {
            remove_if_exists(temp)?;
            Ok(Publish::Done)
        }
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(Publish::Exists),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Publish::Lost),
        Err(err) => Err(err),
    }
}

/// `renameat2(from, to, RENAME_NOREPLACE)`.
#[cfg(target_os = "linux")]
fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .map_err(io::Error::from)
}

/// Whether `path` names the open `file` (same device and inode).
fn names_file(path: &Path, file: &File) -> io::Result<bool> {
    let ours = file.metadata()?;
    match fs::symlink_metadata(path) {
        Ok(there) => Ok((there.dev(), there.ino()) == (ours.dev(), ours.ino())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err),
    }
}

/// `fsync` of the directory holding `path`, so the new name is durable
/// before the original is removed.
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// Removes the temporary name when dropped, if it still names our file
/// (never someone else's claim).
struct TempGuard {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl TempGuard {
    fn new(path: &Path, file: &File) -> TempGuard {
        TempGuard {
            path: path.to_path_buf(),
            id: file.metadata().ok().map(|meta| (meta.dev(), meta.ino())),
        }
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        let still_ours = fs::symlink_metadata(&self.path)
            .ok()
            .map(|meta| (meta.dev(), meta.ino()));
        if still_ours.is_some() && still_ours == self.id {
            // Best effort: a leftover is removed by `recover` once stale.
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
#[path = "compress_tests.rs"]
mod tests;
