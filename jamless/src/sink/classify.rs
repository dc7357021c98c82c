//! Sorting I/O errors into the few classes the writer acts on.
//!
//! The writer does not care which of forty `errno` values a sink hit; it
//! cares whether to retry at once, wait for the file or directory to come
//! back, wait for an operator (permissions, read-only or full filesystem) or
//! a reader (a FIFO), and what to tell health and the rate-limited error
//! report. [`classify`] maps an [`io::Error`] to an [`IoErrorClass`] from the
//! raw OS error alone: it is a pure function and does no I/O.
//!
//! A sink that knows more than the `errno` says (the file sink knows when an
//! `ENOENT` means the *directory* is gone) wraps the error with
//! [`classified`]; [`classify`] then returns the class the sink chose, and the
//! error's message carries the sink's context (which path, which operation).

use std::error::Error;
use std::fmt;
use std::io;

/// The kind of failure behind an I/O error, as far as the writer's reaction
/// is concerned.
///
/// Reported in health snapshots and error reports under the names given by
/// [`IoErrorClass::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IoErrorClass {
    /// A momentary condition (`EINTR`, `EAGAIN`/`EWOULDBLOCK`, `EBUSY`):
    /// retrying soon is expected to work.
    Transient,
    /// The file does not exist (`ENOENT`), for example because it was
    /// deleted or renamed away; the next open recreates it.
    FileGone,
    /// The directory holding the file does not exist; it is recreated if the
    /// sink is allowed to create directories.
    DirectoryGone,
    /// Access was refused (`EACCES`, `EPERM`), or a symbolic link was found
    /// where the file was expected and following links is not allowed
    /// (`ELOOP` from `O_NOFOLLOW`).
    PermissionDenied,
    /// The filesystem is mounted read-only (`EROFS`).
    ReadOnlyFilesystem,
    /// No space left: the device is full (`ENOSPC`), a quota is exhausted
    /// (`EDQUOT`) or the file reached its size limit (`EFBIG`).
    DiskFull,
    /// Nobody reads the other end: a FIFO opened without a reader (`ENXIO`)
    /// or a pipe whose reader went away (`EPIPE`).
    NoReader,
    /// Anything else.
    Other,
}

impl IoErrorClass {
    /// The class's `snake_case` name, such as `"disk_full"`, as used in health
    /// reports and metrics labels.
    #[must_use]
    pub fn as_str(&self) -> &'static str {
        match self {
            IoErrorClass::Transient => "transient",
            IoErrorClass::FileGone => "file_gone",
            IoErrorClass::DirectoryGone => "directory_gone",
            IoErrorClass::PermissionDenied => "permission_denied",
            IoErrorClass::ReadOnlyFilesystem => "read_only_filesystem",
            IoErrorClass::DiskFull => "disk_full",
            IoErrorClass::NoReader => "no_reader",
            IoErrorClass::Other => "other",
        }
    }
}

impl fmt::Display for IoErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies an I/O error.
///
/// An error made by [`classified`] yields the class stored in it. Otherwise
/// the raw OS error decides; an error without one (made by Rust code rather
/// than returned by a system call) falls back on its [`io::ErrorKind`].
pub(crate) fn classify(err: &io::Error) -> IoErrorClass {
    if let Some(inner) = err.get_ref().and_then(|e| e.downcast_ref::<Classified>()) {
        return inner.class;
    }
    match err.raw_os_error() {
        Some(code) => classify_errno(code),
        None => classify_kind(err.kind()),
    }
}

/// Classifies an error from opening a file whose parent directory does or
/// does not exist (`parent_exists`, checked by the caller after the failure).
///
/// A missing parent turns [`IoErrorClass::FileGone`] into
/// [`IoErrorClass::DirectoryGone`]; every other class is kept.
pub(crate) fn classify_open(err: &io::Error, parent_exists: bool) -> IoErrorClass {
    match classify(err) {
        IoErrorClass::FileGone if !parent_exists => IoErrorClass::DirectoryGone,
        class => class,
    }
}

/// Wraps `source` into an error that [`classify`] reports as `class` and
/// whose message is `"{context}: {source}"`.
///
/// The result keeps the source's [`io::ErrorKind`]; the source itself (with
/// its raw OS error) is reachable through [`Error::source`].
pub(crate) fn classified(class: IoErrorClass, context: String, source: io::Error) -> io::Error {
    io::Error::new(
        source.kind(),
        Classified {
            class,
            context,
            source,
        },
    )
}

/// The payload of an error made by [`classified`].
#[derive(Debug)]
struct Classified {
    class: IoErrorClass,
    context: String,
    source: io::Error,
}

impl fmt::Display for Classified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.context, self.source)
    }
}

