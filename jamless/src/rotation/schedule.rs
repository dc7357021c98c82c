//! When periods start and end, and what they are called: pure functions of
//! the rotation, the zone and an instant.
//!
//! Three kinds of boundaries (see [`Kind`]):
//!
//! * **Daily**: the first instant of each calendar day of the zone
//!   (`Zoned::start_of_day`), so days of 23 and 25 hours come out right.
//! * **Wall clock** (an interval `n` that divides a day): every instant at
//!   which the zone's wall clock shows a multiple of `n` since midnight.
//!   Between two offset changes the offset is constant, so those instants
//!   are an arithmetic progression; the search walks the zone's transitions
//!   (at most a few steps). A multiple that a DST change skips starts its
//!   period at the instant of the jump (as `DAILY` does for a skipped
//!   midnight, and as jiff's "compatible" disambiguation does); one that a
//!   change repeats starts a second period, labelled with its offset.
//! * **Epoch**: multiples of `n` seconds since the Unix epoch.
//!
//! For every instant `now`: `period_start(now) <= now < next_boundary(now)`,
//! and `period_start(next_boundary(now)) == next_boundary(now)`.

use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

use super::label::{Clock, Label, Precision};
use super::{Kind, Rotation};

/// Offset changes searched through before giving up; zones change offset at
/// most a few times a year, so 64 is never reached in practice.
const MAX_TRANSITIONS: usize = 64;

/// The first instant of the period containing `now` ([`Timestamp::MIN`] for
/// [`Rotation::NEVER`], whose one period has no start).
pub(crate) fn period_start(rotation: &Rotation, tz: &TimeZone, now: Timestamp) -> Timestamp {
    match rotation.kind() {
        Kind::Never => Timestamp::MIN,
        Kind::Daily => now
            .to_zoned(tz.clone())
            .start_of_day()
            .map(|zoned| zoned.timestamp())
            .unwrap_or(Timestamp::MIN),
        Kind::WallClock(secs) => {
            let n = i64::from(secs);
            wall_clock_start(tz, n, floor_second(now)).map_or(Timestamp::MIN, second)
        }
        Kind::Epoch(secs) => {
            let n = secs as i64;
            second(floor_second(now).div_euclid(n) * n)
        }
    }
}

/// The first instant after `now` that starts a new period: the instant to
/// rotate at. `None` for [`Rotation::NEVER`] (and past the end of time).
pub(crate) fn next_boundary(
    rotation: &Rotation,
    tz: &TimeZone,
    now: Timestamp,
) -> Option<Timestamp> {
    match rotation.kind() {
        Kind::Never => None,
        Kind::Daily => now
            .to_zoned(tz.clone())
            .tomorrow()
            .and_then(|zoned| zoned.start_of_day())
            .map(|zoned| zoned.timestamp())
            .ok(),
        Kind::WallClock(secs) => {
            let n = i64::from(secs);
            let from = floor_second(now).checked_add(1)?;
            wall_clock_next(tz, n, from).and_then(|s| Timestamp::from_second(s).ok())
        }
        Kind::Epoch(secs) => {
            let n = secs as i64;
            let next = floor_second(now)
                .div_euclid(n)
                .checked_add(1)?
                .checked_mul(n)?;
            Timestamp::from_second(next).ok()
        }
    }
}

/// The label of the period starting at `start`: the date-and-time part of
/// its file names. Empty for [`Rotation::NEVER`].
///
/// Daily labels are dates (`2026-11-27`); wall-clock labels show the hour,
/// minute or second as the interval needs (`2026-11-27T13`,
/// `2026-11-27T13-05`, `2026-11-27T13-05-10`) and add the UTC offset when
/// that wall-clock time occurs twice (`2026-11-01T01-0400`), and the
/// minutes of a period that a DST jump starts off the grid
/// (`2025-10-05T02-30` for hourly periods on Lord Howe Island);
/// epoch-aligned labels are UTC with a `Z` (`2026-11-27T12-59Z`).
pub(crate) fn period_label(rotation: &Rotation, tz: &TimeZone, start: Timestamp) -> String {
    let label = match rotation.kind() {
        Kind::Never => return String::new(),
        Kind::Daily => Label {
            datetime: start.to_zoned(tz.clone()).datetime(),
            precision: Precision::Day,
            clock: Clock::Zone,
        },
        Kind::WallClock(secs) => {
            let zoned = start.to_zoned(tz.clone());
            let datetime = zoned.datetime();
            let clock = match tz.to_ambiguous_timestamp(datetime).offset() {
                AmbiguousOffset::Fold { .. } => Clock::Offset(zoned.offset()),
                _ => Clock::Zone,
            };
            // A period started by a DST jump may start off the grid
            // (02:30 for hourly periods): show what is needed to say so.
            let exact = match (datetime.second(), datetime.minute()) {
                (0, 0) => Precision::Hour,
                (0, _) => Precision::Minute,
                _ => Precision::Second,
            };
            Label {
                datetime,
                precision: precision(u64::from(secs)).max(exact),
                clock,
            }
        }
        Kind::Epoch(secs) => Label {
            datetime: TimeZone::UTC.to_datetime(start),
            precision: if secs.is_multiple_of(super::DAY) {
                Precision::Day
            } else {
                precision(secs)
            },
            clock: Clock::Utc,
        },
    };
    label.format()
}

