//! RELP, rsyslog's Reliable Event Logging Protocol: every message is a
//! numbered frame the collector acknowledges, so *written* means
//! *acknowledged*.
//!
//! ```text
//! frame   = TXNR SP COMMAND SP DATALEN [SP DATA] LF
//! client: 1 open 85 relp_version=0\nrelp_software=jamless,...\ncommands=syslog
//! server: 1 rsp 92 200 OK\nrelp_version=0\n...
//! client: 2 syslog 57 <14>1 2026-... message
//! server: 2 rsp 6 200 OK
//! client: 9 close 0             server: 9 rsp 0
//! ```
//!
//! `write` keeps up to `window` frames unacknowledged: it sends frames for
//! the writer's lines, waits (at most the write timeout) for the
//! acknowledgement of the oldest, and reports the acknowledged prefix as
//! written. Frames still unacknowledged stay in flight and are matched to the
//! writer's next call, which presents the same lines again. If the writer
//! gave up on them meanwhile (counted as dropped), they become *abandoned*:
//! a later acknowledgement counts in `acked_after_give_up`, a connection
//! closed first in `unconfirmed`. After a connection loss (a reset, the end
//! of the stream, no acknowledgement within the ack timeout), the frames
//! still in flight are sent again on the new connection and counted in
//! `resent`: the collector may already hold them (possible duplicates).

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conn::{Conn, Dialer};
use super::{is_timeout, line_end, strip_nl, Counters, Link, Options};

/// Transaction numbers run from 1 to 999 999 999, then wrap to 1.
const MAX_TXNR: u32 = 999_999_999;
/// The longest header or acknowledgement accepted from the collector.
const MAX_RSP: usize = 64 << 10;

struct Frame {
    txnr: u32,
    /// The line without its `\n`.
    data: Vec<u8>,
    sent: Instant,
    acked: bool,
}

/// One frame parsed from the collector.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Parsed<'a> {
    pub(super) txnr: u32,
    pub(super) command: &'a [u8],
    pub(super) data: &'a [u8],
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("RELP: {what}"))
}

fn digits(b: &[u8], at: &mut usize, max_len: usize) -> io::Result<Option<u64>> {
    let start = *at;
    while *at < b.len() && b[*at].is_ascii_digit() {
        *at += 1;
        if *at - start > max_len {
            return Err(bad("number too long"));
        }
    }
    if *at == b.len() {
        return Ok(None);
    }
    if *at == start {
        return Err(bad("number expected"));
    }
    let n = b[start..*at]
        .iter()
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Ok(Some(n))
}

/// Parses one frame at the start of `b`: `Ok(None)` when more bytes are
/// needed, else the frame and its length.
pub(super) fn parse(b: &[u8]) -> io::Result<Option<(Parsed<'_>, usize)>> {
    let mut at = 0;
    let Some(txnr) = digits(b, &mut at, 9)? else {
        return Ok(None);
    };
    if b[at] != b' ' {
        return Err(bad("space after TXNR expected"));
    }
    at += 1;
    let cmd_start = at;
    while at < b.len() && b[at].is_ascii_alphabetic() {
        at += 1;
        if at - cmd_start > 32 {
            return Err(bad("command too long"));
        }
    }
    if at == b.len() {
        return Ok(None);
    }
    let command = &b[cmd_start..at];
    if command.is_empty() || b[at] != b' ' {
        return Err(bad("command expected"));
    }
    at += 1;
    let Some(len) = digits(b, &mut at, 9)? else {
        return Ok(None);
    };
    let len = len as usize;
    if len > MAX_RSP {
        return Err(bad("frame too long"));
    }
    let data_start = if len > 0 {
        if b[at] != b' ' {
            return Err(bad("space before DATA expected"));
        }
        at + 1
    } else {
        at
    };
    let end = data_start + len;
    if b.len() <= end {
        return Ok(None);
    }
    if b[end] != b'\n' {
        return Err(bad("frame trailer (LF) expected"));
    }
    Ok(Some((
        Parsed {
            txnr: txnr as u32,
            command,
            data: &b[data_start..end],
        },
        end + 1,
    )))
}

