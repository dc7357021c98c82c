//! The arguments of a native call: how the caller encodes them into the
//! record and how the writer decodes them to format the message.
//!
//! The macro lays the record's arguments out as *slots*, one per hole of
//! the format string and one per width or precision taken from an argument
//! (`{:w$}`, `{:.*}`); the call site's render function reads them in the
//! same order. Each slot is a tag byte and a value, little-endian:
//!
//! ```text
//!  tag   value
//!  1-12  i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize (their width;
//!        isize and usize as 8 bytes)
//!  13,14 f32, f64 (their bits)
//!  15    bool (1 byte)       16  char (u32)
//!  17    str:  u32 length + UTF-8 bytes
//!  18    text formatted on the caller (a type that does not opt in):
//!        u32 length + UTF-8 bytes, written as it is
//!  19    as 18, but the type's formatting failed after writing this much
//!  20    a width or precision (u64)
//! ```
//!
//! Decoding never panics. A record cut to fit the maximum record size ends
//! in the middle of a slot: that slot and all later ones decode as missing,
//! and formatting stops there.

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::record::VecWriter;

/// A value a native log call stores raw in the record, for the writer to
/// format: see [`NativeArg`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum NativeValue<'a> {
    /// An `i8`.
    I8(i8),
    /// An `i16`.
    I16(i16),
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `i128`.
    I128(i128),
    /// An `isize`.
    Isize(isize),
    /// A `u8`.
    U8(u8),
    /// A `u16`.
    U16(u16),
    /// A `u32`.
    U32(u32),
    /// A `u64`.
    U64(u64),
    /// A `u128`.
    U128(u128),
    /// A `usize`.
    Usize(usize),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
    /// A `bool`.
    Bool(bool),
    /// A `char`.
    Char(char),
    /// A string (its length and bytes are copied).
    Str(&'a str),
}

/// A type whose values the native macros (`jamless::info!` and its
/// siblings) copy into the record raw, leaving the formatting to the writer
/// thread.
///
/// Implemented for the integers, floats, `bool`, `char`, `str`, `String`,
/// `Cow<str>`, `Box<str>`, `Rc<str>`, `Arc<str>` and references to any of
/// them. An argument whose type does not implement it is formatted on the
/// caller's thread, with its hole's spec, and the text is copied (as the
/// `log` facade does for every argument).
///
/// # For implementors
///
/// Implement it for a type whose formatting *is* that of a value above, in
/// every formatting trait the type implements: a newtype `UserId(u64)`
/// whose `Display` and `Debug` print the number may return
/// `NativeValue::U64(self.0)`. The writer formats the returned value with
/// the hole's spec, so a type whose `Debug` differs from the value's (a
/// derived `Debug` prints `UserId(7)`) must not opt in. A formatting trait
/// the returned value does not have (hex of a float) renders its `Display`.
///
/// ```
/// struct UserId(u64);
/// impl std::fmt::Display for UserId {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         std::fmt::Display::fmt(&self.0, f)
///     }
/// }
/// impl jamless::NativeArg for UserId {
///     fn native_value(&self) -> jamless::NativeValue<'_> {
///         jamless::NativeValue::U64(self.0)
///     }
/// }
/// # let (logger, _guard) = jamless::Builder::new().sink(jamless::StderrSink::new()).build()?;
/// # let adapter = logger.log_adapter()?;
/// jamless::info!(logger: &adapter, "login user={}", UserId(7));
/// # Ok::<(), jamless::Error>(())
/// ```
pub trait NativeArg {
    /// The value to store.
    fn native_value(&self) -> NativeValue<'_>;
}

macro_rules! native_copy {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl NativeArg for $t {
            #[inline]
            fn native_value(&self) -> NativeValue<'_> {
                NativeValue::$v(*self)
            }
        }
    )*};
}

native_copy!(
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, i128 => I128, isize => Isize,
    u8 => U8, u16 => U16, u32 => U32, u64 => U64, u128 => U128, usize => Usize,
    f32 => F32, f64 => F64, bool => Bool, char => Char,
);

macro_rules! native_str {
    ($($t:ty),* $(,)?) => {$(
        impl NativeArg for $t {
            #[inline]
            fn native_value(&self) -> NativeValue<'_> {
                NativeValue::Str(self)
            }
        }
    )*};
}

native_str!(str, String, Box<str>, Rc<str>, Arc<str>);

