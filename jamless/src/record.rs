//! The record format between the caller and the writer.
//!
//! A caller encodes a record's body (message, fields, spans) into a reusable
//! thread-local buffer, measures its [`Head`] (header and metadata strings),
//! and writes both into the space it claims in the queue: the head straight
//! from the metadata, the body in one copy (a [`Pending`] record). The
//! writer decodes it in place, straight out of the ring, and renders it.
//! Nothing here allocates once the buffer has grown to its working size.
//!
//! # Layout
//!
//! All integers are little-endian.
//!
//! ```text
//!  0      1      2             4             8                  16
//!  +------+------+-------------+-------------+------------------+
//!  | kind | level|    flags    |    line     |  timestamp (ns)  |
//!  +------+------+-------------+-------------+------------------+
//!  16                 24            28           32
//!  +------------------+-------------+-------------+
//!  |    thread id     | orig. length| message len |
//!  +------------------+-------------+-------------+
//!  32: thread name (u8 len + bytes), target, module path, file
//!      (u16 len + bytes each), then the message bytes, then items:
//!        0x01 field: key (u16 len + bytes), value tag (u8), value
//!        0x02 span:  name (u16 len + bytes); fields that follow belong to it
//! ```
//!
//! Flags: bit 0, the message was cut to fit; bit 1, the module path is the
//! target (the `log` macros' default target) and is stored once, as an
//! empty module path (about 15% of a typical `log::info!` record).
//!
//! `kind` says who produced the record and how its message section is read:
//!
//! * [`Kind::Event`], a structured event from a facade: the message section
//!   is the formatted message.
//! * [`Kind::Raw`], a line formatted by the caller (the `MakeWriter` path):
//!   the message section is the line, written as it is (escaped).
//! * [`Kind::Native`], a call of jamless's own macros (`jamless::info!`),
//!   whose message the writer formats: target, module path and file are
//!   empty and the line is absent (`u32::MAX`) in the head, because the
//!   call site has them (the dispatcher routes by the site's target, found
//!   by its id, as the writer finds the rest); the message section
//!   is the call site's id and its arguments in the compact form of
//!   `native/args.rs`:
//!
//! ```text
//!  message section of a Native record
//!  +----------------+-----------------------------------------------+
//!  | call site (u32)| slot, slot, ...  (tag u8, then the value:      |
//!  |                | fixed-size integers/floats/bool/char, or u32   |
//!  |                | length + bytes for strings and eager text)     |
//!  +----------------+-----------------------------------------------+
//! ```
//!
//!   The writer looks the id up in the process's call-site registry
//!   (`native/site.rs`), formats the message from the site's pieces and the
//!   arguments, and from then on renders the record exactly as an `Event`
//!   with that message and the site's target, module, file and line. Items
//!   (the key-values) follow as for an event. A Native record cut to fit
//!   loses its last arguments; the writer formats what is left.
//!
//! Strings are stored as bytes and may be invalid UTF-8 (a raw line can be
//! anything); the renderers escape what they cannot print. Decoding never
//! panics: a malformed record decodes to an error.

use std::fmt;

use crate::level::Level;

/// What produced a record and how its message is to be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A structured event: message plus fields, rendered by the writer.
    Event = 1,
    /// A line already formatted by the caller; written as it is (escaped).
    Raw = 2,
    /// A call of jamless's native macros: a call-site id and raw
    /// arguments; the writer formats the message.
    Native = 3,
}

/// Flag bit: the message was cut to fit the maximum record size.
pub(crate) const FLAG_TRUNCATED: u16 = 1;
/// Flag bit: the module path is the target (the `log` macros' default
/// target), stored once: the module path's string is empty in the record.
const FLAG_MODULE_IS_TARGET: u16 = 2;

