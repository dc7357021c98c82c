//! The per-call stopwatch (copied from `bench/src/clock.rs`): `quanta`'s raw
//! counter (the TSC on x86-64 when it is invariant, the monotonic clock
//! otherwise), scaled to nanoseconds only after the second reading, outside
//! the timed region; and the HDR histogram the readings go into.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest value a latency histogram records (60 s, in ns); larger values
/// saturate to it.
pub const HIST_MAX_NS: u64 = 60_000_000_000;

/// A new latency histogram: 1 ns to [`HIST_MAX_NS`], 3 significant digits.
/// Its counts are written once, so recording never page-faults.
pub fn new_histogram() -> Histogram<u64> {
    let mut h =
        Histogram::new_with_bounds(1, HIST_MAX_NS, 3).expect("static histogram bounds are valid");
    h.reset();
    h
}

/// A calibrated cheap clock. Cloning is cheap; each thread may own one.
#[derive(Debug, Clone)]
pub struct Stopwatch {
    clock: quanta::Clock,
    ticks_per_us: f64,
}

impl Default for Stopwatch {
    fn default() -> Stopwatch {
        Stopwatch::new()
    }
}

impl Stopwatch {
    /// Creates (and on first use, calibrates) the clock.
    pub fn new() -> Stopwatch {
        let clock = quanta::Clock::new();
        let ns_per_gtick = clock.delta_as_nanos(0, 1_000_000_000).max(1);
        let ticks_per_us = 1_000_000_000.0 / ns_per_gtick as f64 * 1_000.0;
        Stopwatch {
            clock,
            ticks_per_us,
        }
    }

    /// The raw counter; compare readings with [`Stopwatch::nanos`].
    #[inline(always)]
    pub fn raw(&self) -> u64 {
        self.clock.raw()
    }

    /// Nanoseconds between two raw readings (0 if `end <= start`).
    #[inline(always)]
    pub fn nanos(&self, start: u64, end: u64) -> u64 {
        self.clock.delta_as_nanos(start, end)
    }

    /// Raw ticks in `ns` nanoseconds (at least 1).
    pub fn ticks_for_ns(&self, ns: u64) -> u64 {
        ((ns as f64) * self.ticks_per_us / 1_000.0).round().max(1.0) as u64
    }

    /// True when the raw counter is the CPU's time-stamp counter rather than
    /// the OS monotonic clock (which ticks in nanoseconds exactly).
    pub fn is_tsc(&self) -> bool {
        (self.ticks_per_us - 1_000.0).abs() > 1.0
    }

    /// The cost of the measurement itself: `n` back-to-back pairs of
    /// readings around nothing. Every latency reported includes it.
    pub fn overhead(&self, n: u64) -> Percentiles {
        let mut h = new_histogram();
        for _ in 0..n {
            let t0 = self.raw();
            std::hint::black_box(());
            let t1 = self.raw();
            h.saturating_record(self.nanos(t0, t1).max(1));
        }
        Percentiles::of(&h)
    }
}

/// Percentiles of one histogram, in ns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples recorded.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// Largest sample.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

impl Percentiles {
    /// Reads the percentiles of `h`.
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            p9999: h.value_at_quantile(0.9999),
            max: h.max(),
            mean: h.mean(),
        }
    }

    /// The five reported values, in table order (p50, p99, p99.9, p99.99,
    /// max).
    pub fn fields(&self) -> [u64; 5] {
        [self.p50, self.p99, self.p999, self.p9999, self.max]
    }
}

/// One point of a percentile curve: the quantile and the latency there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Quantile in [0, 1].
    pub q: f64,
    /// Latency at that quantile, ns.
    pub ns: u64,
}

/// The percentile curve of `h` for plotting: quantiles `1 - 10^(-k/10)`
/// (k = 0..) while at least one sample lies beyond them, then the maximum
/// (as quantile 1).
pub fn curve(h: &Histogram<u64>) -> Vec<CurvePoint> {
    let n = h.len();
    let mut out = Vec::new();
    if n == 0 {
        return out;
    }
    for k in 0..=80u32 {
        let q = 1.0 - 10f64.powf(-(f64::from(k)) / 10.0);
        // Stop where fewer than one sample lies above the quantile.
        if (1.0 - q) * (n as f64) < 1.0 {
            break;
        }
        out.push(CurvePoint {
            q,
            ns: h.value_at_quantile(q),
        });
    }
    out.push(CurvePoint {
        q: 1.0,
        ns: h.max(),
    });
    out
}
