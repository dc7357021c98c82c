//! Which old files to delete and which to compress: a pure function of the
//! files observed, the policy, the time and the files in use.
//!
//! The rules, in order:
//!
//! 1. A file and its compressed copy (`x.log`, `x.log.gz`) are one *unit*;
//!    limits count units, oldest first by (period start, size index).
//! 2. **Open** units are never touched: those holding a path the caller
//!    has open, and the newest split of the newest period that has not
//!    ended (another process may be writing it, whatever our clock says).
//! 3. A unit is **settled** once it is not open, its last modification is
//!    older than the grace, and its period (if it has ended) ended more
//!    than the grace ago. Only settled units are deleted or compressed: a
//!    process whose clock is a little behind may still append a late batch
//!    to the file of a period that just ended, and deleting or compressing
//!    that file would lose the batch. Limits can therefore be exceeded for
//!    up to one grace period.
//! 4. Deletion: units older than `max_age`, then the oldest units while
//!    there are more than `max_files`, then the oldest while their total
//!    size exceeds `max_total_bytes`. Open and unsettled units count toward
//!    the limits but are skipped.
//! 5. Compression: every remaining settled unit that has no compressed
//!    copy. A settled unit that has both (a compressor stopped between
//!    publishing the copy and removing the original) loses its original.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::Error;

/// The grace used when the period length is unknown, and the least one.
const MIN_GRACE: Duration = Duration::from_secs(10);
/// The most grace a default gives, however long the period.
const MAX_DEFAULT_GRACE: Duration = Duration::from_secs(3600);

/// How closed log files are compressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// Files are kept as written.
    #[default]
    None,
    /// gzip (`.gz`), readable by `zcat`, `zgrep` and log shippers.
    Gzip,
    /// Zstandard (`.zst`): smaller and faster than gzip. Needs the `zstd`
    /// cargo feature; without it, building a logger that asks for it fails
    /// with a configuration error.
    Zstd,
}

impl Compression {
    /// The extension compressed files get, without the dot.
    pub(crate) fn extension(&self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some("gz"),
            Compression::Zstd => Some("zst"),
        }
    }

    /// Splits a compression extension off a file name.
    pub(crate) fn from_name(name: &str) -> (&str, Compression) {
        for compression in [Compression::Gzip, Compression::Zstd] {
            let stem = compression
                .extension()
                .and_then(|ext| name.strip_suffix(ext))
                .and_then(|stem| stem.strip_suffix('.'));
            if let Some(stem) = stem {
                return (stem, compression);
            }
        }
        (name, Compression::None)
    }

    /// An error if this build cannot write this compression.
    pub(crate) fn check_available(&self) -> Result<(), Error> {
        if *self == Compression::Zstd && !cfg!(feature = "zstd") {
            return Err(Error::config(
                "zstd compression needs jamless's `zstd` cargo feature",
            ));
        }
        Ok(())
    }
}

/// Which rotated files are kept, and how they are compressed.
///
/// ```ignore
/// use std::time::Duration;
/// let keep = Retention::new()
///     .max_files(48)
///     .max_age(Duration::from_secs(7 * 86_400))
///     .max_total_bytes(2 << 30)
///     .compress(Compression::Gzip);
/// ```
///
/// By default everything is kept and nothing compressed. Retention runs in
/// the background: the oldest files go first, and neither a file in use
/// nor the current period's file is ever deleted or compressed. A file is
/// only touched once it has been quiet for the [grace](Retention::grace),
/// so the limits can be exceeded for that long.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Retention {
    max_files: Option<usize>,
    max_age: Option<Duration>,
    max_total_bytes: Option<u64>,
    compress: Compression,
    grace: Option<Duration>,
    free_space_on_enospc: bool,
}

impl Retention {
    /// Keeps everything, compresses nothing.
    pub fn new() -> Retention {
        Retention::default()
    }

    /// Keeps at most `files` files (the current one included; a file and
    /// its compressed copy count once). At least 1.
    pub fn max_files(mut self, files: usize) -> Retention {
        self.max_files = Some(files);
        self
    }

    /// Deletes files whose period ended more than `age` ago (for files
    /// without a period end, whose last change is that old).
    pub fn max_age(mut self, age: Duration) -> Retention {
        self.max_age = Some(age);
        self
    }

