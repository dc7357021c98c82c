//! Wall-clock helpers for the naive logger: UTC civil time for its line
//! timestamps and dated file names, and the wall-clock-aligned rotation
//! instants (every process computes the same instants from the clock).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) micros: u32,
}

/// Seconds (and microseconds) since the Unix epoch; 0 before it.
fn unix(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO)
}

impl Civil {
    /// The UTC civil time of `t` (H. Hinnant's days-to-civil algorithm).
    pub(crate) fn utc(t: SystemTime) -> Civil {
        let d = unix(t);
        let secs = d.as_secs();
        let days = (secs / 86_400) as i64;
        let rem = secs % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: (rem / 3_600) as u32,
            minute: (rem % 3_600 / 60) as u32,
            second: (rem % 60) as u32,
            micros: d.subsec_micros(),
        }
    }

    /// `2006-01-02-15-04-05`: the stamp in a rotated file's name.
    pub(crate) fn file_stamp(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}-{:02}-{:02}-{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `2006/01/02 15:04:05.000000 UTC`: the time in a log line.
    pub(crate) fn line_stamp(&self) -> String {
        format!(
            "{:04}/{:02}/{:02} {:02}:{:02}:{:02}.{:06} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.micros
        )
    }
}

/// The start of the period of length `every` that contains `t`, periods
/// being aligned to the Unix epoch (for an `every` that divides a day, the
/// UTC wall clock shows a multiple of `every` at each start).
pub(crate) fn period_start(t: SystemTime, every: Duration) -> SystemTime {
    let secs = every.as_secs().max(1);
    let now = unix(t).as_secs();
    UNIX_EPOCH + Duration::from_secs(now - now % secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_time_of_known_instants() {
        let epoch = Civil::utc(UNIX_EPOCH);
        assert_eq!(epoch.file_stamp(), "1970-01-01-00-00-00");
        // 2024-02-29T23:59:58.5Z: a leap day.
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_198_500);
        let c = Civil::utc(t);
        assert_eq!(c.file_stamp(), "2024-02-29-23-59-58");
        assert_eq!(c.line_stamp(), "2024/02/29 23:59:58.500000 UTC");
    }

    #[test]
    fn periods_are_aligned_to_the_wall_clock() {
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_198_500);
        let start = period_start(t, Duration::from_secs(3));
        assert_eq!(Civil::utc(start).file_stamp(), "2024-02-29-23-59-57");
        let start = period_start(t, Duration::from_secs(1));
        assert_eq!(Civil::utc(start).file_stamp(), "2024-02-29-23-59-58");
    }
}
