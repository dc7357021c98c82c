//! The caller-side counter that every accepted record increments, with a
//! cell per thread so that the increment needs no locked instruction.
//!
//! A thread claims one of [`SLOTS`] slots on its first record and gives it
//! back when it exits; slot `i` is cell `i` of every [`StripedCounter`] of
//! every logger, and only its owner writes it, so an increment is a plain
//! load and store. A locked `fetch_add` costs an uncontended caller about
//! 5 ns on the machines jamless is measured on (BENCHMARKS.md), a tenth of
//! a native call; it also waits for the record's earlier stores to reach
//! the cache. A thread without a slot (more than [`SLOTS`] threads log at
//! once, or one logs while its thread-local state is being destroyed)
//! increments the shared last cell with `fetch_add`, as every thread did
//! before.
//!
//! Why the plain store loses no increment: a cell has one writer at a
//! time. The owner reads its own last store (program order). Ownership
//! passes through the slot's flag: the old owner's last store is before
//! its Release store of `false`, which the new owner's Acquire claim
//! reads, so the new owner's first load sees it. Readers sum Relaxed loads,
//! as they summed the stripes of the `fetch_add` counter: each cell only
//! grows, and every ordering a reader relies on (an increment before the
//! record's publication in the queue) is the same for a store as for a
//! read-modify-write.
//!
//! A child process after `fork` inherits the flags of threads it does not
//! have: those slots stay taken there (its threads use the others or the
//! shared cell); claiming never blocks, so it cannot hang on them.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

/// Slots for threads: cells per counter, besides the shared one.
pub(crate) const SLOTS: usize = 64;

/// Whether slot `i` is owned by a live thread.
static TAKEN: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];

/// A thread's claim on one cell of every [`StripedCounter`]: held in the
/// thread's state, given back when it drops (at the thread's exit).
#[derive(Debug)]
pub(crate) struct OwnedSlot {
    index: usize,
}

impl OwnedSlot {
    /// Claims a free slot, or `None` if all are taken. Never blocks.
    pub(crate) fn claim() -> Option<OwnedSlot> {
        TAKEN
            .iter()
            .position(|taken| {
                // Acquire: see the last owner's increments (module docs).
                !taken.load(Ordering::Relaxed)
                    && taken
                        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
            })
            .map(|index| OwnedSlot { index })
    }

    /// The slot, for this thread's increments.
    #[inline]
    pub(crate) fn slot(&self) -> CounterSlot {
        CounterSlot {
            index: self.index,
            _this_thread: PhantomData,
        }
    }
}

impl Drop for OwnedSlot {
    fn drop(&mut self) {
        if let Some(taken) = TAKEN.get(self.index) {
            // Release: the next owner sees this thread's increments.
            taken.store(false, Ordering::Release);
        }
    }
}

/// Which cell a thread increments: its own slot's, or the shared one. Not
/// `Send`: only the thread that owns the slot may use it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CounterSlot {
    index: usize,
    _this_thread: PhantomData<*const ()>,
}

impl CounterSlot {
    /// The shared cell, for a thread without a slot.
    pub(crate) fn shared() -> CounterSlot {
        CounterSlot {
            index: SLOTS,
            _this_thread: PhantomData,
        }
    }
}

/// A counter with a cell per slot and a shared one; reading sums them.
pub(crate) struct StripedCounter {
    cells: [CachePadded<AtomicU64>; SLOTS + 1],
}

impl StripedCounter {
    pub(crate) fn new() -> StripedCounter {
        StripedCounter {
            cells: std::array::from_fn(|_| CachePadded::new(AtomicU64::new(0))),
        }
    }

    /// Adds one to `slot`'s cell.
    #[inline]
    pub(crate) fn incr(&self, slot: CounterSlot) {
        match self.cells.get(slot.index) {
            // Relaxed: a counter; readers only need each increment once.
            Some(cell) if slot.index < SLOTS => {
                cell.store(cell.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
            }
            _ => {
                self.cells[SLOTS].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The sum of every cell.
    pub(crate) fn sum(&self) -> u64 {
        self.cells.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// One test, not two: the slots are process-wide, and a test holding
    /// every free one would starve the other.
    #[test]
    fn owned_and_shared_cells_lose_no_increment() {
        // Every free slot, counted through and given back.
        let counter = Arc::new(StripedCounter::new());
        let held: Vec<_> = std::iter::from_fn(OwnedSlot::claim).collect();
        assert!(!held.is_empty(), "no slot free");
        for s in &held {
            counter.incr(s.slot());
        }
        let n = held.len() as u64;
        drop(held);
        assert_eq!(counter.sum(), n);

        // More threads than slots, each giving its slot back as it exits
        // while others start: cells change hands, and threads that find
        // none free use the shared cell.
        let threads: Vec<_> = (0..3 * SLOTS)
            .map(|_| {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    let owned = OwnedSlot::claim();
                    let slot = owned
                        .as_ref()
                        .map_or(CounterSlot::shared(), OwnedSlot::slot);
                    for _ in 0..1000 {
                        counter.incr(slot);
                    }
                    counter.incr(CounterSlot::shared());
                    owned.is_some()
                })
            })
            .collect();
        let owned = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&o| o)
            .count();
        assert_eq!(counter.sum(), n + 3 * SLOTS as u64 * 1001);
        assert!(owned > 0, "no thread found a slot");
    }
}