/// The start of the period a label names, read in `tz`; the empty label
/// ([`Rotation::NEVER`]) gives [`Timestamp::MIN`]. `None` if `label` is not
/// a label.
pub(crate) fn label_start(label: &str, tz: &TimeZone) -> Option<Timestamp> {
    if label.is_empty() {
        return Some(Timestamp::MIN);
    }
    Label::parse(label)?.start(tz)
}

/// The coarsest precision that shows every boundary of an interval.
fn precision(secs: u64) -> Precision {
    if secs.is_multiple_of(3600) {
        Precision::Hour
    } else if secs.is_multiple_of(60) {
        Precision::Minute
    } else {
        Precision::Second
    }
}

/// The whole second at or before `t`.
fn floor_second(t: Timestamp) -> i64 {
    let secs = t.as_second();
    if t.subsec_nanosecond() < 0 {
        secs - 1
    } else {
        secs
    }
}

fn second(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(if s < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// The offset (in seconds) in force at second `s`, and the transitions
/// around it: the latest at or before `s` and the first after it (`None`
/// for none).
fn segment(tz: &TimeZone, s: i64) -> Option<(i64, Option<i64>, Option<i64>)> {
    let at = Timestamp::from_second(s).ok()?;
    let offset = offset_at(tz, at);
    let end = tz.following(at).next().map(|t| t.timestamp().as_second());
    // Transitions strictly before s + 1: the latest one at or before s.
    let start = match Timestamp::from_second(s + 1) {
        Ok(after) => tz
            .preceding(after)
            .next()
            .map(|t| t.timestamp().as_second()),
        Err(_) => None,
    };
    Some((offset, start, end))
}

fn offset_at(tz: &TimeZone, at: Timestamp) -> i64 {
    i64::from(tz.to_offset(at).seconds())
}

/// Whether the transition at second `t` skips a wall-clock multiple of `n`
/// (its gap of wall-clock times `[t + before, t + after)` contains one): the
/// skipped period then starts at `t`.
fn skips_a_multiple(tz: &TimeZone, n: i64, t: i64) -> bool {
    let (Ok(before), Ok(at)) = (Timestamp::from_second(t - 1), Timestamp::from_second(t)) else {
        return false;
    };
    let (from, to) = (t + offset_at(tz, before), t + offset_at(tz, at));
    from < to && from + (-from).rem_euclid(n) < to
}

/// The latest boundary second `<= s`: a second whose wall-clock time is a
/// multiple of `n` since midnight, or a transition that skips one.
fn wall_clock_start(tz: &TimeZone, n: i64, mut s: i64) -> Option<i64> {
    for _ in 0..MAX_TRANSITIONS {
        let (offset, start, _) = segment(tz, s)?;
        let candidate = s - (s + offset).rem_euclid(n);
        match start {
            Some(start) if candidate < start => {
                if skips_a_multiple(tz, n, start) {
                    return Some(start);
                }
                s = start - 1;
            }
            _ => return Some(candidate),
        }
    }
    None
}

/// The earliest boundary second `>= s` (see [`wall_clock_start`]).
fn wall_clock_next(tz: &TimeZone, n: i64, mut s: i64) -> Option<i64> {
    for _ in 0..MAX_TRANSITIONS {
        let (offset, start, end) = segment(tz, s)?;
        if start == Some(s) && skips_a_multiple(tz, n, s) {
            return Some(s);
        }
        let candidate = s + (-(s + offset)).rem_euclid(n);
        match end {
            Some(end) if candidate >= end => {
                if skips_a_multiple(tz, n, end) {
                    return Some(end);
                }
                s = end;
            }
            _ => return Some(candidate),
        }
    }
    None
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
