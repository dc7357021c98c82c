//! Rotation: when a log file ends, what the files are called, which old
//! files are kept, compressed or deleted.
//!
//! The planning here is pure (the style of quinn): the functions take the
//! time and what was observed on disk and return a decision, so every rule
//! is tested without a clock or a file system. Two small modules do the
//! I/O the plans call for: `scan` lists a directory and `compress`
//! compresses one file.
//!
//! | module | idea |
//! |---|---|
//! | `schedule` | period start, next boundary and label of an instant (DST-correct) |
//! | `label` | the date-and-time text in a file name, both ways |
//! | `naming` | file names, both ways; [`Naming`] |
//! | `instance` | the optional instance tag (`{host}`, `{pid}`, `{pod}`, `{random}`) |
//! | `retention` | which files to delete or compress; [`Retention`], [`Compression`] |
//! | `scan` | directory entries to observations (I/O) |
//! | `compress` | crash- and race-safe compression of one file (I/O) |
//!
//! # The model
//!
//! Time is cut into periods by a [`Rotation`] in a [`RotationTz`]. A
//! period's files are named by its label: `app.2026-11-27.log`, then
//! `app.2026-11-27.1.log`, `app.2026-11-27.2.log` when a size limit splits
//! the period. Every process computes the same name from the clock, so
//! processes sharing a directory converge on the same file without renaming
//! anything. The rotation instant is computed (`schedule`), never polled.
//!
//! Decisions, and why:
//!
//! * **Alignment.** `MINUTELY`, `HOURLY` and every interval that divides a
//!   day start a period whenever the wall clock of the zone shows a
//!   multiple of the interval since midnight (in UTC that is the same as
//!   aligning to the Unix epoch). `DAILY` (and `every(24h)`) follows
//!   calendar days, so a day lasts 23 or 25 hours across a DST change. Any
//!   other interval (7 min, 2 days, a week) is aligned to the Unix epoch
//!   and labelled in UTC with a `Z` (`app.2026-11-27T12-59Z.log`), since
//!   wall-clock alignment means nothing for it.
//! * **DST.** A boundary whose wall-clock time a DST change skips happens
//!   at the instant of the jump (as a day whose midnight is skipped starts
//!   then). A wall-clock time that a change repeats starts a period each
//!   time, and a label whose wall-clock time is ambiguous carries its UTC
//!   offset (`app.2026-11-01T01-0400.log`, then
//!   `app.2026-11-01T01-0500.log`), so labels stay unique and each names
//!   exactly one instant.
//! * **Settling.** A file is only compressed or deleted once it is closed
//!   and has been quiet for a grace period (another process may still write
//!   a late batch into the file of a period that just ended).

mod compress;
mod instance;
mod label;
mod naming;
mod retention;
mod scan;
mod schedule;

use std::time::Duration;

use jiff::tz::TimeZone;

use crate::Error;

pub use naming::Naming;
pub use retention::{Compression, Retention};

// The crate-internal surface, for the file sink and the housekeeper.
pub(crate) use self::{
    compress::{compress_file_until, recover, CompressOutcome},
    instance::InstanceEnv,
    naming::Names,
    retention::{oldest_to_free, plan},
    scan::{highest_index, scan},
    schedule::{next_boundary, period_label, period_start},
};

/// Seconds in a day without DST changes.
const DAY: u64 = 86_400;
/// The longest interval [`Rotation::every`] accepts: 366 days.
const MAX_INTERVAL: u64 = 366 * DAY;

/// When a log file ends and the next begins.
///
/// ```ignore
/// use std::time::Duration;
/// let hourly = Rotation::HOURLY;
/// let quarter = Rotation::every(Duration::from_secs(15 * 60))?;
/// ```
///
/// Boundaries are computed in a [`RotationTz`]: `HOURLY` and intervals that
/// divide a day follow the zone's wall clock (a period starts whenever the
/// clock shows a multiple of the interval since midnight), `DAILY` follows
/// calendar days (23 or 25 hours long across a DST change), and any other
/// interval is aligned to the Unix epoch in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rotation(Kind);

/// The private shape of a [`Rotation`]; new kinds can be added without
/// breaking users, who only see the constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// One period forever: only size limits split files.
    Never,
    /// Calendar days of the zone.
    Daily,
    /// Seconds that divide a day (and are less than one): wall-clock
    /// aligned in the zone.
    WallClock(u32),
    /// Any other number of seconds: aligned to the Unix epoch.
    Epoch(u64),
}

impl Rotation {
    /// Never rotate by time; files are only split by size, if a size limit
    /// is set.
    pub const NEVER: Rotation = Rotation(Kind::Never);
    /// A new file every minute.
    pub const MINUTELY: Rotation = Rotation(Kind::WallClock(60));
    /// A new file every hour of the zone's wall clock.
    pub const HOURLY: Rotation = Rotation(Kind::WallClock(3600));
    /// A new file every calendar day of the zone, at midnight (or at the
    /// first instant of the day, where a DST change skips midnight).
    pub const DAILY: Rotation = Rotation(Kind::Daily);

