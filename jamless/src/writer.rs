//! The writer thread: drain a batch, render it, write it with one call,
//! account for every record, and survive whatever the sink does.
//!
//! Nothing but shutdown (or a simulated death, for drills) ends the loop.
//! A sink error is classified, reported, retried with capped exponential
//! back-off while the batch is held; after `give_up_after` of failure the
//! batch goes to the fallback sink, or is dropped and counted if there is
//! none. A panic in the renderer drops (and counts) one record; a panic in
//! a sink drops (and counts) the rest of its batch. A panic that escapes
//! all of that restarts the loop in the same thread.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::counters::{DropCause, DropTotals};
use crate::level::Level;
use crate::logger::Shared;
use crate::queue::Consumer;
use crate::record::RecordView;
use crate::render::Renderer;
use crate::retry::{Retry, RetryPolicy, Route};
use crate::sink::{classify, Sink};

mod batch;
mod notice;

use batch::{Batch, Dest};

thread_local! {
    static IS_WRITER: Cell<bool> = const { Cell::new(false) };
}

/// True on a jamless writer thread (which must never wait on its own queue).
pub(crate) fn is_writer_thread() -> bool {
    IS_WRITER.try_with(Cell::get).unwrap_or(false)
}

/// Timing of the writer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WriterConfig {
    /// Payload bytes drained per batch (one write call each).
    pub(crate) batch_bytes: usize,
    /// How long the writer sleeps when the queue is empty.
    pub(crate) idle_interval: Duration,
    /// How often the sink's `maintain` runs.
    pub(crate) maintain_interval: Duration,
    /// Minimum time between two drop notices (a final one is always written
    /// on flush and shutdown).
    pub(crate) notice_interval: Duration,
    pub(crate) retry: RetryPolicy,
}

/// The writer's state. It outlives a writer thread, so a restarted writer
/// continues with the same sink, renderer and buffers.
pub(crate) struct WriterParts {
    pub(crate) renderer: Renderer,
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) fallback: Option<Box<dyn Sink>>,
    pub(crate) batch: Batch,
    pub(crate) retry: Retry,
    /// A line was cut short in this destination; start the next write with
    /// a newline so no record is glued to a fragment.
    pub(crate) newline_due: [bool; 2],
    /// Drop totals already reported by a notice written to the log.
    pub(crate) reported: DropTotals,
    pub(crate) last_notice: Option<Instant>,
    pub(crate) last_maintain: Option<Instant>,
    /// Turns the records' raw timestamps into wall-clock time.
    pub(crate) clock: crate::clock::Converter,
}

impl WriterParts {
    pub(crate) fn new(
        renderer: Renderer,
        sink: Box<dyn Sink>,
        fallback: Option<Box<dyn Sink>>,
    ) -> WriterParts {
        WriterParts {
            renderer,
            sink,
            fallback,
            batch: Batch::new(),
            retry: Retry::default(),
            newline_due: [false; 2],
            reported: DropTotals::default(),
            last_notice: None,
            last_maintain: None,
            clock: crate::clock::global().converter(),
        }
    }
}

/// Why a writer thread ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    Shutdown,
    Killed,
    NoConsumer,
}