/// Appends one frame.
pub(super) fn frame(txnr: u32, command: &[u8], data: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(txnr).as_bytes());
    out.push(b' ');
    out.extend_from_slice(command);
    out.push(b' ');
    out.extend_from_slice(itoa::Buffer::new().format(data.len()).as_bytes());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

const OFFERS: &str = concat!(
    "relp_version=0\nrelp_software=jamless,",
    env!("CARGO_PKG_VERSION"),
    ",https://crates.io/crates/jamless\ncommands=syslog"
);

pub(super) struct Relp {
    dialer: Dialer,
    opts: Options,
    counters: Arc<Counters>,
    conn: Option<Conn>,
    next_txnr: u32,
    /// Frames of the writer's current lines, oldest first.
    live: VecDeque<Frame>,
    /// Transaction numbers (and send times) of frames the writer gave up on.
    abandoned: VecDeque<(u32, Instant)>,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    spare: Vec<Vec<u8>>,
}

impl Relp {
    pub(super) fn new(dialer: Dialer, opts: Options, counters: Arc<Counters>) -> Relp {
        Relp {
            dialer,
            opts,
            counters,
            conn: None,
            next_txnr: 1,
            live: VecDeque::new(),
            abandoned: VecDeque::new(),
            rbuf: Vec::new(),
            wbuf: Vec::new(),
            spare: Vec::new(),
        }
    }

    fn take_txnr(&mut self) -> u32 {
        let t = self.next_txnr;
        self.next_txnr = if t >= MAX_TXNR { 1 } else { t + 1 };
        t
    }

    /// The connection is gone: its abandoned frames are unconfirmed, its
    /// live ones will be sent again.
    fn lost(&mut self) {
        if self.conn.take().is_some() {
            Counters::add(&self.counters.connection_losses, 1);
            // Reconnect at once on the next call: the loss is news, not a
            // failed attempt.
            self.dialer.backoff.succeeded();
        }
        Counters::add(&self.counters.unconfirmed, self.abandoned.len() as u64);
        self.abandoned.clear();
        self.rbuf.clear();
        self.wbuf.clear();
    }

    /// Connects, opens the session, and sends the live frames again.
    fn connect(&mut self) -> io::Result<()> {
        if self.conn.is_some() {
            return Ok(());
        }
        let mut conn = self.dialer.dial()?;
        self.next_txnr = 1;
        self.rbuf.clear();
        let mut open = Vec::new();
        frame(self.take_txnr(), b"open", OFFERS.as_bytes(), &mut open);
        let deadline = Instant::now() + self.opts.connect_timeout.max(self.opts.io_timeout);
        let result = conn.send(&open).and_then(|()| {
            let (status, offers) = self.read_one(&mut conn, 1, deadline)?;
            if !status.starts_with(b"200") {
                return Err(bad(&format!(
                    "the collector refused the session: {}",
                    String::from_utf8_lossy(&status)
                )));
            }
            if !offers.is_empty() && !contains(&offers, b"syslog") {
                return Err(bad("the collector does not offer the syslog command"));
            }
            Ok(())
        });
        if let Err(e) = result {
            self.dialer.backoff.failed(Instant::now());
            return Err(io::Error::new(e.kind(), format!("RELP open: {e}")));
        }
        Counters::add(&self.counters.connects, 1);
        self.conn = Some(conn);
        if !self.live.is_empty() {
            Counters::add(&self.counters.resent, self.live.len() as u64);
            let now = Instant::now();
            let mut wbuf = std::mem::take(&mut self.wbuf);
            for i in 0..self.live.len() {
                let txnr = self.take_txnr();
                let f = &mut self.live[i];
                f.txnr = txnr;
                f.sent = now;
                f.acked = false;
                frame(txnr, b"syslog", &f.data, &mut wbuf);
            }
            self.wbuf = wbuf;
        }
        Ok(())
    }

