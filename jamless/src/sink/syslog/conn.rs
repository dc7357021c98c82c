//! Connecting: name resolution, TCP connect with a timeout, the TLS
//! handshake (rustls), the back-off between attempts, and a connection that
//! keeps the bytes it could not send yet.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use super::{is_timeout, Options, TlsConfig};

/// Capped exponential back-off with ±25% jitter, as a pure state machine
/// (time is passed in).
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    initial: Duration,
    max: Duration,
    current: Duration,
    next_attempt: Option<Instant>,
    rng: u64,
}

impl Backoff {
    pub(super) fn new(initial: Duration, max: Duration) -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ (u64::from(std::process::id()) << 32);
        Backoff {
            initial,
            max,
            current: initial,
            next_attempt: None,
            rng: seed | 1,
        }
    }

    /// How long to wait before the next attempt may start, if at all.
    pub(super) fn wait(&self, now: Instant) -> Option<Duration> {
        self.next_attempt
            .and_then(|t| t.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// An attempt failed at `now`: the next one waits the current delay,
    /// randomised, and the delay doubles up to the maximum.
    pub(super) fn failed(&mut self, now: Instant) -> Duration {
        // xorshift64: jitter needs no quality, only spread.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let factor = 0.75 + (self.rng % 1000) as f64 / 2000.0;
        let delay = self.current.mul_f64(factor);
        self.next_attempt = Some(now + delay);
        self.current = (self.current * 2).min(self.max);
        delay
    }

    /// An attempt succeeded: the next failure starts from the beginning.
    pub(super) fn succeeded(&mut self) {
        self.current = self.initial;
        self.next_attempt = None;
    }
}

/// Opens connections to one collector.
pub(super) struct Dialer {
    addr: String,
    tls: Option<TlsConfig>,
    /// The rustls configuration, built from the files on first use.
    tls_config: Option<Arc<ClientConfig>>,
    opts: Options,
    pub(super) backoff: Backoff,
    last_error: String,
}

impl Dialer {
    pub(super) fn new(addr: String, tls: Option<TlsConfig>, opts: Options) -> Dialer {
        Dialer {
            addr,
            tls,
            tls_config: None,
            opts,
            backoff: Backoff::new(opts.initial_backoff, opts.max_backoff),
            last_error: String::new(),
        }
    }

    /// Resolves the address (on the calling thread: the writer's).
    pub(super) fn resolve(addr: &str) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot resolve {addr}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{addr} resolves to no address"),
            ));
        }
        Ok(addrs)
    }

    /// Fails at once while the back-off says to wait, with the error that
    /// started it.
    pub(super) fn check_backoff(&self, last_error: &str) -> io::Result<()> {
        match self.backoff.wait(Instant::now()) {
            Some(d) => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                format!(
                    "not connected; next attempt in {} ms (last error: {last_error})",
                    d.as_millis()
                ),
            )),
            None => Ok(()),
        }
    }

    /// Connects (and handshakes), unless the back-off says to wait.
    pub(super) fn dial(&mut self) -> io::Result<Conn> {
        self.check_backoff(&self.last_error)?;
        match self.try_dial() {
            Ok(c) => {
                self.backoff.succeeded();
                Ok(c)
            }
            Err(e) => {
                self.last_error = e.to_string();
                self.backoff.failed(Instant::now());
                Err(e)
            }
        }
    }

    fn try_dial(&mut self) -> io::Result<Conn> {
        let addrs = Dialer::resolve(&self.addr)?;
        let mut last = None;
        let mut tcp = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, self.opts.connect_timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = match tcp {
            Some(s) => s,
            None => {
                let e = last.unwrap_or_else(|| io::Error::other("no address"));
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot connect to {}: {e}", self.addr),
                ));
            }
        };
        tcp.set_nodelay(true)?;
        let Some(tls) = self.tls.clone() else {
            tcp.set_read_timeout(Some(self.opts.io_timeout))?;
            tcp.set_write_timeout(Some(self.opts.io_timeout))?;
            return Ok(Conn::plain(tcp));
        };
        let config = match &self.tls_config {
            Some(c) => Arc::clone(c),
            None => {
                let c = Arc::new(client_config(&tls)?);
                self.tls_config = Some(Arc::clone(&c));
                c
            }
        };
        let name = match &tls.server_name {
            Some(n) => n.clone(),
            None => host_part(&self.addr).to_string(),
        };
        let name = ServerName::try_from(name.clone()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad TLS server name {name:?}: {e}"),
            )
        })?;
        let mut conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
        conn.set_buffer_limit(None);
        let mut tcp = tcp;
        // The handshake is part of connecting: bounded by its timeout.
        let deadline = Instant::now() + self.opts.connect_timeout;
        while conn.is_handshaking() {
            let left = deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out")
                })?;
            tcp.set_read_timeout(Some(left))?;
            tcp.set_write_timeout(Some(left))?;
            conn.complete_io(&mut tcp)
                .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake: {e}")))?;
        }
        tcp.set_read_timeout(Some(self.opts.io_timeout))?;
        tcp.set_write_timeout(Some(self.opts.io_timeout))?;
        Ok(Conn {
            tcp,
            tls: Some(Box::new(conn)),
            pending: Vec::new(),
            pending_off: 0,
        })
    }
}

/// `host` of `host:port` (brackets of an IPv6 literal removed).
fn host_part(addr: &str) -> &str {
    let host = match addr.rsplit_once(':') {
        Some((h, _)) => h,
        None => addr,
    };
    host.trim_start_matches('[').trim_end_matches(']')
}

fn pem_error(what: &str, path: &std::path::Path, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("TLS {what} {}: {e}", path.display()),
    )
}

