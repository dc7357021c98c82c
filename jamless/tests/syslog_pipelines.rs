//! One logger, two pipelines: a file, and a syslog sink (RELP or TCP) to a
//! real rsyslogd that is killed and restarted (SIGKILL), or stopped for
//! 10 s (SIGSTOP), while several threads log.
//!
//! What must hold, read back from both outputs:
//!
//! - no log call waits (the same hang bound as the stalled-FIFO tests);
//! - the file pipeline loses nothing: every record is in the file exactly
//!   once, and while the collector is stopped it keeps up with the callers;
//! - the syslog pipeline accounts for every record it received: over RELP
//!   each one reached rsyslog or is counted as dropped, duplicates after a
//!   reconnect are at most what the sink counts as resent; over TCP nothing
//!   arrives that was not sent, and delivery resumes;
//! - with the collector stopped, the syslog pipeline's backlog fills and its
//!   drops are counted (`backlog_full`), its state shows the trouble and
//!   recovers after SIGCONT, and the drop notice reaches the file;
//! - per pipeline, `received = written + dropped + queued`.

mod common;
#[path = "common/rsyslog.rs"]
mod rsyslog;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{collecting_handler, is_notice, read_lines, settle};
use jamless::{
    Builder, Facility, FileSinkBuilder, Format, HealthSnapshot, Level, Logger, Outcome, Pipeline,
    PipelineHealth, State, SyslogCounters, SyslogFormat, SyslogSink, SyslogStats, Transport,
};
use rsyslog::{Inputs, Received, Rsyslog};

/// The same hang bound as the stalled-FIFO tests (`stall.rs`).
const HANG_BOUND: Duration = Duration::from_secs(1);
const APP: &str = "pipelines";

struct Load {
    stop: Arc<AtomicBool>,
    seq: Arc<AtomicU64>,
    offered: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<Duration>>,
}

/// `threads` threads logging `record <seq>` with `pause` between calls,
/// each measuring its longest call.
fn start_load(logger: &Logger, threads: usize, pause: Duration) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(0));
    let offered = Arc::new(AtomicU64::new(0));
    let threads = (0..threads)
        .map(|_| {
            let (logger, stop) = (logger.clone(), Arc::clone(&stop));
            let (seq, offered) = (Arc::clone(&seq), Arc::clone(&offered));
            std::thread::spawn(move || {
                let mut max = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    let i = seq.fetch_add(1, Ordering::Relaxed);
                    let level = if i % 10 == 0 {
                        Level::Warn
                    } else {
                        Level::Info
                    };
                    let t0 = Instant::now();
                    // The syslog pipeline's drops are expected; they are counted.
                    let _: Outcome = logger.log(level, "load", format_args!("record {i}"));
                    max = max.max(t0.elapsed());
                    offered.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(pause);
                }
                max
            })
        })
        .collect();
    Load {
        stop,
        seq,
        offered,
        threads,
    }
}

impl Load {
    /// Stops the threads; the records offered and the longest call.
    fn finish(self) -> (u64, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let max = self
            .threads
            .into_iter()
            .map(|t| t.join().expect("a logging thread panicked"))
            .max()
            .unwrap_or_default();
        (self.offered.load(Ordering::Relaxed), max)
    }
}

/// A logger with a file pipeline (large backlog, essential) and a syslog
/// pipeline (small backlog, not essential, no fallback).
fn two_pipelines(file: &Path, sink: SyslogSink) -> (Logger, jamless::Guard) {
    // The syslog sink's errors are expected here: collect, do not print.
    let (handler, _reports) = collecting_handler();
    Builder::new()
        .pipeline(Pipeline::new("file", FileSinkBuilder::new(file).build()).backlog_bytes(32 << 20))
        .pipeline(
            Pipeline::new("syslog", sink)
                .format(Format::syslog(
                    SyslogFormat::rfc5424()
                        .facility(Facility::Local0)
                        .app_name(APP),
                ))
                .backlog_bytes(256 << 10)
                .fallback(None)
                .essential(false),
        )
        .error_handler(handler)
        .fallback(None)
        .filter("trace")
        .build()
        .unwrap()
}

fn pipeline<'a>(h: &'a HealthSnapshot, name: &str) -> &'a PipelineHealth {
    h.pipeline(name)
        .unwrap_or_else(|| panic!("no pipeline {name}: {h}"))
}