impl Error for Classified {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Classifies a raw `errno` value.
fn classify_errno(code: i32) -> IoErrorClass {
    // Written as comparisons rather than a `match` because some of these
    // constants are equal on some platforms (EAGAIN == EWOULDBLOCK on Linux).
    let is = |codes: &[i32]| codes.contains(&code);
    if is(&[libc::EINTR, libc::EAGAIN, libc::EWOULDBLOCK, libc::EBUSY]) {
        IoErrorClass::Transient
    } else if is(&[libc::ENOENT]) {
        IoErrorClass::FileGone
    } else if is(&[libc::EACCES, libc::EPERM, libc::ELOOP]) {
        IoErrorClass::PermissionDenied
    } else if is(&[libc::EROFS]) {
        IoErrorClass::ReadOnlyFilesystem
    } else if is(&[libc::ENOSPC, libc::EDQUOT, libc::EFBIG]) {
        IoErrorClass::DiskFull
    } else if is(&[libc::ENXIO, libc::EPIPE]) {
        IoErrorClass::NoReader
    } else {
        IoErrorClass::Other
    }
}

/// Classifies an error that carries no OS error code.
fn classify_kind(kind: io::ErrorKind) -> IoErrorClass {
    match kind {
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => IoErrorClass::Transient,
        io::ErrorKind::NotFound => IoErrorClass::FileGone,
        io::ErrorKind::PermissionDenied => IoErrorClass::PermissionDenied,
        io::ErrorKind::BrokenPipe => IoErrorClass::NoReader,
        _ => IoErrorClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(code: i32) -> IoErrorClass {
        classify(&io::Error::from_raw_os_error(code))
    }

    #[test]
    fn transient() {
        assert_eq!(os(libc::EINTR), IoErrorClass::Transient);
        assert_eq!(os(libc::EAGAIN), IoErrorClass::Transient);
        assert_eq!(os(libc::EWOULDBLOCK), IoErrorClass::Transient);
        assert_eq!(os(libc::EBUSY), IoErrorClass::Transient);
    }

    #[test]
    fn file_gone() {
        assert_eq!(os(libc::ENOENT), IoErrorClass::FileGone);
    }

    #[test]
    fn directory_gone_only_when_open_knows_the_parent_is_missing() {
        let enoent = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(classify_open(&enoent, true), IoErrorClass::FileGone);
        assert_eq!(classify_open(&enoent, false), IoErrorClass::DirectoryGone);
        // A missing parent does not change other classes.
        let eacces = io::Error::from_raw_os_error(libc::EACCES);
        assert_eq!(
            classify_open(&eacces, false),
            IoErrorClass::PermissionDenied
        );
    }

    #[test]
    fn permission_denied() {
        assert_eq!(os(libc::EACCES), IoErrorClass::PermissionDenied);
        assert_eq!(os(libc::EPERM), IoErrorClass::PermissionDenied);
        // O_NOFOLLOW refusing a symbolic link.
        assert_eq!(os(libc::ELOOP), IoErrorClass::PermissionDenied);
    }

    #[test]
    fn read_only_filesystem() {
        assert_eq!(os(libc::EROFS), IoErrorClass::ReadOnlyFilesystem);
    }

    #[test]
    fn disk_full() {
        assert_eq!(os(libc::ENOSPC), IoErrorClass::DiskFull);
        assert_eq!(os(libc::EDQUOT), IoErrorClass::DiskFull);
        assert_eq!(os(libc::EFBIG), IoErrorClass::DiskFull);
    }

    #[test]
    fn no_reader() {
        assert_eq!(os(libc::ENXIO), IoErrorClass::NoReader);
        assert_eq!(os(libc::EPIPE), IoErrorClass::NoReader);
    }

    #[test]
    fn other() {
        assert_eq!(os(libc::EIO), IoErrorClass::Other);
        assert_eq!(os(libc::EISDIR), IoErrorClass::Other);
        assert_eq!(os(libc::EBADF), IoErrorClass::Other);
        assert_eq!(os(0), IoErrorClass::Other);
    }

    #[test]
    fn errors_without_os_code_fall_back_on_kind() {
        let k = |kind| classify(&io::Error::from(kind));
        assert_eq!(k(io::ErrorKind::Interrupted), IoErrorClass::Transient);
        assert_eq!(k(io::ErrorKind::WouldBlock), IoErrorClass::Transient);
        assert_eq!(k(io::ErrorKind::NotFound), IoErrorClass::FileGone);
        assert_eq!(
            k(io::ErrorKind::PermissionDenied),
            IoErrorClass::PermissionDenied
        );
        assert_eq!(k(io::ErrorKind::BrokenPipe), IoErrorClass::NoReader);
        assert_eq!(k(io::ErrorKind::WriteZero), IoErrorClass::Other);
        let custom = io::Error::other("something odd");
        assert_eq!(classify(&custom), IoErrorClass::Other);
    }

    #[test]
    fn classified_errors_keep_class_kind_context_and_source() {
        let source = io::Error::from_raw_os_error(libc::ENOENT);
        let err = classified(
            IoErrorClass::DirectoryGone,
            "open /var/log/app/app.log".to_string(),
            source,
        );
        assert_eq!(classify(&err), IoErrorClass::DirectoryGone);
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let text = err.to_string();
        assert!(text.starts_with("open /var/log/app/app.log: "), "{text}");
        let inner = err
            .get_ref()
            .and_then(|e| e.source())
            .and_then(|e| e.downcast_ref::<io::Error>())
            .and_then(io::Error::raw_os_error);
        assert_eq!(inner, Some(libc::ENOENT));
    }

    #[test]
    fn names_are_snake_case_and_distinct() {
        let all = [
            IoErrorClass::Transient,
            IoErrorClass::FileGone,
            IoErrorClass::DirectoryGone,
            IoErrorClass::PermissionDenied,
            IoErrorClass::ReadOnlyFilesystem,
            IoErrorClass::DiskFull,
            IoErrorClass::NoReader,
            IoErrorClass::Other,
        ];
        let names: std::collections::HashSet<_> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), all.len());
        for class in all {
            let name = class.as_str();
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert_eq!(class.to_string(), name);
        }
        assert_eq!(
            IoErrorClass::ReadOnlyFilesystem.as_str(),
            "read_only_filesystem"
        );
    }
}
