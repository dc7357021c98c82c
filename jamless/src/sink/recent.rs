//! What a file sink wrote lately, by level, for the count a truncation
//! (`copytruncate`) reports.
//!
//! logrotate's `copytruncate` copies the file, then truncates it: every
//! record appended between the start of the copy and the cut is lost, and
//! nothing tells the writer when the copy began. The appender sees the cut
//! at its next check (the file is shorter than what it wrote). It then
//! counts, as possibly lost, every record it wrote into that file in the
//! lookback before its last write: that last write came before the cut (a
//! write after it would have seen the cut), so the count is an upper bound
//! on the loss whenever the copy and the cut are at most the lookback
//! apart. The lookback ([`lookback`]) is one second plus the time copying
//! the file takes at [`SLOW_COPY`] bytes per second, at most [`MAX_LOOKBACK`].
//! It counts more than was lost (most of those records are in the copy);
//! an undercount would hide a loss, an overcount only says "may have been
//! lost" of records the copy kept.
//!
//! Counts are kept in time buckets, so the memory is fixed whatever the
//! write rate.

use std::time::{Duration, Instant};

/// The width of one bucket.
const BUCKET: Duration = Duration::from_millis(50);

/// The longest lookback.
pub(crate) const MAX_LOOKBACK: Duration = Duration::from_secs(60);

/// Buckets kept: the longest lookback and the bucket of the last write.
const BUCKETS: usize = (MAX_LOOKBACK.as_millis() / BUCKET.as_millis()) as usize + 1;

/// The copy rate the lookback assumes: a slow disk's.
pub(crate) const SLOW_COPY: u64 = 32 << 20;

/// How far back a truncation's count reaches for a file that had `size`
/// bytes before the cut: one second, plus the copy's time at
/// [`SLOW_COPY`], at most [`MAX_LOOKBACK`].
pub(crate) fn lookback(size: u64) -> Duration {
    let copy = Duration::from_millis(size.saturating_mul(1000) / SLOW_COPY);
    (Duration::from_secs(1) + copy).min(MAX_LOOKBACK)
}

/// Records written per level, per [`BUCKET`], over the last
/// [`MAX_LOOKBACK`].
#[derive(Debug)]
pub(crate) struct Recent {
    origin: Instant,
    /// `(bucket number, records per level)`; slot `n % BUCKETS`.
    buckets: Box<[(u64, [u64; 5])]>,
    /// The bucket of the last write, if any since the last [`Recent::take`].
    last: Option<u64>,
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            origin: Instant::now(),
            buckets: vec![(u64::MAX, [0; 5]); BUCKETS].into_boxed_slice(),
            last: None,
        }
    }
}

impl Recent {
    fn bucket(&self, at: Instant) -> u64 {
        let n = at.saturating_duration_since(self.origin).as_nanos() / BUCKET.as_nanos();
        u64::try_from(n).unwrap_or(u64::MAX - 1)
    }

    /// Notes `by_level` records written at `at`.
    pub(crate) fn add(&mut self, at: Instant, by_level: [u64; 5]) {
        if by_level.iter().all(|&n| n == 0) {
            return;
        }
        let n = self.bucket(at).max(self.last.unwrap_or(0));
        let slot = &mut self.buckets[(n % BUCKETS as u64) as usize];
        if slot.0 != n {
            *slot = (n, [0; 5]);
        }
        for (sum, add) in slot.1.iter_mut().zip(by_level) {
            *sum += add;
        }
        self.last = Some(n);
    }

    /// The records written in `lookback` (at most [`MAX_LOOKBACK`]) before
    /// the last write, per level; forgets them all (they are counted
    /// once).
    pub(crate) fn take(&mut self, lookback: Duration) -> [u64; 5] {
        let mut total = [0u64; 5];
        if let Some(last) = self.last.take() {
            let back = lookback.as_nanos().div_ceil(BUCKET.as_nanos());
            let back = u64::try_from(back)
                .unwrap_or(u64::MAX)
                .min(BUCKETS as u64 - 1);
            let first = last.saturating_sub(back);
            for (n, by_level) in self.buckets.iter() {
                if (first..=last).contains(n) {
                    for (sum, add) in total.iter_mut().zip(by_level) {
                        *sum += add;
                    }
                }
            }
        }
        self.clear();
        total
    }

    /// Forgets everything: the sink writes into another file.
    pub(crate) fn clear(&mut self) {
        self.last = None;
        for b in self.buckets.iter_mut() {
            *b = (u64::MAX, [0; 5]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_lookback_grows_with_the_copy_time() {
        assert_eq!(lookback(0), secs(1));
        assert_eq!(lookback(SLOW_COPY), secs(2));
        assert_eq!(lookback(10 * SLOW_COPY), secs(11));
        assert_eq!(lookback(u64::MAX), MAX_LOOKBACK);
    }

    #[test]
    fn counts_what_was_written_in_the_lookback_before_the_last_write() {
        let mut r = Recent::default();
        let t0 = r.origin;
        r.add(t0, [1, 0, 0, 0, 0]);
        r.add(t0 + Duration::from_millis(700), [0, 2, 0, 0, 0]);
        r.add(t0 + Duration::from_millis(2_600), [0, 0, 4, 0, 0]);
        // From 2.6 s the write at 0 is older than a 2 s lookback; 0.7 s
        // is not.
        assert_eq!(r.take(secs(2)), [0, 2, 4, 0, 0]);
        assert_eq!(r.take(secs(2)), [0; 5], "counted once");
    }

    #[test]
    fn a_long_quiet_time_keeps_the_writes_before_it() {
        // The cut is seen long after the last write: what was written
        // just before that write still counts.
        let mut r = Recent::default();
        let t0 = r.origin;
        r.add(t0 + Duration::from_millis(100), [0, 0, 3, 0, 0]);
        r.add(t0 + Duration::from_millis(1_900), [0, 0, 5, 0, 0]);
        assert_eq!(r.take(secs(2)), [0, 0, 8, 0, 0]);
    }

    #[test]
    fn bucket_reuse_after_a_wrap_starts_from_zero() {
        let mut r = Recent::default();
        let t0 = r.origin;
        for i in 0..3_000u32 {
            r.add(t0 + BUCKET * i, [1, 0, 0, 0, 0]);
        }
        // Longer than kept: the whole minute.
        assert_eq!(r.take(secs(3600))[0], BUCKETS as u64);
        r.add(t0, [0, 1, 0, 0, 0]);
        r.clear();
        assert_eq!(r.take(secs(2)), [0; 5]);
    }
}
