//! A pipeline's thread: drain a batch from its source, render it, write it
//! with one call, account for every record, and survive whatever the sink
//! does.
//!
//! Nothing but shutdown (or a simulated death, for drills) ends the loop.
//! A sink error is classified, reported, retried with capped exponential
//! back-off while the batch is held; after `give_up_after` of failure the
//! batch goes to the fallback sink, or is dropped and counted if there is
//! none. A panic in the renderer drops (and counts) one record; a panic in
//! a sink drops (and counts) the rest of its batch. A panic that escapes
//! all of that restarts the loop in the same thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::batch::{self, Dest};
use super::{notice, PipelineParts, PipelineShared};
use crate::common::Common;
use crate::counters::DropCause;
use crate::level::Level;
use crate::queue::Consumer;
use crate::record::RecordView;
use crate::retry::{Hurry, Route};
use crate::sink::{classify, Sink};

/// Why a worker thread ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Shutdown,
    Killed,
    NoConsumer,
}

/// The pipeline thread's body; `index` is the pipeline's place in
/// `common.pipelines`.
pub(crate) fn pipeline_main(common: Arc<Common>, index: usize) -> Exit {
    crate::control::mark_worker_thread();
    let p = Arc::clone(&common.pipelines[index]);
    p.control.register_current();
    let Some(mut consumer) = p.source.take_consumer() else {
        common.report(
            Some(&p),
            "start pipeline",
            "internal",
            "another thread still holds the pipeline's queue".into(),
        );
        return Exit::NoConsumer;
    };
    let mut parts = p.parts.lock().unwrap_or_else(|e| e.into_inner());
    heartbeat(&common, &p);
    // Release: callers that see the thread alive see its setup done.
    p.status.writer_alive.store(true, Ordering::Release);
    let exit = loop {
        match catch_unwind(AssertUnwindSafe(|| {
            run(&common, &p, &mut consumer, &mut parts)
        })) {
            Ok(exit) => break exit,
            Err(payload) => {
                p.status.panics.fetch_add(1, Ordering::Relaxed);
                p.status.restarts.fetch_add(1, Ordering::Relaxed);
                common.report(Some(&p), "pipeline loop", "panic", panic_message(&*payload));
                // Do not spin if the panic repeats at once.
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    };
    p.status.writer_alive.store(false, Ordering::Release);
    if exit == Exit::Shutdown {
        p.control.exited.store(true, Ordering::Release);
        p.control.progress.notify();
    }
    exit
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

fn heartbeat(common: &Common, p: &PipelineShared) {
    p.status
        .heartbeat_ns
        .store(common.mono_ns(), Ordering::Relaxed);
    if p.status.stalled.load(Ordering::Relaxed) {
        p.status.stalled.store(false, Ordering::Release);
    }
}

fn run(
    common: &Common,
    p: &PipelineShared,
    consumer: &mut Consumer,
    parts: &mut PipelineParts,
) -> Exit {
    let cfg = p.config;
    loop {
        heartbeat(common, p);
        if p.control.kill_requested.swap(false, Ordering::SeqCst) {
            return Exit::Killed;
        }
        let flush_req = p.control.flush_requested.load(Ordering::SeqCst);
        let now = Instant::now();
        if p.control.reopen_requested.swap(false, Ordering::SeqCst) {
            sink_call(common, p, parts, "reopen", |s| s.reopen());
        }
        if parts
            .last_maintain
            .is_none_or(|t| now.duration_since(t) >= cfg.maintain_interval)
        {
            parts.last_maintain = Some(now);
            let wall = SystemTime::now();
            sink_call(common, p, parts, "maintain", |s| s.maintain(wall));
        }

        parts.batch.clear();
        let flush_pending = flush_req > p.control.flush_done.load(Ordering::Acquire);
        notice::maybe_render(common, p, parts, now, flush_pending);
        let n = render_batch(common, p, consumer, parts);
        if n > 0 && p.counts_on_read {
            // The ring has room again for callers waiting on it.
            common.space.notify();
        }
        if !parts.batch.is_empty() {
            write_batch(common, p, parts);
        }
        p.control.progress.notify();
        if flush_pending {
            sink_call(common, p, parts, "flush", |s| s.flush());
            p.control.flush_done.fetch_max(flush_req, Ordering::AcqRel);
            p.control.progress.notify();
        }
        if n > 0 {
            continue;
        }
        if p.control.shutdown_requested.load(Ordering::SeqCst) && consumer.is_empty() {
            parts.batch.clear();
            notice::maybe_render(common, p, parts, now, true);
            if !parts.batch.is_empty() {
                write_batch(common, p, parts);
            }
            sink_call(common, p, parts, "flush", |s| s.flush());
            sink_call(common, p, parts, "close", |s| s.close());
            return Exit::Shutdown;
        }
        p.control.sleep_until(
            crate::control::deadline_after(cfg.idle_interval),
            || !consumer.is_empty(),
            || heartbeat(common, p),
        );
    }
}

/// Drains one batch from the source and renders it into the batch buffer.
fn render_batch(
    common: &Common,
    p: &PipelineShared,
    consumer: &mut Consumer,
    parts: &mut PipelineParts,
) -> usize {
    let PipelineParts {
        renderer,
        batch,
        clock,
        ..
    } = parts;
    clock.refresh();
    if let Some(new) = p.pending_format.take() {
        *renderer = new;
    }
    consumer.read_batch(p.config.batch_bytes, |rec| {
        if p.counts_on_read {
            // Release: counted before it can be counted written or dropped.
            p.counters.received.fetch_add(1, Ordering::Release);
        }
        let start = batch.buf.len();
        let result = catch_unwind(AssertUnwindSafe(|| match RecordView::parse(rec) {
            Ok(mut view) => {
                view.timestamp_ns = clock.to_unix_ns(view.timestamp_ns);
                renderer.render(&view, &mut batch.buf);
                Some((view.level, view.timestamp_ns))
            }
            Err(_) => None,
        }));
        let raw_level = rec
            .get(1)
            .copied()
            .and_then(Level::from_u8)
            .unwrap_or(Level::Error);
        match result {
            Ok(Some((level, ts))) => batch.push_record(level, ts),
            Ok(None) => {
                batch.buf.truncate(start);
                p.counters
                    .drop_records(DropCause::Internal, raw_level, 1, crate::clock::raw());
                common.report(
                    Some(p),
                    "decode",
                    "internal",
                    format!("malformed record of {} bytes", rec.len()),
                );
            }
            Err(payload) => {
                batch.buf.truncate(start);
                p.status.panics.fetch_add(1, Ordering::Relaxed);
                p.counters
                    .drop_records(DropCause::Panic, raw_level, 1, crate::clock::raw());
                common.report(Some(p), "render", "panic", panic_message(&*payload));
            }
        }
    })
}

/// Moves what the primary sink reports lost (records it had written) from
/// `written` to the drops of the reported cause, and says so.
fn collect_lost(common: &Common, p: &PipelineShared, sink: &mut dyn Sink) {
    loop {
        match catch_unwind(AssertUnwindSafe(|| sink.take_lost())) {
            Ok(Some(lost)) => {
                let n: u64 = lost.by_level.iter().sum();
                // Rejections are decided by callers; a sink reporting one is
                // a bug. Count it as internal, never lose it.
                let cause = if lost.cause.is_rejection() {
                    DropCause::Internal
                } else {
                    lost.cause
                };
                p.counters
                    .written_then_lost(cause, &lost.by_level, crate::clock::raw());
                common.report(
                    Some(p),
                    "verify",
                    cause.as_str(),
                    format!(
                        "{}: {n} records already written are lost ({})",
                        sink.describe(),
                        cause.as_str()
                    ),
                );
            }
            Ok(None) => return,
            Err(payload) => {
                p.status.panics.fetch_add(1, Ordering::Relaxed);
                common.report(Some(p), "take_lost", "panic", panic_message(&*payload));
                return;
            }
        }
    }
}

/// Calls the primary sink's `f` with panics caught and errors reported.
fn sink_call(
    common: &Common,
    p: &PipelineShared,
    parts: &mut PipelineParts,
    operation: &str,
    f: impl FnOnce(&mut dyn Sink) -> std::io::Result<()>,
) {
    let sink = &mut parts.sink;
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut **sink)));
    collect_lost(common, p, &mut *parts.sink);
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            p.status.io_errors.fetch_add(1, Ordering::Relaxed);
            common.report(
                Some(p),
                operation,
                classify(&e).as_str(),
                format!("{}: {e}", parts.sink.describe()),
            );
        }
        Err(payload) => {
            p.status.panics.fetch_add(1, Ordering::Relaxed);
            common.report(Some(p), operation, "panic", panic_message(&*payload));
        }
    }
}