/// The writer thread's body.
pub(crate) fn writer_main(shared: Arc<Shared>) -> Exit {
    let _ = IS_WRITER.try_with(|w| w.set(true));
    *shared
        .writer_thread
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(std::thread::current());
    let Some(mut consumer) = shared.queue.take_consumer() else {
        shared.report(
            "start writer",
            "internal",
            "another writer still holds the queue".into(),
        );
        return Exit::NoConsumer;
    };
    let mut parts = shared.parts.lock().unwrap_or_else(|p| p.into_inner());
    shared
        .status
        .heartbeat_ns
        .store(shared.mono_ns(), Ordering::Relaxed);
    // Release: callers that see the writer alive see its setup done.
    shared.status.writer_alive.store(true, Ordering::Release);
    let exit = loop {
        match catch_unwind(AssertUnwindSafe(|| run(&shared, &mut consumer, &mut parts))) {
            Ok(exit) => break exit,
            Err(payload) => {
                shared.status.panics.fetch_add(1, Ordering::Relaxed);
                shared.status.restarts.fetch_add(1, Ordering::Relaxed);
                shared.report("writer loop", "panic", panic_message(&*payload));
                // Do not spin if the panic repeats at once.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    shared.status.writer_alive.store(false, Ordering::Release);
    if exit == Exit::Shutdown {
        shared.writer_exited.store(true, Ordering::Release);
        shared.progress.notify();
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

fn heartbeat(shared: &Shared) {
    shared
        .status
        .heartbeat_ns
        .store(shared.mono_ns(), Ordering::Relaxed);
    if shared.status.stalled.load(Ordering::Relaxed) {
        shared.status.stalled.store(false, Ordering::Release);
    }
}

fn run(shared: &Shared, consumer: &mut Consumer, parts: &mut WriterParts) -> Exit {
    let cfg = shared.config;
    loop {
        heartbeat(shared);
        if shared.kill_requested.swap(false, Ordering::SeqCst) {
            return Exit::Killed;
        }
        let flush_req = shared.flush_requested.load(Ordering::SeqCst);
        let now = Instant::now();
        if shared.reopen_requested.swap(false, Ordering::SeqCst) {
            sink_call(shared, parts, "reopen", |s| s.reopen());
        }
        if parts
            .last_maintain
            .is_none_or(|t| now.duration_since(t) >= cfg.maintain_interval)
        {
            parts.last_maintain = Some(now);
            let wall = SystemTime::now();
            sink_call(shared, parts, "maintain", |s| s.maintain(wall));
        }

        parts.batch.clear();
        let flush_pending = flush_req > shared.flush_done.load(Ordering::Acquire);
        notice::maybe_render(shared, parts, now, flush_pending);
        let n = render_batch(shared, consumer, parts);
        if n > 0 {
            shared.space.notify();
        }
        if !parts.batch.is_empty() {
            write_batch(shared, parts);
        }
        shared.progress.notify();
        if flush_pending {
            sink_call(shared, parts, "flush", |s| s.flush());
            shared.flush_done.fetch_max(flush_req, Ordering::AcqRel);
            shared.progress.notify();
        }
        if n > 0 {
            continue;
        }
        if shared.shutdown_requested.load(Ordering::SeqCst) && consumer.is_empty() {
            parts.batch.clear();
            notice::maybe_render(shared, parts, now, true);
            if !parts.batch.is_empty() {
                write_batch(shared, parts);
            }
            sink_call(shared, parts, "flush", |s| s.flush());
            sink_call(shared, parts, "close", |s| s.close());
            return Exit::Shutdown;
        }
        sleep_until(shared, consumer, Instant::now() + cfg.idle_interval);
    }
}

/// Sleeps until `until`, or until a caller wakes the writer (records are
/// piling up, or a flush, reopen, shutdown or drill was requested).
fn sleep_until(shared: &Shared, consumer: &Consumer, until: Instant) {
    loop {
        let now = Instant::now();
        if now >= until {
            return;
        }
        // SeqCst: pairs with `wake_writer`'s swap (see there).
        shared.writer_sleeping.store(true, Ordering::SeqCst);
        let pending = shared.kill_requested.load(Ordering::SeqCst)
            || shared.reopen_requested.load(Ordering::SeqCst)
            || shared.shutdown_requested.load(Ordering::SeqCst)
            || shared.flush_requested.load(Ordering::SeqCst)
                > shared.flush_done.load(Ordering::SeqCst)
            || !consumer.is_empty();
        if pending {
            shared.writer_sleeping.store(false, Ordering::SeqCst);
            return;
        }
        std::thread::park_timeout(until - now);
        let woken = !shared.writer_sleeping.swap(false, Ordering::SeqCst);
        heartbeat(shared);
        if woken {
            return;
        }
    }
}

/// Drains one batch from the queue and renders it into the batch buffer.
fn render_batch(shared: &Shared, consumer: &mut Consumer, parts: &mut WriterParts) -> usize {
    let WriterParts {
        renderer,
        batch,
        clock,
        ..
    } = parts;
    clock.refresh();
    consumer.read_batch(shared.config.batch_bytes, |rec| {
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
                shared.counters.drop_records(
                    DropCause::Internal,
                    raw_level,
                    1,
                    crate::clock::raw(),
                );
                shared.report(
                    "decode",
                    "internal",
                    format!("malformed record of {} bytes", rec.len()),
                );
            }
            Err(payload) => {
                batch.buf.truncate(start);
                shared.status.panics.fetch_add(1, Ordering::Relaxed);
                shared
                    .counters
                    .drop_records(DropCause::Panic, raw_level, 1, crate::clock::raw());
                shared.report("render", "panic", panic_message(&*payload));
            }
        }
    })
}

/// Moves what the primary sink reports lost (records it had written) from
/// `written` to the drops of the reported cause, and says so.
pub(crate) fn collect_lost(shared: &Shared, sink: &mut dyn Sink) {
    loop {
        match catch_unwind(AssertUnwindSafe(|| sink.take_lost())) {
            Ok(Some(lost)) => {
                let n: u64 = lost.by_level.iter().sum();
                if lost.cause.is_rejection() {
                    // Rejections are decided by callers; a sink reporting
                    // one is a bug. Count it as internal, never lose it.
                    shared.counters.written_then_lost(
                        DropCause::Internal,
                        &lost.by_level,
                        crate::clock::raw(),
                    );
                } else {
                    shared.counters.written_then_lost(
                        lost.cause,
                        &lost.by_level,
                        crate::clock::raw(),
                    );
                }
                shared.report(
                    "verify",
                    lost.cause.as_str(),
                    format!(
                        "{}: {n} records already written are lost ({})",
                        sink.describe(),
                        lost.cause.as_str()
                    ),
                );
            }
            Ok(None) => return,
            Err(payload) => {
                shared.status.panics.fetch_add(1, Ordering::Relaxed);
                shared.report("take_lost", "panic", panic_message(&*payload));
                return;
            }
        }
    }
}

/// Calls the primary sink's `f` with panics caught and errors reported.
fn sink_call(
    shared: &Shared,
    parts: &mut WriterParts,
    operation: &str,
    f: impl FnOnce(&mut dyn Sink) -> std::io::Result<()>,
) {
    let sink = &mut parts.sink;
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut **sink)));
    collect_lost(shared, &mut *parts.sink);
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            shared.status.io_errors.fetch_add(1, Ordering::Relaxed);
            shared.report(
                operation,
                classify(&e).as_str(),
                format!("{}: {e}", parts.sink.describe()),
            );
        }
        Err(payload) => {
            shared.status.panics.fetch_add(1, Ordering::Relaxed);
            shared.report(operation, "panic", panic_message(&*payload));
        }
    }
}

