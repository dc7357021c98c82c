//! A real rsyslogd killed (SIGKILL) and restarted, or stopped (SIGSTOP)
//! for 10 s, while several threads log through a RELP or TCP syslog sink.
//! Callers never wait, every record is accounted for, and what rsyslog
//! received is compared with what the logger counted:
//!
//! - RELP: every record counted as written was received (it was
//!   acknowledged); duplicates are at most the frames the sink resent;
//!   records the writer gave up on are received only as far as the sink
//!   says (acknowledged late, or unconfirmed).
//! - TCP: nothing is received that was not written (or sent after being
//!   given up, which the sink counts); what the kernel took and the dead
//!   collector never read is lost, and the test prints how much.

mod common;
#[path = "common/rsyslog.rs"]
mod rsyslog;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_accounted, is_notice, settle};
use jamless::{
    Builder, Facility, Format, HealthSnapshot, Level, Logger, Outcome, SyslogCounters,
    SyslogFormat, SyslogSink, SyslogStats, Transport,
};
use rsyslog::{Inputs, Received, Rsyslog};

/// The same hang bound as the stalled-FIFO tests (`stall.rs`).
const HANG_BOUND: Duration = Duration::from_secs(1);

struct Load {
    stop: Arc<AtomicBool>,
    seq: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<(u64, Duration)>>,
}

/// Starts `threads` threads logging `record <seq>` with a short pause
/// between calls, each measuring its longest call.
fn start_load(logger: &Logger, threads: usize, pause: Duration) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(0));
    let threads = (0..threads)
        .map(|_| {
            let (logger, stop, seq) = (logger.clone(), Arc::clone(&stop), Arc::clone(&seq));
            std::thread::spawn(move || {
                let mut offered = 0;
                let mut max = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    let i = seq.fetch_add(1, Ordering::Relaxed);
                    let level = if i % 10 == 0 {
                        Level::Warn
                    } else {
                        Level::Info
                    };
                    let t0 = Instant::now();
                    // Dropped records are expected here; they are counted.
                    let _: Outcome = logger.log(level, "load", format_args!("record {i}"));
                    max = max.max(t0.elapsed());
                    offered += 1;
                    std::thread::sleep(pause);
                }
                (offered, max)
            })
        })
        .collect();
    Load { stop, seq, threads }
}

impl Load {
    fn finish(self) -> (u64, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let mut offered = 0;
        let mut max = Duration::ZERO;
        for t in self.threads {
            let (o, m) = t.join().expect("a logging thread panicked");
            offered += o;
            max = max.max(m);
        }
        (offered, max)
    }
}

fn logger(sink: SyslogSink) -> (Logger, jamless::Guard) {
    // The sink's errors are expected here: collect them instead of printing.
    let (handler, _reports) = common::collecting_handler();
    Builder::new()
        .sink(sink)
        .error_handler(handler)
        .fallback(None)
        .format(Format::syslog(
            SyslogFormat::rfc5424()
                .facility(Facility::Local0)
                .app_name("faults"),
        ))
        .capacity_bytes(256 << 10)
        .filter("trace")
        .build()
        .unwrap()
}

/// Sequence numbers received (unique) and the number of records received.
fn tally(got: &[Received]) -> (BTreeSet<u64>, u64) {
    let mut unique = BTreeSet::new();
    let mut total = 0;
    for r in got
        .iter()
        .filter(|r| r.app == "faults" && !is_notice(&r.msg))
    {
        let seq = r
            .msg
            .strip_prefix("record ")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("unexpected message {r:?}"));
        unique.insert(seq);
        total += 1;
    }
    (unique, total)
}

/// Waits until at least `want` distinct records arrived, then a little
/// longer for stragglers, and returns the tally.
fn received(rs: &Rsyslog, want: u64) -> (BTreeSet<u64>, u64) {
    rs.wait_for(Duration::from_secs(30), |got| {
        tally(got).0.len() as u64 >= want
    });
    std::thread::sleep(Duration::from_millis(500));
    tally(&rs.received())
}

fn report(what: &str, h: &HealthSnapshot, s: &SyslogStats, unique: usize, total: u64) {
    eprintln!(
        "{what}: offered {} written {} dropped {} (queue_full {}, io_failure {}) | \
         received {unique} distinct, {total} in all | sink: {s}",
        h.offered,
        h.written,
        h.dropped(),
        h.drops.queue_full,
        h.drops.io_failure
    );
}

/// RELP's accounting: written = acknowledged = received.
fn check_relp(h: &HealthSnapshot, s: &SyslogStats, unique: &BTreeSet<u64>, total: u64) {
    let u = unique.len() as u64;
    assert!(
        u >= h.written + s.acked_after_give_up,
        "every acknowledged record was received: {u} < {} + {}",
        h.written,
        s.acked_after_give_up
    );
    assert!(
        u <= h.written + s.acked_after_give_up + s.unconfirmed,
        "nothing received that is not written, acknowledged late or unconfirmed: {u}"
    );
    assert!(
        total - u <= s.resent,
        "duplicates ({}) are at most the frames resent ({})",
        total - u,
        s.resent
    );
}

fn start(inputs: Inputs) -> (tempfile::TempDir, Rsyslog) {
    let dir = tempfile::tempdir().unwrap();
    let rs = Rsyslog::start(dir.path(), inputs);
    (dir, rs)
}

fn relp_inputs() -> Inputs {
    Inputs {
        relp: true,
        ..Inputs::default()
    }
}

fn tcp_inputs() -> Inputs {
    Inputs {
        tcp: true,
        ..Inputs::default()
    }
}

