//! Facts about the machine, the toolchain and the locked crate versions.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::results::Meta;

fn command(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The first three fields of `/proc/loadavg`.
pub fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn first_field(path: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// The machine and run facts known at the start.
pub fn meta(scratch: &Path, quick: bool, sizes: Vec<String>) -> Meta {
    let scratch_s = scratch.display().to_string();
    let fs = command("stat", &["-f", "-c", "%T", &scratch_s]).unwrap_or_else(|| "?".into());
    let dev = command("df", &["-P", &scratch_s])
        .and_then(|t| t.lines().nth(1).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    Meta {
        date: jiff::Timestamp::now()
            .strftime("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        duration_secs: 0.0,
        cpu: first_field("/proc/cpuinfo", "model name").unwrap_or_else(|| "?".into()),
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        memory: first_field("/proc/meminfo", "MemTotal").unwrap_or_else(|| "?".into()),
        rustc: command("rustc", &["-V"]).unwrap_or_else(|| "unknown".into()),
        kernel: command("uname", &["-sr"]).unwrap_or_else(|| "unknown".into()),
        scratch: format!("{scratch_s} on {dev} ({fs})"),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        quick,
        load_avg: [load_avg(), String::new()],
        clock: String::new(),
        sizes,
    }
}

/// Crate name to version, from the workspace's `Cargo.lock` (empty if it
/// cannot be read). A crate locked at two versions keeps the first.
pub fn lock_versions() -> HashMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock");
    let mut out = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    let mut name: Option<String> = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let Some(v) = line.strip_prefix("version = ") {
            if let Some(n) = name.take() {
                out.entry(n)
                    .or_insert_with(|| v.trim_matches('"').to_string());
            }
        }
    }
    out
}
