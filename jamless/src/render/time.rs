//! Timestamp formatting, cached per second.
//!
//! Records carry a raw timestamp (nanoseconds since the Unix epoch); the
//! writer turns it into RFC 3339 with microseconds:
//! `2026-11-27T06:22:17.123456Z` in UTC, `2026-03-08T03:00:00.000000-04:00`
//! in a zone. Working out the civil date and the zone's offset is the
//! expensive part, so it is done once per distinct second with jiff and kept:
//! the date, time and offset text for that second are copied, and only the
//! six fraction digits are formatted per record.
//!
//! The offset is asked of the zone for each new second, so a DST change
//! (offsets change on whole seconds) shows up exactly when it happens. Two
//! cache slots, chosen by the parity of the second, keep records from
//! threads that straddle a second boundary from evicting each other.

use jiff::tz::TimeZone;
use jiff::Timestamp;

const NANOS_PER_SEC: u64 = 1_000_000_000;
const PREFIX_LEN: usize = 19; // YYYY-MM-DDTHH:MM:SS

/// One cached second.
#[derive(Clone, Copy)]
struct Slot {
    /// The Unix second this slot holds, `u64::MAX` when empty.
    second: u64,
    prefix: [u8; PREFIX_LEN],
    /// `Z` or `+HH:MM`.
    suffix: [u8; 6],
    suffix_len: u8,
}

const EMPTY: Slot = Slot {
    second: u64::MAX,
    prefix: [0; PREFIX_LEN],
    suffix: [0; 6],
    suffix_len: 0,
};

/// Formats timestamps in one time zone, caching the per-second work.
pub(crate) struct TimeFormatter {
    tz: TimeZone,
    /// Write `Z` rather than `+00:00` (only when the zone is UTC itself).
    zulu: bool,
    slots: [Slot; 2],
}

impl TimeFormatter {
    /// A formatter writing UTC with a `Z` suffix.
    pub(crate) fn utc() -> TimeFormatter {
        TimeFormatter {
            tz: TimeZone::UTC,
            zulu: true,
            slots: [EMPTY; 2],
        }
    }

    /// A formatter writing civil time in `tz`, with its numeric offset.
    pub(crate) fn zone(tz: TimeZone) -> TimeFormatter {
        TimeFormatter {
            tz,
            zulu: false,
            slots: [EMPTY; 2],
        }
    }

    /// Appends `timestamp_ns` as RFC 3339 with microseconds.
    pub(crate) fn write(&mut self, timestamp_ns: u64, out: &mut Vec<u8>) {
        let second = timestamp_ns / NANOS_PER_SEC;
        let micros = (timestamp_ns % NANOS_PER_SEC) / 1_000;
        let slot = &mut self.slots[(second & 1) as usize];
        if slot.second != second {
            *slot = compute(&self.tz, self.zulu, second);
        }
        out.extend_from_slice(&slot.prefix);
        let mut frac = *b".000000";
        put_digits(&mut frac[1..], micros);
        out.extend_from_slice(&frac);
        out.extend_from_slice(&slot.suffix[..usize::from(slot.suffix_len)]);
    }
}