const HEADER_LEN: usize = 32;
const OFF_KIND: usize = 0;
const OFF_LEVEL: usize = 1;
const OFF_FLAGS: usize = 2;
const OFF_LINE: usize = 4;
const OFF_TIMESTAMP: usize = 8;
const OFF_THREAD_ID: usize = 16;
const OFF_ORIG_LEN: usize = 24;
const OFF_MSG_LEN: usize = 28;
/// Length of the call-site id at the start of a Native record's message.
pub(crate) const NATIVE_ID_LEN: usize = 4;
/// Longest target, module path or file name kept; longer ones are cut.
pub(crate) const MAX_META_STR: usize = 256;

const ITEM_FIELD: u8 = 1;
const ITEM_SPAN: u8 = 2;
const VAL_STR: u8 = 0;
const VAL_I64: u8 = 1;
const VAL_U64: u8 = 2;
const VAL_F64: u8 = 3;
const VAL_BOOL: u8 = 4;

/// Where a record comes from, as a facade knows it: the part of [`Meta`]
/// that is not the caller thread's or the clock's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Site<'a> {
    pub(crate) target: &'a str,
    pub(crate) module_path: &'a str,
    pub(crate) file: &'a str,
    pub(crate) line: Option<u32>,
}

/// The fixed metadata of a record, filled in by a facade.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Meta<'a> {
    pub(crate) kind: Kind,
    pub(crate) level: Level,
    pub(crate) timestamp_ns: u64,
    pub(crate) thread_id: u64,
    pub(crate) thread_name: &'a str,
    pub(crate) target: &'a str,
    pub(crate) module_path: &'a str,
    pub(crate) file: &'a str,
    pub(crate) line: Option<u32>,
}

/// A typed field value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Str(&'a [u8]),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary, so a cut string stays valid UTF-8.
#[inline]
pub(crate) fn prefix_at_char(s: &str, max: usize) -> &[u8] {
    prefix_str(s, max).as_bytes()
}

/// [`prefix_at_char`] as a `str`.
#[inline]
fn prefix_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    cut_at_char(s, max)
}

/// [`prefix_str`] of a string longer than `max` (rare: out of line).
#[cold]
#[inline(never)]
fn cut_at_char(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A thread name as a record stores it: cut to 255 bytes at a character
/// boundary (the caller's thread-local state keeps it cut).
#[inline]
pub(crate) fn cut_thread_name(name: &str) -> &str {
    prefix_str(name, u8::MAX as usize)
}

/// The fixed part of a record (header and metadata strings), measured in
/// advance so that the caller path can write it straight into the space it
/// claims in the queue: the metadata is copied once, not into the thread's
/// buffer first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head<'a> {
    kind: Kind,
    level: Level,
    line: u32,
    timestamp_ns: u64,
    thread_id: u64,
    thread_name: &'a [u8],
    target: &'a [u8],
    module_path: &'a [u8],
    file: &'a [u8],
    /// [`FLAG_MODULE_IS_TARGET`] or 0.
    flags: u16,
}

/// Writes `s` with a `u16` length before it at the start of `dst`; returns
/// the rest of `dst`.
#[inline]
fn put_u16_str<'d>(dst: &'d mut [u8], s: &[u8]) -> &'d mut [u8] {
    let (len, rest) = dst.split_at_mut(2);
    // Cannot truncate: every string was cut to MAX_META_STR in `Head::new`.
    len.copy_from_slice(&(s.len() as u16).to_le_bytes());
    let (bytes, rest) = rest.split_at_mut(s.len());
    bytes.copy_from_slice(s);
    rest
}

