//! A real rsyslogd for the syslog sink tests: its own configuration on free
//! loopback ports (UDP, TCP, TLS, RELP, RELP over TLS, a Unix socket),
//! certificates made for the test, and everything it receives written as
//! one JSON object per line, parsed back into [`Received`].
//!
//! rsyslogd keeps every file descriptor it inherits, so the child closes
//! all but 0-2 before exec. A bad configuration or a port clash does not
//! stop rsyslogd (it runs without that listener), so the harness validates
//! the configuration with `rsyslogd -N1` and then waits until each
//! listening socket exists in `/proc/net` (not until the process runs).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const INSTALL: &str = "apt-get install rsyslog rsyslog-relp rsyslog-gnutls";

/// The SD-ID the tests' format uses.
pub const SD_ID: &str = "test@32473";

/// Which listeners to start.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inputs {
    pub udp: bool,
    pub tcp: bool,
    pub unix: bool,
    pub tls: bool,
    pub relp: bool,
    pub relp_tls: bool,
}

/// The certificates generated for a test (PEM files).
#[derive(Debug, Clone)]
pub struct Certs {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// The name in the client certificate (RELP over TLS permits only it).
pub const CLIENT_NAME: &str = "client.jamless.test";

/// One message as rsyslog parsed it.
#[derive(Debug, Clone)]
pub struct Received {
    pub pri: u32,
    pub severity: u32,
    pub facility: u32,
    pub hostname: String,
    pub app: String,
    pub procid: String,
    pub msgid: String,
    pub sd_raw: String,
    /// The structured data's parameters (one element expected).
    pub sd: BTreeMap<String, String>,
    pub sd_id: String,
    pub msg: String,
    pub input: String,
}

pub struct Rsyslog {
    pub dir: PathBuf,
    conf: PathBuf,
    pid_file: PathBuf,
    pub out: PathBuf,
    child: Option<Child>,
    inputs: Inputs,
    pub udp_port: u16,
    pub tcp_port: u16,
    pub tls_port: u16,
    pub relp_port: u16,
    pub relp_tls_port: u16,
    pub unix_socket: PathBuf,
    pub certs: Option<Certs>,
    starts: u32,
}

fn rsyslogd() -> PathBuf {
    for p in [
        "/usr/sbin/rsyslogd",
        "/sbin/rsyslogd",
        "/usr/local/sbin/rsyslogd",
    ] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("rsyslogd not found: these tests need a real rsyslog; run `{INSTALL}` (as root)");
}

/// Fails with the install hint unless rsyslog's module `name` exists.
fn require_module(name: &str, package: &str) {
    let found = [
        "/usr/lib/x86_64-linux-gnu/rsyslog",
        "/usr/lib/aarch64-linux-gnu/rsyslog",
        "/usr/lib/rsyslog",
        "/usr/lib64/rsyslog",
    ]
    .iter()
    .any(|d| Path::new(d).join(format!("{name}.so")).exists());
    assert!(
        found,
        "rsyslog module {name} not found (Debian package {package}): run `{INSTALL}` (as root)"
    );
}

/// A port free for both TCP and UDP on 127.0.0.1 right now.
fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn generate_certs(dir: &Path) -> Certs {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "jamless test CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let leaf = |names: Vec<String>, cn: &str, eku: ExtendedKeyUsagePurpose| {
        let mut p = CertificateParams::new(names).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![eku];
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    let (server_pem, server_key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        "localhost",
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_pem, client_key) = leaf(
        vec![CLIENT_NAME.into()],
        CLIENT_NAME,
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let certs = Certs {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server-key.pem"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client-key.pem"),
    };
    fs::write(&certs.ca, ca.pem()).unwrap();
    fs::write(&certs.server_cert, server_pem).unwrap();
    fs::write(&certs.server_key, server_key).unwrap();
    fs::write(&certs.client_cert, client_pem).unwrap();
    fs::write(&certs.client_key, client_key).unwrap();
    certs
}

impl Rsyslog {
    /// Writes the configuration, validates it, starts rsyslogd and waits
    /// for its listeners.
    pub fn start(dir: &Path, inputs: Inputs) -> Rsyslog {
        let rsyslogd = rsyslogd();
        if inputs.udp {
            require_module("imudp", "rsyslog");
        }
        if inputs.relp || inputs.relp_tls {
            require_module("imrelp", "rsyslog-relp");
        }
        if inputs.tls {
            require_module("lmnsd_gtls", "rsyslog-gnutls");
        }
        let dir = dir.to_path_buf();
        let certs = (inputs.tls || inputs.relp_tls).then(|| generate_certs(&dir));
        let mut r = Rsyslog {
            conf: dir.join("rsyslog.conf"),
            pid_file: dir.join("rsyslogd.pid"),
            out: dir.join("received.json"),
            child: None,
            inputs,
            udp_port: free_port(),
            tcp_port: free_port(),
            tls_port: free_port(),
            relp_port: free_port(),
            relp_tls_port: free_port(),
            unix_socket: dir.join("log.sock"),
            certs,
            starts: 0,
            dir,
        };
        fs::write(&r.conf, r.config()).unwrap();
        let check = Command::new(&rsyslogd)
            .args(["-N1", "-f"])
            .arg(&r.conf)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        assert!(
            check.status.success() && !text.contains("error"),
            "rsyslogd -N1 rejected the test configuration (if a module is missing: `{INSTALL}`):\n{text}\n{}",
            r.config()
        );
        r.spawn();
        r
    }

