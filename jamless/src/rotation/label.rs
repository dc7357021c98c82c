//! The period label: the date-and-time text in a file name, written and read.
//!
//! Grammar (all digits ASCII):
//!
//! ```text
//! label  = date [ "T" HH [ "-" MM [ "-" SS ] ] ] [ zone ]
//! date   = YYYY "-" MM "-" DD
//! zone   = "Z"                      the wall clock of UTC
//!        | ( "+" | "-" ) HHMM [SS]  an explicit UTC offset
//! ```
//!
//! Without a zone marker the text is wall-clock time of the rotation zone.
//! The marker `-HHMM` cannot be mistaken for minutes (`-MM`): a time part
//! has exactly two digits.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// How much of the wall-clock time a label shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Precision {
    Day,
    Hour,
    Minute,
    Second,
}

/// Which clock the label's date and time are read on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Clock {
    /// The rotation zone's wall clock; no marker.
    Zone,
    /// UTC; marker `Z`.
    Utc,
    /// Wall clock at this offset from UTC; marker `+HHMM` / `-HHMM`.
    Offset(Offset),
}

/// A label read back from text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Label {
    pub(crate) datetime: DateTime,
    pub(crate) precision: Precision,
    pub(crate) clock: Clock,
}

impl Label {
    /// Writes the label, truncating `datetime` to `precision`.
    pub(crate) fn format(&self) -> String {
        let dt = self.datetime;
        let mut out = format!("{:04}-{:02}-{:02}", dt.year(), dt.month(), dt.day());
        if self.precision >= Precision::Hour {
            out.push_str(&format!("T{:02}", dt.hour()));
        }
        if self.precision >= Precision::Minute {
            out.push_str(&format!("-{:02}", dt.minute()));
        }
        if self.precision >= Precision::Second {
            out.push_str(&format!("-{:02}", dt.second()));
        }
        match self.clock {
            Clock::Zone => {}
            Clock::Utc => out.push('Z'),
            Clock::Offset(offset) => {
                let secs = offset.seconds();
                let sign = if secs < 0 { '-' } else { '+' };
                let abs = secs.unsigned_abs();
                out.push_str(&format!("{sign}{:02}{:02}", abs / 3600, abs / 60 % 60));
                if abs % 60 != 0 {
                    out.push_str(&format!("{:02}", abs % 60));
                }
            }
        }
        out
    }

    /// Reads a label; `None` if `text` is not exactly one label.
    pub(crate) fn parse(text: &str) -> Option<Label> {
        let b = text.as_bytes();
        let year = digits(b, 0, 4)?;
        let month = after_dash(b, 4)?;
        let day = after_dash(b, 7)?;
        let date = Date::new(i16::try_from(year).ok()?, month as i8, day as i8).ok()?;
        let mut at = 10;
        let mut precision = Precision::Day;
        let mut hms = [0u32; 3];
        if b.get(at) == Some(&b'T') {
            hms[0] = digits(b, at + 1, 2)?;
            at += 3;
            precision = Precision::Hour;
            for (slot, next) in [(1, Precision::Minute), (2, Precision::Second)] {
                // "-MM" is a time part only if no third digit follows.
                let part =
                    after_dash(b, at).filter(|_| !b.get(at + 3).is_some_and(u8::is_ascii_digit));
                match part {
                    Some(value) => {
                        hms[slot] = value;
                        at += 3;
                        precision = next;
                    }
                    None => break,
                }
            }
        }
        let time = Time::new(hms[0] as i8, hms[1] as i8, hms[2] as i8, 0).ok()?;
        let clock = parse_clock(&b[at..])?;
        Some(Label {
            datetime: date.to_datetime(time),
            precision,
            clock,
        })
    }

    /// The instant the label names, reading wall-clock labels in `tz`.
    ///
    /// A wall-clock date alone means the first instant of that day; a
    /// wall-clock time that a DST change repeats means its first
    /// occurrence (labels this crate writes carry an offset there) and one
    /// it skips means the instant of the change.
    pub(crate) fn start(&self, tz: &TimeZone) -> Option<Timestamp> {
        match self.clock {
            Clock::Utc => TimeZone::UTC.to_timestamp(self.datetime).ok(),
            Clock::Offset(offset) => offset.to_timestamp(self.datetime).ok(),
            Clock::Zone if self.precision == Precision::Day => self
                .datetime
                .date()
                .to_zoned(tz.clone())
                .and_then(|zoned| zoned.start_of_day())
                .map(|zoned| zoned.timestamp())
                .ok(),
            Clock::Zone => tz.to_ambiguous_timestamp(self.datetime).compatible().ok(),
        }
    }
}

fn parse_clock(rest: &[u8]) -> Option<Clock> {
    match rest {
        [] => Some(Clock::Zone),
        [b'Z'] => Some(Clock::Utc),
        [sign @ (b'+' | b'-'), tail @ ..] if tail.len() == 4 || tail.len() == 6 => {
            let hours = digits(tail, 0, 2)?;
            let minutes = digits(tail, 2, 2)?;
            let seconds = if tail.len() == 6 {
                digits(tail, 4, 2)?
            } else {
                0
            };
            if minutes >= 60 || seconds >= 60 {
                return None;
            }
            let abs = i32::try_from(hours * 3600 + minutes * 60 + seconds).ok()?;
            let secs = if *sign == b'-' { -abs } else { abs };
            Offset::from_seconds(secs).ok().map(Clock::Offset)
        }
        _ => None,
    }
}