impl<'a> Head<'a> {
    /// Cuts the metadata strings to their limits (at character boundaries).
    /// A module path equal to the target is stored once. A Native record's
    /// head stores none of its site's strings nor its line: the call site
    /// (found by the id in the message) has them.
    ///
    /// Always inlined: every caller passes a constant kind, so the branch
    /// on it folds away (out of line, the call cost the `log` path about
    /// 25 instructions per record).
    #[inline(always)]
    pub(crate) fn new(meta: &Meta<'a>) -> Head<'a> {
        if meta.kind == Kind::Native {
            return Head::native(meta);
        }
        let target = prefix_at_char(meta.target, MAX_META_STR);
        let module_path = prefix_at_char(meta.module_path, MAX_META_STR);
        // The `log` macros pass the same literal twice: compare addresses
        // first, bytes only when they differ.
        let same = module_path.len() == target.len()
            && (std::ptr::eq(module_path.as_ptr(), target.as_ptr()) || module_path == target);
        let (module_path, flags) = if !module_path.is_empty() && same {
            (&b""[..], FLAG_MODULE_IS_TARGET)
        } else {
            (module_path, 0)
        };
        Head {
            kind: meta.kind,
            level: meta.level,
            line: meta.line.unwrap_or(u32::MAX),
            timestamp_ns: meta.timestamp_ns,
            thread_id: meta.thread_id,
            thread_name: cut_thread_name(meta.thread_name).as_bytes(),
            target,
            module_path,
            file: prefix_at_char(meta.file, MAX_META_STR),
            flags,
        }
    }

    /// [`Head::new`] of a Native record.
    #[inline]
    fn native(meta: &Meta<'a>) -> Head<'a> {
        Head {
            kind: meta.kind,
            level: meta.level,
            line: u32::MAX,
            timestamp_ns: meta.timestamp_ns,
            thread_id: meta.thread_id,
            thread_name: cut_thread_name(meta.thread_name).as_bytes(),
            target: b"",
            module_path: b"",
            file: b"",
            flags: 0,
        }
    }

    /// The encoded length of the head: where the message starts.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        HEADER_LEN
            + 1
            + self.thread_name.len()
            + 6
            + self.target.len()
            + self.module_path.len()
            + self.file.len()
    }

    /// Writes the head into `dst`, which must be exactly [`Head::len`]
    /// bytes long, for a message of `msg_len` bytes; `flags` and
    /// `orig_len` as set by truncation.
    #[inline]
    fn write(&self, dst: &mut [u8], msg_len: u32, flags: u16, orig_len: u32) {
        let mut h = [0u8; HEADER_LEN];
        h[OFF_KIND] = self.kind as u8;
        h[OFF_LEVEL] = self.level as u8;
        h[OFF_FLAGS..OFF_FLAGS + 2].copy_from_slice(&(flags | self.flags).to_le_bytes());
        h[OFF_LINE..OFF_LINE + 4].copy_from_slice(&self.line.to_le_bytes());
        h[OFF_TIMESTAMP..OFF_TIMESTAMP + 8].copy_from_slice(&self.timestamp_ns.to_le_bytes());
        h[OFF_THREAD_ID..OFF_THREAD_ID + 8].copy_from_slice(&self.thread_id.to_le_bytes());
        h[OFF_ORIG_LEN..OFF_ORIG_LEN + 4].copy_from_slice(&orig_len.to_le_bytes());
        h[OFF_MSG_LEN..OFF_MSG_LEN + 4].copy_from_slice(&msg_len.to_le_bytes());
        let (fixed, rest) = dst.split_at_mut(HEADER_LEN);
        fixed.copy_from_slice(&h);
        let (n, rest) = rest.split_at_mut(1);
        // Cannot truncate: the name was cut to u8::MAX in `Head::new`.
        n[0] = self.thread_name.len() as u8;
        let (name, rest) = rest.split_at_mut(self.thread_name.len());
        name.copy_from_slice(self.thread_name);
        let rest = put_u16_str(rest, self.target);
        let rest = put_u16_str(rest, self.module_path);
        let rest = put_u16_str(rest, self.file);
        debug_assert!(rest.is_empty(), "head length mismatch");
    }
}

/// A record ready for the queue: its [`Head`], written straight into the
/// queue, and its body (the message, then fields and spans), encoded by an
/// [`Encoder::body`] into the thread's buffer.
#[derive(Debug)]
pub(crate) struct Pending<'h, 'b> {
    head: Head<'h>,
    body: &'b [u8],
    msg_len: usize,
    flags: u16,
    orig_len: u32,
}

impl<'h, 'b> Pending<'h, 'b> {
    /// `msg_len` is what [`Encoder::finish_body`] returned for `body`.
    #[inline]
    pub(crate) fn new(head: Head<'h>, body: &'b [u8], msg_len: usize) -> Pending<'h, 'b> {
        debug_assert!(msg_len <= body.len());
        Pending {
            head,
            body,
            msg_len,
            flags: 0,
            orig_len: 0,
        }
    }