/// Writes `v` as decimal digits right-aligned into `buf`, zero-padded (the
/// most significant digits are dropped if `v` does not fit).
fn put_digits(buf: &mut [u8], mut v: u64) {
    for d in buf.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

fn compute(tz: &TimeZone, zulu: bool, second: u64) -> Slot {
    let mut slot = Slot { second, ..EMPTY };
    // A u64 of nanoseconds ends in the year 2554, well inside jiff's range;
    // the fallback only keeps this total.
    let ts = i64::try_from(second)
        .ok()
        .and_then(|s| Timestamp::from_second(s).ok())
        .unwrap_or(Timestamp::MAX);
    let offset = tz.to_offset(ts);
    let dt = offset.to_datetime(ts);
    let p = &mut slot.prefix;
    put_digits(&mut p[0..4], u64::try_from(dt.year()).unwrap_or(0));
    p[4] = b'-';
    put_digits(&mut p[5..7], dt.month() as u64);
    p[7] = b'-';
    put_digits(&mut p[8..10], dt.day() as u64);
    p[10] = b'T';
    put_digits(&mut p[11..13], dt.hour() as u64);
    p[13] = b':';
    put_digits(&mut p[14..16], dt.minute() as u64);
    p[16] = b':';
    put_digits(&mut p[17..19], dt.second() as u64);
    let secs = offset.seconds();
    if zulu && secs == 0 {
        slot.suffix[0] = b'Z';
        slot.suffix_len = 1;
    } else {
        // RFC 3339 offsets have minutes only; historical offsets with
        // seconds (local mean time before 1900) cannot occur after 1970.
        let abs = u64::from(secs.unsigned_abs()) / 60;
        slot.suffix[0] = if secs < 0 { b'-' } else { b'+' };
        put_digits(&mut slot.suffix[1..3], abs / 60);
        slot.suffix[3] = b':';
        put_digits(&mut slot.suffix[4..6], abs % 60);
        slot.suffix_len = 6;
    }
    slot
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(rfc3339: &str) -> u64 {
        let ts: Timestamp = rfc3339.parse().unwrap();
        u64::try_from(ts.as_nanosecond()).unwrap()
    }

    fn fmt(f: &mut TimeFormatter, t: u64) -> String {
        let mut out = Vec::new();
        f.write(t, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn utc() {
        let mut f = TimeFormatter::utc();
        assert_eq!(fmt(&mut f, 0), "1970-01-01T00:00:00.000000Z");
        let t = ns("2026-11-27T06:22:17.123456789Z");
        assert_eq!(fmt(&mut f, t), "2026-11-27T06:22:17.123456Z");
        assert_eq!(fmt(&mut f, t + 1_000), "2026-11-27T06:22:17.123457Z");
        assert_eq!(fmt(&mut f, u64::MAX), "2554-07-21T23:34:33.709551Z");
    }

    #[test]
    fn cache_follows_any_order() {
        let mut f = TimeFormatter::utc();
        let t = ns("2026-12-31T23:59:59.999999Z");
        for _ in 0..3 {
            assert_eq!(fmt(&mut f, t), "2026-12-31T23:59:59.999999Z");
            assert_eq!(fmt(&mut f, t + 1_000), "2027-01-01T00:00:00.000000Z");
            assert_eq!(
                fmt(&mut f, t + 2_000_000_000),
                "2027-01-01T00:00:01.999999Z"
            );
        }
        assert_eq!(fmt(&mut f, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(fmt(&mut f, t), "2026-12-31T23:59:59.999999Z");
    }

    #[test]
    fn dst_changes_in_new_york() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let mut f = TimeFormatter::zone(tz);
        // Spring forward: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
        let t = ns("2026-03-08T06:59:59.5Z");
        assert_eq!(fmt(&mut f, t), "2026-03-08T01:59:59.500000-05:00");
        assert_eq!(
            fmt(&mut f, t + 500_000_000),
            "2026-03-08T03:00:00.000000-04:00"
        );
        assert_eq!(fmt(&mut f, t), "2026-03-08T01:59:59.500000-05:00");
        // Fall back: 02:00 EDT becomes 01:00 EST at 06:00 UTC.
        let t = ns("2026-11-01T05:59:59Z");
        assert_eq!(fmt(&mut f, t), "2026-11-01T01:59:59.000000-04:00");
        assert_eq!(
            fmt(&mut f, t + NANOS_PER_SEC),
            "2026-11-01T01:00:00.000000-05:00"
        );
    }

    #[test]
    fn odd_offsets() {
        let mut f = TimeFormatter::zone(TimeZone::get("Asia/Kolkata").unwrap());
        assert_eq!(
            fmt(&mut f, ns("2026-01-01T00:00:00Z")),
            "2026-01-01T05:30:00.000000+05:30"
        );
        let mut f = TimeFormatter::zone(TimeZone::get("America/St_Johns").unwrap());
        assert_eq!(
            fmt(&mut f, ns("2026-01-01T00:00:00Z")),
            "2025-12-31T20:30:00.000000-03:30"
        );
        // A zone that is UTC writes +00:00 rather than Z.
        let mut f = TimeFormatter::zone(TimeZone::UTC);
        assert_eq!(fmt(&mut f, 0), "1970-01-01T00:00:00.000000+00:00");
    }
}
