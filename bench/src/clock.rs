//! The per-call stopwatch: `quanta`'s raw counter (the TSC on x86-64 when
//! it is invariant, the monotonic clock otherwise), scaled to nanoseconds
//! only after the second reading, outside the timed region.

use std::hint::black_box;

use hdrhistogram::Histogram;

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

/// What the kernel did to one thread over an interval: page faults and
/// context switches (`getrusage(RUSAGE_THREAD)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ThreadStats {
    /// Minor page faults (first touch of memory, no I/O).
    pub minor_faults: u64,
    /// Major page faults (needed I/O).
    pub major_faults: u64,
    /// Voluntary context switches: the thread blocked (a lock, a syscall
    /// that waits, a sleep).
    pub voluntary_switches: u64,
    /// Involuntary context switches: the scheduler preempted the thread.
    pub involuntary_switches: u64,
}

impl ThreadStats {
    /// The calling thread's totals so far (zero where unavailable).
    pub fn now() -> ThreadStats {
        // SAFETY: `getrusage` writes one `rusage` into the zeroed value we
        // own; RUSAGE_THREAD only reads the calling thread's counters.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid, writable `rusage`.
        if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) } != 0 {
            return ThreadStats::default();
        }
        ThreadStats {
            minor_faults: ru.ru_minflt as u64,
            major_faults: ru.ru_majflt as u64,
            voluntary_switches: ru.ru_nvcsw as u64,
            involuntary_switches: ru.ru_nivcsw as u64,
        }
    }

    /// The counts between `earlier` and `self`.
    pub fn since(self, earlier: ThreadStats) -> ThreadStats {
        ThreadStats {
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            major_faults: self.major_faults.saturating_sub(earlier.major_faults),
            voluntary_switches: self
                .voluntary_switches
                .saturating_sub(earlier.voluntary_switches),
            involuntary_switches: self
                .involuntary_switches
                .saturating_sub(earlier.involuntary_switches),
        }
    }

    /// Sums two threads' counts.
    pub fn plus(self, o: ThreadStats) -> ThreadStats {
        ThreadStats {
            minor_faults: self.minor_faults + o.minor_faults,
            major_faults: self.major_faults + o.major_faults,
            voluntary_switches: self.voluntary_switches + o.voluntary_switches,
            involuntary_switches: self.involuntary_switches + o.involuntary_switches,
        }
    }
}

/// A calibrated cheap clock. Cloning is cheap; each thread may own one.
#[derive(Debug, Clone)]
pub struct Stopwatch {
    clock: quanta::Clock,
    /// Raw ticks per microsecond, for spin pacing.
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
        // 10^9 raw ticks scaled to ns gives the tick rate without a second
        // calibration of our own.
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

    /// True when the raw counter is the CPU's time-stamp counter rather
    /// than the OS monotonic clock (a guess from the tick rate: the
    /// monotonic clock ticks in nanoseconds exactly).
    pub fn is_tsc(&self) -> bool {
        (self.ticks_per_us - 1_000.0).abs() > 1.0
    }

    /// Raw ticks per microsecond.
    pub fn ticks_per_us(&self) -> f64 {
        self.ticks_per_us
    }

    /// The cost of the measurement itself: `n` back-to-back pairs of
    /// readings around nothing, as a histogram in ns. Every latency the
    /// harness reports includes this overhead (it is not subtracted).
    pub fn overhead(&self, n: u64) -> Histogram<u64> {
        let mut h = new_histogram();
        for _ in 0..n {
            let t0 = self.raw();
            black_box(());
            let t1 = self.raw();
            h.saturating_record(self.nanos(t0, t1).max(1));
        }
        h
    }
}

/// `std::time::Instant` pairs around nothing, as a histogram in ns: the
/// alternative clock, reported next to [`Stopwatch::overhead`].
pub fn instant_overhead(n: u64) -> Histogram<u64> {
    let mut h = new_histogram();
    for _ in 0..n {
        let t0 = std::time::Instant::now();
        black_box(());
        let d = t0.elapsed();
        h.saturating_record((d.as_nanos() as u64).max(1));
    }
    h
}

/// One `SystemTime::now()` (what jamless stamps each record with), timed
/// by `sw`, as a histogram in ns (the stopwatch's own cost included).
pub fn systemtime_cost(sw: &Stopwatch, n: u64) -> Histogram<u64> {
    let mut h = new_histogram();
    for _ in 0..n {
        let t0 = sw.raw();
        black_box(std::time::SystemTime::now());
        let t1 = sw.raw();
        h.saturating_record(sw.nanos(t0, t1).max(1));
    }
    h
}
