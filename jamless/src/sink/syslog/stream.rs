//! TCP (RFC 6587) and TLS (RFC 5425): each message as an octet-counted
//! frame, `LEN SP MSG`, on one long-lived connection.
//!
//! A chunk of frames is handed to the connection whole. When the socket
//! stops taking bytes (a collector that does not read), the rest stays
//! pending in the connection, the chunk's lines are *owed*, and `write`
//! fails with a timeout. The next call first finishes the pending bytes, so
//! the stream never carries half a frame followed by another one; then, if
//! the writer presents the same lines again (it retries what was not
//! written), they are reported written without being sent twice. If the
//! writer gave up on them meanwhile (they are counted as dropped), their
//! frames went out anyway: [`super::SyslogStats::sent_after_give_up`].

use std::io;
use std::sync::Arc;

use super::conn::{Conn, Dialer};
use super::{is_timeout, line_end, strip_nl, Counters, Link};

/// Bytes of lines framed and handed to the connection per call.
const CHUNK: usize = 64 << 10;

/// Lines handed to the connection but not yet reported as written.
struct Owed {
    /// Their length in the writer's buffer (newlines included).
    len: usize,
    lines: u64,
    hash: u64,
}

pub(super) struct Stream {
    dialer: Dialer,
    counters: Arc<Counters>,
    conn: Option<Conn>,
    owed: Option<Owed>,
    frames: Vec<u8>,
}

/// FNV-1a: recognises the owed lines when the writer presents them again.
fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Appends `LEN SP MSG` for each line of `lines`; returns how many.
pub(super) fn frame_lines(lines: &[u8], out: &mut Vec<u8>) -> u64 {
    let mut n = 0;
    let mut at = 0;
    while at < lines.len() {
        let end = line_end(lines, at);
        let msg = strip_nl(&lines[at..end]);
        out.extend_from_slice(itoa::Buffer::new().format(msg.len()).as_bytes());
        out.push(b' ');
        out.extend_from_slice(msg);
        n += 1;
        at = end;
    }
    n
}

impl Stream {
    pub(super) fn new(dialer: Dialer, counters: Arc<Counters>) -> Stream {
        Stream {
            dialer,
            counters,
            conn: None,
            owed: None,
            frames: Vec::new(),
        }
    }

    /// The connection broke: what was owed may have reached the collector in
    /// part; the writer sends those lines again.
    fn lost(&mut self) {
        self.conn = None;
        Counters::add(&self.counters.connection_losses, 1);
        if let Some(owed) = self.owed.take() {
            Counters::add(&self.counters.resent, owed.lines);
        }
        // Reconnect at once on the next call: the loss is news, not a
        // failed attempt.
        self.dialer.backoff.succeeded();
    }

    fn connect(&mut self) -> io::Result<()> {
        if self.conn.is_none() {
            self.conn = Some(self.dialer.dial()?);
            Counters::add(&self.counters.connects, 1);
        }
        Ok(())
    }

    /// Handles a failed send or flush.
    fn failed(&mut self, e: io::Error) -> io::Error {
        if is_timeout(&e) {
            io::Error::new(
                io::ErrorKind::TimedOut,
                "the collector is not reading (send timed out)",
            )
        } else {
            self.lost();
            e
        }
    }
}

impl Link for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.connect()?;
        let Some(conn) = self.conn.as_mut() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        if let Some(owed) = self.owed.take() {
            if let Err(e) = conn.flush_pending() {
                self.owed = Some(owed);
                return Err(self.failed(e));
            }
            if owed.len <= buf.len() && hash(&buf[..owed.len]) == owed.hash {
                return Ok(owed.len);
            }
            Counters::add(&self.counters.sent_after_give_up, owed.lines);
        }
        if conn.peer_closed() {
            // The collector went away (a restart): do not send into the
            // dead connection, where the kernel would take the first
            // message and lose it.
            self.lost();
            self.connect()?;
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        let mut len = 0;
        while len < buf.len() && len < CHUNK {
            len = line_end(buf, len);
        }
        self.frames.clear();
        let lines = frame_lines(&buf[..len], &mut self.frames);
        match conn.send(&self.frames) {
            Ok(()) => Ok(len),
            Err(e) => {
                self.owed = Some(Owed {
                    len,
                    lines,
                    hash: hash(&buf[..len]),
                });
                Err(self.failed(e))
            }
        }
    }

    fn close(&mut self) -> io::Result<()> {
        if let Some(mut conn) = self.conn.take() {
            // Whatever is pending gets one last chance (bounded by the
            // write timeout).
            let _ = conn.flush_pending();
            conn.shutdown();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octet_counting() {
        let mut out = Vec::new();
        assert_eq!(frame_lines("<14>1 a\n<11>1 bé\n".as_bytes(), &mut out), 2);
        assert_eq!(out, "7 <14>1 a9 <11>1 bé".as_bytes());
    }
}