/// Logs, kills rsyslogd, restarts it, logs on; returns the health, the
/// sink's numbers, and the sequence number logged right after the restart.
fn kill_and_restart(rs: &mut Rsyslog, sink: SyslogSink) -> (HealthSnapshot, SyslogCounters, u64) {
    let counters = sink.counters();
    let (logger, guard) = logger(sink);
    let load = start_load(&logger, 2, Duration::from_micros(200));
    std::thread::sleep(Duration::from_millis(700));
    rs.kill();
    std::thread::sleep(Duration::from_millis(500));
    rs.restart();
    let after_restart = load.seq.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(1500));
    let (offered, max) = load.finish();
    assert!(max < HANG_BOUND, "a log call took {max:?}");
    let h = settle(&logger);
    assert_accounted(&h, offered);
    drop(guard);
    (h, counters, after_restart)
}

#[test]
fn relp_after_sigkill_and_restart_every_written_record_was_received() {
    let (_dir, mut rs) = start(relp_inputs());
    let sink = SyslogSink::builder(Transport::relp(format!("127.0.0.1:{}", rs.relp_port)))
        .build()
        .unwrap();
    let (h, counters, after_restart) = kill_and_restart(&mut rs, sink);
    let s = counters.snapshot();
    let (unique, total) = received(&rs, h.written + s.acked_after_give_up);
    report("RELP, SIGKILL", &h, &s, unique.len(), total);
    assert!(s.connection_losses >= 1 && s.connects >= 2, "{s}");
    check_relp(&h, &s, &unique, total);
    assert!(
        unique.range(after_restart..).next().is_some(),
        "records logged after the restart arrived"
    );
}

#[test]
fn tcp_after_sigkill_and_restart_delivers_again_and_invents_nothing() {
    let (_dir, mut rs) = start(tcp_inputs());
    let sink = SyslogSink::builder(Transport::tcp(format!("127.0.0.1:{}", rs.tcp_port)))
        .build()
        .unwrap();
    let (h, counters, after_restart) = kill_and_restart(&mut rs, sink);
    let s = counters.snapshot();
    rs.wait_for(Duration::from_secs(30), |got| {
        tally(got).0.range(after_restart..).next().is_some()
    });
    std::thread::sleep(Duration::from_millis(500));
    let (unique, total) = tally(&rs.received());
    report("TCP, SIGKILL", &h, &s, unique.len(), total);
    let u = unique.len() as u64;
    assert!(s.connection_losses >= 1 && s.connects >= 2, "{s}");
    assert!(
        u <= h.written + s.sent_after_give_up,
        "received {u}: more than written + sent after give-up"
    );
    assert!(
        total - u <= s.resent,
        "duplicates {} > resent {}",
        total - u,
        s.resent
    );
    eprintln!(
        "TCP, SIGKILL: {} records counted as written were lost with the connection \
         (taken by the kernel, never read by the killed collector)",
        h.written + s.sent_after_give_up - u
    );
}

/// Logs, stops rsyslogd for 10 s, continues it, logs on.
fn stop_and_continue(rs: &Rsyslog, sink: SyslogSink) -> (HealthSnapshot, SyslogCounters, u64) {
    let counters = sink.counters();
    let (logger, guard) = logger(sink);
    let load = start_load(&logger, 2, Duration::from_micros(100));
    std::thread::sleep(Duration::from_secs(1));
    rs.stop();
    std::thread::sleep(Duration::from_secs(10));
    rs.cont();
    let after_cont = load.seq.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(2));
    let (offered, max) = load.finish();
    assert!(
        max < HANG_BOUND,
        "a log call took {max:?} while the collector was stopped"
    );
    let h = settle(&logger);
    assert_accounted(&h, offered);
    assert!(
        h.dropped() > 0,
        "the backlog filled and drops were counted: {h}"
    );
    drop(guard);
    (h, counters, after_cont)
}

#[test]
fn relp_with_the_collector_stopped_callers_never_wait_and_delivery_resumes() {
    let (_dir, rs) = start(relp_inputs());
    let sink = SyslogSink::builder(Transport::relp(format!("127.0.0.1:{}", rs.relp_port)))
        .build()
        .unwrap();
    let (h, counters, after_cont) = stop_and_continue(&rs, sink);
    let s = counters.snapshot();
    let (unique, total) = received(&rs, h.written + s.acked_after_give_up);
    report("RELP, SIGSTOP 10 s", &h, &s, unique.len(), total);
    check_relp(&h, &s, &unique, total);
    assert!(
        unique.range(after_cont..).next().is_some(),
        "records logged after SIGCONT arrived"
    );
}

#[test]
fn tcp_with_the_collector_stopped_callers_never_wait_and_delivery_resumes() {
    let (_dir, rs) = start(tcp_inputs());
    let sink = SyslogSink::builder(Transport::tcp(format!("127.0.0.1:{}", rs.tcp_port)))
        .build()
        .unwrap();
    let (h, counters, after_cont) = stop_and_continue(&rs, sink);
    let s = counters.snapshot();
    let (unique, total) = received(&rs, h.written + s.sent_after_give_up);
    report("TCP, SIGSTOP 10 s", &h, &s, unique.len(), total);
    assert_eq!(s.connection_losses, 0, "{s}");
    // No connection was lost: the stream delivers exactly what was sent.
    assert_eq!(unique.len() as u64, h.written + s.sent_after_give_up, "{s}");
    assert_eq!(total, unique.len() as u64, "no duplicates");
    assert!(
        unique.range(after_cont..).next().is_some(),
        "records logged after SIGCONT arrived"
    );
}
