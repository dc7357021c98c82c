//! End to end, the network phase: the real `jamless-demo` binary with a
//! real rsyslogd (started by the runner on loopback, stopped with SIGSTOP
//! two seconds into the load), a shortened configuration, and assertions
//! on the numbers of its `--json` report only (never on timing thresholds).
//!
//! Not flaky by construction:
//! - the collector stays stopped for 13 s while each request logs a line of
//!   about 4 KB (`--network-query-bytes 4096`): at 200 requests/s per
//!   service that is about 10 MB per connection, over twice what the
//!   kernel's socket buffers took in every measured run (about 4 MB), so
//!   the `syslog` crate's send blocks well before the end;
//! - requests still in flight when the load ends are waited for up to the
//!   client timeout, so a service that hung late still shows timeouts;
//! - the client timeout is 5 s, far above any scheduling stall a loaded
//!   2-core machine produces, so a jamless request only times out if the
//!   service really stops answering.
//!
//! Needs rsyslogd (`apt-get install rsyslog`; `./test.sh` installs it):
//! without it the runner fails with that hint, and so does this test.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn phase<'a>(report: &'a Value, logger: &str) -> &'a Value {
    report["network_phases"]
        .as_array()
        .expect("network_phases")
        .iter()
        .find(|p| p["logger"] == logger)
        .unwrap_or_else(|| panic!("no {logger} network phase in {report:#}"))
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn with_the_collector_stopped_the_syslog_crate_hangs_and_jamless_answers_everything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("report.json");
    let output = Command::new(env!("CARGO_BIN_EXE_jamless-demo"))
        .arg("--service-bin")
        .arg(env!("CARGO_BIN_EXE_jamless-demo-service"))
        .arg("--out")
        .arg(dir.path())
        .arg("--json")
        .arg(&json)
        .args(["--phases", "network", "--network-secs", "15"])
        .args([
            "--collector-stop-secs",
            "2",
            "--network-query-bytes",
            "4096",
        ])
        .args(["--workers", "8", "--rate", "200", "--timeout-ms", "5000"])
        .output()
        .expect("running jamless-demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!(
        "status {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(
        !stderr.contains("rsyslogd not found"),
        "this test needs rsyslogd: run `apt-get install rsyslog` (as root)\n{context}"
    );
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{e}\n{context}"));
    let report: Value = serde_json::from_str(&text).expect("report JSON");
    assert!(
        report["phases"].as_array().is_some_and(Vec::is_empty),
        "only the network phase ran\n{context}"
    );

    let naive = phase(&report, "naive-syslog");
    assert!(!naive["collector_stopped_at"].is_null(), "{context}");
    assert!(n(&naive["timed_out_after_failure"]) > 0, "{context}");
    assert!(n(&naive["callers_stuck"]) > 0, "{context}");
    for i in naive["instances"].as_array().expect("instances") {
        assert!(
            i["health_probe"]["status"].is_null(),
            "a hung naive-syslog service cannot answer /health/logging\n{context}"
        );
    }

    let jamless = phase(&report, "jamless");
    let c = &jamless["counts"];
    assert!(n(&c["sent"]) > 0, "{context}");
    assert_eq!(n(&c["timed_out"]), 0, "{context}");
    assert_eq!(n(&c["errors"]), 0, "{context}");
    assert_eq!(n(&c["answered"]), n(&c["sent"]), "{context}");
    assert_eq!(n(&jamless["lost_uncounted"]), 0, "{context}");
    assert_eq!(n(&jamless["callers_stuck"]), 0, "{context}");
    assert!(n(&jamless["lines_in_files"]) > 0, "{context}");
    for i in jamless["instances"].as_array().expect("instances") {
        let h = &i["health_probe"];
        assert_eq!(n(&h["status"]), 200, "{context}");
        assert_eq!(h["file_state"], "healthy", "{context}");
        assert_eq!(n(&h["file_dropped"]), 0, "{context}");
        assert!(
            matches!(
                h["syslog_state"].as_str(),
                Some("degraded" | "failing" | "stalled")
            ),
            "the syslog pipeline shows the stopped collector: {h}\n{context}"
        );
        assert!(n(&h["syslog_backlog_full"]) > 0, "{context}");
        assert!(
            n(&h["syslog_dropped"]) >= n(&h["syslog_backlog_full"]),
            "{context}"
        );
    }
    assert!(
        n(&jamless["collector_received"]) > 0,
        "the collector received jamless's records before it was stopped\n{context}"
    );

    assert_eq!(report["demonstrated"], true, "{context}");
    assert!(output.status.success(), "{context}");
    assert!(Path::new(report["network_chart"].as_str().expect("chart path")).is_file());
}