    /// The encoded length of the whole record.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.head.len() + self.body.len()
    }

    /// Cuts the record to at most `max` bytes (`max` must leave room for the
    /// head): the message is cut at a character boundary and the fields are
    /// dropped; the record is flagged so the renderer marks it. Returns
    /// `false` if the record already fit.
    #[inline]
    pub(crate) fn truncate(&mut self, max: usize) -> bool {
        if self.len() <= max {
            return false;
        }
        self.cut(max);
        true
    }

    /// [`Pending::truncate`] of a record longer than `max`.
    #[cold]
    #[inline(never)]
    fn cut(&mut self, max: usize) {
        let full = self.len();
        let room = max.saturating_sub(self.head.len());
        let msg = &self.body[..self.msg_len];
        let cut = cut_point(msg, room);
        self.body = &self.body[..cut];
        self.msg_len = cut;
        self.flags |= FLAG_TRUNCATED;
        self.orig_len = u32::try_from(full).unwrap_or(u32::MAX);
    }

    /// Writes the record into `dst`, which must be exactly
    /// [`Pending::len`] bytes long (the space claimed in the queue).
    #[inline]
    pub(crate) fn write(&self, dst: &mut [u8]) {
        let (head, body) = dst.split_at_mut(self.head.len());
        let msg_len = u32::try_from(self.msg_len).unwrap_or(u32::MAX);
        self.head.write(head, msg_len, self.flags, self.orig_len);
        body.copy_from_slice(self.body);
    }
}

/// A whole record encoded the way the caller path does it (body, then head
/// and body written into a buffer of the exact length), for tests.
#[cfg(test)]
pub(crate) fn encode_pending(meta: &Meta<'_>, body: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut enc = Encoder::body(&mut buf);
    body(&mut enc);
    let msg_len = enc.finish_body();
    let rec = Pending::new(Head::new(meta), &buf, msg_len);
    let mut out = vec![0; rec.len()];
    rec.write(&mut out);
    out
}