/// Writes the rendered batch: primary sink with retries, then fallback or
/// drop, counting every record exactly once.
fn write_batch(common: &Common, p: &PipelineShared, parts: &mut PipelineParts) {
    let policy = p.config.retry;
    loop {
        if parts.batch.done() {
            return;
        }
        // A flush or shutdown never waits out the back-off: it routes to
        // the fallback (or drops) at once.
        let hurry = if p.control.shutdown_requested.load(Ordering::Relaxed) {
            Hurry::Shutdown
        } else if p.control.flush_pending() {
            Hurry::Flush(p.control.flush_requested.load(Ordering::SeqCst))
        } else {
            Hurry::No
        };
        match parts.retry.route(Instant::now(), &policy, hurry) {
            Route::Primary => {
                let ok = batch::write_to(common, p, parts, Dest::Primary);
                collect_lost(common, p, &mut *parts.sink);
                if ok {
                    parts.retry.on_success();
                    p.status.sink_failing.store(false, Ordering::Release);
                    p.status
                        .last_write_ms
                        .store(crate::health::unix_ms(SystemTime::now()), Ordering::Relaxed);
                } else {
                    parts.retry.on_failure(Instant::now(), &policy);
                    p.status.sink_failing.store(true, Ordering::Release);
                    // A line cut short stays a fragment on its own line: the
                    // sink may reopen another file before the retry (a new
                    // period, a file moved by logrotate), and the rest of the
                    // line must not land at the top of that file. The record
                    // is counted as an I/O failure.
                    parts
                        .batch
                        .skip_partial_line(p, Dest::Primary, &mut parts.newline_due);
                }
            }
            Route::WaitUntil(t) => {
                // The source is not read meanwhile: hold the batch and sleep.
                // A flush newer than the last one that tried the primary
                // ends the hold: it tries again at once.
                let tried = parts.retry.flush_tried();
                p.control.hold_until(
                    t,
                    || p.control.flush_requested.load(Ordering::SeqCst) > tried,
                    || heartbeat(common, p),
                );
            }
            Route::Fallback => {
                parts
                    .batch
                    .skip_partial_line(p, Dest::Primary, &mut parts.newline_due);
                batch::write_to(common, p, parts, Dest::Fallback);
                if !parts.batch.done() {
                    parts.batch.drop_rest(
                        p,
                        DropCause::IoFailure,
                        Dest::Fallback,
                        &mut parts.newline_due,
                    );
                }
            }
            Route::Drop => {
                parts.batch.drop_rest(
                    p,
                    DropCause::IoFailure,
                    Dest::Primary,
                    &mut parts.newline_due,
                );
            }
        }
    }
}
