//! Admission policy: what a log call does when the queue is (nearly) full.

use std::time::Duration;

use crate::level::Level;

/// The longest a caller may choose to wait for room. Longer timeouts are a
/// configuration error: no configuration can make a log call wait forever.
pub const MAX_BLOCK: Duration = Duration::from_secs(10);

/// What a log call does when the queue has no room for its record.
///
/// The default, [`Overflow::drop_newest`], never waits: the record is
/// dropped and counted. [`Overflow::block_for`] waits up to a finite
/// timeout, and stops waiting at once when the writer is dead or stalled.
/// There is deliberately no "block forever".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow(pub(crate) OverflowKind);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OverflowKind {
    DropNewest,
    BlockFor(Duration),
}

impl Overflow {
    /// Drop the new record and count it (the default).
    pub fn drop_newest() -> Overflow {
        Overflow(OverflowKind::DropNewest)
    }

    /// Wait for room up to `timeout` (at most [`MAX_BLOCK`]; the builder
    /// rejects longer ones), then drop and count the record as timed out.
    pub fn block_for(timeout: Duration) -> Overflow {
        Overflow(OverflowKind::BlockFor(timeout))
    }
}

impl Default for Overflow {
    fn default() -> Overflow {
        Overflow::drop_newest()
    }
}

/// Level shedding: above a fill watermark, records less severe than a
/// protected level are dropped (and counted as shed) so that errors survive
/// a storm of informational records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shedding {
    pub(crate) watermark: f64,
    pub(crate) keep: Level,
}

impl Shedding {
    /// Above `watermark` (a fraction of the queue capacity, 0.0 to 1.0),
    /// keep only records at `keep` or more severe.
    pub fn new(watermark: f64, keep: Level) -> Shedding {
        Shedding { watermark, keep }
    }
}

impl Default for Shedding {
    /// Above 80% full, keep `WARN` and `ERROR` only.
    fn default() -> Shedding {
        Shedding::new(0.8, Level::Warn)
    }
}

/// What happened to one log call's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The record is in the queue; it will be written or counted as dropped.
    Accepted,
    /// The record was dropped at the call and counted under this cause.
    Dropped(crate::DropCause),
    /// The record was below the logger's filter and never offered.
    Filtered,
}