/// The per-pipeline identities, after a flush (nothing queued), and the
/// logger's: nothing rejected, so every offered record reached both.
#[track_caller]
fn assert_accounted(h: &HealthSnapshot, offered: u64) {
    assert_eq!(h.offered, offered, "{h}");
    assert_eq!(h.accepted + h.rejected, offered, "{h}");
    assert_eq!(h.rejected, 0, "the logger's ring never overflowed: {h}");
    for p in &h.pipelines {
        assert_eq!(
            p.received,
            p.written + p.dropped() + p.queued,
            "received = written + dropped + queued for {}: {p:?}",
            p.name
        );
        assert_eq!(p.queued, 0, "{} drained: {p:?}", p.name);
        assert_eq!(p.received, offered, "{} took every record: {p:?}", p.name);
        let by_level: u64 = p.drops.by_level.iter().sum();
        assert_eq!(by_level, p.dropped(), "per-level drops add up: {p:?}");
    }
}

/// The file holds every record exactly once, and nothing else but notices.
#[track_caller]
fn assert_file_complete(lines: &[String], h: &HealthSnapshot, offered: u64) {
    let file = pipeline(h, "file");
    assert_eq!(
        file.dropped(),
        0,
        "the file pipeline lost nothing: {file:?}"
    );
    let mut seen = BTreeMap::<u64, u32>::new();
    for l in lines.iter().filter(|l| !is_notice(l)) {
        let id = l
            .split_once("record ")
            .and_then(|(_, rest)| rest.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("unexpected line in the file: {l:?}"));
        *seen.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, &n)| n != 1).collect();
    assert!(
        twice.is_empty(),
        "records in the file more than once: {twice:?}"
    );
    assert_eq!(seen.len() as u64, offered, "every record in the file");
    assert_eq!(
        seen.keys().next_back().copied(),
        offered.checked_sub(1),
        "the file holds records 0..{offered}"
    );
    assert_eq!(file.written, offered, "{file:?}");
}