    /// Deletes the oldest files while all of them together take more than
    /// `bytes` (as stored, so compressed files count compressed).
    pub fn max_total_bytes(mut self, bytes: u64) -> Retention {
        self.max_total_bytes = Some(bytes);
        self
    }

    /// Compresses closed files (default [`Compression::None`]).
    pub fn compress(mut self, compression: Compression) -> Retention {
        self.compress = compression;
        self
    }

    /// How long a closed file must have been quiet (period ended and last
    /// modified at least this long ago) before it is compressed or deleted.
    ///
    /// Default: one rotation period, but at least 10 s and at most 1 h; 10 s
    /// for files of [`Rotation::NEVER`](super::Rotation::NEVER). Another
    /// process may write a late batch into the file of a period that just
    /// ended; the grace keeps that batch from being lost.
    pub fn grace(mut self, grace: Duration) -> Retention {
        self.grace = Some(grace);
        self
    }

    /// When a write fails because the disk is full (`ENOSPC`, `EDQUOT`),
    /// let the housekeeper delete this logger's oldest rotated files, one
    /// at a time, until writing works again (default `false`: wait for
    /// space, holding the batch, then fall back or drop and count).
    ///
    /// Only files named by this sink's [`Naming`](super::Naming) are
    /// candidates, oldest first; the file being written and every file of
    /// its period from its split on are never deleted, nor is any other
    /// file in the directory. The grace does not apply: a full disk is
    /// already losing records. Each deletion is reported through the
    /// error handler and counted ([`crate::FileStats::files_freed`]).
    pub fn free_space_on_enospc(mut self, yes: bool) -> Retention {
        self.free_space_on_enospc = yes;
        self
    }

    /// Whether [`Retention::free_space_on_enospc`] was asked for.
    pub(crate) fn frees_space(&self) -> bool {
        self.free_space_on_enospc
    }

    /// The compression asked for.
    pub(crate) fn compression(&self) -> Compression {
        self.compress
    }

    /// Checks the policy when the logger is built.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.max_files == Some(0) {
            return Err(Error::config(
                "max_files must be at least 1 (the current file)",
            ));
        }
        self.compress.check_available()
    }
}

/// A log file found in the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Observed {
    /// Its path.
    pub(crate) path: PathBuf,
    /// The start of its period ([`Timestamp::MIN`] for `NEVER`).
    pub(crate) period_start: Timestamp,
    /// The end of its period under the current rotation; `None` for `NEVER`.
    pub(crate) period_end: Option<Timestamp>,
    /// Its size split, 0 for the first file of the period.
    pub(crate) index: u32,
    /// Whether it is a compressed copy (`.gz`, `.zst`).
    pub(crate) compressed: bool,
    /// Its size on disk.
    pub(crate) bytes: u64,
    /// Its last modification.
    pub(crate) modified: Timestamp,
}

/// What retention decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Files to delete, oldest first (ENOENT is success).
    pub(crate) delete: Vec<PathBuf>,
    /// Files to compress, oldest first.
    pub(crate) compress: Vec<PathBuf>,
}

/// A file and its compressed copies.
#[derive(Debug)]
struct Unit {
    start: Timestamp,
    end: Option<Timestamp>,
    index: u32,
    plain: Option<PathBuf>,
    packed: Vec<PathBuf>,
    bytes: u64,
    modified: Timestamp,
    open: bool,
    settled: bool,
    deleted: bool,
}

impl Unit {
    fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.plain.iter().chain(&self.packed)
    }
}

