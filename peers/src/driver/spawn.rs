//! Starting a child process and watching it: deadline, memory cap, and
//! collecting its result, progress and standard error.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::procfs::status_kb;
use crate::results::{ChildRun, Killed};
use crate::scenario::{ChildArgs, ChildResult, Progress};

/// The child binary: `peer`, next to the running driver.
pub fn child_exe() -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("current_exe")?;
    let exe = me.with_file_name("peer");
    if !exe.exists() {
        anyhow::bail!(
            "{} not found (build both binaries: cargo build --release -p jamless-peers)",
            exe.display()
        );
    }
    Ok(exe)
}

/// A running child.
pub struct Running {
    child: Child,
    /// Its arguments.
    pub args: ChildArgs,
    started: Instant,
    stderr: PathBuf,
    killed: Option<Killed>,
    exit: Option<std::process::ExitStatus>,
    ended: Option<Instant>,
}

/// Starts `exe` with `args`; its standard error goes to `stderr`, its
/// standard output nowhere; `RUST_LOG` is removed from its environment.
pub fn start(exe: &Path, args: ChildArgs, stderr: PathBuf) -> anyhow::Result<Running> {
    let err = File::create(&stderr).with_context(|| format!("create {}", stderr.display()))?;
    let child = Command::new(exe)
        .args(args.to_args())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .with_context(|| format!("spawn {}", exe.display()))?;
    Ok(Running {
        child,
        args,
        started: Instant::now(),
        stderr,
        killed: None,
        exit: None,
        ended: None,
    })
}

impl Running {
    /// Time since start.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// True once it has exited (or been killed and reaped).
    pub fn poll(&mut self) -> bool {
        if self.exit.is_some() {
            return true;
        }
        match self.child.try_wait() {
            Ok(Some(st)) => {
                self.exit = Some(st);
                self.ended = Some(Instant::now());
                true
            }
            Ok(None) => false,
            Err(_) => false,
        }
    }

    /// Its resident set size now, KiB.
    pub fn rss_kb(&self) -> Option<u64> {
        status_kb(Some(self.child.id()), "VmRSS")
    }

    /// Kills it (SIGKILL) and reaps it.
    pub fn kill(&mut self, why: Killed) {
        if self.poll() {
            return;
        }
        self.killed = Some(why);
        let _ = self.child.kill();
        if let Ok(st) = self.child.wait() {
            self.exit = Some(st);
        }
        self.ended = Some(Instant::now());
    }

    /// Checks the deadline and the memory cap; kills if needed. True once
    /// the child is gone.
    pub fn watch(&mut self, deadline: Duration, mem_cap_kb: Option<u64>) -> bool {
        if self.poll() {
            return true;
        }
        if self.elapsed() > deadline {
            self.kill(Killed::Deadline);
            return true;
        }
        if let (Some(cap), Some(rss)) = (mem_cap_kb, self.rss_kb()) {
            if rss > cap {
                self.kill(Killed::MemoryCap);
                return true;
            }
        }
        false
    }

    /// Waits until it exits, killing it at `deadline` or above the cap;
    /// calls `tick` every 10 ms.
    pub fn wait(mut self, deadline: Duration, mem_cap_kb: Option<u64>) -> ChildRun {
        while !self.watch(deadline, mem_cap_kb) {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.collect()
    }

    /// Its last progress report, if any.
    pub fn progress(&self) -> Option<Progress> {
        let p = self.args.progress.as_ref()?;
        let text = std::fs::read(p).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Reads what it left behind (call once it is gone).
    pub fn collect(mut self) -> ChildRun {
        self.poll();
        let result: Option<ChildResult> = std::fs::read(&self.args.json)
            .ok()
            .and_then(|t| serde_json::from_slice(&t).ok());
        let progress = self.progress();
        let ended = self.ended.unwrap_or_else(Instant::now);
        ChildRun {
            peer: self.args.peer.clone(),
            wall_secs: ended.saturating_duration_since(self.started).as_secs_f64(),
            exit_code: self.exit.and_then(|s| s.code()),
            killed: self.killed,
            result,
            progress,
            stderr_tail: tail(&self.stderr, 2048),
        }
    }
}

/// The last `max` bytes of a file, lossily decoded, starting at a line.
pub fn tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let s = String::from_utf8_lossy(&buf).into_owned();
    if len > max {
        s.split_once('\n').map(|(_, r)| r.to_string()).unwrap_or(s)
    } else {
        s
    }
}
