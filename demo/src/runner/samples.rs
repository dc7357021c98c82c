//! Aggregations over request samples: counts, latency percentiles (HDR
//! histograms), and per-second buckets for the chart.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::load::{Outcome, Sample};

/// Request counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Sent.
    pub sent: u64,
    /// Answered (2xx).
    pub answered: u64,
    /// Timed out at the client (the 504s).
    pub timed_out: u64,
    /// Connection errors and non-2xx answers.
    pub errors: u64,
}

impl Counts {
    /// Adds one sample.
    pub fn add(&mut self, o: Outcome) {
        self.sent += 1;
        match o {
            Outcome::Answered => self.answered += 1,
            Outcome::TimedOut => self.timed_out += 1,
            Outcome::Error => self.errors += 1,
        }
    }
}

/// Latency percentiles of answered requests, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Answered requests measured.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Maximum.
    pub max_ms: f64,
}

/// One second of one target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Bucket {
    /// Counts of requests sent in this second.
    pub counts: Counts,
    /// p50 of the answered ones, if any.
    pub p50_ms: Option<f64>,
    /// p99 of the answered ones, if any.
    pub p99_ms: Option<f64>,
}

/// Counts of the samples.
pub fn counts<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Counts {
    let mut c = Counts::default();
    for s in samples {
        c.add(s.outcome);
    }
    c
}

/// Latency percentiles of the answered samples.
pub fn latency<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Latency {
    let h = histogram(samples);
    if h.is_empty() {
        return Latency::default();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    Latency {
        count: h.len(),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
    }
}

/// Per-second buckets (by send time) for target `target`, `secs` of them.
pub fn per_second(samples: &[Sample], target: usize, secs: usize) -> Vec<Bucket> {
    let mut buckets: Vec<(Counts, Vec<Sample>)> = vec![Default::default(); secs];
    for s in samples.iter().filter(|s| s.target == target) {
        let i = (s.sent_at.as_secs() as usize).min(secs.saturating_sub(1));
        if let Some(b) = buckets.get_mut(i) {
            b.0.add(s.outcome);
            b.1.push(*s);
        }
    }
    buckets
        .into_iter()
        .map(|(counts, ss)| {
            let l = latency(&ss);
            let some = |v: f64| (l.count > 0).then_some(v);
            Bucket {
                counts,
                p50_ms: some(l.p50_ms),
                p99_ms: some(l.p99_ms),
            }
        })
        .collect()
}

/// A histogram in microseconds of the answered samples' latencies.
fn histogram<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Histogram<u64> {
    // 1 µs .. 10 min at 3 significant digits; the bounds are constants, so
    // construction cannot fail.
    let mut h = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
        .expect("constant histogram bounds are valid");
    for s in samples {
        if s.outcome == Outcome::Answered {
            h.saturating_record(micros(s.latency).max(1));
        }
    }
    h
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(target: usize, at_ms: u64, lat_ms: u64, outcome: Outcome) -> Sample {
        Sample {
            target,
            sent_at: Duration::from_millis(at_ms),
            latency: Duration::from_millis(lat_ms),
            outcome,
        }
    }

    #[test]
    fn percentiles_ignore_unanswered() {
        let mut v: Vec<Sample> = (1..=100).map(|i| s(0, 0, i, Outcome::Answered)).collect();
        v.push(s(0, 0, 5000, Outcome::TimedOut));
        let l = latency(&v);
        assert_eq!(l.count, 100);
        assert!((l.p50_ms - 50.0).abs() < 0.1, "{l:?}");
        assert!((l.max_ms - 100.0).abs() < 0.1, "{l:?}");
        let c = counts(&v);
        assert_eq!(
            (c.sent, c.answered, c.timed_out, c.errors),
            (101, 100, 1, 0)
        );
    }

    #[test]
    fn buckets_by_send_second_and_target() {
        let v = vec![
            s(0, 100, 1, Outcome::Answered),
            s(0, 1500, 2000, Outcome::TimedOut),
            s(1, 1500, 3, Outcome::Answered),
            s(0, 9000, 1, Outcome::Error),
        ];
        let b = per_second(&v, 0, 3);
        assert_eq!(b.len(), 3);
        assert_eq!(b[0].counts.answered, 1);
        assert_eq!(b[1].counts.timed_out, 1);
        assert_eq!(b[1].p50_ms, None);
        // Late samples land in the last bucket.
        assert_eq!(b[2].counts.errors, 1);
        assert_eq!(per_second(&v, 1, 3)[1].counts.answered, 1);
    }
}
