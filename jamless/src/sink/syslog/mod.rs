//! Sending lines to a syslog collector (rsyslog, syslog-ng, ...): UDP, TCP
//! with octet counting, a Unix datagram socket, TLS, and RELP.
//!
//! The sink receives lines rendered by [`Format::syslog`](crate::Format::syslog)
//! (one message per `\n`-terminated line) and frames each for its transport.
//! It always reports whole lines as written, so the writer never has to cut
//! a network stream. Everything that can wait (name resolution, connecting,
//! the TLS handshake, sending, waiting for acknowledgements) happens inside
//! [`Sink::write`] on the writer thread, each step bounded by a timeout; a
//! failed connection is retried after a capped exponential back-off with
//! jitter, and until then `write` fails at once, so the writer's own retry
//! and fallback logic decide what waits and what is dropped. Callers never
//! wait for any of it.
//!
//! Files: [`datagram`] (UDP and Unix datagrams, with truncation), [`stream`]
//! (TCP and TLS, octet counting), [`relp`] (RELP), [`conn`] (resolving,
//! connecting, TLS, back-off).

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::Error;

use super::Sink;

mod conn;
mod datagram;
mod relp;
mod stream;

/// Where and how a [`SyslogSink`] sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    kind: TransportKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TransportKind {
    Udp(String),
    Tcp(String),
    Unix(PathBuf),
    Tls(String, TlsConfig),
    Relp(String, Option<TlsConfig>),
}

impl Transport {
    /// UDP to `host:port` (RFC 5426), one datagram per message, cut to
    /// [`SyslogSinkBuilder::max_message_bytes`]. UDP cannot tell whether a
    /// message arrived: what the kernel sent counts as written.
    pub fn udp(addr: impl Into<String>) -> Transport {
        Transport {
            kind: TransportKind::Udp(addr.into()),
        }
    }

    /// TCP to `host:port` with octet-counting framing (RFC 6587). What the
    /// kernel accepted counts as written; see the crate's ARCHITECTURE
    /// notes for what TCP cannot tell.
    pub fn tcp(addr: impl Into<String>) -> Transport {
        Transport {
            kind: TransportKind::Tcp(addr.into()),
        }
    }

    /// A local Unix datagram socket, such as `/dev/log`, one datagram per
    /// message.
    pub fn unix(path: impl Into<PathBuf>) -> Transport {
        Transport {
            kind: TransportKind::Unix(path.into()),
        }
    }

    /// TLS to `host:port` (RFC 5425: octet counting inside TLS), with rustls.
    pub fn tls(addr: impl Into<String>, tls: TlsConfig) -> Transport {
        Transport {
            kind: TransportKind::Tls(addr.into(), tls),
        }
    }

    /// RELP (rsyslog's Reliable Event Logging Protocol) over TCP to
    /// `host:port`: a message counts as written only once the collector
    /// acknowledged it.
    pub fn relp(addr: impl Into<String>) -> Transport {
        Transport {
            kind: TransportKind::Relp(addr.into(), None),
        }
    }

    /// RELP inside TLS.
    pub fn relp_tls(addr: impl Into<String>, tls: TlsConfig) -> Transport {
        Transport {
            kind: TransportKind::Relp(addr.into(), Some(tls)),
        }
    }

    fn describe(&self) -> String {
        match &self.kind {
            TransportKind::Udp(a) => format!("syslog+udp://{a}"),
            TransportKind::Tcp(a) => format!("syslog+tcp://{a}"),
            TransportKind::Unix(p) => format!("syslog+unix:{}", p.display()),
            TransportKind::Tls(a, _) => format!("syslog+tls://{a}"),
            TransportKind::Relp(a, None) => format!("relp://{a}"),
            TransportKind::Relp(a, Some(_)) => format!("relp+tls://{a}"),
        }
    }
}

