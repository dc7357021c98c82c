//! The driver: plans the child runs, watches them, reads the files back,
//! and hands the results to the report.

mod burst;
mod fifo;
mod latency;
mod machine;
mod options;
mod rotation;
mod spawn;
mod stall;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use indicatif::{ProgressBar, ProgressStyle};

pub use options::{Options, Sizes};

use crate::results::{PeerFacts, Results};
use crate::scenario::{write_json_atomic, ChildArgs, Scenario};

/// The baseline peer's name.
pub const BASELINE: &str = "noop";

/// What every scenario runner needs.
pub struct Ctx {
    exe: PathBuf,
    sizes: Sizes,
    scratch: PathBuf,
    bar: ProgressBar,
}

impl Ctx {
    /// A fresh temporary directory for one run.
    fn tempdir(&self, what: &str) -> anyhow::Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(&format!("jamless-peers-{what}-"))
            .tempdir_in(&self.scratch)
            .with_context(|| format!("temporary directory in {}", self.scratch.display()))
    }

    /// Child arguments with everything but the essentials at defaults;
    /// result and progress files go into `dir`.
    fn args(&self, peer: &str, scenario: Scenario, dir: &Path, path: PathBuf) -> ChildArgs {
        ChildArgs {
            peer: peer.to_string(),
            scenario,
            path,
            threads: 1,
            records: 0,
            proc_id: 0,
            json: dir.join(format!("{peer}.result.json")),
            progress: Some(dir.join(format!("{peer}.progress.json"))),
            warmup: 0,
            pace_ns: 0,
            rate: 0,
            rotate_bytes: self.sizes.rotate_bytes,
        }
    }

    /// One child done: advances the bar, or, when standard error is not a
    /// terminal (the bar is hidden), prints a line instead.
    fn tick(&self, what: &str) {
        self.bar.inc(1);
        if self.bar.is_hidden() {
            eprintln!(
                "[{}/{} {:.0?}] {what}",
                self.bar.position(),
                self.bar.length().unwrap_or(0),
                self.bar.elapsed()
            );
        }
    }

    fn deadline(&self) -> Duration {
        Duration::from_secs(self.sizes.deadline_secs)
    }
}

/// Peer names to run (without the baseline), checked against the list.
fn selected(o: &Options) -> anyhow::Result<Vec<String>> {
    let known: Vec<&str> = crate::peers::all().iter().map(|p| p.name).collect();
    if o.peers.is_empty() {
        return Ok(known
            .iter()
            .filter(|n| **n != BASELINE)
            .map(|s| s.to_string())
            .collect());
    }
    for p in &o.peers {
        if !known.contains(&p.as_str()) {
            bail!("unknown peer {p:?}; known: {}", known.join(", "));
        }
    }
    Ok(o.peers.iter().filter(|p| *p != BASELINE).cloned().collect())
}

/// Runs the driver.
pub fn main(o: Options) -> anyhow::Result<()> {
    if o.list {
        for p in crate::peers::all() {
            println!("{:<18} {}\n{:<18} {}\n", p.name, p.version, "", p.settings);
        }
        return Ok(());
    }
    let results = match &o.from_json {
        Some(path) => {
            let text = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
            serde_json::from_slice(&text).with_context(|| format!("parse {}", path.display()))?
        }
        None => measure(&o)?,
    };
    std::fs::create_dir_all(&o.out).with_context(|| format!("create {}", o.out.display()))?;
    if o.from_json.is_none() {
        write_json_atomic(&o.out.join("results.json"), &results)?;
    }
    let md = crate::report::render(&results, &o.out)?;
    if let Some(path) = &o.md {
        crate::report::splice(path, &md)?;
        eprintln!("wrote {}", path.display());
    }
    eprintln!("results and plots in {}", o.out.display());
    // A closed pipe (`peers | head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{md}");
    Ok(())
}

