//! Lists the log directory: this logger's period files, as observations for
//! [`plan`](super::plan) and for finding the current size index.
//!
//! Other processes delete, compress and create files in the same directory
//! at any moment, so an entry that vanishes between `readdir` and `stat`
//! is skipped, and a missing directory is an empty one.

use std::fs;
use std::io;
use std::path::Path;

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::naming::Names;
use super::retention::{Compression, Observed};
use super::schedule::{label_start, next_boundary};
use super::Rotation;
use crate::sink::{classified, classify};

/// This logger's period files in its directory (compression temporaries
/// excluded), oldest first. Period ends are computed with `rotation` in
/// `tz`.
pub(crate) fn scan(names: &Names, rotation: &Rotation, tz: &TimeZone) -> io::Result<Vec<Observed>> {
    let dir = names.dir();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(io_error(
                format!("listing log directory {}", dir.display()),
                err,
            ))
        }
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(io_error(
                    format!("listing log directory {}", dir.display()),
                    err,
                ))
            }
        };
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some(observed) = observe(names, rotation, tz, dir, &name)? {
            found.push(observed);
        }
    }
    found.sort_by(|a, b| {
        (a.period_start, a.index, &a.path).cmp(&(b.period_start, b.index, &b.path))
    });
    Ok(found)
}

/// A scan error keeping its class (a denied listing is `permission_denied`).
fn io_error(context: String, err: io::Error) -> io::Error {
    classified(classify(&err), context, err)
}

/// The observation of one directory entry, `None` if it is not one of our
/// period files, not a regular file, or gone.
fn observe(
    names: &Names,
    rotation: &Rotation,
    tz: &TimeZone,
    dir: &Path,
    name: &str,
) -> io::Result<Option<Observed>> {
    let Some(parsed) = names.parse(name) else {
        return Ok(None);
    };
    if parsed.temp {
        return Ok(None);
    }
    let Some(period_start) = label_start(&parsed.label, tz) else {
        return Ok(None);
    };
    let path = dir.join(name);
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(io_error(
                format!("inspecting log file {}", path.display()),
                err,
            ))
        }
    };
    if !meta.file_type().is_file() {
        return Ok(None);
    }
    let modified = meta
        .modified()
        .ok()
        .and_then(|time| Timestamp::try_from(time).ok());
    let Some(modified) = modified else {
        return Ok(None);
    };
    let period_end = if period_start == Timestamp::MIN {
        None
    } else {
        next_boundary(rotation, tz, period_start)
    };
    Ok(Some(Observed {
        path,
        period_start,
        period_end,
        index: parsed.index,
        compressed: parsed.compression != Compression::None,
        bytes: meta.len(),
        modified,
    }))
}

/// The highest size index among the files of the period starting at
/// `period_start` (compressed ones included), `None` if it has none yet.
pub(crate) fn highest_index(files: &[Observed], period_start: Timestamp) -> Option<u32> {
    files
        .iter()
        .filter(|file| file.period_start == period_start)
        .map(|file| file.index)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rotation::{InstanceEnv, Naming};
    use crate::sink::IoErrorClass;
    use crate::Error;
    use std::path::PathBuf;

    #[test]
    fn scan_errors_keep_their_class() {
        let denied = io_error("listing".into(), io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(classify(&denied), IoErrorClass::PermissionDenied);
        assert!(denied.to_string().starts_with("listing: "), "{denied}");
        let other = io_error("listing".into(), io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(classify(&other), IoErrorClass::Other);
    }

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn names(dir: &Path) -> Result<Names, Error> {
        Naming::new(dir, "app").resolve(&InstanceEnv::default())
    }

    #[test]
    fn lists_only_our_period_files() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path();
        let ours = [
            ("app.2026-11-26.log", 10),
            ("app.2026-11-26.log.gz", 3),
            ("app.2026-11-27.log", 20),
            ("app.2026-11-27.1.log", 30),
            ("app.2026-11-27.2.log.zst", 5),
        ];
        for (name, len) in ours {
            fs::write(dir.join(name), vec![b'x'; len])?;
        }
        for other in [
            "app2.2026-11-27.log",
            "app.2026-11-27.log.bak",
            "app.2026-11-27.3.log.gz.tmp",
            "notes.txt",
        ] {
            fs::write(dir.join(other), b"other")?;
        }
        fs::create_dir(dir.join("app.2026-11-25.log"))?;
        std::os::unix::fs::symlink(
            dir.join("app.2026-11-27.log"),
            dir.join("app.2026-11-24.log"),
        )?;

        let names = names(dir)?;
        let found = scan(&names, &Rotation::DAILY, &TimeZone::UTC)?;
        let summary: Vec<(String, u32, bool, u64)> = found
            .iter()
            .map(|o| {
                let name = o
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (name, o.index, o.compressed, o.bytes)
            })
            .collect();
        let expected = [
            ("app.2026-11-26.log", 0, false, 10),
            ("app.2026-11-26.log.gz", 0, true, 3),
            ("app.2026-11-27.log", 0, false, 20),
            ("app.2026-11-27.1.log", 1, false, 30),
            ("app.2026-11-27.2.log.zst", 2, true, 5),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(n, i, c, b)| (n.to_string(), *i, *c, *b))
            .collect();
        assert_eq!(summary, expected);

        let day = |text: &str| -> Result<Timestamp, jiff::Error> { text.parse() };
        assert_eq!(found[0].period_start, day("2026-11-26T00:00:00Z")?);
        assert_eq!(found[0].period_end, Some(day("2026-11-27T00:00:00Z")?));
        assert!(found[0].modified > day("2020-01-01T00:00:00Z")?);
        assert_eq!(highest_index(&found, day("2026-11-27T00:00:00Z")?), Some(2));
        assert_eq!(highest_index(&found, day("2026-11-26T00:00:00Z")?), Some(0));
        assert_eq!(highest_index(&found, day("2026-11-28T00:00:00Z")?), None);
        Ok(())
    }

    #[test]
    fn missing_directory_is_empty() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let names = names(&tmp.path().join("not-yet"))?;
        assert!(scan(&names, &Rotation::DAILY, &TimeZone::UTC)?.is_empty());
        Ok(())
    }

    #[test]
    fn a_file_gone_before_stat_is_skipped() -> TestResult {
        let tmp = tempfile::tempdir()?;
        let names = names(tmp.path())?;
        // Listed by readdir, then deleted by another process before stat.
        let seen = observe(
            &names,
            &Rotation::DAILY,
            &TimeZone::UTC,
            tmp.path(),
            "app.2026-11-27.log",
        )?;
        assert_eq!(seen, None);
        Ok(())
    }

    #[test]
    fn never_files_have_no_period_end() -> TestResult {
        let tmp = tempfile::tempdir()?;
        fs::write(tmp.path().join("app.log"), b"a")?;
        fs::write(tmp.path().join("app.1.log"), b"b")?;
        let names = names(tmp.path())?;
        let found = scan(&names, &Rotation::NEVER, &TimeZone::UTC)?;
        let paths: Vec<PathBuf> = found.iter().map(|o| o.path.clone()).collect();
        assert_eq!(
            paths,
            [tmp.path().join("app.log"), tmp.path().join("app.1.log")]
        );
        assert!(found
            .iter()
            .all(|o| o.period_start == Timestamp::MIN && o.period_end.is_none()));
        Ok(())
    }
}
