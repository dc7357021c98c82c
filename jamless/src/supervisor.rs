//! The watchdog: restarts a worker thread (the dispatcher or a pipeline's)
//! that died, and declares one stalled when work waits for it and it makes
//! no progress.
//!
//! It runs on its own thread, wakes every `watch_interval`, and never waits
//! on a worker: it only reads atomics and joins threads that already
//! finished.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::common::Common;
use crate::control::Control;
use crate::dispatch::dispatch_main;
use crate::health::{is_stalled, Status};
use crate::pipeline::{pipeline_main, Exit};
use crate::queue::ByteQueue;

/// Timing of the watchdog.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WatchConfig {
    pub(crate) interval: Duration,
    pub(crate) stall_timeout: Duration,
}

/// A worker thread of a logger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Worker {
    Dispatcher,
    Pipeline(usize),
}

impl Worker {
    /// Every worker of the logger: the pipelines, and the dispatcher when
    /// there are several.
    pub(crate) fn all(common: &Common) -> Vec<Worker> {
        let mut all: Vec<Worker> = (0..common.pipelines.len()).map(Worker::Pipeline).collect();
        if !common.single() {
            all.push(Worker::Dispatcher);
        }
        all
    }

    fn parts<'c>(&self, c: &'c Common) -> (&'c Control, &'c Status, &'c ByteQueue, String) {
        match *self {
            Worker::Dispatcher => (&c.dispatch, &c.status, &c.ring, "dispatcher".to_string()),
            Worker::Pipeline(i) => {
                let p = &c.pipelines[i];
                let what = if c.single() {
                    "writer".to_string()
                } else {
                    format!("pipeline {}", p.name)
                };
                (&p.control, &p.status, &p.source, what)
            }
        }
    }

    pub(crate) fn spawn(self, common: &Arc<Common>) -> io::Result<JoinHandle<Exit>> {
        let c = Arc::clone(common);
        let name = match self {
            Worker::Dispatcher => format!("{}-dispatch", common.name),
            Worker::Pipeline(_) if common.single() => format!("{}-writer", common.name),
            Worker::Pipeline(i) => format!("{}-{}", common.name, common.pipelines[i].name),
        };
        std::thread::Builder::new()
            .name(name)
            .spawn(move || match self {
                Worker::Dispatcher => {
                    let idle = c.dispatch_idle;
                    dispatch_main(c, idle)
                }
                Worker::Pipeline(i) => pipeline_main(c, i),
            })
    }
}

pub(crate) fn spawn_watchdog(
    common: &Arc<Common>,
    workers: Vec<(Worker, JoinHandle<Exit>)>,
    cfg: WatchConfig,
) -> io::Result<JoinHandle<()>> {
    let c = Arc::clone(common);
    std::thread::Builder::new()
        .name(format!("{}-watchdog", common.name))
        .spawn(move || watch(c, workers, cfg))
}

struct Watched {
    worker: Worker,
    handle: Option<JoinHandle<Exit>>,
    done: bool,
}

fn watch(c: Arc<Common>, workers: Vec<(Worker, JoinHandle<Exit>)>, cfg: WatchConfig) {
    let mut watched: Vec<Watched> = workers
        .into_iter()
        .map(|(worker, h)| Watched {
            worker,
            handle: Some(h),
            done: false,
        })
        .collect();
    loop {
        std::thread::park_timeout(cfg.interval);
        for w in watched.iter_mut().filter(|w| !w.done) {
            check(&c, w, cfg);
        }
        if watched.iter().all(|w| w.done) {
            return;
        }
    }
}

fn check(c: &Arc<Common>, w: &mut Watched, cfg: WatchConfig) {
    let (control, status, source, what) = w.worker.parts(c);
    if w.handle.as_ref().is_some_and(JoinHandle::is_finished) {
        let exit = match w.handle.take().map(JoinHandle::join) {
            Some(Ok(exit)) => Some(exit),
            Some(Err(_)) | None => None,
        };
        if exit == Some(Exit::Shutdown) {
            w.done = true;
            return;
        }
        status.writer_alive.store(false, Ordering::Release);
        c.report(
            None,
            what.as_str(),
            "dead",
            format!("{what} thread ended ({exit:?}); restarting it"),
        );
    }
    if w.handle.is_none() {
        match w.worker.spawn(c) {
            Ok(h) => {
                status.restarts.fetch_add(1, Ordering::Relaxed);
                w.handle = Some(h);
            }
            Err(e) => c.report(None, "restart worker", "spawn", format!("{what}: {e}")),
        }
        return;
    }
    let stalled = is_stalled(
        c.mono_ns(),
        status.heartbeat_ns.load(Ordering::Relaxed),
        source.used_bytes(),
        cfg.stall_timeout,
    );
    let was = status.stalled.load(Ordering::Acquire);
    if stalled && !was {
        // Release: a caller that sees "stalled" stops waiting at once.
        status.stalled.store(true, Ordering::Release);
        c.report(
            None,
            what.as_str(),
            "stalled",
            format!(
                "{what}: no progress for over {:?} with {} bytes queued",
                cfg.stall_timeout,
                source.used_bytes()
            ),
        );
        c.space.notify();
    }
    if control.exited.load(Ordering::Acquire) {
        w.done = true;
    }
}