/// Writes the rendered batch: primary sink with retries, then fallback or
/// drop, counting every record exactly once.
fn write_batch(shared: &Shared, parts: &mut WriterParts) {
    let policy = shared.config.retry;
    loop {
        if parts.batch.done() {
            return;
        }
        let hurry = shared.shutdown_requested.load(Ordering::Relaxed);
        match parts.retry.route(Instant::now(), &policy, hurry) {
            Route::Primary => {
                let ok = batch::write_to(shared, parts, Dest::Primary);
                collect_lost(shared, &mut *parts.sink);
                if ok {
                    parts.retry.on_success();
                    shared.status.sink_failing.store(false, Ordering::Release);
                    shared
                        .status
                        .last_write_ms
                        .store(crate::health::unix_ms(SystemTime::now()), Ordering::Relaxed);
                } else {
                    parts.retry.on_failure(Instant::now(), &policy);
                    shared.status.sink_failing.store(true, Ordering::Release);
                    // A line cut short stays a fragment on its own line: the
                    // sink may reopen another file before the retry (a new
                    // period, a file moved by logrotate), and the rest of the
                    // line must not land at the top of that file. The record
                    // is counted as an I/O failure.
                    parts
                        .batch
                        .skip_partial_line(shared, Dest::Primary, &mut parts.newline_due);
                }
            }
            Route::WaitUntil(t) => {
                // The consumer is not needed here: hold the batch and sleep.
                sleep_hold(shared, t);
            }
            Route::Fallback => {
                parts
                    .batch
                    .skip_partial_line(shared, Dest::Primary, &mut parts.newline_due);
                batch::write_to(shared, parts, Dest::Fallback);
                if !parts.batch.done() {
                    parts.batch.drop_rest(
                        shared,
                        DropCause::IoFailure,
                        Dest::Fallback,
                        &mut parts.newline_due,
                    );
                }
            }
            Route::Drop => {
                parts.batch.drop_rest(
                    shared,
                    DropCause::IoFailure,
                    Dest::Primary,
                    &mut parts.newline_due,
                );
            }
        }
    }
}

/// Sleeps while holding a batch for a failing sink. The writer does not
/// advertise itself as sleeping here: callers filling the queue meanwhile
/// must not pay a wake-up syscall each for a writer that is waiting on
/// purpose. Shutdown and drills are noticed within a slice.
fn sleep_hold(shared: &Shared, until: Instant) {
    const SLICE: Duration = Duration::from_millis(20);
    loop {
        let now = Instant::now();
        if now >= until
            || shared.shutdown_requested.load(Ordering::SeqCst)
            || shared.kill_requested.load(Ordering::SeqCst)
        {
            return;
        }
        std::thread::park_timeout((until - now).min(SLICE));
        heartbeat(shared);
    }
}