/// Sequence numbers rsyslog received (distinct) and the records in all.
fn tally(got: &[Received]) -> (BTreeSet<u64>, u64) {
    let mut unique = BTreeSet::new();
    let mut total = 0;
    for r in got.iter().filter(|r| r.app == APP && !is_notice(&r.msg)) {
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

/// Waits until `done` holds for the tally, then a little longer for
/// stragglers, and returns it.
fn received_when(rs: &Rsyslog, done: impl Fn(&BTreeSet<u64>) -> bool) -> (BTreeSet<u64>, u64) {
    rs.wait_for(Duration::from_secs(30), |got| done(&tally(got).0));
    std::thread::sleep(Duration::from_millis(500));
    tally(&rs.received())
}

fn report(what: &str, h: &HealthSnapshot, s: &SyslogStats, unique: usize, total: u64) {
    let p = pipeline(h, "syslog");
    eprintln!(
        "{what}: offered {} | file written {} | syslog written {} dropped {} (backlog_full {}, \
         io_failure {}) | rsyslog received {unique} distinct, {total} in all | sink: {s}",
        h.offered,
        pipeline(h, "file").written,
        p.written,
        p.dropped(),
        p.drops.backlog_full,
        p.drops.io_failure
    );
}

/// RELP: every acknowledged record was received, every other one counted
/// as dropped; duplicates are at most the frames resent.
#[track_caller]
fn check_relp(h: &HealthSnapshot, s: &SyslogStats, unique: &BTreeSet<u64>, total: u64) {
    let p = pipeline(h, "syslog");
    let u = unique.len() as u64;
    assert!(
        u >= p.written + s.acked_after_give_up,
        "every acknowledged record was received: {u} < {} + {}",
        p.written,
        s.acked_after_give_up
    );
    assert!(
        u <= p.written + s.acked_after_give_up + s.unconfirmed,
        "nothing received that is not written, acknowledged late or unconfirmed: {u}; {s}"
    );
    let missing = (0..p.received).filter(|i| !unique.contains(i)).count() as u64;
    assert!(
        missing <= p.dropped(),
        "every record not received ({missing}) is counted as dropped ({})",
        p.dropped()
    );
    assert!(
        total - u <= s.resent,
        "duplicates ({}) are at most the frames resent ({}): counted, not hidden",
        total - u,
        s.resent
    );
}

/// TCP: nothing received that was not written or sent after a give-up;
/// duplicates at most the frames resent.
#[track_caller]
fn check_tcp(h: &HealthSnapshot, s: &SyslogStats, unique: &BTreeSet<u64>, total: u64) {
    let p = pipeline(h, "syslog");
    let u = unique.len() as u64;
    assert!(
        u <= p.written + s.sent_after_give_up,
        "received {u}: more than written {} + sent after give-up {}",
        p.written,
        s.sent_after_give_up
    );
    assert!(
        total - u <= s.resent,
        "duplicates {} > resent {}",
        total - u,
        s.resent
    );
}

struct Setup {
    _dir: tempfile::TempDir,
    rs: Rsyslog,
    file: PathBuf,
}

fn setup(inputs: Inputs) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let rs = Rsyslog::start(dir.path(), inputs);
    let file = dir.path().join("app.log");
    Setup {
        _dir: dir,
        rs,
        file,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Proto {
    Relp,
    Tcp,
}

impl Proto {
    fn inputs(self) -> Inputs {
        Inputs {
            relp: self == Proto::Relp,
            tcp: self == Proto::Tcp,
            ..Inputs::default()
        }
    }

    fn sink(self, rs: &Rsyslog) -> SyslogSink {
        let transport = match self {
            Proto::Relp => Transport::relp(format!("127.0.0.1:{}", rs.relp_port)),
            Proto::Tcp => Transport::tcp(format!("127.0.0.1:{}", rs.tcp_port)),
        };
        SyslogSink::builder(transport).build().unwrap()
    }
}

/// Logs; kills rsyslogd; restarts it; logs on. Returns the health after a
/// flush, the sink's counters, the sequence number at the restart, and
/// the file's lines.
fn kill_and_restart(proto: Proto) -> (Setup, HealthSnapshot, SyslogCounters, u64, Vec<String>) {
    let mut s = setup(proto.inputs());
    let sink = proto.sink(&s.rs);
    let counters = sink.counters();
    let (logger, guard) = two_pipelines(&s.file, sink);
    let load = start_load(&logger, 2, Duration::from_micros(200));
    std::thread::sleep(Duration::from_millis(700));
    s.rs.kill();
    std::thread::sleep(Duration::from_millis(500));
    s.rs.restart();
    let after_restart = load.seq.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(1500));
    let (offered, max) = load.finish();
    assert!(max < HANG_BOUND, "a log call took {max:?}");
    let h = settle(&logger);
    assert_accounted(&h, offered);
    drop(guard);
    let lines = read_lines(&s.file);
    assert_file_complete(&lines, &h, offered);
    (s, h, counters, after_restart, lines)
}

#[test]
fn relp_sigkill_and_restart_file_complete_and_every_record_received_or_counted() {
    let (s, h, counters, after_restart, _) = kill_and_restart(Proto::Relp);
    let st = counters.snapshot();
    let p = pipeline(&h, "syslog");
    let want = p.written + st.acked_after_give_up;
    let (unique, total) = received_when(&s.rs, |u| u.len() as u64 >= want);
    report("RELP, SIGKILL", &h, &st, unique.len(), total);
    assert!(st.connection_losses >= 1 && st.connects >= 2, "{st}");
    check_relp(&h, &st, &unique, total);
    assert!(
        unique.range(after_restart..).next().is_some(),
        "records logged after the restart arrived"
    );
}

#[test]
fn tcp_sigkill_and_restart_file_complete_and_delivery_resumes() {
    let (s, h, counters, after_restart, _) = kill_and_restart(Proto::Tcp);
    let st = counters.snapshot();
    let (unique, total) = received_when(&s.rs, |u| u.range(after_restart..).next().is_some());
    report("TCP, SIGKILL", &h, &st, unique.len(), total);
    assert!(st.connection_losses >= 1 && st.connects >= 2, "{st}");
    check_tcp(&h, &st, &unique, total);
    let p = pipeline(&h, "syslog");
    eprintln!(
        "TCP, SIGKILL: {} records counted as written were lost with the connection \
         (taken by the kernel, never read by the killed collector)",
        (p.written + st.sent_after_give_up).saturating_sub(unique.len() as u64)
    );
}

/// Logs; stops rsyslogd for 10 s; continues it; logs on. Checks what must
/// hold while it is stopped and after, and returns what the transport's
/// own checks need.
fn stop_and_continue(proto: Proto) -> (Setup, HealthSnapshot, SyslogCounters, u64) {
    let s = setup(proto.inputs());
    let sink = proto.sink(&s.rs);
    let counters = sink.counters();
    let (logger, guard) = two_pipelines(&s.file, sink);
    let load = start_load(&logger, 2, Duration::from_micros(100));
    std::thread::sleep(Duration::from_secs(1));

    s.rs.stop();
    let stopped_at = Instant::now();
    let before = logger.health();
    let offered_before = load.offered.load(Ordering::Relaxed);
    let mut states = BTreeSet::new();
    let mut logger_states = BTreeSet::new();
    while stopped_at.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
        let h = logger.health();
        states.insert(pipeline(&h, "syslog").state.as_str());
        logger_states.insert(h.state.as_str());
        assert_eq!(pipeline(&h, "file").state, State::Healthy, "{h}");
    }
    let during = logger.health();
    let offered_during = load.offered.load(Ordering::Relaxed) - offered_before;
    s.rs.cont();
    let after_cont = load.seq.load(Ordering::Relaxed);

    // The file pipeline kept pace with the callers while the collector
    // was stopped (its lag is at most a batch interval's worth).
    let file_during = pipeline(&during, "file").written - pipeline(&before, "file").written;
    eprintln!(
        "{}: while stopped, callers offered {offered_during}, the file pipeline wrote \
         {file_during}; syslog pipeline states seen {states:?}, logger {logger_states:?}",
        if proto == Proto::Relp { "RELP" } else { "TCP" }
    );
    assert!(offered_during > 1000, "the load ran: {offered_during}");
    assert!(
        file_during * 10 >= offered_during * 9,
        "the file pipeline kept its rate: {file_during} of {offered_during}"
    );
    let sp = pipeline(&during, "syslog");
    assert!(
        sp.drops.backlog_full > 0,
        "the syslog backlog filled and its drops were counted: {sp:?}"
    );
    assert!(
        states.contains("stalled") || states.contains("failing"),
        "the syslog pipeline showed it was stuck: {states:?}"
    );
    assert!(
        logger_states
            .iter()
            .all(|s| *s == "healthy" || *s == "degraded"),
        "a non-essential pipeline never makes the logger worse than degraded: {logger_states:?}"
    );

    // Healthy again after SIGCONT.
    let t0 = Instant::now();
    loop {
        let h = logger.health();
        if pipeline(&h, "syslog").state == State::Healthy {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the syslog pipeline is healthy again after SIGCONT: {h}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    let (offered, max) = load.finish();
    assert!(
        max < HANG_BOUND,
        "a log call took {max:?} while the collector was stopped"
    );
    let h = settle(&logger);
    assert_accounted(&h, offered);
    drop(guard);
    let lines = read_lines(&s.file);
    assert_file_complete(&lines, &h, offered);
    let notice = lines
        .iter()
        .find(|l| is_notice(l) && l.contains("pipeline.syslog.dropped="));
    assert!(
        notice.is_some(),
        "the file tells of the syslog pipeline's drops (pipeline.syslog.dropped=)"
    );
    (s, h, counters, after_cont)
}

#[test]
fn relp_sigstop_callers_never_wait_file_keeps_up_syslog_drops_counted_and_recovers() {
    let (s, h, counters, after_cont) = stop_and_continue(Proto::Relp);
    let st = counters.snapshot();
    let p = pipeline(&h, "syslog");
    let want = p.written + st.acked_after_give_up;
    let (unique, total) = received_when(&s.rs, |u| u.len() as u64 >= want);
    report("RELP, SIGSTOP 10 s", &h, &st, unique.len(), total);
    check_relp(&h, &st, &unique, total);
    assert!(
        unique.range(after_cont..).next().is_some(),
        "records logged after SIGCONT arrived"
    );
}

#[test]
fn tcp_sigstop_callers_never_wait_file_keeps_up_syslog_drops_counted_and_recovers() {
    let (s, h, counters, after_cont) = stop_and_continue(Proto::Tcp);
    let st = counters.snapshot();
    let want = pipeline(&h, "syslog").written + st.sent_after_give_up;
    let (unique, total) = received_when(&s.rs, |u| u.len() as u64 >= want);
    report("TCP, SIGSTOP 10 s", &h, &st, unique.len(), total);
    check_tcp(&h, &st, &unique, total);
    assert_eq!(st.connection_losses, 0, "{st}");
    // No connection was lost: the stream delivered exactly what was sent.
    let p = pipeline(&h, "syslog");
    assert_eq!(
        unique.len() as u64,
        p.written + st.sent_after_give_up,
        "{st}"
    );
    assert!(
        unique.range(after_cont..).next().is_some(),
        "records logged after SIGCONT arrived"
    );
}