impl NativeArg for Cow<'_, str> {
    #[inline]
    fn native_value(&self) -> NativeValue<'_> {
        NativeValue::Str(self)
    }
}

impl<T: NativeArg + ?Sized> NativeArg for &T {
    #[inline]
    fn native_value(&self) -> NativeValue<'_> {
        (**self).native_value()
    }
}

impl<T: NativeArg + ?Sized> NativeArg for &mut T {
    #[inline]
    fn native_value(&self) -> NativeValue<'_> {
        (**self).native_value()
    }
}

const TAG_STR: u8 = 17;
const TAG_EAGER: u8 = 18;
const TAG_EAGER_FAILED: u8 = 19;
const TAG_COUNT: u8 = 20;

/// Writes a call's slots into the record's message section (the caller's
/// side; the macro's generated code calls it).
pub struct ArgEncoder<'b> {
    buf: &'b mut Vec<u8>,
}

impl<'b> ArgEncoder<'b> {
    #[cfg_attr(not(feature = "log"), allow(dead_code))] // The caller side needs `log`.
    pub(crate) fn new(buf: &'b mut Vec<u8>) -> ArgEncoder<'b> {
        ArgEncoder { buf }
    }

    #[inline(always)]
    fn put(&mut self, tag: u8, bytes: &[u8]) {
        self.buf.push(tag);
        self.buf.extend_from_slice(bytes);
    }

    /// A width or precision.
    #[inline]
    pub fn count(&mut self, n: usize) {
        self.put(TAG_COUNT, &(n as u64).to_le_bytes());
    }

    /// A raw value. Inlined so that the match folds away: at each call
    /// site the variant is known once `native_value` is inlined.
    #[inline(always)]
    pub fn native(&mut self, v: NativeValue<'_>) {
        match v {
            NativeValue::I8(x) => self.put(1, &x.to_le_bytes()),
            NativeValue::I16(x) => self.put(2, &x.to_le_bytes()),
            NativeValue::I32(x) => self.put(3, &x.to_le_bytes()),
            NativeValue::I64(x) => self.put(4, &x.to_le_bytes()),
            NativeValue::I128(x) => self.put(5, &x.to_le_bytes()),
            NativeValue::Isize(x) => self.put(6, &(x as i64).to_le_bytes()),
            NativeValue::U8(x) => self.put(7, &x.to_le_bytes()),
            NativeValue::U16(x) => self.put(8, &x.to_le_bytes()),
            NativeValue::U32(x) => self.put(9, &x.to_le_bytes()),
            NativeValue::U64(x) => self.put(10, &x.to_le_bytes()),
            NativeValue::U128(x) => self.put(11, &x.to_le_bytes()),
            NativeValue::Usize(x) => self.put(12, &(x as u64).to_le_bytes()),
            NativeValue::F32(x) => self.put(13, &x.to_bits().to_le_bytes()),
            NativeValue::F64(x) => self.put(14, &x.to_bits().to_le_bytes()),
            NativeValue::Bool(x) => self.put(15, &[x as u8]),
            NativeValue::Char(x) => self.put(16, &u32::from(x).to_le_bytes()),
            NativeValue::Str(s) => {
                // A string longer than 4 GiB is cut (at a character
                // boundary); the record's size limit cuts far earlier.
                let mut end = s.len().min(u32::MAX as usize);
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                self.put(TAG_STR, &(end as u32).to_le_bytes());
                self.buf.extend_from_slice(&s.as_bytes()[..end]);
            }
        }
    }

    /// A value formatted now, on the caller's thread, by `format` (the
    /// hole's spec applied to an argument that does not opt in).
    pub fn eager(&mut self, format: impl FnOnce(&mut dyn fmt::Write) -> fmt::Result) {
        let tag_at = self.buf.len();
        self.put(TAG_EAGER, &[0; 4]);
        let start = self.buf.len();
        let failed = format(&mut VecWriter(self.buf)).is_err();
        let len = u32::try_from(self.buf.len() - start).unwrap_or(u32::MAX);
        self.buf[tag_at + 1..start].copy_from_slice(&len.to_le_bytes());
        if failed {
            self.buf[tag_at] = TAG_EAGER_FAILED;
        }
    }
}

/// The borrowed argument of a native call, as the macro's generated code
/// passes it to [`ViaNative`] or [`ViaFormat`].
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

/// Chosen for an argument whose type implements [`NativeArg`]: stored raw.
pub trait ViaNative {
    /// Encodes the argument's slot.
    fn __jamless_encode<F>(&self, enc: &mut ArgEncoder<'_>, eager: F)
    where
        F: FnOnce(&mut dyn fmt::Write) -> fmt::Result;
}

impl<T: NativeArg + ?Sized> ViaNative for Wrap<'_, T> {
    #[inline]
    fn __jamless_encode<F>(&self, enc: &mut ArgEncoder<'_>, _eager: F)
    where
        F: FnOnce(&mut dyn fmt::Write) -> fmt::Result,
    {
        enc.native(self.0.native_value());
    }
}

/// Chosen for any other argument (autoref specialisation: the macro calls
/// the method on `&Wrap`, which finds [`ViaNative`] first when it applies):
/// formatted on the caller.
pub trait ViaFormat {
    /// Encodes the argument's slot.
    fn __jamless_encode<F>(&self, enc: &mut ArgEncoder<'_>, eager: F)
    where
        F: FnOnce(&mut dyn fmt::Write) -> fmt::Result;
}

impl<T: ?Sized> ViaFormat for &Wrap<'_, T> {
    #[inline]
    fn __jamless_encode<F>(&self, enc: &mut ArgEncoder<'_>, eager: F)
    where
        F: FnOnce(&mut dyn fmt::Write) -> fmt::Result,
    {
        enc.eager(eager);
    }
}

/// A decoded slot, formatted by the call site's render function with the
/// hole's spec (its `Debug` is the value's, as the spec asks).
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    /// A raw value: formatted with the spec.
    Value(NativeValue<'a>),
    /// Text formatted on the caller: written as it is.
    Text(&'a str),
    /// Text formatted on the caller whose formatting failed, or the part of
    /// a string that a record cut to fit still holds: written, then
    /// formatting stops (as `format!` stops at a failing argument).
    Failed(&'a str),
    /// Cut off with the end of a truncated record: formatting stops.
    Missing,
}

/// Reads a call's slots (the writer's side; the call site's generated
/// render function calls it once per slot, in order).
pub struct Decoder<'a> {
    b: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Decoder<'a> {
        Decoder {
            b,
            pos: 0,
            failed: false,
        }
    }

    /// Whether a slot was missing or malformed.
    #[cfg(test)]
    fn failed(&self) -> bool {
        self.failed
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.b.get(self.pos..self.pos.checked_add(N)?)?;
        self.pos += N;
        s.try_into().ok()
    }

    /// A length and text; `false` with the part that is there (up to a
    /// character boundary) if the record ends first (it was cut to fit).
    fn text(&mut self) -> Option<(&'a str, bool)> {
        let n = u32::from_le_bytes(self.take()?) as usize;
        let rest = &self.b[self.pos..];
        if let Some(s) = rest.get(..n) {
            self.pos += n;
            return Some((std::str::from_utf8(s).ok()?, true));
        }
        self.pos = self.b.len();
        self.failed = true;
        let valid = match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).ok()?,
        };
        Some((valid, false))
    }