/// TLS settings: the CA certificates that sign the collector's certificate,
/// optionally a client certificate and key, and the name to verify.
///
/// The files are PEM. They are read when the sink first connects, on the
/// writer thread (building does no I/O); a missing or bad file is reported
/// through the error handler as a failed connection attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    ca_file: PathBuf,
    client: Option<(PathBuf, PathBuf)>,
    server_name: Option<String>,
}

impl TlsConfig {
    /// Trusts the CA certificates in `ca_file` (PEM, one or more).
    pub fn new(ca_file: impl Into<PathBuf>) -> TlsConfig {
        TlsConfig {
            ca_file: ca_file.into(),
            client: None,
            server_name: None,
        }
    }

    /// Presents a client certificate chain (`cert_file`, PEM) with its
    /// private key (`key_file`, PEM: PKCS#8, PKCS#1 or SEC1).
    #[must_use]
    pub fn client_cert(
        mut self,
        cert_file: impl Into<PathBuf>,
        key_file: impl Into<PathBuf>,
    ) -> TlsConfig {
        self.client = Some((cert_file.into(), key_file.into()));
        self
    }

    /// The name the collector's certificate must carry (by default the
    /// host part of the address).
    #[must_use]
    pub fn server_name(mut self, name: impl Into<String>) -> TlsConfig {
        self.server_name = Some(name.into());
        self
    }
}

/// What a syslog sink did besides writing: numbers for health reports.
///
/// Each is a total since the sink was built. Read them with
/// [`SyslogCounters::snapshot`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SyslogStats {
    /// Connections established (UDP and Unix: sockets opened).
    pub connects: u64,
    /// Connections found broken (reset, closed by the collector, a send or
    /// read error, no acknowledgement within the RELP ack timeout).
    pub connection_losses: u64,
    /// Messages cut to the maximum datagram size (each ends with a marker).
    pub truncated: u64,
    /// UDP: sends the kernel reported as refused (an ICMP port unreachable
    /// came back). Each means at least one earlier datagram was not
    /// received; the refused send itself is repeated once.
    pub refused: u64,
    /// Messages sent again after a connection was lost (RELP: frames not
    /// acknowledged; TCP/TLS: a chunk not completely handed to the kernel).
    /// The collector may hold a copy from before the loss: these are the
    /// possible duplicates.
    pub resent: u64,
    /// RELP: frames the writer had given up on (counted as dropped) that
    /// the collector acknowledged afterwards: delivered after all.
    pub acked_after_give_up: u64,
    /// RELP: frames given up on and never acknowledged before their
    /// connection was closed: the collector may or may not have them.
    pub unconfirmed: u64,
    /// TCP/TLS: messages the writer had given up on (counted as dropped)
    /// whose bytes were already committed to the stream and were sent
    /// afterwards to keep the framing intact: delivered after all.
    pub sent_after_give_up: u64,
}

/// A handle on a [`SyslogSink`]'s counters that stays valid after the sink
/// has been moved into a logger.
#[derive(Debug, Clone, Default)]
pub struct SyslogCounters {
    inner: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    connects: AtomicU64,
    connection_losses: AtomicU64,
    truncated: AtomicU64,
    refused: AtomicU64,
    resent: AtomicU64,
    acked_after_give_up: AtomicU64,
    unconfirmed: AtomicU64,
    sent_after_give_up: AtomicU64,
}

impl Counters {
    fn add(c: &AtomicU64, n: u64) {
        if n > 0 {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }
}

impl SyslogCounters {
    /// The current totals.
    pub fn snapshot(&self) -> SyslogStats {
        let c = &self.inner;
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        SyslogStats {
            connects: r(&c.connects),
            connection_losses: r(&c.connection_losses),
            truncated: r(&c.truncated),
            refused: r(&c.refused),
            resent: r(&c.resent),
            acked_after_give_up: r(&c.acked_after_give_up),
            unconfirmed: r(&c.unconfirmed),
            sent_after_give_up: r(&c.sent_after_give_up),
        }
    }
}

impl fmt::Display for SyslogStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connects {}, losses {}, truncated {}, refused {}, resent {}, \
             acked after give-up {}, unconfirmed {}, sent after give-up {}",
            self.connects,
            self.connection_losses,
            self.truncated,
            self.refused,
            self.resent,
            self.acked_after_give_up,
            self.unconfirmed,
            self.sent_after_give_up
        )
    }
}