/// Where to cut a message so that at most `room` bytes of it remain: at a
/// UTF-8 boundary if the message is text, stepping back at most three
/// bytes, so a binary message is not cut further than needed.
fn cut_point(msg: &[u8], room: usize) -> usize {
    let mut cut = room.min(msg.len());
    let floor = cut.saturating_sub(3);
    while cut > floor && cut < msg.len() && (msg[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    cut
}

/// Writes one record. [`Encoder::new`] writes a whole record (head and
/// body) into a buffer; [`Encoder::body`] writes only the body, for a
/// [`Pending`] record whose head goes straight into the queue (the caller
/// path). The message comes first, then fields and spans.
pub(crate) struct Encoder<'b> {
    buf: &'b mut Vec<u8>,
    msg_start: usize,
    msg_len: Option<usize>,
    /// The head is at the start of `buf` (a whole record), so the message
    /// length is patched into it when the message ends.
    head_in_buf: bool,
}

fn put_str_u16(buf: &mut Vec<u8>, s: &str, max: usize) {
    let s = prefix_at_char(s, max.min(u16::MAX as usize));
    // Cannot truncate: the length was capped to u16::MAX just above.
    buf.extend_from_slice(&(s.len() as u16).to_le_bytes());
    buf.extend_from_slice(s);
}

fn put_str_u32(buf: &mut Vec<u8>, s: &[u8]) {
    let s = &s[..s.len().min(u32::MAX as usize)];
    buf.extend_from_slice(&(s.len() as u32).to_le_bytes());
    buf.extend_from_slice(s);
}

impl<'b> Encoder<'b> {
    /// Clears `buf` and writes the head of a whole record; the message and
    /// items follow. For records that do not go through the caller path
    /// (the writer's own notices, tests).
    pub(crate) fn new(buf: &'b mut Vec<u8>, meta: &Meta<'_>) -> Encoder<'b> {
        let head = Head::new(meta);
        let len = head.len();
        buf.clear();
        buf.resize(len, 0);
        head.write(buf, 0, 0, 0);
        Encoder {
            buf,
            msg_start: len,
            msg_len: None,
            head_in_buf: true,
        }
    }

    /// Clears `buf` for the body of a [`Pending`] record.
    #[inline]
    pub(crate) fn body(buf: &'b mut Vec<u8>) -> Encoder<'b> {
        buf.clear();
        Encoder {
            buf,
            msg_start: 0,
            msg_len: None,
            head_in_buf: false,
        }
    }

    /// Drops the message and items written so far, to encode them again.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))] // The `tracing` layer's.
    pub(crate) fn restart(&mut self) {
        self.buf.truncate(self.msg_start);
        self.msg_len = None;
    }

    /// Appends bytes to the message. Must come before any field or span.
    pub(crate) fn message_bytes(&mut self, bytes: &[u8]) {
        debug_assert!(self.msg_len.is_none(), "message after fields");
        self.buf.extend_from_slice(bytes);
    }

    /// The buffer the message is written into, for a producer that encodes
    /// its message section itself (the native macros' call-site id and
    /// arguments). Must come before any field or span.
    #[cfg_attr(not(feature = "log"), allow(dead_code))] // The caller side needs `log`.
    #[inline]
    pub(crate) fn message_buf(&mut self) -> &mut Vec<u8> {
        debug_assert!(self.msg_len.is_none(), "message after fields");
        self.buf
    }

    /// Appends formatted text to the message.
    #[inline]
    pub(crate) fn message_fmt(&mut self, args: fmt::Arguments<'_>) {
        debug_assert!(self.msg_len.is_none(), "message after fields");
        if let Some(s) = args.as_str() {
            self.buf.extend_from_slice(s.as_bytes());
        } else {
            // A formatting error comes only from a user `Display` impl that
            // returned `Err`; keep whatever it wrote and mark the spot.
            if fmt::write(&mut VecWriter(self.buf), args).is_err() {
                self.buf.extend_from_slice(b"<formatting error>");
            }
        }
    }

    fn end_message(&mut self) -> usize {
        match self.msg_len {
            Some(len) => len,
            None => {
                let len = self.buf.len() - self.msg_start;
                if self.head_in_buf {
                    let len = u32::try_from(len).unwrap_or(u32::MAX);
                    self.buf[OFF_MSG_LEN..OFF_MSG_LEN + 4].copy_from_slice(&len.to_le_bytes());
                }
                self.msg_len = Some(len);
                len
            }
        }
    }

    /// Appends a field (to the event, or to the last span started).
    pub(crate) fn field(&mut self, key: &str, value: Value<'_>) {
        self.end_message();
        self.buf.push(ITEM_FIELD);
        put_str_u16(self.buf, key, u16::MAX as usize);
        match value {
            Value::Str(s) => {
                self.buf.push(VAL_STR);
                put_str_u32(self.buf, s);
            }
            Value::I64(v) => {
                self.buf.push(VAL_I64);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Value::U64(v) => {
                self.buf.push(VAL_U64);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Value::F64(v) => {
                self.buf.push(VAL_F64);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            Value::Bool(v) => {
                self.buf.push(VAL_BOOL);
                self.buf.push(v as u8);
            }
        }
    }

    /// Appends a field whose value is formatted text (a `Debug` value).
    #[cfg_attr(not(any(feature = "log", feature = "tracing")), allow(dead_code))] // The facades'.
    pub(crate) fn field_fmt(&mut self, key: &str, args: fmt::Arguments<'_>) {
        self.end_message();
        self.buf.push(ITEM_FIELD);
        put_str_u16(self.buf, key, u16::MAX as usize);
        self.buf.push(VAL_STR);
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&0u32.to_le_bytes());
        if fmt::write(&mut VecWriter(self.buf), args).is_err() {
            self.buf.extend_from_slice(b"<formatting error>");
        }
        let len = u32::try_from(self.buf.len() - len_at - 4).unwrap_or(u32::MAX);
        self.buf[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
    }

    /// Starts a span; the fields added next belong to it.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))] // The `tracing` layer's.
    pub(crate) fn span(&mut self, name: &str) {
        self.end_message();
        self.buf.push(ITEM_SPAN);
        put_str_u16(self.buf, name, u16::MAX as usize);
    }

    /// Finishes a whole record ([`Encoder::new`]) and returns its length.
    pub(crate) fn finish(mut self) -> usize {
        self.end_message();
        self.buf.len()
    }

    /// Finishes a body ([`Encoder::body`]) and returns the message length,
    /// for [`Pending::new`].
    #[inline]
    pub(crate) fn finish_body(mut self) -> usize {
        self.end_message()
    }
}

/// `fmt::Write` into a byte vector.
pub(crate) struct VecWriter<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// [`Pending::truncate`] for a whole encoded record (tests build records
/// with [`Encoder::new`] and cut them with this; the caller path cuts its
/// [`Pending`] record before it is written).
#[cfg(test)]
pub(crate) fn truncate(buf: &mut Vec<u8>, max: usize) -> bool {
    if buf.len() <= max {
        return false;
    }
    let Ok(view) = RecordView::parse(buf) else {
        buf.truncate(max);
        return true;
    };
    let msg_start = view.message_start();
    let cut = cut_point(view.message(), max.saturating_sub(msg_start));
    let orig = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    buf.truncate(msg_start + cut);
    let flags = u16::from_le_bytes([buf[OFF_FLAGS], buf[OFF_FLAGS + 1]]) | FLAG_TRUNCATED;
    buf[OFF_FLAGS..OFF_FLAGS + 2].copy_from_slice(&flags.to_le_bytes());
    buf[OFF_ORIG_LEN..OFF_ORIG_LEN + 4].copy_from_slice(&orig.to_le_bytes());
    let cut = u32::try_from(cut).unwrap_or(u32::MAX);
    buf[OFF_MSG_LEN..OFF_MSG_LEN + 4].copy_from_slice(&cut.to_le_bytes());
    true
}

/// A malformed record (a bug, never user input: records are only produced
/// by the encoder above). The writer counts it and moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecodeError;

/// A decoded view of one record, borrowing the queue's bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RecordView<'a> {
    bytes: &'a [u8],
    pub(crate) kind: Kind,
    pub(crate) level: Level,
    pub(crate) flags: u16,
    pub(crate) line: Option<u32>,
    pub(crate) timestamp_ns: u64,
    pub(crate) thread_id: u64,
    pub(crate) orig_len: u32,
    pub(crate) thread_name: &'a [u8],
    pub(crate) target: &'a [u8],
    pub(crate) module_path: &'a [u8],
    pub(crate) file: &'a [u8],
    message: &'a [u8],
    /// Where the items start in `bytes`.
    items_start: usize,
}

/// One field or span marker after the message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Item<'a> {
    Field(&'a [u8], Value<'a>),
    Span(&'a [u8]),
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError)?;
        let s = self.b.get(self.pos..end).ok_or(DecodeError)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(a))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    fn str8(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u8()? as usize;
        self.take(n)
    }
    fn str16(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u16()? as usize;
        self.take(n)
    }
}

impl<'a> RecordView<'a> {
    /// Decodes the header of an encoded record.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<RecordView<'a>, DecodeError> {
        let mut r = Reader { b: bytes, pos: 0 };
        let kind = match r.u8()? {
            1 => Kind::Event,
            2 => Kind::Raw,
            3 => Kind::Native,
            _ => return Err(DecodeError),
        };
        let level = Level::from_u8(r.u8()?).ok_or(DecodeError)?;
        let flags = r.u16()?;
        let line = match r.u32()? {
            u32::MAX => None,
            l => Some(l),
        };
        let timestamp_ns = r.u64()?;
        let thread_id = r.u64()?;
        let orig_len = r.u32()?;
        let msg_len = r.u32()? as usize;
        debug_assert_eq!(r.pos, HEADER_LEN);
        let thread_name = r.str8()?;
        let target = r.str16()?;
        let module_path = match r.str16()? {
            [] if flags & FLAG_MODULE_IS_TARGET != 0 => target,
            m => m,
        };
        let file = r.str16()?;
        let message = r.take(msg_len)?;
        Ok(RecordView {
            bytes,
            kind,
            level,
            flags,
            line,
            timestamp_ns,
            thread_id,
            orig_len,
            thread_name,
            target,
            module_path,
            file,
            message,
            items_start: r.pos,
        })
    }

    /// The message bytes.
    pub(crate) fn message(&self) -> &'a [u8] {
        self.message
    }

    /// Where the message starts in the record's bytes.
    #[cfg(test)]
    fn message_start(&self) -> usize {
        self.items_start - self.message.len()
    }

    /// A Native record's call-site id and encoded arguments; an error for
    /// any other kind or a message section too short for the id.
    pub(crate) fn native_parts(&self) -> Result<(u32, &'a [u8]), DecodeError> {
        if self.kind != Kind::Native {
            return Err(DecodeError);
        }
        let (id, args) = self
            .message
            .split_first_chunk::<NATIVE_ID_LEN>()
            .ok_or(DecodeError)?;
        Ok((u32::from_le_bytes(*id), args))
    }

    /// This record as the [`Kind::Event`] it stands for, once its message
    /// has been formatted: the call site's target, module path, file and
    /// line (cut as the head would cut them), and `message`; everything
    /// else (timestamp, level, thread, flags, items) is this record's.
    pub(crate) fn resolved<'b>(&self, site: Site<'b>, message: &'b [u8]) -> RecordView<'b>
    where
        'a: 'b,
    {
        RecordView {
            kind: Kind::Event,
            target: prefix_at_char(site.target, MAX_META_STR),
            module_path: prefix_at_char(site.module_path, MAX_META_STR),
            file: prefix_at_char(site.file, MAX_META_STR),
            line: site.line,
            message,
            ..*self
        }
    }

    /// Whether the message was cut to fit.
    pub(crate) fn truncated(&self) -> bool {
        self.flags & FLAG_TRUNCATED != 0
    }

    /// Iterates over the fields and span markers after the message. A
    /// malformed tail yields one `Err` and ends the iteration.
    pub(crate) fn items(&self) -> Items<'a> {
        Items {
            r: Reader {
                b: self.bytes,
                pos: self.items_start,
            },
            failed: false,
        }
    }
}

/// Iterator over a record's fields and spans.
pub(crate) struct Items<'a> {
    r: Reader<'a>,
    failed: bool,
}

impl<'a> Items<'a> {
    fn next_item(&mut self) -> Result<Item<'a>, DecodeError> {
        match self.r.u8()? {
            ITEM_FIELD => {
                let key = self.r.str16()?;
                let value = match self.r.u8()? {
                    VAL_STR => {
                        let n = self.r.u32()? as usize;
                        Value::Str(self.r.take(n)?)
                    }
                    VAL_I64 => Value::I64(self.r.u64()? as i64),
                    VAL_U64 => Value::U64(self.r.u64()?),
                    VAL_F64 => Value::F64(f64::from_bits(self.r.u64()?)),
                    VAL_BOOL => Value::Bool(self.r.u8()? != 0),
                    _ => return Err(DecodeError),
                };
                Ok(Item::Field(key, value))
            }
            ITEM_SPAN => Ok(Item::Span(self.r.str16()?)),
            _ => Err(DecodeError),
        }
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Result<Item<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.r.pos >= self.r.b.len() {
            return None;
        }
        let item = self.next_item();
        self.failed = item.is_err();
        Some(item)
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