    fn try_value(&mut self) -> Option<Arg<'a>> {
        let [tag] = self.take()?;
        let v = match tag {
            1 => NativeValue::I8(i8::from_le_bytes(self.take()?)),
            2 => NativeValue::I16(i16::from_le_bytes(self.take()?)),
            3 => NativeValue::I32(i32::from_le_bytes(self.take()?)),
            4 => NativeValue::I64(i64::from_le_bytes(self.take()?)),
            5 => NativeValue::I128(i128::from_le_bytes(self.take()?)),
            6 => NativeValue::Isize(isize::try_from(i64::from_le_bytes(self.take()?)).ok()?),
            7 => NativeValue::U8(u8::from_le_bytes(self.take()?)),
            8 => NativeValue::U16(u16::from_le_bytes(self.take()?)),
            9 => NativeValue::U32(u32::from_le_bytes(self.take()?)),
            10 => NativeValue::U64(u64::from_le_bytes(self.take()?)),
            11 => NativeValue::U128(u128::from_le_bytes(self.take()?)),
            12 => NativeValue::Usize(usize::try_from(u64::from_le_bytes(self.take()?)).ok()?),
            13 => NativeValue::F32(f32::from_bits(u32::from_le_bytes(self.take()?))),
            14 => NativeValue::F64(f64::from_bits(u64::from_le_bytes(self.take()?))),
            15 => NativeValue::Bool(self.take::<1>()?[0] != 0),
            16 => NativeValue::Char(char::from_u32(u32::from_le_bytes(self.take()?))?),
            TAG_STR | TAG_EAGER | TAG_EAGER_FAILED => {
                let (s, complete) = self.text()?;
                return Some(match (tag, complete) {
                    (TAG_STR, true) => Arg::Value(NativeValue::Str(s)),
                    (TAG_EAGER, true) => Arg::Text(s),
                    _ => Arg::Failed(s),
                });
            }
            _ => return None,
        };
        Some(Arg::Value(v))
    }

