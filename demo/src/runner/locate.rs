//! Finding (and, under `cargo run`, building) the service binary.
//!
//! `cargo run -p jamless-demo` builds only the binary it runs, not the
//! package's other binaries, so a `jamless-demo-service` next to us may be
//! missing or stale. When we were started by cargo (it sets `CARGO` and
//! `CARGO_MANIFEST_PATH` for the program it runs) we run
//! `cargo build -p jamless-demo --bin jamless-demo-service` with our own
//! profile first; that takes about a second when it is up to date.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The service binary's name.
pub const SERVICE_BIN: &str = "jamless-demo-service";

/// The path of the service binary to run, built first when appropriate.
pub fn service_bin(explicit: Option<&Path>, no_build: bool) -> Result<PathBuf> {
    if let Some(p) = explicit {
        if !p.is_file() {
            bail!("--service-bin {} does not exist", p.display());
        }
        return Ok(p.to_path_buf());
    }
    let exe = std::env::current_exe().context("locating the running executable")?;
    let dir = exe
        .parent()
        .context("the running executable has no parent directory")?;
    let bin = dir.join(SERVICE_BIN);
    if !no_build {
        if let (Some(cargo), Some(manifest)) = (
            std::env::var_os("CARGO"),
            std::env::var_os("CARGO_MANIFEST_PATH"),
        ) {
            build(Path::new(&cargo), Path::new(&manifest), dir)?;
        }
    }
    if !bin.is_file() {
        bail!(
            "{} not found; build it with `cargo build --release -p jamless-demo` \
             or pass --service-bin",
            bin.display()
        );
    }
    Ok(bin)
}

/// `cargo build` of the service binary with the profile `profile_dir` is
/// the output directory of (`release`, `debug` or a custom profile).
fn build(cargo: &Path, manifest: &Path, profile_dir: &Path) -> Result<()> {
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "jamless-demo",
        "--bin",
        SERVICE_BIN,
    ])
    .arg("--manifest-path")
    .arg(manifest);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("release") => {
            cmd.arg("--release");
        }
        Some("debug") | None => {}
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    eprintln!("building {SERVICE_BIN} (cargo run builds only the binary it runs)...");
    let status = cmd.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build of {SERVICE_BIN} failed: {status}");
    }
    Ok(())
}
