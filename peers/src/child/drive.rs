//! The logging loop every scenario uses: each call is timed with the cheap
//! clock into a histogram, with or without pacing.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::clock::Stopwatch;
use crate::peer::Peer;

/// How calls are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Back to back.
    Full,
    /// One call every this many ns, spinning until the slot; a late slot
    /// starts a new schedule (no catch-up burst).
    Spin(u64),
    /// This many calls per second, sleeping between groups of 64 calls.
    Rate(u64),
}

/// One thread's call count, alone on its cache line (written by its
/// thread only, read by the progress reporter).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Slot(AtomicU64);

/// Counters the progress reporter reads while threads log.
#[derive(Debug, Default)]
pub struct Live {
    /// Calls returned so far, per thread.
    slots: Vec<Slot>,
    /// Slowest call so far, ns.
    pub max_ns: AtomicU64,
}

impl Live {
    /// Counters for `threads` logging threads.
    pub fn new(threads: usize) -> Live {
        Live {
            slots: (0..threads).map(|_| Slot::default()).collect(),
            max_ns: AtomicU64::new(0),
        }
    }

    /// Calls returned so far, all threads.
    pub fn calls(&self) -> u64 {
        self.slots.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// Who logs: the record's `proc` and `thread` fields.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    /// `proc=` in the record.
    pub proc_id: u32,
    /// `thread=` in the record.
    pub thread: u32,
}

/// Logs records `seqs` through `peer`, timing each call into `hist`
/// (`live` must have a slot for `who.thread`).
pub fn drive(
    peer: &dyn Peer,
    sw: &Stopwatch,
    who: Caller,
    seqs: Range<u64>,
    pacing: Pacing,
    hist: &mut Histogram<u64>,
    live: &Live,
) {
    let mut local_max = 0u64;
    let slot = &live.slots[who.thread as usize].0;
    let mut done = slot.load(Ordering::Relaxed);
    let mut one = |seq: u64| {
        let t0 = sw.raw();
        peer.log(seq, who.proc_id, who.thread);
        let t1 = sw.raw();
        let ns = sw.nanos(t0, t1).max(1);
        hist.saturating_record(ns);
        if ns > local_max {
            local_max = ns;
            live.max_ns.fetch_max(ns, Ordering::Relaxed);
        }
        // A plain store to this thread's own line: no contention.
        done += 1;
        slot.store(done, Ordering::Relaxed);
    };
    match pacing {
        Pacing::Full => seqs.for_each(&mut one),
        Pacing::Spin(ns) => {
            let period = sw.ticks_for_ns(ns);
            let mut next = sw.raw();
            for seq in seqs {
                next += period;
                let mut now = sw.raw();
                while now < next {
                    std::hint::spin_loop();
                    now = sw.raw();
                }
                if now - next > period {
                    next = now;
                }
                one(seq);
            }
        }
        Pacing::Rate(per_sec) => {
            let start = Instant::now();
            let per_sec = per_sec.max(1);
            for (i, seq) in seqs.enumerate() {
                if i % 64 == 0 {
                    let due = start + Duration::from_nanos(i as u64 * 1_000_000_000 / per_sec);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                }
                one(seq);
            }
        }
    }
}