fn measure(o: &Options) -> anyhow::Result<Results> {
    let started = Instant::now();
    let sizes = Sizes::of(o);
    let peers = selected(o)?;
    let scenarios: Vec<Scenario> = if o.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        Scenario::ALL
            .iter()
            .copied()
            .filter(|s| o.scenarios.contains(s))
            .collect()
    };
    let baseline = !o.no_baseline;
    let scratch = o
        .scratch
        .clone()
        .or_else(|| std::env::var_os("JAMLESS_BENCH_DIR").map(PathBuf::from))
        .unwrap_or_else(std::env::temp_dir);
    let with_base = |v: &Vec<String>| -> Vec<String> {
        let mut all = Vec::new();
        if baseline {
            all.push(BASELINE.to_string());
        }
        all.extend(v.iter().cloned());
        all
    };
    // Peers that cannot rotate are left out of scenario 4 (the table says
    // so) instead of being run with a fake rotation.
    let rotating: Vec<String> = crate::peers::all()
        .iter()
        .filter(|p| p.fastest_rotation.is_some() && peers.iter().any(|n| n == p.name))
        .map(|p| p.name.to_string())
        .collect();
    let total: u64 = scenarios
        .iter()
        .map(|s| match s {
            Scenario::Latency => {
                (sizes.runs * sizes.latency_threads.len() * with_base(&peers).len()) as u64
            }
            Scenario::Throughput | Scenario::Stall => peers.len() as u64,
            Scenario::Rotation => rotating.len() as u64 * u64::from(sizes.rotation_procs),
            Scenario::Memory => with_base(&peers).len() as u64,
        })
        .sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .map_err(|e| anyhow::anyhow!("progress style: {e}"))?
            .progress_chars("=> "),
    );
    let ctx = Ctx {
        exe: spawn::child_exe()?,
        sizes: sizes.clone(),
        scratch: scratch.clone(),
        bar,
    };
    let lock = machine::lock_versions();
    let mut results = Results {
        meta: machine::meta(&scratch, o.quick, sizes.describe()),
        peers: crate::peers::all()
            .iter()
            .filter(|p| p.name == BASELINE && baseline || peers.iter().any(|n| n == p.name))
            .map(|p| {
                let krate = p.version.split_whitespace().next().unwrap_or("");
                PeerFacts::of(p, lock.get(krate).cloned())
            })
            .collect(),
        ..Results::default()
    };
    for s in scenarios {
        match s {
            Scenario::Latency => results.latency = latency::run(&ctx, &with_base(&peers))?,
            Scenario::Throughput => {
                results.throughput = burst::run(&ctx, &peers, Scenario::Throughput)?
            }
            Scenario::Stall => results.stall = stall::run(&ctx, &peers)?,
            Scenario::Rotation => results.rotation = rotation::run(&ctx, &rotating)?,
            Scenario::Memory => {
                results.memory = burst::run(&ctx, &with_base(&peers), Scenario::Memory)?
            }
        }
    }
    ctx.bar.finish_and_clear();
    eprintln!(
        "{} child processes in {:.0} s",
        ctx.bar.position(),
        started.elapsed().as_secs_f64()
    );
    results.meta.duration_secs = started.elapsed().as_secs_f64();
    results.meta.clock = clock_note(&results);
    results.meta.load_avg[1] = machine::load_avg();
    Ok(results)
}

/// What the children's stopwatch read, from the first result.
fn clock_note(r: &Results) -> String {
    let first = r
        .latency
        .iter()
        .map(|l| &l.child)
        .chain(r.throughput.iter().map(|b| &b.child))
        .find_map(|c| c.result.as_ref());
    match first {
        Some(res) => format!(
            "quanta raw counter ({}); two back-to-back readings cost p50 {} ns, p99.9 {} ns",
            if res.tsc { "TSC" } else { "OS monotonic clock" },
            res.stopwatch.p50,
            res.stopwatch.p999
        ),
        None => "no result".to_string(),
    }
}