/// `len` ASCII digits at `at`, as a number.
fn digits(b: &[u8], at: usize, len: usize) -> Option<u32> {
    let slice = b.get(at..at + len)?;
    slice.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// A dash at `at` followed by two digits.
fn after_dash(b: &[u8], at: usize) -> Option<u32> {
    (b.get(at) == Some(&b'-')).then_some(())?;
    digits(b, at + 1, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::tz::offset;

    fn label(text: &str) -> Label {
        Label::parse(text).unwrap_or_else(|| panic!("{text:?} should parse"))
    }

    #[test]
    fn formats_each_precision_and_clock() {
        let dt = date(2026, 11, 27).at(13, 5, 10, 999);
        let cases = [
            (Precision::Day, Clock::Zone, "2026-11-27"),
            (Precision::Hour, Clock::Zone, "2026-11-27T13"),
            (Precision::Minute, Clock::Zone, "2026-11-27T13-05"),
            (Precision::Second, Clock::Zone, "2026-11-27T13-05-10"),
            (Precision::Minute, Clock::Utc, "2026-11-27T13-05Z"),
            (
                Precision::Hour,
                Clock::Offset(offset(-4)),
                "2026-11-27T13-0400",
            ),
            (
                Precision::Hour,
                Clock::Offset(offset(1)),
                "2026-11-27T13+0100",
            ),
            (
                Precision::Minute,
                Clock::Offset(Offset::from_seconds(5 * 3600 + 45 * 60).unwrap_or(Offset::UTC)),
                "2026-11-27T13-05+0545",
            ),
        ];
        for (precision, clock, text) in cases {
            let written = Label {
                datetime: dt,
                precision,
                clock,
            }
            .format();
            assert_eq!(written, text);
            let read = label(text);
            assert_eq!((read.precision, read.clock), (precision, clock), "{text}");
        }
    }

    #[test]
    fn parses_minutes_and_negative_offsets_apart() {
        let minute = label("2026-11-01T01-04");
        assert_eq!(minute.precision, Precision::Minute);
        assert_eq!(minute.datetime, date(2026, 11, 1).at(1, 4, 0, 0));
        let offset_hour = label("2026-11-01T01-0400");
        assert_eq!(offset_hour.precision, Precision::Hour);
        assert_eq!(offset_hour.clock, Clock::Offset(offset(-4)));
        let both = label("2026-11-01T01-04-0500");
        assert_eq!(both.precision, Precision::Minute);
        assert_eq!(both.clock, Clock::Offset(offset(-5)));
        let odd = label("1890-01-01T00-00-00+005328");
        assert_eq!(
            odd.clock,
            Clock::Offset(Offset::from_seconds(3208).unwrap_or(Offset::UTC))
        );
    }

    #[test]
    fn rejects_what_is_not_a_label() {
        for text in [
            "",
            "2026",
            "2026-11",
            "2026-13-01",
            "2026-02-30",
            "26-11-27",
            "2026-11-27T",
            "2026-11-27T24",
            "2026-11-27T13-60",
            "2026-11-27T1",
            "2026-11-27T13-5",
            "2026-11-27T13-05-10-11",
            "2026-11-27T13Zx",
            "2026-11-27T13+01",
            "2026-11-27T13+0160",
            "2026-11-27x",
            "2026-11-27.log",
            "pod-7",
            "1",
            "２０２６-11-27",
        ] {
            assert_eq!(Label::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn start_reads_each_clock() -> Result<(), jiff::Error> {
        let ny = TimeZone::get("America/New_York")?;
        let start = |text: &str| label(text).start(&ny);
        assert_eq!(start("2026-11-27"), Some("2026-11-27T05:00:00Z".parse()?));
        assert_eq!(
            start("2026-11-27T13-05Z"),
            Some("2026-11-27T13:05:00Z".parse()?)
        );
        assert_eq!(
            start("2026-11-01T01-0400"),
            Some("2026-11-01T05:00:00Z".parse()?)
        );
        assert_eq!(
            start("2026-11-01T01-0500"),
            Some("2026-11-01T06:00:00Z".parse()?)
        );
        // A repeated wall-clock time without a marker: its first occurrence.
        assert_eq!(
            start("2026-11-01T01"),
            Some("2026-11-01T05:00:00Z".parse()?)
        );
        // A skipped one: the instant of the change.
        assert_eq!(
            start("2026-03-08T02"),
            Some("2026-03-08T07:00:00Z".parse()?)
        );
        // A day whose midnight is skipped starts at the change.
        let havana = TimeZone::get("America/Havana")?;
        assert_eq!(
            label("2026-03-08").start(&havana),
            Some("2026-03-08T05:00:00Z".parse()?)
        );
        Ok(())
    }
}
