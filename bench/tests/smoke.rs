//! Smoke tests of the harness: tiny runs whose numbers must be sane and
//! whose counts must add up. They check the harness, not jamless's speed,
//! and finish in a few seconds even in a debug build.

use jamless_bench::{
    find, run_all, run_latency, run_throughput, Api, Dest, LatencyConfig, Percentiles, Plan,
    ThroughputConfig,
};
use std::time::Duration;

fn config(api: Api, threads: usize, dest: Dest) -> LatencyConfig {
    LatencyConfig {
        api,
        threads,
        calls: 5_000,
        warmup: 200,
        warm_ring: false,
        attribute_slow: false,
        pace_ns: None,
        dest,
        capacity: 8 << 20,
    }
}

fn assert_sane(p: &Percentiles, calls: u64) {
    assert_eq!(p.count, calls, "one sample per measured call");
    assert!(p.p50 >= 1, "{p:?}");
    assert!(
        p.p50 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.p9999 && p.p9999 <= p.max,
        "{p:?}"
    );
}

#[test]
fn log_facade_two_threads_counts_add_up() {
    let run = run_latency(&config(Api::Log, 2, Dest::File)).unwrap();
    assert_sane(&Percentiles::of(&run.hist), 10_000);
    let c = run.counts.expect("a jamless scenario has counts");
    assert_eq!(c.offered, 10_000, "{c:?}");
    assert_eq!(c.accepted + c.rejected, c.offered, "{c:?}");
    assert_eq!(c.rejected, c.queue_full + c.shed + c.timed_out, "{c:?}");
    assert_eq!(
        c.written + c.dropped_after_accept,
        c.accepted,
        "flushed: {c:?}"
    );
}

#[test]
fn native_macro_and_empty_baseline_runs_are_sane() {
    let run = run_latency(&config(Api::Native, 1, Dest::File)).unwrap();
    assert_sane(&Percentiles::of(&run.hist), 5_000);
    let c = run.counts.expect("a jamless scenario has counts");
    assert_eq!(c.offered, 5_000, "{c:?}");
    assert_eq!(c.accepted + c.rejected, c.offered, "{c:?}");
    assert_eq!(
        c.written + c.dropped_after_accept,
        c.accepted,
        "flushed: {c:?}"
    );

    let empty = run_latency(&config(Api::Empty, 1, Dest::File)).unwrap();
    assert_sane(&Percentiles::of(&empty.hist), 5_000);
    assert!(empty.counts.is_none());
}

#[test]
fn tracing_paced_and_baseline_runs_are_sane() {
    let mut cfg = config(Api::Tracing, 1, Dest::File);
    cfg.calls = 2_000;
    cfg.pace_ns = Some(2_000);
    let run = run_latency(&cfg).unwrap();
    assert_sane(&Percentiles::of(&run.hist), 2_000);
    // 2,000 calls 2 µs apart cannot take less than 4 ms.
    assert!(run.wall >= Duration::from_millis(4), "{:?}", run.wall);
    let c = run.counts.unwrap();
    assert_eq!(
        (c.offered, c.accepted + c.rejected),
        (2_000, 2_000),
        "{c:?}"
    );

    let base = run_latency(&config(Api::Noop, 1, Dest::File)).unwrap();
    assert_sane(&Percentiles::of(&base.hist), 5_000);
    assert!(base.counts.is_none());
}

#[test]
fn stalled_fifo_run_finishes_and_counts_add_up() {
    let mut cfg = config(Api::Log, 1, Dest::StalledFifo);
    cfg.attribute_slow = true;
    let run = run_latency(&cfg).unwrap();
    assert!(run.slow_unswitched.is_some() && run.worst_unswitched_ns.is_some());
    assert_sane(&Percentiles::of(&run.hist), 5_000);
    let c = run.counts.unwrap();
    assert_eq!(c.offered, 5_000, "{c:?}");
    assert_eq!(c.accepted + c.rejected, c.offered, "{c:?}");
}

#[test]
fn warm_ring_warm_up_is_not_counted() {
    let mut cfg = config(Api::Api, 1, Dest::File);
    cfg.capacity = 1 << 20;
    cfg.calls = 1_000;
    cfg.warm_ring = true;
    let run = run_latency(&cfg).unwrap();
    let c = run.counts.unwrap();
    assert_eq!(
        (c.offered, c.accepted + c.rejected),
        (1_000, 1_000),
        "{c:?}"
    );
}

#[test]
fn throughput_run_writes_every_line() {
    for (pipelines, api) in [(1, Api::Log), (2, Api::Log), (1, Api::Native)] {
        let r = run_throughput(&ThroughputConfig {
            api,
            records: 20_000,
            capacity: 1 << 20,
            block_for: Duration::from_secs(10),
            pipelines,
        })
        .unwrap();
        assert!(r.verified(), "{api:?} × {pipelines}: {r:?}");
        assert!(
            r.lines_per_sec() > 0.0 && r.avg_line_bytes() > 20.0,
            "{r:?}"
        );
    }
}

#[test]
fn pipeline_scenarios_run_and_account() {
    for dest in [Dest::ThreePipelines, Dest::PipelineStalled] {
        let mut cfg = config(Api::Log, 1, dest);
        cfg.calls = 2_000;
        cfg.pace_ns = Some(2_000);
        let run = run_latency(&cfg).unwrap();
        let c = run.counts.expect("a jamless scenario has counts");
        assert_eq!(c.offered, 2_000, "{dest:?}: {c:?}");
        assert_eq!(c.accepted + c.rejected, c.offered, "{dest:?}: {c:?}");
    }
}

#[test]
fn quick_report_renders_tables() {
    let mut plan = Plan::quick();
    plan.calls = 2_000;
    plan.warmup = 100;
    plan.clock_samples = 1_000;
    let scenarios = ["clock", "format-only", "api-1t"].map(|n| find(n).unwrap());
    let report = run_all(&plan, &scenarios, true, |_| {}).unwrap();
    assert_eq!(report.latency.len(), 2);
    let md = report.to_markdown();
    assert!(md.contains("| api-1t | 1 × 2,000 |"), "{md}");
    assert!(md.contains("quanta raw"), "{md}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["latency"][1]["runs"][0]["counts"]["offered"], 2_000);
}
