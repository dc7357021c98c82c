//! The record format between the caller and the writer.
//!
//! A caller encodes a record into a reusable thread-local buffer, then copies
//! it into the queue in one piece; the writer decodes it in place, straight
//! out of the ring, and renders it. Nothing here allocates once the buffer
//! has grown to its working size.
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
//! `kind` leaves room for other producers: [`Kind::Event`] is a structured
//! event from a facade, [`Kind::Raw`] is a line formatted by the caller (the
//! `MakeWriter` path), and a future deferred-formatting path can add its own
//! kind without breaking either.
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
}

/// Flag bit: the message was cut to fit the maximum record size.
pub(crate) const FLAG_TRUNCATED: u16 = 1;

const HEADER_LEN: usize = 32;
const OFF_FLAGS: usize = 2;
const OFF_ORIG_LEN: usize = 24;
const OFF_MSG_LEN: usize = 28;
/// Longest target, module path or file name kept; longer ones are cut.
pub(crate) const MAX_META_STR: usize = 256;

const ITEM_FIELD: u8 = 1;
const ITEM_SPAN: u8 = 2;
const VAL_STR: u8 = 0;
const VAL_I64: u8 = 1;
const VAL_U64: u8 = 2;
const VAL_F64: u8 = 3;
const VAL_BOOL: u8 = 4;

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

/// Writes one record into a buffer. Created by [`Encoder::new`], which
/// writes the header; the message follows, then fields and spans.
pub(crate) struct Encoder<'b> {
    buf: &'b mut Vec<u8>,
    msg_start: usize,
    msg_done: bool,
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary, so a cut string stays valid UTF-8.
fn prefix_at_char(s: &str, max: usize) -> &[u8] {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s.as_bytes()[..end]
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
    /// Clears `buf` and writes the header and metadata strings.
    pub(crate) fn new(buf: &'b mut Vec<u8>, meta: &Meta<'_>) -> Encoder<'b> {
        // The fixed header in one copy: this runs on every log call.
        let mut h = [0u8; HEADER_LEN];
        h[0] = meta.kind as u8;
        h[1] = meta.level as u8;
        h[4..8].copy_from_slice(&meta.line.unwrap_or(u32::MAX).to_le_bytes());
        h[8..16].copy_from_slice(&meta.timestamp_ns.to_le_bytes());
        h[16..24].copy_from_slice(&meta.thread_id.to_le_bytes());
        buf.clear();
        buf.reserve(
            HEADER_LEN
                + 8
                + meta.thread_name.len()
                + meta.target.len()
                + meta.module_path.len()
                + meta.file.len()
                + 128,
        );
        buf.extend_from_slice(&h);
        let name = prefix_at_char(meta.thread_name, u8::MAX as usize);
        buf.push(name.len() as u8);
        buf.extend_from_slice(name);
        put_str_u16(buf, meta.target, MAX_META_STR);
        put_str_u16(buf, meta.module_path, MAX_META_STR);
        put_str_u16(buf, meta.file, MAX_META_STR);
        let msg_start = buf.len();
        Encoder {
            buf,
            msg_start,
            msg_done: false,
        }
    }

    /// Appends bytes to the message. Must come before any field or span.
    pub(crate) fn message_bytes(&mut self, bytes: &[u8]) {
        debug_assert!(!self.msg_done, "message after fields");
        self.buf.extend_from_slice(bytes);
    }

    /// Appends formatted text to the message.
    pub(crate) fn message_fmt(&mut self, args: fmt::Arguments<'_>) {
        debug_assert!(!self.msg_done, "message after fields");
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

    fn end_message(&mut self) {
        if !self.msg_done {
            let len = self.buf.len() - self.msg_start;
            let len = u32::try_from(len).unwrap_or(u32::MAX);
            self.buf[OFF_MSG_LEN..OFF_MSG_LEN + 4].copy_from_slice(&len.to_le_bytes());
            self.msg_done = true;
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
    pub(crate) fn span(&mut self, name: &str) {
        self.end_message();
        self.buf.push(ITEM_SPAN);
        put_str_u16(self.buf, name, u16::MAX as usize);
    }

    /// Finishes the record and returns its encoded length.
    pub(crate) fn finish(mut self) -> usize {
        self.end_message();
        self.buf.len()
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

/// Cuts an encoded record to at most `max` bytes (`max` must leave room for
/// the header and metadata). The message is cut at a character boundary and
/// the fields are dropped; the record is flagged so the renderer marks it.
/// Returns `false` if the record already fit.
pub(crate) fn truncate(buf: &mut Vec<u8>, max: usize) -> bool {
    if buf.len() <= max {
        return false;
    }
    let Ok(view) = RecordView::parse(buf) else {
        buf.truncate(max);
        return true;
    };
    let msg_start = view.msg_start;
    let msg = view.message();
    let room = max.saturating_sub(msg_start);
    let mut cut = room.min(msg.len());
    // Step back to a UTF-8 boundary if the message is text: at most three
    // bytes, so a binary message is not cut further than needed.
    let floor = cut.saturating_sub(3);
    while cut > floor && cut < msg.len() && (msg[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
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
    msg_start: usize,
    msg_end: usize,
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
        let module_path = r.str16()?;
        let file = r.str16()?;
        let msg_start = r.pos;
        r.take(msg_len)?;
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
            msg_start,
            msg_end: r.pos,
        })
    }

    /// The message bytes.
    pub(crate) fn message(&self) -> &'a [u8] {
        &self.bytes[self.msg_start..self.msg_end]
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
                pos: self.msg_end,
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
