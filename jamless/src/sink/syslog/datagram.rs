//! UDP (RFC 5426) and Unix datagram sockets: one datagram per message, cut
//! to the maximum size with a visible marker.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::conn::{Backoff, Dialer};
use super::{line_end, strip_nl, Counters, Link, Options};
use crate::render::marker_truncated;

enum Target {
    Udp(String),
    Unix(PathBuf),
}

enum Socket {
    Udp(UdpSocket),
    Unix(UnixDatagram),
}

impl Socket {
    fn send(&self, msg: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Udp(s) => s.send(msg),
            Socket::Unix(s) => s.send(msg),
        }
    }
}

pub(super) struct Datagram {
    target: Target,
    max: usize,
    opts: Options,
    counters: Arc<Counters>,
    socket: Option<Socket>,
    backoff: Backoff,
    last_error: String,
    scratch: Vec<u8>,
}

impl Datagram {
    pub(super) fn udp(addr: String, max: usize, opts: Options, c: Arc<Counters>) -> Datagram {
        Datagram::new(Target::Udp(addr), max, opts, c)
    }

    pub(super) fn unix(path: PathBuf, max: usize, opts: Options, c: Arc<Counters>) -> Datagram {
        Datagram::new(Target::Unix(path), max, opts, c)
    }

    fn new(target: Target, max: usize, opts: Options, counters: Arc<Counters>) -> Datagram {
        Datagram {
            target,
            max,
            opts,
            counters,
            socket: None,
            backoff: Backoff::new(opts.initial_backoff, opts.max_backoff),
            last_error: String::new(),
            scratch: Vec::new(),
        }
    }

    fn open(&self) -> io::Result<Socket> {
        match &self.target {
            Target::Udp(addr) => {
                let addrs = Dialer::resolve(addr)?;
                let mut last = None;
                for a in addrs {
                    let local: SocketAddr = if a.is_ipv4() {
                        ([0, 0, 0, 0], 0).into()
                    } else {
                        ([0u16; 8], 0).into()
                    };
                    match UdpSocket::bind(local).and_then(|s| s.connect(a).map(|()| s)) {
                        Ok(s) => {
                            s.set_write_timeout(Some(self.opts.io_timeout))?;
                            return Ok(Socket::Udp(s));
                        }
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.unwrap_or_else(|| io::Error::other("no address")))
            }
            Target::Unix(path) => {
                let s = UnixDatagram::unbound()?;
                s.connect(path).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot connect to {}: {e}", path.display()),
                    )
                })?;
                s.set_write_timeout(Some(self.opts.io_timeout))?;
                Ok(Socket::Unix(s))
            }
        }
    }

    fn ensure_socket(&mut self) -> io::Result<()> {
        if self.socket.is_some() {
            return Ok(());
        }
        if let Some(d) = self.backoff.wait(Instant::now()) {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                format!(
                    "no socket; next attempt in {} ms (last error: {})",
                    d.as_millis(),
                    self.last_error
                ),
            ));
        }
        match self.open() {
            Ok(s) => {
                self.backoff.succeeded();
                Counters::add(&self.counters.connects, 1);
                self.socket = Some(s);
                Ok(())
            }
            Err(e) => {
                self.last_error = e.to_string();
                self.backoff.failed(Instant::now());
                Err(e)
            }
        }
    }

    fn send_one(&mut self, msg: &[u8]) -> io::Result<()> {
        let Some(sock) = &self.socket else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let msg = if msg.len() > self.max {
            self.scratch.clear();
            cut(msg, self.max, &mut self.scratch);
            self.counters.truncated.fetch_add(1, Ordering::Relaxed);
            &self.scratch[..]
        } else {
            msg
        };
        match sock.send(msg) {
            Ok(_) => Ok(()),
            Err(e)
                if e.kind() == io::ErrorKind::ConnectionRefused
                    && matches!(sock, Socket::Udp(_)) =>
            {
                // An ICMP "port unreachable" for an earlier datagram; this
                // one was not sent. Count it and send once more.
                Counters::add(&self.counters.refused, 1);
                sock.send(msg).map(drop)
            }
            Err(e) => Err(e),
        }
    }
}

impl Link for Datagram {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.ensure_socket()?;
        let mut done = 0;
        while done < buf.len() {
            let end = line_end(buf, done);
            let line = strip_nl(&buf[done..end]);
            if let Err(e) = self.send_one(line) {
                if !super::is_timeout(&e) {
                    // A Unix socket whose listener went away, a route that
                    // vanished: open a new socket on the next call.
                    self.socket = None;
                    Counters::add(&self.counters.connection_losses, 1);
                }
                return if done > 0 { Ok(done) } else { Err(e) };
            }
            done = end;
        }
        Ok(done)
    }

    fn close(&mut self) -> io::Result<()> {
        self.socket = None;
        Ok(())
    }
}