/// Builds the rustls client configuration from the PEM files.
fn client_config(tls: &TlsConfig) -> io::Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&tls.ca_file)
        .map_err(|e| pem_error("CA file", &tls.ca_file, e))?
    {
        let cert = cert.map_err(|e| pem_error("CA file", &tls.ca_file, e))?;
        roots
            .add(cert)
            .map_err(|e| pem_error("CA certificate in", &tls.ca_file, e))?;
    }
    if roots.is_empty() {
        return Err(pem_error("CA file", &tls.ca_file, "no certificate"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots);
    match &tls.client {
        None => Ok(builder.with_no_client_auth()),
        Some((cert_file, key_file)) => {
            let certs = CertificateDer::pem_file_iter(cert_file)
                .map_err(|e| pem_error("certificate file", cert_file, e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| pem_error("certificate file", cert_file, e))?;
            let key = PrivateKeyDer::from_pem_file(key_file)
                .map_err(|e| pem_error("key file", key_file, e))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| pem_error("client certificate", cert_file, e))
        }
    }
}

/// A connection to the collector, plain or TLS, that keeps whatever it has
/// accepted but not yet handed to the kernel (the rest of a send that timed
/// out), so a stream never carries half a frame followed by another frame.
pub(super) struct Conn {
    tcp: TcpStream,
    tls: Option<Box<ClientConnection>>,
    /// Plain TCP: bytes accepted but not yet sent (TLS keeps them inside
    /// rustls).
    pending: Vec<u8>,
    pending_off: usize,
}

impl Conn {
    fn plain(tcp: TcpStream) -> Conn {
        Conn {
            tcp,
            tls: None,
            pending: Vec::new(),
            pending_off: 0,
        }
    }

    /// Accepts `bytes` (all of them) and sends what the socket takes within
    /// its timeout: `Ok` when everything accepted so far is sent, a timeout
    /// error when some is still pending, any other error when the
    /// connection is broken.
    pub(super) fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.tls {
            Some(t) => {
                t.writer().write_all(bytes)?;
            }
            None => {
                if self.pending_off == self.pending.len() {
                    self.pending.clear();
                    self.pending_off = 0;
                }
                self.pending.extend_from_slice(bytes);
            }
        }
        self.flush_pending()
    }

    /// Sends what is pending; see [`Conn::send`].
    pub(super) fn flush_pending(&mut self) -> io::Result<()> {
        match &mut self.tls {
            Some(t) => {
                while t.wants_write() {
                    match t.write_tls(&mut self.tcp) {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            None => {
                while self.pending_off < self.pending.len() {
                    match self.tcp.write(&self.pending[self.pending_off..]) {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => self.pending_off += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                self.pending.clear();
                self.pending_off = 0;
            }
        }
        Ok(())
    }

    /// Reads what the collector sent, waiting at most `timeout`. `Ok(0)` is
    /// the end of the stream.
    pub(super) fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.tcp
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        match &mut self.tls {
            None => self.tcp.read(buf),
            Some(t) => loop {
                match t.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if t.read_tls(&mut self.tcp)? == 0 {
                    return Ok(0);
                }
                t.process_new_packets().map_err(io::Error::other)?;
            },
        }
    }

    /// Whether the collector has closed or reset the connection, checked
    /// without waiting. Catches the restart of a collector before a message
    /// goes into the dead connection (where the kernel would accept it and
    /// lose it). TLS data that arrived (session tickets) is processed.
    pub(super) fn peer_closed(&mut self) -> bool {
        use rustix::net::{recv, RecvFlags};
        let mut probe = [0u8; 1];
        match recv(&self.tcp, &mut probe, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
            Ok((0, _)) => true,
            Ok(_) => match &mut self.tls {
                // A plain syslog collector sends nothing; ignore it.
                None => false,
                Some(t) => match t.read_tls(&mut self.tcp) {
                    Ok(0) => true,
                    Ok(_) => {
                        if t.process_new_packets().is_err() {
                            return true;
                        }
                        // A syslog collector sends no application data:
                        // discard any; `Ok(0)` means close_notify came.
                        let mut discard = [0u8; 256];
                        loop {
                            match t.reader().read(&mut discard) {
                                Ok(0) => return true,
                                Ok(_) => {}
                                Err(_) => return false,
                            }
                        }
                    }
                    Err(e) => !is_timeout(&e),
                },
            },
            Err(e) => e != rustix::io::Errno::AGAIN && e != rustix::io::Errno::INTR,
        }
    }

    /// Sends TLS close_notify (best effort, never waits long) and closes.
    pub(super) fn shutdown(mut self) {
        if let Some(t) = &mut self.tls {
            t.send_close_notify();
            let _ = self.tcp.set_write_timeout(Some(Duration::from_millis(100)));
            // Best effort: the socket is closed right after either way.
            let _ = t.write_tls(&mut self.tcp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        let t0 = Instant::now();
        assert_eq!(b.wait(t0), None);
        let mut expected = 100.0;
        for _ in 0..6 {
            let d = b.failed(t0).as_secs_f64() * 1000.0;
            assert!(
                d >= expected * 0.75 - 1e-6 && d <= expected * 1.25 + 1e-6,
                "{d} vs {expected}"
            );
            expected = (expected * 2.0).min(800.0);
        }
        assert!(b.wait(t0).is_some());
        assert_eq!(b.wait(t0 + Duration::from_secs(2)), None);
        b.succeeded();
        assert_eq!(b.wait(t0), None);
        let d = b.failed(t0);
        assert!(d <= Duration::from_millis(125), "{d:?}");
    }

    #[test]
    fn host_of_address() {
        assert_eq!(host_part("logs.example.net:6514"), "logs.example.net");
        assert_eq!(host_part("[::1]:6514"), "::1");
        assert_eq!(host_part("127.0.0.1:1"), "127.0.0.1");
    }
}
