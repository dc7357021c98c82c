//! `jamless`: protects any program's output.
//!
//! ```text
//! my-server 2>&1 | jamless --file logs/app.log --rotate hourly --keep 48 --gzip
//! ```
//!
//! Threads: the reader (standard input to `Logger::log_raw`), the logger's
//! own (pipelines, watchdog), the health server, and a signal thread.
//! `main` waits for the end of input or a terminating signal, shuts the
//! logger down with the deadline and turns what it reports into the exit
//! status.

mod args;
mod detect;
mod http;
mod lines;
mod reader;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::Arc;

use clap::Parser;
use jamless::{FlushReport, HealthSnapshot, Logger};
use serde::Serialize;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;

use crate::args::Args;
use crate::reader::{InputStats, InputTotals};

/// Every line read was written, or filtered out on purpose.
const EXIT_OK: u8 = 0;
/// Records were lost: dropped, or still unwritten at the deadline.
const EXIT_LOST: u8 = 1;
/// A usage or configuration error (clap uses 2 for usage errors too).
const EXIT_USAGE: u8 = 2;
/// Standard input could not be read (other than its end).
const EXIT_INPUT: u8 = 3;

/// Why `main` stops waiting.
enum Stop {
    /// Standard input ended (or failed).
    Input(io::Result<()>),
    /// SIGTERM or SIGINT.
    Signal(i32),
}

/// The final report (`--report-file`, and the summary on standard error).
#[derive(Serialize)]
struct Report<'a> {
    exit_status: u8,
    /// Why it stopped: `end_of_input`, `input_error`, `SIGTERM`, `SIGINT`.
    stopped_by: &'a str,
    input_error: Option<String>,
    input: InputTotals,
    /// Records lost: dropped for any cause, plus those left unwritten.
    lost: u64,
    flush: FlushSummary,
    health: &'a HealthSnapshot,
}

#[derive(Serialize)]
struct FlushSummary {
    complete: bool,
    unwritten: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("jamless: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(args: &Args) -> Result<u8, String> {
    let detector = args.detector()?;
    let builder = args.builder()?;
    let (logger, guard) = builder.build().map_err(|e| e.to_string())?;
    let stats = Arc::new(InputStats::default());
    if let Some(addr) = args.health_addr {
        http::serve(addr, logger.clone(), Arc::clone(&stats))?;
    }
    let (tx, rx) = mpsc::channel::<Stop>();
    spawn_signals(&logger, args.config.clone(), tx.clone())?;
    {
        let logger = logger.clone();
        let stats = Arc::clone(&stats);
        let default_level = args.default_level;
        let target = args.target.clone();
        std::thread::Builder::new()
            .name("jamless-stdin".into())
            .spawn(move || {
                let stdin = io::stdin();
                // A read larger than the lock's buffer goes straight to
                // read(2) into ours.
                let result = reader::run(
                    stdin.lock(),
                    &logger,
                    &detector,
                    default_level,
                    &target,
                    &stats,
                );
                let _ = tx.send(Stop::Input(result));
            })
            .map_err(|e| format!("cannot start the reader thread: {e}"))?;
    }
    let stop = rx.recv().unwrap_or(Stop::Input(Ok(())));
    let flush = guard.shutdown(args.shutdown_timeout);
    let health = logger.health();
    let (stopped_by, input_error) = match &stop {
        Stop::Input(Ok(())) => ("end_of_input", None),
        Stop::Input(Err(e)) => ("input_error", Some(e.to_string())),
        Stop::Signal(SIGTERM) => ("SIGTERM", None),
        Stop::Signal(_) => ("SIGINT", None),
    };
    let lost = lost(&health, flush);
    let exit_status = if input_error.is_some() {
        EXIT_INPUT
    } else if lost > 0 {
        EXIT_LOST
    } else {
        EXIT_OK
    };
    let report = Report {
        exit_status,
        stopped_by,
        input_error,
        input: stats.totals(),
        lost,
        flush: FlushSummary {
            complete: flush.complete,
            unwritten: flush.unwritten,
        },
        health: &health,
    };
    if let Some(path) = &args.report_file {
        let written = serde_json::to_vec_pretty(&report)
            .map_err(io::Error::other)
            .and_then(|json| std::fs::write(path, json));
        if let Err(e) = written {
            eprintln!(
                "jamless: cannot write the report to {}: {e}",
                path.display()
            );
        }
    }
    if exit_status != EXIT_OK {
        eprintln!("{}", summary(&report));
    }
    Ok(exit_status)
}

/// Records lost in any output: dropped for any cause, or still unwritten
/// when the shutdown deadline passed.
fn lost(health: &HealthSnapshot, flush: FlushReport) -> u64 {
    health.dropped() + flush.unwritten
}

fn summary(r: &Report<'_>) -> String {
    let h = r.health;
    let mut causes: Vec<String> = Vec::new();
    for p in &h.pipelines {
        if p.dropped() > 0 {
            causes.push(format!("pipeline {}: {} dropped", p.name, p.dropped()));
        }
    }
    if h.rejected > 0 {
        causes.push(format!(
            "{} refused at the queue (queue_full {}, shed {}, shutdown {})",
            h.rejected, h.drops.queue_full, h.drops.shed, h.drops.shutdown
        ));
    }
    if r.flush.unwritten > 0 {
        causes.push(format!(
            "{} unwritten at the shutdown deadline",
            r.flush.unwritten
        ));
    }
    let mut s = format!(
        "jamless: {} lines read ({} bytes, {} cut, {} filtered); {} records lost: {}",
        r.input.lines,
        r.input.bytes,
        h.truncated,
        r.input.filtered,
        r.lost,
        causes.join("; ")
    );
    if let Some(e) = &r.input_error {
        s.push_str(&format!("; reading standard input failed: {e}"));
    }
    s
}

/// SIGHUP reopens the files and reloads the configuration file, if any;
/// SIGUSR1 prints the health snapshot to standard error; SIGTERM and
/// SIGINT stop the command (flush, exit).
fn spawn_signals(
    logger: &Logger,
    config: Option<PathBuf>,
    tx: mpsc::Sender<Stop>,
) -> Result<(), String> {
    let mut signals = Signals::new([SIGHUP, SIGUSR1, SIGTERM, SIGINT])
        .map_err(|e| format!("cannot install the signal handlers: {e}"))?;
    let logger = logger.clone();
    std::thread::Builder::new()
        .name("jamless-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                match signal {
                    SIGHUP => {
                        logger.reopen();
                        if let Some(path) = &config {
                            // A file that does not parse leaves the running
                            // configuration as it was.
                            match args::reload_config_file(&logger, path) {
                                Ok(r) if r.is_unchanged() => {}
                                Ok(r) => eprintln!("jamless: SIGHUP: {}: {r}", path.display()),
                                Err(e) => eprintln!("jamless: SIGHUP: {e}"),
                            }
                        }
                    }
                    SIGUSR1 => eprintln!("{}", logger.health()),
                    _ => {
                        let _ = tx.send(Stop::Signal(signal));
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}
