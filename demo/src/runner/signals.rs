//! Ctrl-C and friends: never leave a service process behind.
//!
//! Every spawned child is registered here by pid. On SIGINT, SIGTERM or
//! SIGHUP a dedicated thread kills every registered child with SIGKILL,
//! says so, and exits with status 130. Children are also started with
//! `PR_SET_PDEATHSIG` (see `procs`), so even a SIGKILL of the runner takes
//! them along; normal exit and panics are covered by `Drop` on the process
//! handles.

use std::sync::Mutex;

use anyhow::{Context, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Pids of the children alive right now.
static CHILDREN: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Starts the signal thread.
pub fn install() -> Result<()> {
    let mut signals =
        Signals::new([SIGINT, SIGTERM, SIGHUP]).context("registering signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                let killed = kill_all();
                eprintln!(
                    "\njamless-demo: interrupted by signal {sig}; killed {killed} service \
                     process(es). Log directories are kept; no report was written."
                );
                std::process::exit(130);
            }
        })
        .context("spawning the signal thread")?;
    Ok(())
}

/// Registers a child pid.
pub fn register(pid: i32) {
    children().push(pid);
}

/// Forgets a child pid (it has been reaped or is about to be).
pub fn unregister(pid: i32) {
    children().retain(|&p| p != pid);
}

/// SIGKILLs every registered child; returns how many.
fn kill_all() -> usize {
    let pids = children().clone();
    for &pid in &pids {
        // SAFETY: plain syscall on a pid we spawned and have not reaped.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
    pids.len()
}

fn children() -> std::sync::MutexGuard<'static, Vec<i32>> {
    CHILDREN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
