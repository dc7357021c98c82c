//! The watchdog: restarts a writer thread that died and declares a writer
//! stalled when records wait and it makes no progress.
//!
//! It runs on its own thread, wakes every `watch_interval`, and never waits
//! on the writer: it only reads atomics and joins threads that already
//! finished.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::health::is_stalled;
use crate::logger::Shared;
use crate::writer::{writer_main, Exit};

/// Timing of the watchdog.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WatchConfig {
    pub(crate) interval: Duration,
    pub(crate) stall_timeout: Duration,
}

pub(crate) fn spawn_writer(shared: &Arc<Shared>) -> io::Result<JoinHandle<Exit>> {
    let s = Arc::clone(shared);
    std::thread::Builder::new()
        .name(format!("{}-writer", shared.name))
        .spawn(move || writer_main(s))
}

pub(crate) fn spawn_watchdog(
    shared: &Arc<Shared>,
    writer: JoinHandle<Exit>,
    cfg: WatchConfig,
) -> io::Result<JoinHandle<()>> {
    let s = Arc::clone(shared);
    std::thread::Builder::new()
        .name(format!("{}-watchdog", shared.name))
        .spawn(move || watch(s, writer, cfg))
}

fn watch(shared: Arc<Shared>, writer: JoinHandle<Exit>, cfg: WatchConfig) {
    let mut writer = Some(writer);
    loop {
        std::thread::park_timeout(cfg.interval);
        if writer.as_ref().is_some_and(JoinHandle::is_finished) {
            let exit = match writer.take().map(JoinHandle::join) {
                Some(Ok(exit)) => Some(exit),
                Some(Err(_)) | None => None,
            };
            if exit == Some(Exit::Shutdown) {
                return;
            }
            shared.status.writer_alive.store(false, Ordering::Release);
            shared.report(
                "writer",
                "dead",
                format!("writer thread ended ({exit:?}); restarting it"),
            );
        }
        if writer.is_none() {
            if shared.shutdown_requested.load(Ordering::SeqCst) && shared.queue.used_bytes() == 0 {
                return;
            }
            match spawn_writer(&shared) {
                Ok(h) => {
                    shared.status.restarts.fetch_add(1, Ordering::Relaxed);
                    writer = Some(h);
                }
                Err(e) => shared.report("restart writer", "spawn", e.to_string()),
            }
            continue;
        }
        let stalled = is_stalled(
            shared.mono_ns(),
            shared.status.heartbeat_ns.load(Ordering::Relaxed),
            shared.queue.used_bytes(),
            cfg.stall_timeout,
        );
        let was = shared.status.stalled.load(Ordering::Acquire);
        if stalled && !was {
            // Release: a caller that sees "stalled" stops waiting at once.
            shared.status.stalled.store(true, Ordering::Release);
            shared.report(
                "writer",
                "stalled",
                format!(
                    "no progress for over {:?} with {} bytes queued",
                    cfg.stall_timeout,
                    shared.queue.used_bytes()
                ),
            );
            shared.space.notify();
        }
        if shared.writer_exited.load(Ordering::Acquire) {
            return;
        }
    }
}