/// Timing and limits shared by the transports.
#[derive(Debug, Clone, Copy)]
struct Options {
    connect_timeout: Duration,
    io_timeout: Duration,
    ack_timeout: Duration,
    window: usize,
    max_message: Option<usize>,
    initial_backoff: Duration,
    max_backoff: Duration,
}

/// Configures a [`SyslogSink`]; see [`SyslogSink::builder`].
#[derive(Debug, Clone)]
pub struct SyslogSinkBuilder {
    transport: Transport,
    opts: Options,
}

/// The smallest maximum message size accepted (RFC 5426 requires
/// receivers to accept 480 bytes over IPv4).
pub const MIN_MESSAGE_BYTES: usize = 480;

impl SyslogSinkBuilder {
    /// How long one connection attempt may take, TLS handshake included
    /// (1 s by default). Name resolution is not included: it uses the
    /// system resolver, bounded by its own timeouts (`resolv.conf`), and
    /// runs on the writer thread like everything else here.
    #[must_use]
    pub fn connect_timeout(mut self, d: Duration) -> SyslogSinkBuilder {
        self.opts.connect_timeout = d;
        self
    }

    /// How long one `write` may wait for the socket to take bytes, and
    /// (RELP) for acknowledgements (1 s by default). The writer calls again
    /// after its back-off, so this bounds each wait, not the delivery.
    #[must_use]
    pub fn write_timeout(mut self, d: Duration) -> SyslogSinkBuilder {
        self.opts.io_timeout = d;
        self
    }

    /// RELP: when the oldest unacknowledged frame has waited this long, the
    /// connection is taken as dead, closed, and the frames are sent again on
    /// a new one (30 s by default).
    #[must_use]
    pub fn ack_timeout(mut self, d: Duration) -> SyslogSinkBuilder {
        self.opts.ack_timeout = d;
        self
    }

    /// RELP: how many frames may be unacknowledged at once (128 by default,
    /// as librelp).
    #[must_use]
    pub fn window(mut self, frames: usize) -> SyslogSinkBuilder {
        self.opts.window = frames;
        self
    }

    /// UDP and Unix datagrams: the largest message sent; longer ones are cut
    /// with a ` …[truncated from N bytes]` marker and counted in
    /// [`SyslogStats::truncated`]. Defaults: 2048 bytes for UDP (what RFC
    /// 5426 says receivers should accept), 8096 for Unix sockets (rsyslog's
    /// default maximum). At least [`MIN_MESSAGE_BYTES`], at most 65507.
    #[must_use]
    pub fn max_message_bytes(mut self, bytes: usize) -> SyslogSinkBuilder {
        self.opts.max_message = Some(bytes);
        self
    }

    /// Back-off between connection attempts: starts at `initial`, doubles
    /// after each failure up to `max`, each wait randomised by ±25% so that
    /// many clients do not reconnect in step (100 ms and 10 s by default).
    #[must_use]
    pub fn reconnect_backoff(mut self, initial: Duration, max: Duration) -> SyslogSinkBuilder {
        self.opts.initial_backoff = initial;
        self.opts.max_backoff = max;
        self
    }

