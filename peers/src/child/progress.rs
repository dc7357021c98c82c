//! Progress the child writes every 50 ms to a small JSON file, so the
//! driver can say how far a child got when it has to kill it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::thread::Scope;
use std::time::{Duration, Instant};

use super::Live;
use crate::peer::Peer;
use crate::procfs::{vm_hwm_kb, vm_rss_kb};
use crate::scenario::{write_json_atomic, Phase, Progress};

const PHASES: [Phase; 5] = [
    Phase::Starting,
    Phase::Warmup,
    Phase::Logging,
    Phase::Logged,
    Phase::Finished,
];

/// Writes [`Progress`] files.
pub struct Reporter {
    path: Option<PathBuf>,
    live: Live,
    phase: AtomicU8,
    stop: AtomicBool,
    rss_start_kb: u64,
    started: Instant,
}

impl Reporter {
    /// A reporter writing to `path` (nothing when `None`) for `threads`
    /// logging threads.
    pub fn new(
        path: Option<PathBuf>,
        threads: usize,
        rss_start_kb: u64,
        started: Instant,
    ) -> Reporter {
        Reporter {
            path,
            live: Live::new(threads),
            phase: AtomicU8::new(0),
            stop: AtomicBool::new(false),
            rss_start_kb,
            started,
        }
    }

    /// The counters the logging threads update.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// Sets the phase the next report shows.
    pub fn set_phase(&self, phase: Phase) {
        let i = PHASES.iter().position(|p| *p == phase).unwrap_or(0);
        self.phase.store(i as u8, Ordering::SeqCst);
    }

    fn progress(&self, dropped: Option<u64>) -> Progress {
        Progress {
            phase: PHASES[usize::from(self.phase.load(Ordering::SeqCst)).min(PHASES.len() - 1)],
            calls: self.live.calls(),
            max_call_ns: self.live.max_ns.load(Ordering::Relaxed),
            dropped,
            rss_kb: vm_rss_kb(),
            hwm_kb: vm_hwm_kb(),
            rss_start_kb: self.rss_start_kb,
            secs: self.started.elapsed().as_secs_f64(),
        }
    }

    fn emit(&self, p: &Progress) {
        if let Some(path) = &self.path {
            if let Err(e) = write_json_atomic(path, p) {
                eprintln!("progress: {e:#}");
            }
        }
    }

    /// Sets the phase and writes one report now.
    pub fn write(&self, phase: Phase, peer: &dyn Peer) {
        self.set_phase(phase);
        self.emit(&self.progress(peer.dropped_so_far()));
    }

    /// Writes the final report, with the count `finish` returned.
    pub fn write_finished(&self, dropped: Option<u64>) {
        self.set_phase(Phase::Finished);
        self.emit(&self.progress(dropped));
    }

    /// Starts a thread in `s` that reports every 50 ms until
    /// [`Reporter::stop`].
    pub fn spawn<'s>(&'s self, s: &'s Scope<'s, '_>, peer: &'s dyn Peer, phase: Phase) {
        self.set_phase(phase);
        if self.path.is_none() {
            return;
        }
        s.spawn(move || {
            while !self.stop.load(Ordering::SeqCst) {
                self.emit(&self.progress(peer.dropped_so_far()));
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }

    /// Stops the thread started by [`Reporter::spawn`] (it ends within
    /// 50 ms; the scope joins it).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