    fn config(&self) -> String {
        let d = self.dir.display();
        let mut c = format!(
            "global(workDirectory=\"{d}\" maxMessageSize=\"64k\")\n\
             main_queue(queue.type=\"Direct\")\n"
        );
        if let Some(certs) = &self.certs {
            c += &format!(
                "global(DefaultNetstreamDriverCAFile=\"{}\" DefaultNetstreamDriverCertFile=\"{}\" \
                 DefaultNetstreamDriverKeyFile=\"{}\")\n",
                certs.ca.display(),
                certs.server_cert.display(),
                certs.server_key.display()
            );
        }
        let i = self.inputs;
        if i.udp {
            c += "module(load=\"imudp\")\n";
            c += &format!(
                "input(type=\"imudp\" address=\"127.0.0.1\" port=\"{}\" rateLimit.interval=\"0\" \
                 rcvbufSize=\"16m\")\n",
                self.udp_port
            );
        }
        if i.tcp || i.tls {
            c += "module(load=\"imtcp\" maxSessions=\"100\")\n";
        }
        if i.tcp {
            c += &format!(
                "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{}\" rateLimit.interval=\"0\")\n",
                self.tcp_port
            );
        }
        if i.tls {
            c += &format!(
                "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"{}\" rateLimit.interval=\"0\" \
                 streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n",
                self.tls_port
            );
        }
        if i.relp || i.relp_tls {
            c += "module(load=\"imrelp\")\n";
        }
        if i.relp {
            c += &format!(
                "input(type=\"imrelp\" address=\"127.0.0.1\" port=\"{}\")\n",
                self.relp_port
            );
        }
        if i.relp_tls {
            let certs = self.certs.as_ref().unwrap();
            c += &format!(
                "input(type=\"imrelp\" address=\"127.0.0.1\" port=\"{}\" tls=\"on\" \
                 tls.caCert=\"{}\" tls.myCert=\"{}\" tls.myPrivKey=\"{}\" \
                 tls.authMode=\"name\" tls.permittedPeer=[\"{CLIENT_NAME}\"])\n",
                self.relp_tls_port,
                certs.ca.display(),
                certs.server_cert.display(),
                certs.server_key.display()
            );
        }
        if i.unix {
            c += "module(load=\"imuxsock\" SysSock.Use=\"off\")\n";
            c += &format!(
                "input(type=\"imuxsock\" Socket=\"{}\" useSpecialParser=\"off\" parseHostname=\"on\" \
                 rateLimit.interval=\"0\")\n",
                self.unix_socket.display()
            );
        }
        c += r#"template(name="jsonlines" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="input" name="inputname" format="jsonf")
}
"#;
        c += &format!(
            "action(type=\"omfile\" file=\"{}\" template=\"jsonlines\")\n",
            self.out.display()
        );
        c
    }