    /// Checks the configuration and builds the sink. No I/O: nothing is
    /// resolved or connected until the writer's first write.
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) for an empty address,
    /// a zero timeout or window, a back-off whose maximum is below its
    /// start, or a maximum message size out of range.
    pub fn build(self) -> Result<SyslogSink, Error> {
        let o = &self.opts;
        let addr_empty = match &self.transport.kind {
            TransportKind::Udp(a)
            | TransportKind::Tcp(a)
            | TransportKind::Tls(a, _)
            | TransportKind::Relp(a, _) => a.trim().is_empty(),
            TransportKind::Unix(p) => p.as_os_str().is_empty(),
        };
        if addr_empty {
            return Err(Error::config("syslog sink: empty address"));
        }
        for (what, d) in [
            ("connect_timeout", o.connect_timeout),
            ("write_timeout", o.io_timeout),
            ("ack_timeout", o.ack_timeout),
            ("reconnect_backoff initial", o.initial_backoff),
        ] {
            if d.is_zero() {
                return Err(Error::config(format!(
                    "syslog sink: {what} must not be zero"
                )));
            }
        }
        if o.max_backoff < o.initial_backoff {
            return Err(Error::config(
                "syslog sink: reconnect_backoff maximum is below its start",
            ));
        }
        if o.window == 0 || o.window > 100_000 {
            return Err(Error::config("syslog sink: window must be 1 to 100000"));
        }
        if let Some(m) = o.max_message {
            if !(MIN_MESSAGE_BYTES..=65_507).contains(&m) {
                return Err(Error::config(format!(
                    "syslog sink: max_message_bytes must be {MIN_MESSAGE_BYTES} to 65507, got {m}"
                )));
            }
        }
        let counters = SyslogCounters::default();
        let describe = self.transport.describe();
        let c = Arc::clone(&counters.inner);
        let link: Box<dyn Link> = match self.transport.kind {
            TransportKind::Udp(a) => Box::new(datagram::Datagram::udp(
                a,
                self.opts.max_message.unwrap_or(2048),
                self.opts,
                c,
            )),
            TransportKind::Unix(p) => Box::new(datagram::Datagram::unix(
                p,
                self.opts.max_message.unwrap_or(8096),
                self.opts,
                c,
            )),
            TransportKind::Tcp(a) => Box::new(stream::Stream::new(
                conn::Dialer::new(a, None, self.opts),
                c,
            )),
            TransportKind::Tls(a, t) => Box::new(stream::Stream::new(
                conn::Dialer::new(a, Some(t), self.opts),
                c,
            )),
            TransportKind::Relp(a, t) => Box::new(relp::Relp::new(
                conn::Dialer::new(a, t, self.opts),
                self.opts,
                c,
            )),
        };
        Ok(SyslogSink {
            link,
            counters,
            describe,
        })
    }
}

/// One transport's sending logic.
trait Link: Send {
    /// As [`Sink::write`]: a prefix of whole lines of `buf`.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    /// Ends the session politely (RELP `close`) and closes the socket.
    fn close(&mut self) -> io::Result<()>;
}

/// A [`Sink`] that sends each line to a syslog collector; see
/// [`Transport`] for the transports and [`SyslogStats`] for what it counts.
/// What *written* means depends on the transport: acknowledged by the
/// collector (RELP), taken by the kernel (TCP, TLS), sent (UDP, Unix).
///
/// ```no_run
/// use jamless::{Format, SyslogFormat, SyslogSink, Transport};
/// let sink = SyslogSink::builder(Transport::relp("logs.example.net:2514")).build()?;
/// let counters = sink.counters(); // resent, truncated, ... for health pages
/// let (logger, _guard) = jamless::Builder::new()
///     .sink(sink)
///     .format(Format::syslog(SyslogFormat::rfc5424().app_name("shop")))
///     .build()?;
/// # Ok::<(), jamless::Error>(())
/// ```
pub struct SyslogSink {
    link: Box<dyn Link>,
    counters: SyslogCounters,
    describe: String,
}

impl fmt::Debug for SyslogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyslogSink")
            .field("destination", &self.describe)
            .finish_non_exhaustive()
    }
}

