//! `latency`: runs the jamless benchmark scenarios and prints Markdown
//! tables (and optionally JSON). See `--help`.

use std::process::ExitCode;

use jamless_bench::{find, run_all, Plan, Scenario, SCENARIOS};

const USAGE: &str = "\
usage: latency [--quick] [--runs R] [--calls N] [--records N] [--queue-mib N]
               [--scenario NAME[,NAME..]]... [--json PATH] [--list]

  --quick            small sizes (20,000 calls per thread, 1 run, 100,000
                     throughput records): a smoke run
  --runs R           repetitions of each latency/throughput scenario
                     (default 3; 1 with --quick)
  --calls N          measured calls per thread in latency scenarios
                     (default 1,000,000)
  --records N        records per throughput run (default 5,000,000)
  --queue-mib N      queue capacity of the latency runs on a file and of
                     the throughput runs, in MiB (default 64)
  --scenario NAME    run only these scenarios (repeatable, comma-separated)
  --json PATH        also write the full report as JSON
  --list             list the scenarios and exit

Temporary files go to $JAMLESS_BENCH_DIR or the system temp directory
(keep it on a real disk, not tmpfs, to measure a disk-backed file).";

struct Args {
    plan: Plan,
    quick: bool,
    scenarios: Vec<&'static Scenario>,
    json: Option<std::path::PathBuf>,
}

fn parse() -> Result<Option<Args>, String> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let quick = argv.iter().any(|a| a == "--quick");
    let mut plan = if quick { Plan::quick() } else { Plan::full() };
    let mut names: Vec<String> = Vec::new();
    let mut json = None;
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |flag: &str, v: String| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("{flag} {v}: {e}"))
        };
        match a.as_str() {
            "--quick" => {}
            "--runs" => plan.runs = number("--runs", value("--runs")?)?.max(1) as usize,
            "--calls" => plan.calls = number("--calls", value("--calls")?)?.max(1),
            "--records" => {
                plan.throughput_records = number("--records", value("--records")?)?.max(1)
            }
            "--queue-mib" => {
                let mib = number("--queue-mib", value("--queue-mib")?)?.clamp(1, 4096) as usize;
                plan.capacity = mib << 20;
                plan.throughput_capacity = mib << 20;
            }
            "--scenario" => names.extend(value("--scenario")?.split(',').map(str::to_string)),
            "--json" => json = Some(value("--json")?.into()),
            "--list" => {
                for s in SCENARIOS {
                    println!("{:18} {}", s.name, s.what);
                }
                return Ok(None);
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let scenarios = if names.is_empty() {
        SCENARIOS.iter().collect()
    } else {
        names
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| find(n).ok_or_else(|| format!("unknown scenario {n:?} (see --list)")))
            .collect::<Result<Vec<_>, _>>()?
    };
    Ok(Some(Args {
        plan,
        quick,
        scenarios,
        json,
    }))
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run with --release for meaningful numbers");
    }
    let report = match run_all(&args.plan, &args.scenarios, args.quick, |line| {
        eprintln!("{line}")
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", report.to_markdown());
    if let Some(path) = &args.json {
        let text = match serde_json::to_string_pretty(&report) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot serialise the report: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
