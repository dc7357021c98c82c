//! Service child processes: start one, learn its port, watch its stderr for
//! the naive consumer's death, stop it (SIGTERM, then SIGKILL), and never
//! leave one running (`Drop`, the signal thread, `PR_SET_PDEATHSIG`).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

use super::signals;

/// The line the naive logger prints to stderr when its consumer returns.
pub const ROTATION_FAILED: &str = "naive: rotation failed:";
/// How long a service may take to print its `listening on` line.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// How to start one service process.
#[derive(Debug, Clone)]
pub struct ServiceSpec {
    /// The `jamless-demo-service` binary.
    pub bin: PathBuf,
    /// `naive`, `jamless` or `off`.
    pub logger: String,
    /// Instance name (`pod-a`, ...).
    pub instance: String,
    /// Shared log directory.
    pub log_dir: PathBuf,
    /// Shared log file name.
    pub log_name: String,
    /// Rotation period in seconds.
    pub rotate_secs: u64,
    /// Where the service writes its statistics on SIGTERM.
    pub stats_file: PathBuf,
    /// Naive only: the simulated file-system latency of a rotation, ms
    /// (0: the faithful port; the flag is not passed then).
    pub naive_fs_latency_ms: u64,
    /// Where its stderr is copied.
    pub stderr_file: PathBuf,
    /// Where its stdout (after the first line) is copied.
    pub stdout_file: PathBuf,
    /// The network phase's collector, passed as `--syslog-addr`.
    pub syslog_addr: Option<String>,
}

/// The naive consumer's death, as seen on the service's stderr.
#[derive(Debug, Clone, Serialize)]
pub struct RotationFailure {
    /// Seconds since the phase's time origin when the runner read the line.
    pub at_secs: f64,
    /// The line itself.
    pub line: String,
}

/// How a stopped service ended.
#[derive(Debug, Clone, Serialize)]
pub struct Stopped {
    /// It exited by itself after SIGTERM (false: it needed SIGKILL).
    pub exited_on_term: bool,
    /// Its exit status, as text.
    pub status: String,
}

/// A running service process. Dropping it kills it.
pub struct Service {
    child: Option<Child>,
    pid: i32,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its spec.
    pub spec: ServiceSpec,
    failure: Arc<Mutex<Option<RotationFailure>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Service {
    /// Starts the process and waits for its `listening on` line. Times in
    /// the stderr watch are measured from `origin`.
    ///
    /// Must be called from a thread that outlives the child (the main
    /// thread): `PR_SET_PDEATHSIG` fires when the spawning thread ends.
    pub fn spawn(spec: ServiceSpec, origin: Instant) -> Result<Service> {
        let mut cmd = Command::new(&spec.bin);
        cmd.arg("--port")
            .arg("0")
            .arg("--log-dir")
            .arg(&spec.log_dir)
            .arg("--log-name")
            .arg(&spec.log_name)
            .arg("--rotate-secs")
            .arg(spec.rotate_secs.to_string())
            .arg("--logger")
            .arg(&spec.logger)
            .arg("--stats-file")
            .arg(&spec.stats_file)
            .arg("--instance")
            .arg(&spec.instance)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(addr) = &spec.syslog_addr {
            cmd.arg("--syslog-addr").arg(addr);
        }
        if spec.logger == "naive" && spec.naive_fs_latency_ms > 0 {
            cmd.arg("--naive-fs-latency-ms")
                .arg(spec.naive_fs_latency_ms.to_string());
        }
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", spec.bin.display()))?;
        let pid = i32::try_from(child.id()).context("pid out of range")?;
        signals::register(pid);
        let failure = Arc::new(Mutex::new(None));
        let mut service = Service {
            child: None,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            spec,
            failure: Arc::clone(&failure),
            readers: Vec::new(),
        };
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        service.child = Some(child);
        let stderr = stderr.ok_or_else(|| anyhow!("no stderr pipe"))?;
        let stdout = stdout.ok_or_else(|| anyhow!("no stdout pipe"))?;
        let err_file = create(&service.spec.stderr_file)?;
        service
            .readers
            .push(spawn_reader("stderr", stderr, err_file, move |line| {
                watch_stderr(line, &failure, origin)
            })?);
        let (tx, rx) = mpsc::channel();
        let out_file = create(&service.spec.stdout_file)?;
        let mut first = Some(tx);
        service
            .readers
            .push(spawn_reader("stdout", stdout, out_file, move |line| {
                if let Some(tx) = first.take() {
                    let _ = tx.send(line.to_string());
                }
            })?);
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(_) => bail!(
                "{} ({}) printed no `listening on` line within {START_TIMEOUT:?}; see {}",
                service.spec.instance,
                service.spec.logger,
                service.spec.stderr_file.display()
            ),
        };
        service.addr = parse_listening(&line)?;
        Ok(service)
    }

