//! Runs the driver in `--quick` mode on jamless and log4rs across every
//! scenario and checks that the results are sane. (CI runs this; it never
//! runs the full benchmark.)

use std::process::Command;

use jamless_peers::results::{Results, StallOutcome};

#[test]
fn quick_run_of_every_scenario_has_sane_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("BENCHMARKS.md");
    std::fs::write(&md, "# Benchmarks\n\nkept text\n").expect("write md");
    let out = dir.path().join("out");
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).expect("scratch");
    let started = std::time::Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_peers"))
        .arg("--quick")
        .args(["--peers", "jamless,log4rs"])
        .arg("--out")
        .arg(&out)
        .arg("--md")
        .arg(&md)
        .arg("--scratch")
        .arg(&scratch)
        .output()
        .expect("run the driver");
    assert!(
        output.status.success(),
        "driver failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(started.elapsed().as_secs() < 60, "quick run too slow");
    let r: Results =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).expect("results.json"))
            .expect("parse results.json");
    let names: Vec<&str> = r.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["noop", "jamless", "log4rs"]);

    // 1. Latency: 3 peers (baseline included) × 1 and 2 threads × 1 round.
    assert_eq!(r.latency.len(), 6);
    for l in &r.latency {
        assert!(l.child.ok(), "{:?}", l.child.failure());
        let res = l.child.result.as_ref().expect("result");
        let p = res.latency;
        assert_eq!(p.count, l.threads as u64 * 5_000, "{}", l.child.peer);
        assert!(p.p50 > 0 && p.p50 <= p.p99 && p.p99 <= p.p999 && p.p999 <= p.max);
        assert!(res.curve.len() > 5);
        assert!(res.calls_per_sec > 0.0);
    }

    // 2. Throughput: every jamless record on disk, once, whole.
    let t = r
        .throughput
        .iter()
        .find(|b| b.child.peer == "jamless")
        .expect("jamless throughput");
    let res = t.child.result.as_ref().expect("result");
    assert_eq!(res.issued, 20_000);
    assert_eq!(t.on_disk, 20_000);
    assert_eq!(res.lines_at_finish, Some(20_000));
    assert_eq!(res.dropped_final, Some(0));
    let scan = t.scan.as_ref().expect("scan");
    assert_eq!(scan.counts.records, 20_000);
    assert_eq!((scan.counts.torn, scan.counts.duplicates), (0, 0));
    assert!(res.total_secs > 0.0 && res.total_secs < 30.0);
    for b in &r.throughput {
        assert!(b.child.ok(), "{}: {:?}", b.child.peer, b.child.failure());
    }

    // 3. Stall: jamless returns from every call; all it did not drop comes
    // through once the FIFO is drained.
    let s = r
        .stall
        .iter()
        .find(|s| s.child.peer == "jamless")
        .expect("jamless stall");
    assert_eq!(s.outcome, StallOutcome::Completed);
    let res = s.child.result.as_ref().expect("result");
    assert_eq!(res.issued, 10_000);
    assert_eq!(
        s.drained_unique + res.dropped_final.expect("jamless counts drops"),
        10_000
    );
    // log4rs writes on the caller's thread: the stalled FIFO blocks it.
    let l = r
        .stall
        .iter()
        .find(|s| s.child.peer == "log4rs")
        .expect("log4rs");
    assert_ne!(l.outcome, StallOutcome::Completed);

    // 4. Rotation: three jamless processes, one base path, nothing lost.
    let rot = r
        .rotation
        .iter()
        .find(|x| x.peer == "jamless")
        .expect("jamless rotation");
    assert_eq!(rot.procs.len(), 3);
    assert_eq!(rot.issued(), 3 * 4_000);
    assert_eq!(rot.missing(), 0);
    assert_eq!(rot.scan.counts.torn, 0);
    // Shutdown stops jamless's housekeeper and waits for it, so no file is
    // left both plain and gzipped (its lines would count twice).
    assert_eq!(rot.scan.counts.duplicates, 0, "{:?}", rot.scan);
    assert!(rot.scan.plain_and_gz.is_empty(), "{:?}", rot.scan);
    assert_eq!(rot.hung(), 0);
    assert!(
        rot.scan.files.len() >= 2,
        "no rotation: {:?}",
        rot.scan.files
    );

    // 5. Memory: a peak for everyone, jamless's records all accounted for.
    assert_eq!(r.memory.len(), 3);
    for b in &r.memory {
        let res = b.child.result.as_ref().expect("result");
        assert!(res.hwm_kb > 1_000, "{}", b.child.peer);
        if b.child.peer != "noop" {
            assert_eq!(b.on_disk + res.dropped_final.unwrap_or(0), 50_000);
        }
    }

    // Report: the section between the markers, the rest kept, the plots.
    let text = std::fs::read_to_string(&md).expect("read md");
    assert!(text.contains("kept text"));
    assert!(text.contains("<!-- peers:begin") && text.contains("<!-- peers:end -->"));
    for h in [
        "### 1. Caller latency",
        "### 2. Throughput",
        "### 3. Stalled disk",
        "### 4. Shared-path rotation",
        "### 5. Memory",
        "rustc",
    ] {
        assert!(text.contains(h), "missing {h}");
    }
    for f in ["latency_1t.svg", "latency_2t.svg", "rotation_losses.svg"] {
        let svg = std::fs::read_to_string(out.join(f)).expect(f);
        assert!(svg.starts_with("<svg") && svg.contains("jamless"), "{f}");
    }
}
