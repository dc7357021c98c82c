//! `jamless-demo`: the incident of `shared/INCIDENT.md`, reproduced in about
//! a minute with one command, `cargo run --release -p jamless-demo`.
//!
//! For each logger (`naive`, then `jamless`) the runner starts two
//! `jamless-demo-service` processes that share one log directory and file
//! name and rotate at the same wall-clock instants (the two pods on one
//! node), drives both with a bounded loopback load generator whose client
//! timeout plays nginx's `proxy_read_timeout`, stops them with SIGTERM,
//! reads the statistics they leave behind and counts the lines in their
//! log files. It prints a side-by-side table, writes an SVG chart, and
//! exits 0 only when the demonstration showed what it should: the naive
//! service hung after its rotation failure, jamless answered everything and
//! every log call it returned from is either in a file or counted as
//! dropped.
//!
//! Then the network phase (`--phases`): for each of `naive-syslog` (the
//! `syslog` crate over TCP from the request path) and `jamless` (a file
//! pipeline and a syslog pipeline) a real rsyslogd on loopback, which the
//! services log to and the runner stops with SIGSTOP mid-run; the runner
//! probes `/health/logging` with the collector stopped, and exits 0 only if
//! the naive service hung while jamless answered everything, reported its
//! syslog pipeline degraded with drops counted, and lost no file line.
//!
//! `--bench` instead alternates `off` and `jamless` under the same load and
//! prints a markdown table of request latencies (for `BENCHMARKS.md`).

mod runner;

use std::process::ExitCode;

use clap::Parser;

use runner::config::Args;

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = runner::signals::install() {
        eprintln!("jamless-demo: cannot install the signal handler: {e:#}");
        return ExitCode::from(2);
    }
    let result = if args.bench {
        runner::bench::run(&args)
    } else {
        runner::demo::run(&args)
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("jamless-demo: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