    fn spawn(&mut self) {
        let _ = fs::remove_file(&self.pid_file);
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("rsyslogd.stderr"))
            .unwrap();
        let mut cmd = Command::new(rsyslogd());
        cmd.args(["-n", "-f"])
            .arg(&self.conf)
            .arg("-i")
            .arg(&self.pid_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                // rsyslogd keeps inherited descriptors open (a pipe of the
                // test harness would never see its end): close all but 0-2.
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                Ok(())
            });
        }
        self.child = Some(cmd.spawn().expect("cannot start rsyslogd"));
        self.starts += 1;
        self.wait_listening();
    }

    /// Waits until every configured listener exists.
    fn wait_listening(&mut self) {
        let t0 = Instant::now();
        loop {
            let mut missing = Vec::new();
            let i = self.inputs;
            for (on, port, tcp) in [
                (i.udp, self.udp_port, false),
                (i.tcp, self.tcp_port, true),
                (i.tls, self.tls_port, true),
                (i.relp, self.relp_port, true),
                (i.relp_tls, self.relp_tls_port, true),
            ] {
                if on && !listening(port, tcp) {
                    missing.push(format!("{} port {port}", if tcp { "tcp" } else { "udp" }));
                }
            }
            if i.unix && !unix_listening(&self.unix_socket) {
                missing.push(format!("unix socket {}", self.unix_socket.display()));
            }
            if missing.is_empty() {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "rsyslogd exited ({status}) before listening on {missing:?}: {}",
                    self.stderr()
                );
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "rsyslogd is not listening on {missing:?} after 20 s: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(self.dir.join("rsyslogd.stderr")).unwrap_or_default()
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("rsyslogd runs").id() as i32
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({sig}) failed");
    }

    /// SIGSTOP: rsyslogd stops reading, as a hung collector would.
    pub fn stop(&self) {
        self.signal(libc::SIGSTOP);
    }

    pub fn cont(&self) {
        self.signal(libc::SIGCONT);
    }

    /// SIGKILL, and wait until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts rsyslogd again with the same configuration and ports.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Everything received so far, parsed.
    pub fn received(&self) -> Vec<Received> {
        let text = fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| parse_received(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
            .collect()
    }

    /// Waits until `done` holds for what was received (or fails after
    /// `timeout`, showing the count).
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let t0 = Instant::now();
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                t0.elapsed() < timeout,
                "rsyslogd did not receive what was expected within {timeout:?}: {} messages; {}",
                got.len(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(c) = &self.child {
            // A stopped process must be continued to die promptly.
            // SAFETY: kill(2) on our own child.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGCONT);
            }
        }
        self.kill();
    }
}

/// Whether something listens on 127.0.0.1:`port` (TCP LISTEN, or a bound
/// UDP socket), from /proc/net.
fn listening(port: u16, tcp: bool) -> bool {
    let table = if tcp {
        "/proc/net/tcp"
    } else {
        "/proc/net/udp"
    };
    let want = format!("0100007F:{port:04X}");
    fs::read_to_string(table)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[1] == want && (!tcp || f[3] == "0A")
        })
}

/// Whether a datagram socket listens at `path` (connecting does not send).
fn unix_listening(path: &Path) -> bool {
    std::os::unix::net::UnixDatagram::unbound()
        .and_then(|s| s.connect(path))
        .is_ok()
}

fn parse_received(line: &str) -> Result<Received, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let s = |k: &str| -> Result<String, String> {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(str::to_owned)
            .ok_or_else(|| format!("no string {k}"))
    };
    let n =
        |k: &str| -> Result<u32, String> { s(k)?.parse::<u32>().map_err(|e| format!("{k}: {e}")) };
    let sd_raw = s("sd")?;
    let (sd_id, sd) = parse_sd(&sd_raw)?;
    Ok(Received {
        pri: n("pri")?,
        severity: n("severity")?,
        facility: n("facility")?,
        hostname: s("hostname")?,
        app: s("app")?,
        procid: s("procid")?,
        msgid: s("msgid")?,
        sd_raw,
        sd,
        sd_id,
        msg: s("msg")?,
        input: s("input")?,
    })
}

/// Parses one RFC 5424 SD-ELEMENT (`-` gives an empty map), unescaping
/// `\"`, `\\` and `\]` in values.
pub fn parse_sd(sd: &str) -> Result<(String, BTreeMap<String, String>), String> {
    let mut map = BTreeMap::new();
    if sd == "-" {
        return Ok((String::new(), map));
    }
    let inner = sd
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or_else(|| format!("not one SD element: {sd}"))?;
    let (id, mut rest) = match inner.find(' ') {
        Some(i) => (&inner[..i], &inner[i..]),
        None => (inner, ""),
    };
    while !rest.is_empty() {
        rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| format!("space expected: {rest}"))?;
        let eq = rest
            .find("=\"")
            .ok_or_else(|| format!("param expected: {rest}"))?;
        let name = rest[..eq].to_string();
        let mut value = String::new();
        let mut chars = rest[eq + 2..].char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, c @ ('"' | '\\' | ']'))) => value.push(c),
                    Some((_, c)) => {
                        value.push('\\');
                        value.push(c);
                    }
                    None => return Err("dangling backslash".into()),
                },
                Some((i, '"')) => break eq + 2 + i + 1,
                Some((_, c)) => value.push(c),
                None => return Err(format!("unterminated value: {rest}")),
            }
        };
        map.insert(name, value);
        rest = &rest[end..];
    }
    Ok((id.to_string(), map))
}