    /// Reads until the response to `txnr` (the open) arrives: its status
    /// line and the rest of its data.
    fn read_one(
        &mut self,
        conn: &mut Conn,
        txnr: u32,
        deadline: Instant,
    ) -> io::Result<(Vec<u8>, Vec<u8>)> {
        loop {
            if let Some((p, used)) = parse(&self.rbuf)? {
                if p.txnr == txnr && p.command == b"rsp" {
                    let (status, rest) = match p.data.iter().position(|&b| b == b'\n') {
                        Some(i) => (&p.data[..i], &p.data[i + 1..]),
                        None => (p.data, &p.data[p.data.len()..]),
                    };
                    let found = (status.to_vec(), rest.to_vec());
                    self.rbuf.drain(..used);
                    return Ok(found);
                }
                // Another frame first (an acknowledgement): apply it.
                self.apply_first()?;
                continue;
            }
            self.fill(conn, deadline)?;
        }
    }

    /// Reads more bytes from the collector, waiting until `deadline`.
    fn fill(&mut self, conn: &mut Conn, deadline: Instant) -> io::Result<()> {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| io::Error::from(io::ErrorKind::TimedOut))?;
        let mut tmp = [0u8; 8192];
        match conn.read(&mut tmp, left)? {
            0 => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "RELP: the collector closed the connection",
            )),
            n => {
                self.rbuf.extend_from_slice(&tmp[..n]);
                if self.rbuf.len() > 2 * MAX_RSP {
                    return Err(bad("too much unparsed data from the collector"));
                }
                Ok(())
            }
        }
    }

    /// Applies every complete frame in the read buffer.
    fn apply_responses(&mut self) -> io::Result<()> {
        while self.apply_first()? {}
        Ok(())
    }

    /// Applies the first complete frame in the read buffer, if there is
    /// one; returns whether there was.
    fn apply_first(&mut self) -> io::Result<bool> {
        if let Some((p, used)) = parse(&self.rbuf)? {
            match p.command {
                b"rsp" => {
                    let ok = p.data.starts_with(b"200");
                    if let Some(f) = self.live.iter_mut().find(|f| f.txnr == p.txnr) {
                        if !ok {
                            return Err(bad(&format!(
                                "the collector rejected a message: {}",
                                String::from_utf8_lossy(p.data)
                            )));
                        }
                        f.acked = true;
                    } else if let Some(i) = self.abandoned.iter().position(|&(t, _)| t == p.txnr) {
                        self.abandoned.remove(i);
                        if ok {
                            Counters::add(&self.counters.acked_after_give_up, 1);
                        }
                    }
                }
                b"serverclose" => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "RELP: the collector closed the session (serverclose)",
                    ))
                }
                _ => {}
            }
            self.rbuf.drain(..used);
            return Ok(true);
        }
        Ok(false)
    }

    /// Matches the live frames to the start of `buf`; those that do not
    /// match were given up by the writer. Returns the bytes of `buf` the
    /// live frames cover.
    fn reconcile(&mut self, buf: &[u8]) -> usize {
        let mut at = 0;
        let mut matched = 0;
        for f in &self.live {
            if at >= buf.len() {
                break;
            }
            let end = line_end(buf, at);
            if strip_nl(&buf[at..end]) != f.data.as_slice() {
                break;
            }
            at = end;
            matched += 1;
        }
        while self.live.len() > matched {
            if let Some(f) = self.live.pop_back() {
                self.abandoned.push_front((f.txnr, f.sent));
                self.spare.push(f.data);
            }
        }
        at
    }

    fn step(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.connect()?;
        let mut at = self.reconcile(buf);
        let now = Instant::now();
        let mut wbuf = std::mem::take(&mut self.wbuf);
        while at < buf.len() && self.live.len() + self.abandoned.len() < self.opts.window {
            let end = line_end(buf, at);
            let txnr = self.take_txnr();
            let mut data = self.spare.pop().unwrap_or_default();
            data.clear();
            data.extend_from_slice(strip_nl(&buf[at..end]));
            frame(txnr, b"syslog", &data, &mut wbuf);
            self.live.push_back(Frame {
                txnr,
                data,
                sent: now,
                acked: false,
            });
            at = end;
        }
        let Some(mut conn) = self.conn.take() else {
            self.wbuf = wbuf;
            return Err(io::ErrorKind::NotConnected.into());
        };
        let sent = if wbuf.is_empty() {
            conn.flush_pending()
        } else {
            conn.send(&wbuf)
        };
        wbuf.clear();
        self.wbuf = wbuf;
        let result = sent.and_then(|()| self.await_acks(&mut conn));
        self.conn = Some(conn);
        result
    }

    /// Waits for the oldest live frame's acknowledgement (at most the write
    /// timeout), then reports the acknowledged prefix.
    fn await_acks(&mut self, conn: &mut Conn) -> io::Result<usize> {
        let deadline = Instant::now() + self.opts.io_timeout;
        let abandoned = self.abandoned.len();
        loop {
            self.apply_responses()?;
            let waiting = match self.live.front() {
                Some(f) => !f.acked,
                // Only frames the writer gave up on are in flight: wait for
                // one of them to be acknowledged, which frees the window.
                None => !self.abandoned.is_empty() && self.abandoned.len() == abandoned,
            };
            if !waiting {
                break;
            }
            match self.fill(conn, deadline) {
                Ok(()) => {}
                Err(e) if is_timeout(&e) => break,
                Err(e) => return Err(e),
            }
        }
        let mut done = 0;
        while self.live.front().is_some_and(|f| f.acked) {
            if let Some(f) = self.live.pop_front() {
                done += f.data.len() + 1;
                self.spare.push(f.data);
            }
        }
        if done > 0 {
            return Ok(done);
        }
        let oldest = [
            self.live.front().map(|f| f.sent),
            self.abandoned.front().map(|&(_, t)| t),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| t.elapsed());
        match oldest {
            Some(age) if age >= self.opts.ack_timeout => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "RELP: no acknowledgement for {} ms: reconnecting",
                    age.as_millis()
                ),
            )),
            _ => Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "RELP: waiting for the collector's acknowledgements",
            )),
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