impl SyslogSink {
    /// A builder for a sink sending over `transport`, with default timeouts.
    pub fn builder(transport: Transport) -> SyslogSinkBuilder {
        SyslogSinkBuilder {
            transport,
            opts: Options {
                connect_timeout: Duration::from_secs(1),
                io_timeout: Duration::from_secs(1),
                ack_timeout: Duration::from_secs(30),
                window: 128,
                max_message: None,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(10),
            },
        }
    }

    /// A handle on this sink's counters (keep it before moving the sink into
    /// a logger).
    pub fn counters(&self) -> SyslogCounters {
        self.counters.clone()
    }
}

impl Sink for SyslogSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Empty lines (the newline a writer sends after a line it cut short
        // elsewhere) carry no message: consume them, never send an empty
        // frame.
        let empty = buf.iter().take_while(|&&b| b == b'\n').count();
        if empty > 0 {
            return Ok(empty);
        }
        self.link.write(buf)
    }

    fn close(&mut self) -> io::Result<()> {
        self.link.close()
    }

    fn describe(&self) -> String {
        let s = self.counters.snapshot();
        if s == SyslogStats::default() {
            self.describe.clone()
        } else {
            format!("{} ({s})", self.describe)
        }
    }

    fn stats(&self) -> Option<crate::sink::SinkStats> {
        let c = self.counters();
        Some(crate::sink::SinkStats::new(move || {
            let s = c.snapshot();
            vec![
                ("connects", s.connects),
                ("connection_losses", s.connection_losses),
                ("truncated", s.truncated),
                ("refused", s.refused),
                ("resent", s.resent),
                ("acked_after_give_up", s.acked_after_give_up),
                ("unconfirmed", s.unconfirmed),
                ("sent_after_give_up", s.sent_after_give_up),
            ]
        }))
    }
}

/// The end of the first line of `buf` (one past its `\n`), or `buf.len()`
/// when the last line has no `\n`.
fn line_end(buf: &[u8], start: usize) -> usize {
    match buf[start..].iter().position(|&b| b == b'\n') {
        Some(i) => start + i + 1,
        None => buf.len(),
    }
}

/// A line without its `\n`.
fn strip_nl(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// Whether an I/O error is a timeout of a socket with a timeout set.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_validates_and_does_no_io() {
        // An address nobody could resolve: building still succeeds.
        assert!(
            SyslogSink::builder(Transport::tcp("no-such-host.invalid:514"))
                .build()
                .is_ok()
        );
        let bad = [
            SyslogSink::builder(Transport::udp(" ")),
            SyslogSink::builder(Transport::unix("")),
            SyslogSink::builder(Transport::tcp("h:1")).connect_timeout(Duration::ZERO),
            SyslogSink::builder(Transport::relp("h:1")).window(0),
            SyslogSink::builder(Transport::udp("h:1")).max_message_bytes(100),
            SyslogSink::builder(Transport::udp("h:1")).max_message_bytes(70_000),
            SyslogSink::builder(Transport::tcp("h:1"))
                .reconnect_backoff(Duration::from_secs(2), Duration::from_secs(1)),
        ];
        for b in bad {
            let e = b.build().unwrap_err();
            assert!(e.is_config(), "{e}");
        }
    }

    #[test]
    fn empty_lines_are_consumed_without_io() {
        let mut s = SyslogSink::builder(Transport::unix("/nonexistent/jamless/log"))
            .build()
            .unwrap();
        assert_eq!(s.write(b"\n\n").unwrap(), 2);
        assert!(s.write(b"<14>1 x\n").is_err());
    }

    #[test]
    fn describe_names_the_destination() {
        let s = SyslogSink::builder(Transport::relp_tls(
            "127.0.0.1:2514",
            TlsConfig::new("ca.pem"),
        ))
        .build()
        .unwrap();
        assert_eq!(s.describe(), "relp+tls://127.0.0.1:2514");
        s.counters.inner.resent.fetch_add(2, Ordering::Relaxed);
        assert!(s.describe().contains("resent 2"), "{}", s.describe());
    }
}
