//! The network phase's collector: a real rsyslogd on a free loopback TCP
//! port, started with the test suite's harness (`jamless/tests/common/
//! rsyslog.rs`: its own configuration, rsyslog's own queues and rate
//! limits out of the way, everything received written as JSON lines), then
//! stopped with SIGSTOP as a hung collector would be, continued at the end
//! so that what the kernel held reaches its output, counted, and killed.

use std::path::Path;

use anyhow::{bail, Result};

#[allow(dead_code, clippy::all)]
#[path = "../../../jamless/tests/common/rsyslog.rs"]
mod rsyslog;

use super::logs::REQUEST_MARKER;
use super::signals;

/// Debian's packages for the collector.
pub const INSTALL: &str = "apt-get install rsyslog (as root; ./test.sh installs it)";

/// A running rsyslogd. Dropping it kills it.
pub struct Collector {
    rs: rsyslog::Rsyslog,
    pid: i32,
}

impl Collector {
    /// Starts rsyslogd with a TCP listener, its files under `dir`.
    ///
    /// # Errors
    ///
    /// rsyslogd is not installed (with the install hint).
    pub fn start(dir: &Path) -> Result<Collector> {
        require_rsyslogd()?;
        std::fs::create_dir_all(dir)?;
        let inputs = rsyslog::Inputs {
            tcp: true,
            ..rsyslog::Inputs::default()
        };
        let rs = rsyslog::Rsyslog::start(dir, inputs);
        let pid = rs.pid();
        signals::register(pid);
        Ok(Collector { rs, pid })
    }

    /// The collector's TCP address.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.rs.tcp_port)
    }

    /// SIGSTOP: it stops reading, its socket buffers fill.
    pub fn stop(&self) {
        self.rs.stop();
    }

    /// SIGCONT.
    pub fn cont(&self) {
        self.rs.cont();
    }

    /// Request lines received per syslog app-name.
    pub fn request_lines(&self, app: &str) -> u64 {
        self.rs
            .received()
            .iter()
            .filter(|r| r.app == app)
            .filter(|r| {
                let marker = REQUEST_MARKER.trim_start_matches("path=");
                r.msg.contains(REQUEST_MARKER) || r.sd_raw.contains(marker)
            })
            .count() as u64
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        // The harness continues and kills it.
        signals::unregister(self.pid);
    }
}

/// Fails with the install hint unless rsyslogd exists.
pub fn require_rsyslogd() -> Result<()> {
    let found = [
        "/usr/sbin/rsyslogd",
        "/sbin/rsyslogd",
        "/usr/local/sbin/rsyslogd",
    ]
    .iter()
    .any(|p| Path::new(p).exists());
    if !found {
        bail!("rsyslogd not found: the network phase needs a real rsyslog; run `{INSTALL}`, or pass --phases rotation");
    }
    Ok(())
}