    /// The next value slot; [`Arg::Missing`] once any slot was missing.
    pub fn value(&mut self) -> Arg<'a> {
        if self.failed {
            return Arg::Missing;
        }
        self.try_value().unwrap_or_else(|| {
            self.failed = true;
            Arg::Missing
        })
    }

    /// Decodes the next value slot and writes it as a plain `{}` hole
    /// does: [`Decoder::value`] then [`Arg::write_display`], in one step
    /// for the common slots (integers and complete strings, without
    /// building the [`Arg`]). The render function of a call site calls it
    /// for each plain hole.
    #[inline]
    pub fn display(&mut self, w: &mut String) -> fmt::Result {
        macro_rules! int {
            ($t:ty) => {
                if let Some(b) = self.b.get(self.pos + 1..).and_then(|r| r.first_chunk()) {
                    self.pos += 1 + size_of::<$t>();
                    w.push_str(itoa::Buffer::new().format(<$t>::from_le_bytes(*b)));
                    return Ok(());
                }
            };
        }
        if !self.failed {
            match self.b.get(self.pos) {
                Some(1) => int!(i8),
                Some(2) => int!(i16),
                Some(3) => int!(i32),
                Some(4) => int!(i64),
                Some(7) => int!(u8),
                Some(8) => int!(u16),
                Some(9) => int!(u32),
                Some(10) => int!(u64),
                Some(&TAG_STR) => {
                    if let Some(s) = self.complete_str() {
                        w.push_str(s);
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        // Anything else, a cut slot included, takes the general path.
        self.value().write_display(w)
    }

    /// A string slot at `pos` stored whole and valid, consumed; `None`
    /// (nothing consumed) otherwise.
    #[inline]
    fn complete_str(&mut self) -> Option<&'a str> {
        let rest = self.b.get(self.pos + 1..)?;
        let (n, rest) = rest.split_first_chunk::<4>()?;
        let n = u32::from_le_bytes(*n) as usize;
        let s = std::str::from_utf8(rest.get(..n)?).ok()?;
        self.pos += 1 + 4 + n;
        Some(s)
    }

    /// The next width or precision slot; 0 once any slot was missing (the
    /// value it applies to then is missing too).
    pub fn count(&mut self) -> usize {
        if self.failed {
            return 0;
        }
        let n = match self.take::<1>() {
            Some([TAG_COUNT]) => self.take().map(u64::from_le_bytes),
            _ => None,
        };
        match n.and_then(|n| usize::try_from(n).ok()) {
            Some(n) => n,
            None => {
                self.failed = true;
                0
            }
        }
    }
}

impl Arg<'_> {
    /// Writes the slot as a plain `{}` hole does (`Display`, no spec),
    /// integers through `itoa` instead of `core::fmt` (the same digits):
    /// the writer thread's fast path for the most common hole.
    #[inline]
    pub fn write_display(&self, w: &mut String) -> fmt::Result {
        macro_rules! int {
            ($x:expr) => {{
                w.push_str(itoa::Buffer::new().format(*$x));
                Ok(())
            }};
        }
        match self {
            Arg::Value(v) => match v {
                NativeValue::I8(x) => int!(x),
                NativeValue::I16(x) => int!(x),
                NativeValue::I32(x) => int!(x),
                NativeValue::I64(x) => int!(x),
                NativeValue::I128(x) => int!(x),
                NativeValue::Isize(x) => int!(x),
                NativeValue::U8(x) => int!(x),
                NativeValue::U16(x) => int!(x),
                NativeValue::U32(x) => int!(x),
                NativeValue::U64(x) => int!(x),
                NativeValue::U128(x) => int!(x),
                NativeValue::Usize(x) => int!(x),
                NativeValue::Str(s) => {
                    w.push_str(s);
                    Ok(())
                }
                NativeValue::Bool(b) => {
                    w.push_str(if *b { "true" } else { "false" });
                    Ok(())
                }
                NativeValue::Char(c) => {
                    w.push(*c);
                    Ok(())
                }
                NativeValue::F32(_) | NativeValue::F64(_) => {
                    fmt::Write::write_fmt(w, format_args!("{v}"))
                }
            },
            Arg::Text(s) => {
                w.push_str(s);
                Ok(())
            }
            Arg::Failed(s) => {
                w.push_str(s);
                Err(fmt::Error)
            }
            Arg::Missing => Err(fmt::Error),
        }
    }
}

/// Formats with the trait named, delegating to the value for the variants
/// listed (those whose type implements it); a caller-formatted text is
/// written as it is.
macro_rules! fmt_trait {
    ($trait:ident: $($v:ident),*) => {
        impl fmt::$trait for Arg<'_> {
            #[allow(unreachable_patterns)]
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Arg::Value(NativeValue::$v(x)) => fmt::$trait::fmt(x, f),)*
                    // Only an opt-in type that broke the trait's contract
                    // gets here (the compiler checked the call's types).
                    Arg::Value(v) => fmt::Display::fmt(v, f),
                    Arg::Text(s) => f.write_str(s),
                    Arg::Failed(s) => {
                        f.write_str(s)?;
                        Err(fmt::Error)
                    }
                    Arg::Missing => Err(fmt::Error),
                }
            }
        }
    };
}