/// Largest index `<= i` that starts a UTF-8 character of `s`.
fn char_floor(s: &[u8], mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && i < s.len() && s[i] & 0xC0 == 0x80 {
        i -= 1;
    }
    i
}

/// Where the structured data of an RFC 5424 line starts and ends (one past
/// its last `]`, or past its `-`), if the line is RFC 5424.
fn sd_span(line: &[u8]) -> Option<(usize, usize)> {
    let close = line.iter().position(|&b| b == b'>')?;
    if line.get(close + 1..close + 3) != Some(b"1 ") {
        return None;
    }
    // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID: five fields after "1 ".
    let mut i = close + 3;
    for _ in 0..5 {
        i += line[i..].iter().position(|&b| b == b' ')? + 1;
    }
    let start = i;
    if line.get(i) == Some(&b'-') {
        return Some((start, i + 1));
    }
    while line.get(i) == Some(&b'[') {
        let mut escaped = false;
        let mut in_value = false;
        loop {
            i += 1;
            let b = *line.get(i)?;
            match b {
                _ if escaped => escaped = false,
                b'\\' if in_value => escaped = true,
                b'"' => in_value = !in_value,
                b']' if !in_value => break,
                _ => {}
            }
        }
        i += 1;
    }
    Some((start, i))
}

/// Cuts `msg` to at most `max` bytes with the truncation marker, keeping
/// an RFC 5424 line well-formed: the cut falls in the message, and if even
/// the structured data does not fit, it is replaced by `-`.
fn cut(msg: &[u8], max: usize, out: &mut Vec<u8>) {
    let mut marker = Vec::with_capacity(40);
    marker_truncated(u32::try_from(msg.len()).unwrap_or(u32::MAX), &mut marker);
    let room = max.saturating_sub(marker.len());
    match sd_span(msg) {
        Some((_, sd_end)) if sd_end < room => {
            out.extend_from_slice(&msg[..char_floor(msg, room)]);
        }
        Some((sd_start, sd_end)) if sd_start + 1 < room => {
            out.extend_from_slice(&msg[..sd_start]);
            out.push(b'-');
            let rest = &msg[sd_end..];
            let keep = char_floor(rest, room - out.len());
            out.extend_from_slice(&rest[..keep]);
        }
        _ => out.extend_from_slice(&msg[..char_floor(msg, room)]),
    }
    out.extend_from_slice(&marker);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "<14>1 2026-11-27T06:22:17.123456Z web-1 shop 4711 - \
                        [x@1 a=\"q\\]\\\"z\" b=\"2\"] hello wörld";

    #[test]
    fn finds_structured_data() {
        let (s, e) = sd_span(LINE.as_bytes()).unwrap();
        assert_eq!(&LINE[s..e], "[x@1 a=\"q\\]\\\"z\" b=\"2\"]");
        let nil = "<14>1 t h a p m - msg";
        let (s, e) = sd_span(nil.as_bytes()).unwrap();
        assert_eq!(&nil[s..e], "-");
        assert_eq!(sd_span(b"<14>Nov 27 06:22:17 h tag: m"), None);
    }

    #[test]
    fn cuts_in_the_message_or_drops_the_sd() {
        let long = format!("{LINE} {}", "ä".repeat(400));
        let mut out = Vec::new();
        cut(long.as_bytes(), 480, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert!(s.len() <= 480, "{}", s.len());
        assert!(s.starts_with(LINE), "{s}");
        assert!(s.ends_with(&format!(" \u{2026}[truncated from {} bytes]", long.len())));

        let big_sd = format!(
            "<14>1 2026-11-27T06:22:17.123456Z h a p - [x@1 v=\"{}\"] the message",
            "v".repeat(600)
        );
        let mut out = Vec::new();
        cut(big_sd.as_bytes(), 480, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert!(s.len() <= 480);
        assert!(
            s.starts_with("<14>1 2026-11-27T06:22:17.123456Z h a p - - the message"),
            "{s}"
        );

        let bsd = format!("<14>Nov 27 06:22:17 h tag[1]: {}", "x".repeat(600));
        let mut out = Vec::new();
        cut(bsd.as_bytes(), 480, &mut out);
        assert!(out.len() <= 480 && out.starts_with(b"<14>Nov 27"));
    }
}