    /// A new file every `interval`, in whole seconds from 1 s to 366 days.
    ///
    /// Intervals that divide a day (10 s, 15 min, 2 h, ...) follow the
    /// zone's wall clock from midnight; 1 min, 1 h and 24 h are the same as
    /// [`MINUTELY`](Rotation::MINUTELY), [`HOURLY`](Rotation::HOURLY) and
    /// [`DAILY`](Rotation::DAILY). Other intervals (7 min, 2 days, a week)
    /// are aligned to the Unix epoch and their files are labelled in UTC,
    /// with a `Z`.
    ///
    /// # Errors
    ///
    /// A configuration error if the interval has a fraction of a second, is
    /// zero or is longer than 366 days.
    pub fn every(interval: Duration) -> Result<Rotation, Error> {
        if interval.subsec_nanos() != 0 {
            return Err(Error::config(format!(
                "rotation interval must be whole seconds, got {interval:?}"
            )));
        }
        let secs = interval.as_secs();
        if secs == 0 {
            return Err(Error::config("rotation interval must be at least 1 s"));
        }
        if secs > MAX_INTERVAL {
            return Err(Error::config(format!(
                "rotation interval must be at most 366 days, got {secs} s"
            )));
        }
        Ok(Rotation(if secs == DAY {
            Kind::Daily
        } else if DAY.is_multiple_of(secs) {
            // Less than a day here, so it fits in u32.
            Kind::WallClock(secs as u32)
        } else {
            Kind::Epoch(secs)
        }))
    }

    /// Reads a rotation as the configuration file and the `jamless`
    /// command write it: `minutely`, `hourly`, `daily`, `never` (any case),
    /// or an interval such as `30s`, `15m`, `2h` (see [`Rotation::every`]).
    ///
    /// # Errors
    ///
    /// A configuration error that names the text and what was expected.
    pub fn parse(text: &str) -> Result<Rotation, Error> {
        match text.to_ascii_lowercase().as_str() {
            "minutely" => return Ok(Rotation::MINUTELY),
            "hourly" => return Ok(Rotation::HOURLY),
            "daily" => return Ok(Rotation::DAILY),
            "never" => return Ok(Rotation::NEVER),
            _ => {}
        }
        let d = humantime::parse_duration(text).map_err(|e| {
            Error::config(format!(
                "{text:?}: expected minutely, hourly, daily, never or an interval like 30s ({e})"
            ))
        })?;
        Rotation::every(d)
    }

    /// The nominal length of a period (a day for [`DAILY`](Rotation::DAILY),
    /// although a calendar day can last 23 or 25 hours), or `None` for
    /// [`NEVER`](Rotation::NEVER).
    pub fn interval(&self) -> Option<Duration> {
        match self.0 {
            Kind::Never => None,
            Kind::Daily => Some(Duration::from_secs(DAY)),
            Kind::WallClock(secs) => Some(Duration::from_secs(u64::from(secs))),
            Kind::Epoch(secs) => Some(Duration::from_secs(secs)),
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        self.0
    }
}

/// The time zone whose clock and calendar rotation follows.
///
/// The default is UTC. The zone is looked up once, when the logger is
/// built; zone data comes from the system (`/usr/share/zoneinfo`) or, where
/// that is missing (a slim container image), from the copy compiled into
/// the program.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RotationTz {
    /// Coordinated Universal Time: no DST, the same everywhere.
    #[default]
    Utc,
    /// The system's zone (`TZ`, else `/etc/localtime`); UTC when it cannot be
    /// determined.
    Local,
    /// An IANA zone name such as `America/New_York`.
    Named(String),
}

impl RotationTz {
    /// The zone named `name`, for example `Europe/Berlin`.
    pub fn named(name: impl Into<String>) -> RotationTz {
        RotationTz::Named(name.into())
    }

    /// Looks the zone up.
    ///
    /// `Local` never fails: jiff falls back to a zone that behaves like UTC
    /// when the system zone cannot be found, because failing to start
    /// logging over a missing `/etc/localtime` would be worse.
    pub(crate) fn resolve(&self) -> Result<TimeZone, Error> {
        match self {
            RotationTz::Utc => Ok(TimeZone::UTC),
            RotationTz::Local => Ok(TimeZone::system()),
            RotationTz::Named(name) => TimeZone::get(name)
                .map_err(|err| Error::config(format!("unknown time zone {name:?}: {err}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_and_every_agree() {
        let every = |s| Rotation::every(Duration::from_secs(s)).map_err(|e| e.to_string());
        assert_eq!(every(60), Ok(Rotation::MINUTELY));
        assert_eq!(every(3600), Ok(Rotation::HOURLY));
        assert_eq!(every(86_400), Ok(Rotation::DAILY));
        assert_eq!(every(10).map(|r| r.kind()), Ok(Kind::WallClock(10)));
        assert_eq!(every(420).map(|r| r.kind()), Ok(Kind::Epoch(420)));
        assert_eq!(
            every(7 * 86_400).map(|r| r.kind()),
            Ok(Kind::Epoch(604_800))
        );
        assert_eq!(Rotation::HOURLY.interval(), Some(Duration::from_secs(3600)));
        assert_eq!(Rotation::NEVER.interval(), None);
    }

    #[test]
    fn every_rejects_bad_intervals() {
        for bad in [
            Duration::ZERO,
            Duration::from_millis(1500),
            Duration::from_millis(500),
            Duration::from_secs(MAX_INTERVAL + 1),
        ] {
            let err = Rotation::every(bad).err();
            assert!(err.is_some_and(|e| e.is_config()), "{bad:?}");
        }
        assert!(Rotation::every(Duration::from_secs(MAX_INTERVAL)).is_ok());
    }

    #[test]
    fn zone_data_is_compiled_in() {
        // jiff's `tzdb-bundle-always`: slim images without
        // /usr/share/zoneinfo still know their zones.
        let bundled = jiff::tz::TimeZoneDatabase::bundled();
        assert!(bundled.get("America/New_York").is_ok());
    }

    #[test]
    fn zones_resolve() {
        assert_eq!(RotationTz::default(), RotationTz::Utc);
        assert!(RotationTz::Utc.resolve().is_ok());
        assert!(RotationTz::Local.resolve().is_ok());
        assert!(RotationTz::named("America/New_York").resolve().is_ok());
        let err = RotationTz::named("Mars/Olympus_Mons").resolve().err();
        assert!(err.is_some_and(|e| e.is_config()));
    }
}