macro_rules! all_variants {
    ($mac:ident, $trait:ident) => {
        $mac!($trait: I8, I16, I32, I64, I128, Isize, U8, U16, U32, U64, U128, Usize,
            F32, F64, Bool, Char, Str);
    };
}

all_variants!(fmt_trait, Display);
all_variants!(fmt_trait, Debug);
fmt_trait!(LowerHex: I8, I16, I32, I64, I128, Isize, U8, U16, U32, U64, U128, Usize);
fmt_trait!(UpperHex: I8, I16, I32, I64, I128, Isize, U8, U16, U32, U64, U128, Usize);
fmt_trait!(Octal: I8, I16, I32, I64, I128, Isize, U8, U16, U32, U64, U128, Usize);
fmt_trait!(Binary: I8, I16, I32, I64, I128, Isize, U8, U16, U32, U64, U128, Usize);
fmt_trait!(LowerExp: I8, I16, I32, I64, I128, Isize, U8, U16, U32, U64, U128, Usize, F32, F64);
fmt_trait!(UpperExp: I8, I16, I32, I64, I128, Isize, U8, U16, U32, U64, U128, Usize, F32, F64);

impl fmt::Display for NativeValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        macro_rules! display {
            ($($v:ident),*) => {
                match self {
                    $(NativeValue::$v(x) => fmt::Display::fmt(x, f),)*
                }
            };
        }
        display!(
            I8, I16, I32, I64, I128, Isize, U8, U16, U32, U64, U128, Usize, F32, F64, Bool, Char,
            Str
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(v: NativeValue<'_>) -> String {
        let mut buf = Vec::new();
        ArgEncoder::new(&mut buf).native(v);
        let mut d = Decoder::new(&buf);
        let a = d.value();
        assert!(!d.failed());
        format!("{a:?}|{a}")
    }

    #[test]
    fn values_round_trip_with_their_formatting() {
        assert_eq!(round_trip(NativeValue::I8(-5)), "-5|-5");
        assert_eq!(
            round_trip(NativeValue::U128(u128::MAX)),
            format!("{0:?}|{0}", u128::MAX)
        );
        assert_eq!(round_trip(NativeValue::F32(0.1)), "0.1|0.1");
        assert_eq!(round_trip(NativeValue::F64(f64::NAN)), "NaN|NaN");
        assert_eq!(round_trip(NativeValue::Char('\n')), "'\\n'|\n");
        assert_eq!(round_trip(NativeValue::Str("a\"b")), "\"a\\\"b\"|a\"b");
        assert_eq!(round_trip(NativeValue::Bool(true)), "true|true");
    }

    #[test]
    fn a_cut_slot_and_all_after_it_are_missing() {
        let mut buf = Vec::new();
        let mut e = ArgEncoder::new(&mut buf);
        e.native(NativeValue::U32(7));
        e.native(NativeValue::Str("hello"));
        e.count(3);
        for cut in 0..buf.len() {
            let mut d = Decoder::new(&buf[..cut]);
            let first = d.value();
            let second = d.value();
            let count = d.count();
            assert!(d.failed(), "cut at {cut}");
            if cut < 5 {
                assert!(matches!(first, Arg::Missing));
            }
            match second {
                Arg::Missing => assert!(cut < 5 + 1 + 4, "cut at {cut}"),
                Arg::Failed(s) => assert_eq!(s, &"hello"[..cut - 10], "cut at {cut}"),
                _ => assert!(cut >= 5 + 1 + 4 + 5, "cut at {cut}"),
            }
            assert_eq!(count, 0);
        }
    }

    #[test]
    fn decoding_and_displaying_in_one_step_is_value_then_write_display() {
        let mut buf = Vec::new();
        let mut e = ArgEncoder::new(&mut buf);
        for v in [
            NativeValue::I8(-8),
            NativeValue::I16(i16::MIN),
            NativeValue::I32(-32),
            NativeValue::I64(i64::MAX),
            NativeValue::I128(-128),
            NativeValue::U8(8),
            NativeValue::U16(u16::MAX),
            NativeValue::U32(32),
            NativeValue::U64(u64::MAX),
            NativeValue::Usize(7),
            NativeValue::Str("héllo"),
            NativeValue::F64(0.5),
            NativeValue::Str(""),
        ] {
            e.native(v);
        }
        e.eager(|w| w.write_str("eager"));
        let slots = 14;
        // Every cut, a cut inside the multi-byte character included.
        for cut in 0..=buf.len() {
            let (mut one, mut two) = (Decoder::new(&buf[..cut]), Decoder::new(&buf[..cut]));
            let (mut a, mut b) = (String::new(), String::new());
            for _ in 0..slots + 1 {
                let ra = one.display(&mut a);
                let rb = two.value().write_display(&mut b);
                assert_eq!(ra, rb, "cut at {cut}");
                assert_eq!(
                    (&a, one.pos, one.failed),
                    (&b, two.pos, two.failed),
                    "cut at {cut}"
                );
            }
        }
    }

    #[test]
    fn the_fast_display_writes_what_display_writes() {
        let values = [
            NativeValue::I8(i8::MIN),
            NativeValue::I16(-1),
            NativeValue::I32(0),
            NativeValue::I64(i64::MIN),
            NativeValue::I128(i128::MIN),
            NativeValue::Isize(isize::MAX),
            NativeValue::U8(255),
            NativeValue::U16(7),
            NativeValue::U32(u32::MAX),
            NativeValue::U64(u64::MAX),
            NativeValue::U128(u128::MAX),
            NativeValue::Usize(0),
            NativeValue::F32(-0.0),
            NativeValue::F64(1e300),
            NativeValue::F64(f64::NAN),
            NativeValue::Bool(false),
            NativeValue::Char('\u{2028}'),
            NativeValue::Str("a\nb"),
        ];
        for v in values {
            let (mut fast, arg) = (String::new(), Arg::Value(v));
            arg.write_display(&mut fast).unwrap();
            assert_eq!(fast, format!("{arg}"), "{v:?}");
        }
        let mut out = String::new();
        assert!(Arg::Failed("ab").write_display(&mut out).is_err());
        assert!(Arg::Missing.write_display(&mut out).is_err());
        Arg::Text("c").write_display(&mut out).unwrap();
        assert_eq!(out, "abc");
    }

    #[test]
    fn eager_text_keeps_a_failure() {
        let mut buf = Vec::new();
        let mut e = ArgEncoder::new(&mut buf);
        e.eager(|w| w.write_str("ab"));
        e.eager(|w| {
            w.write_str("c")?;
            Err(fmt::Error)
        });
        let mut d = Decoder::new(&buf);
        assert!(matches!(d.value(), Arg::Text("ab")));
        assert!(matches!(d.value(), Arg::Failed("c")));
        assert!(matches!(d.value(), Arg::Missing));
    }

    #[test]
    fn garbage_never_panics() {
        for tag in 0..=255u8 {
            let bytes = [tag, 0xff, 0xff, 0xff, 0xff, 1, 2];
            let mut d = Decoder::new(&bytes);
            let _ = d.value();
            let _ = d.count();
        }
    }
}
