//! The per-call stopwatch and histograms, shared with the core harness
//! (`jamless-bench`): `quanta`'s raw counter (the TSC on x86-64 when it is
//! invariant, the monotonic clock otherwise), scaled to nanoseconds only
//! after the second reading, outside the timed region; and the percentiles
//! and curves this crate reports from the HDR histograms.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

pub use jamless_bench::{new_histogram, Percentiles, Stopwatch};

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