/// Decides what to delete and compress (see the module documentation).
pub(crate) fn plan(
    files: &[Observed],
    policy: &Retention,
    now: Timestamp,
    active: &[PathBuf],
) -> Plan {
    let mut units = group(files);
    mark_open(&mut units, now, active);
    for unit in &mut units {
        unit.settled = !unit.open && settled(unit, policy.grace, now);
    }

    if let Some(max_age) = policy.max_age {
        for unit in units.iter_mut().filter(|unit| unit.settled) {
            let reference = match unit.end {
                Some(end) if end <= now => end,
                _ => unit.modified,
            };
            if now.duration_since(reference) > signed(max_age) {
                unit.deleted = true;
            }
        }
    }
    if let Some(max_files) = policy.max_files {
        let mut kept = units.iter().filter(|unit| !unit.deleted).count();
        for unit in units.iter_mut().filter(|unit| !unit.deleted) {
            if kept <= max_files {
                break;
            }
            if unit.settled {
                unit.deleted = true;
                kept -= 1;
            }
        }
    }
    if let Some(max_bytes) = policy.max_total_bytes {
        let mut total: u64 = units.iter().filter(|u| !u.deleted).map(|u| u.bytes).sum();
        for unit in units.iter_mut().filter(|unit| !unit.deleted) {
            if total <= max_bytes {
                break;
            }
            if unit.settled {
                unit.deleted = true;
                total -= unit.bytes;
            }
        }
    }

    let mut plan = Plan::default();
    for unit in &units {
        if unit.deleted {
            plan.delete.extend(unit.paths().cloned());
        } else if unit.settled {
            match (&unit.plain, unit.packed.is_empty()) {
                (Some(plain), false) => plan.delete.push(plain.clone()),
                (Some(plain), true) if policy.compress != Compression::None => {
                    plan.compress.push(plain.clone());
                }
                _ => {}
            }
        }
    }
    plan
}

/// The oldest file (with its compressed copies) that may be deleted to
/// free space: strictly older, by period and split index, than the file
/// being written (`current`), and not an active path. Empty if there is
/// none.
pub(crate) fn oldest_to_free(
    files: &[Observed],
    current: (Timestamp, u32),
    active: &[PathBuf],
) -> Vec<PathBuf> {
    group(files)
        .into_iter()
        .filter(|unit| (unit.start, unit.index) < current)
        .find(|unit| !unit.paths().any(|path| active.contains(path)))
        .map(|unit| unit.paths().cloned().collect())
        .unwrap_or_default()
}

/// Groups files into units, oldest first.
fn group(files: &[Observed]) -> Vec<Unit> {
    let mut units: BTreeMap<(Timestamp, u32, PathBuf), Unit> = BTreeMap::new();
    for file in files {
        let base = if file.compressed {
            file.path.with_extension("")
        } else {
            file.path.clone()
        };
        let unit = units
            .entry((file.period_start, file.index, base))
            .or_insert_with(|| Unit {
                start: file.period_start,
                end: file.period_end,
                index: file.index,
                plain: None,
                packed: Vec::new(),
                bytes: 0,
                modified: file.modified,
                open: false,
                settled: false,
                deleted: false,
            });
        if file.compressed {
            unit.packed.push(file.path.clone());
        } else {
            unit.plain = Some(file.path.clone());
        }
        unit.bytes = unit.bytes.saturating_add(file.bytes);
        unit.modified = unit.modified.max(file.modified);
    }
    units.into_values().collect()
}

/// Marks the units in use: those holding an active path, and the newest
/// split of the newest period that has not ended.
fn mark_open(units: &mut [Unit], now: Timestamp, active: &[PathBuf]) {
    let running = |unit: &Unit| unit.end.is_none_or(|end| end > now);
    let newest = units
        .iter()
        .filter(|unit| running(unit))
        .map(|unit| (unit.start, unit.index))
        .max();
    for unit in units.iter_mut() {
        let in_use = unit.paths().any(|path| active.contains(path));
        unit.open = in_use || (running(unit) && Some((unit.start, unit.index)) == newest);
    }
}

/// Quiet for the grace: last modified, and period ended, long enough ago.
fn settled(unit: &Unit, grace: Option<Duration>, now: Timestamp) -> bool {
    let grace = signed(grace.unwrap_or_else(|| default_grace(unit)));
    let ended_long_ago = match unit.end {
        Some(end) if end <= now => now.duration_since(end) >= grace,
        // Not ended (a superseded split) or no end: the last change decides.
        _ => true,
    };
    ended_long_ago && now.duration_since(unit.modified) >= grace
}

/// One period, clamped to 10 s ..= 1 h; 10 s if the period is unknown.
fn default_grace(unit: &Unit) -> Duration {
    let period = match unit.end {
        Some(end) if unit.start != Timestamp::MIN => {
            Duration::try_from(end.duration_since(unit.start)).ok()
        }
        _ => None,
    };
    period.map_or(MIN_GRACE, |p| p.clamp(MIN_GRACE, MAX_DEFAULT_GRACE))
}

fn signed(duration: Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

#[cfg(test)]
#[path = "retention_tests.rs"]
mod tests;
