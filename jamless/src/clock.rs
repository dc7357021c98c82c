//! Record timestamps: a raw cycle counter on the caller, wall-clock time on
//! the writer.
//!
//! Reading the wall clock (`clock_gettime`) costs tens of nanoseconds on
//! many virtual machines, a noticeable share of a log call. The caller
//! instead reads the CPU's time-stamp counter through `quanta` (a few
//! nanoseconds; quanta falls back to the monotonic clock where the counter
//! is not reliable) and stores the raw value. The writer converts it: it
//! keeps an anchor pair (counter, wall time) that it refreshes every
//! second, so wall-clock steps and NTP slewing are followed within a
//! second, and the conversion error stays far below the microsecond
//! resolution of the output.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

static CLOCK: OnceLock<RawClock> = OnceLock::new();

/// The process-wide raw clock (calibrated once).
pub(crate) fn global() -> &'static RawClock {
    CLOCK.get_or_init(RawClock::new)
}

/// A raw timestamp for a record, taken on the caller's thread.
#[inline]
pub(crate) fn raw() -> u64 {
    global().raw()
}

/// The caller's clock: cheap raw readings.
#[derive(Clone, Debug)]
pub(crate) struct RawClock {
    clock: quanta::Clock,
}

impl RawClock {
    pub(crate) fn new() -> RawClock {
        RawClock {
            clock: quanta::Clock::new(),
        }
    }

    /// A raw reading for a record's timestamp field.
    #[inline]
    pub(crate) fn raw(&self) -> u64 {
        self.clock.raw()
    }

    /// A converter for the writer, anchored now.
    pub(crate) fn converter(&self) -> Converter {
        let mut c = Converter {
            clock: self.clock.clone(),
            anchor_at: self.clock.now(),
            anchor_wall_ns: 0,
        };
        c.reanchor();
        c
    }
}

/// Turns raw readings into nanoseconds since the Unix epoch.
pub(crate) struct Converter {
    clock: quanta::Clock,
    anchor_at: quanta::Instant,
    anchor_wall_ns: u64,
}

const REANCHOR_EVERY: Duration = Duration::from_secs(1);

impl Converter {
    fn reanchor(&mut self) {
        let at = self.clock.now();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        self.anchor_at = at;
        self.anchor_wall_ns = wall;
    }

    /// Re-anchors if the anchor is older than a second (call once per batch).
    pub(crate) fn refresh(&mut self) {
        if self.clock.now().saturating_duration_since(self.anchor_at) >= REANCHOR_EVERY {
            self.reanchor();
        }
    }

    /// Wall-clock nanoseconds since the Unix epoch for a raw reading.
    #[inline]
    pub(crate) fn to_unix_ns(&self, raw: u64) -> u64 {
        let at = self.clock.scaled(raw);
        match at.checked_duration_since(self.anchor_at) {
            Some(after) => self.anchor_wall_ns.saturating_add(after.as_nanos() as u64),
            None => {
                let before = self.anchor_at.saturating_duration_since(at);
                self.anchor_wall_ns.saturating_sub(before.as_nanos() as u64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converted_readings_track_the_wall_clock() {
        let clock = RawClock::new();
        let mut conv = clock.converter();
        let wall = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        let before = wall(SystemTime::now());
        let raw = clock.raw();
        let after = wall(SystemTime::now());
        let ns = conv.to_unix_ns(raw);
        // Within a millisecond of the bracketing wall readings.
        assert!(
            ns + 1_000_000 >= before && ns <= after + 1_000_000,
            "{before} <= {ns} <= {after}"
        );
        // A reading taken before the anchor converts to an earlier time.
        std::thread::sleep(Duration::from_millis(5));
        conv.refresh();
        let later = clock.raw();
        assert!(conv.to_unix_ns(later) > ns);
        assert!(conv.to_unix_ns(raw) <= conv.to_unix_ns(later));
    }
}
