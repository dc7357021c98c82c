//! Number formatting for the tables.

/// An integer with thousands separators.
pub fn int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed integer with thousands separators.
pub fn signed(v: i64) -> String {
    if v < 0 {
        format!("−{}", int(v.unsigned_abs()))
    } else {
        int(v as u64)
    }
}

/// An optional count, `—` when absent.
pub fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "—".to_string(), int)
}

/// KiB as MiB with one decimal.
pub fn mib(kb: u64) -> String {
    format!("{:.1}", kb as f64 / 1024.0)
}

/// A rate with a unit suffix (k, M).
pub fn rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.0} k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// Nanoseconds, compact: `850 ns`, `12.3 µs`, `4.5 ms`, `1.20 s`.
pub fn dur_ns(ns: u64) -> String {
    let v = ns as f64;
    if ns < 10_000 {
        format!("{ns} ns")
    } else if v < 1e6 {
        format!("{:.1} µs", v / 1e3)
    } else if v < 1e9 {
        format!("{:.1} ms", v / 1e6)
    } else {
        format!("{:.2} s", v / 1e9)
    }
}

/// `value [min–max]`, or just the value when min == max.
pub fn spread(v: u64, lo: u64, hi: u64, show: bool) -> String {
    if show && lo != hi {
        format!("{} [{}–{}]", int(v), int(lo), int(hi))
    } else {
        int(v)
    }
}