    /// The naive consumer's death, if this service reported it.
    pub fn rotation_failure(&self) -> Option<RotationFailure> {
        lock(&self.failure).clone()
    }

    /// Sends SIGTERM (the service writes its stats file and exits).
    pub fn terminate(&self) {
        if self.child.is_some() {
            // SAFETY: plain syscall on our unreaped child.
            unsafe {
                libc::kill(self.pid, libc::SIGTERM);
            }
        }
    }

    /// Waits until `deadline` for the process to exit after
    /// [`terminate`](Self::terminate), then SIGKILLs it; joins the readers.
    pub fn wait_or_kill(&mut self, deadline: Instant) -> Result<Stopped> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| anyhow!("service already stopped"))?;
        let stopped = loop {
            if let Some(status) = child.try_wait().context("waiting for a service")? {
                break Stopped {
                    exited_on_term: true,
                    status: status.to_string(),
                };
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let status = child.wait().context("reaping a killed service")?;
                break Stopped {
                    exited_on_term: false,
                    status: status.to_string(),
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        signals::unregister(self.pid);
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        Ok(stopped)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            signals::unregister(self.pid);
        }
    }
}

/// Parses `listening on 127.0.0.1:<port>`.
pub fn parse_listening(line: &str) -> Result<SocketAddr> {
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| anyhow!("unexpected first stdout line {line:?}"))?;
    addr.parse()
        .with_context(|| format!("bad address in {line:?}"))
}

/// Records the first rotation-failure line.
fn watch_stderr(line: &str, failure: &Mutex<Option<RotationFailure>>, origin: Instant) {
    if line.starts_with(ROTATION_FAILED) {
        let mut f = lock(failure);
        if f.is_none() {
            *f = Some(RotationFailure {
                at_secs: origin.elapsed().as_secs_f64(),
                line: line.to_string(),
            });
        }
    }
}

/// Copies every line of `pipe` to `file` and hands it to `on_line`.
fn spawn_reader<R, F>(name: &str, pipe: R, mut file: File, mut on_line: F) -> Result<JoinHandle<()>>
where
    R: std::io::Read + Send + 'static,
    F: FnMut(&str) + Send + 'static,
{
    std::thread::Builder::new()
        .name(format!("child-{name}"))
        .spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        // A failed copy must not stop the watch.
                        let _ = file.write_all(&buf);
                        let line = String::from_utf8_lossy(&buf);
                        on_line(line.trim_end_matches(['\n', '\r']));
                    }
                }
            }
        })
        .context("spawning a pipe reader")
}

fn create(path: &Path) -> Result<File> {
    File::create(path).with_context(|| format!("creating {}", path.display()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_listening_line() {
        let a = parse_listening("listening on 127.0.0.1:4321\n").unwrap();
        assert_eq!(a.port(), 4321);
        assert!(parse_listening("hello").is_err());
        assert!(parse_listening("listening on nowhere").is_err());
    }

    #[test]
    fn only_the_first_failure_line_counts() {
        let f = Mutex::new(None);
        let t0 = Instant::now();
        watch_stderr("something else", &f, t0);
        assert!(lock(&f).is_none());
        watch_stderr("naive: rotation failed: rename: ENOENT", &f, t0);
        watch_stderr("naive: rotation failed: again", &f, t0);
        let got = lock(&f).clone().unwrap();
        assert!(got.line.ends_with("ENOENT"));
    }
}