impl Link for Relp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.step(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                Err(io::Error::new(io::ErrorKind::TimedOut, e.to_string()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected && self.conn.is_none() => Err(e),
            Err(e) => {
                self.lost();
                Err(e)
            }
        }
    }

    fn close(&mut self) -> io::Result<()> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        let txnr = self.take_txnr();
        let mut msg = Vec::new();
        frame(txnr, b"close", b"", &mut msg);
        let deadline = Instant::now() + self.opts.io_timeout.min(Duration::from_secs(1));
        let result = conn
            .send(&msg)
            .and_then(|()| self.read_one(&mut conn, txnr, deadline).map(drop));
        // Frames the writer gave up on may still be acknowledged before the
        // close response; anything else was never confirmed.
        let _ = self.apply_responses();
        Counters::add(&self.counters.unconfirmed, self.abandoned.len() as u64);
        self.abandoned.clear();
        conn.shutdown();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut out = Vec::new();
        frame(2, b"syslog", b"<14>1 hello", &mut out);
        frame(3, b"close", b"", &mut out);
        assert_eq!(out, b"2 syslog 11 <14>1 hello\n3 close 0\n");
        let (p, used) = parse(&out).unwrap().unwrap();
        assert_eq!(
            p,
            Parsed {
                txnr: 2,
                command: b"syslog",
                data: b"<14>1 hello"
            }
        );
        let (p, used2) = parse(&out[used..]).unwrap().unwrap();
        assert_eq!((p.txnr, p.command, p.data), (3, &b"close"[..], &b""[..]));
        assert_eq!(used + used2, out.len());
    }

    #[test]
    fn partial_and_bad_input() {
        let full = b"12 rsp 6 200 OK\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(parse(full).unwrap().is_some());
        for bad in [
            &b"x rsp 6 200 OK\n"[..],
            b"1 rsp 6 200 OKX",
            b"1 rsp 6X200 OK\n",
            b"1 r5p 6 200 OK\n",
            b"1234567890 rsp 0\n",
            b"1 rsp 99999999 x",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
