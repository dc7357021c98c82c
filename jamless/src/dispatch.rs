//! The dispatcher: with several pipelines, the one thread that reads the
//! logger's ring, once per record, and copies each record into the backlog
//! of every pipeline whose filter takes it.
//!
//! It never waits on a pipeline: a backlog that has no room makes that
//! pipeline drop the record (counted as [`DropCause::BacklogFull`] for that
//! pipeline alone), and the ring keeps draining for the others. A pipeline
//! whose sink blocks therefore cannot fill the ring, delay a caller, or
//! cost another pipeline a record. With one pipeline there is no
//! dispatcher: that pipeline's thread reads the ring itself.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::common::Common;
use crate::counters::DropCause;
use crate::level::Level;
use crate::native::{route_target, Sites};
use crate::pipeline::{Exit, PipelineShared};
use crate::queue::Consumer;
use crate::record::RecordView;

/// Bytes the dispatcher takes from the ring per round.
const ROUND_BYTES: usize = 256 << 10;

/// The dispatcher thread's body.
pub(crate) fn dispatch_main(common: Arc<Common>, idle: Duration) -> Exit {
    crate::control::mark_worker_thread();
    common.dispatch.register_current();
    let Some(mut consumer) = common.ring.take_consumer() else {
        common.report(
            None,
            "start dispatcher",
            "internal",
            "another thread still holds the queue".into(),
        );
        return Exit::NoConsumer;
    };
    heartbeat(&common);
    // Release: callers that see the dispatcher alive see its setup done.
    common.status.writer_alive.store(true, Ordering::Release);
    let exit = loop {
        match catch_unwind(AssertUnwindSafe(|| run(&common, &mut consumer, idle))) {
            Ok(exit) => break exit,
            Err(payload) => {
                common.status.panics.fetch_add(1, Ordering::Relaxed);
                common.status.restarts.fetch_add(1, Ordering::Relaxed);
                common.report(
                    None,
                    "dispatcher loop",
                    "panic",
                    crate::pipeline::panic_message(&*payload),
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    common.status.writer_alive.store(false, Ordering::Release);
    if exit == Exit::Shutdown {
        common.dispatch.exited.store(true, Ordering::Release);
        common.dispatch.progress.notify();
    }
    exit
}

fn heartbeat(common: &Common) {
    common
        .status
        .heartbeat_ns
        .store(common.mono_ns(), Ordering::Relaxed);
    if common.status.stalled.load(Ordering::Relaxed) {
        common.status.stalled.store(false, Ordering::Release);
    }
}

fn run(common: &Common, consumer: &mut Consumer, idle: Duration) -> Exit {
    let ctl = &common.dispatch;
    // Native records are routed by their call site's target.
    let mut sites = Sites::default();
    loop {
        heartbeat(common);
        if ctl.kill_requested.swap(false, Ordering::SeqCst) {
            return Exit::Killed;
        }
        if ctl.reopen_requested.swap(false, Ordering::SeqCst) {
            for p in &common.pipelines {
                p.control.reopen_requested.store(true, Ordering::SeqCst);
                p.control.wake();
            }
        }
        let n = consumer.read_batch(ROUND_BYTES, |rec| route(common, &mut sites, rec));
        if n > 0 {
            common.space.notify();
            for p in &common.pipelines {
                if p.control.is_sleeping() && p.source.used_bytes() >= p.wake_at {
                    p.control.wake();
                }
            }
        }
        ctl.progress.notify();
        if n > 0 {
            continue;
        }
        // Drained: whatever a flush waits for is in the backlogs now.
        if ctl.flush_pending() {
            let req = ctl.flush_requested.load(Ordering::SeqCst);
            ctl.flush_done.fetch_max(req, Ordering::AcqRel);
            ctl.progress.notify();
        }
        if ctl.shutdown_requested.load(Ordering::SeqCst) && consumer.is_empty() {
            for p in &common.pipelines {
                p.control.shutdown_requested.store(true, Ordering::SeqCst);
                p.control.wake();
            }
            return Exit::Shutdown;
        }
        ctl.sleep_until(
            crate::control::deadline_after(idle),
            || !consumer.is_empty(),
            || heartbeat(common),
        );
    }
}

/// Hands one record to every pipeline that takes it.
fn route(common: &Common, sites: &mut Sites, rec: &[u8]) {
    let routed = catch_unwind(AssertUnwindSafe(|| match RecordView::parse(rec) {
        Ok(view) => {
            let target = route_target(&view, sites);
            for p in &common.pipelines {
                if p.filter.load().allows(view.level, target) {
                    offer(p, view.level, rec);
                }
            }
            true
        }
        Err(_) => false,
    }));
    let level = rec
        .get(1)
        .copied()
        .and_then(Level::from_u8)
        .unwrap_or(Level::Error);
    match routed {
        Ok(true) => {}
        Ok(false) => {
            common
                .counters
                .drop_records(DropCause::Internal, level, 1, crate::clock::raw());
            common.report(
                None,
                "decode",
                "internal",
                format!("malformed record of {} bytes", rec.len()),
            );
        }
        Err(payload) => {
            common
                .counters
                .drop_records(DropCause::Panic, level, 1, crate::clock::raw());
            common.report(
                None,
                "dispatch",
                "panic",
                crate::pipeline::panic_message(&*payload),
            );
        }
    }
    // Release: a flush that sees this count sees the records in the
    // backlogs (or their drops).
    common.dispatched.fetch_add(1, Ordering::Release);
}

/// Copies a record into one pipeline's backlog, or counts it dropped there.
fn offer(p: &PipelineShared, level: Level, rec: &[u8]) {
    // Release: received before it can be written or dropped.
    p.counters.received.fetch_add(1, Ordering::Release);
    if p.source
        .try_push(rec.len(), |dst| dst.copy_from_slice(rec))
        .is_err()
    {
        p.counters
            .drop_records(DropCause::BacklogFull, level, 1, crate::clock::raw());
    }
}
