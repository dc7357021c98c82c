//! Syslog lines: RFC 5424 (the default) and RFC 3164 (for old collectors).
//!
//! A record becomes one line ending in `\n`; a syslog sink frames it for
//! its transport (a datagram, an octet-counted frame, a RELP frame) without
//! the `\n`. The shape is documented on [`SyslogFormat`]. Everything from the
//! application goes through [`escape::text`], so a line never holds a raw
//! CR, LF or control character; structured-data values are additionally
//! escaped as RFC 5424 requires (`"`, `\` and `]` preceded by `\`).

use crate::level::Level;
use crate::record::{Item, Kind, RecordView, Value};
use crate::Error;

use super::escape;
use super::time::TimeFormatter;
use super::{marker_truncated, strip_line_end};

/// A syslog facility (RFC 5424, section 6.2.1): which part of the system a
/// message comes from. Collectors route on it; applications usually use
/// [`Facility::User`] (the default) or one of `Local0`..`Local7`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // The names are the standard ones.
pub enum Facility {
    Kern = 0,
    User = 1,
    Mail = 2,
    Daemon = 3,
    Auth = 4,
    Syslog = 5,
    Lpr = 6,
    News = 7,
    Uucp = 8,
    Cron = 9,
    Authpriv = 10,
    Ftp = 11,
    Ntp = 12,
    Audit = 13,
    Alert = 14,
    Clock = 15,
    Local0 = 16,
    Local1 = 17,
    Local2 = 18,
    Local3 = 19,
    Local4 = 20,
    Local5 = 21,
    Local6 = 22,
    Local7 = 23,
}

/// The syslog severity of a level: `Error` is 3 (err), `Warn` 4 (warning),
/// `Info` 6 (informational), `Debug` and `Trace` 7 (debug).
pub fn severity(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum MsgId {
    Nil,
    Fixed(String),
    Target,
}

/// How records are written as syslog messages; used with
/// [`Format::syslog`](crate::Format::syslog).
///
/// # RFC 5424 ([`SyslogFormat::rfc5424`], the default)
///
/// ```text
/// <14>1 2026-11-27T06:22:17.123456Z web-1 shop 4711 - [jamless@32473 path="/v1" status="200" request.id="7" span="request"] request served
/// ```
///
/// - PRI is `facility * 8 + severity`, the severity from the level (see
///   [`severity`]); the version is 1.
/// - The timestamp is RFC 3339 with microseconds, in the format's time zone
///   (UTC with `Z` unless [`Format::with_timezone`](crate::Format::with_timezone)
///   says otherwise, then with the numeric offset).
/// - HOSTNAME is the machine's host name (from `uname`, read when the logger
///   is built), APP-NAME the program's file name, PROCID the process id,
///   MSGID `-`; each can be set. Characters outside printable US-ASCII
///   become `_`, and each is cut to its RFC length (255, 48, 128, 32); an
///   empty value is written as `-`.
/// - STRUCTURED-DATA is one element under the SD-ID (`jamless@32473` by
///   default: 32473 is the enterprise number reserved for examples, so set
///   your own `name@<your enterprise number>`). It carries the event fields
///   as `key="value"`, each span's fields as `span_name.key="value"`, and,
///   inside spans, `span="outer>inner"`. A record without fields or spans
///   has `-`. In a PARAM-NAME, characters RFC 5424 does not allow (space,
///   `=`, `]`, `"`, controls, non-ASCII) become `_`, and names are cut to 32
///   bytes. In a PARAM-VALUE, `"`, `\` and `]` are escaped with `\` after
///   the text escaping of [`Format`](crate::Format) (so a newline in a
///   value arrives as the two characters `\n`).
/// - MSG is the message, escaped as in the text format (no raw CR, LF or
///   control character), UTF-8. It is written **without a byte order mark**
///   by default: RFC 5424 allows MSG-ANY, and rsyslog and syslog-ng treat
///   the message as UTF-8 either way, while keeping a BOM as part of the
///   text in their output files. [`SyslogFormat::bom`] adds the BOM for
///   collectors that need it. A message cut to the maximum record size ends
///   with the usual ` …[truncated from N bytes]`.
///
/// # RFC 3164 ([`SyslogFormat::rfc3164`])
///
/// ```text
/// <14>Nov 27 06:22:17 web-1 shop[4711]: request served path=/v1 status=200
/// ```
///
/// The BSD format has no structured data and no year or sub-second time:
/// the timestamp is `Mmm dd hh:mm:ss` in the format's time zone (traditional
/// collectors expect local time: use
/// [`TimeZoneChoice::Local`](crate::TimeZoneChoice::Local)); the tag is the
/// APP-NAME cut to 32 bytes with the PROCID in brackets; fields and spans
/// follow the message as in the text format's `{fields}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogFormat {
    rfc3164: bool,
    facility: Facility,
    hostname: Option<String>,
    app_name: Option<String>,
    procid: Option<String>,
    msgid: MsgId,
    sd_id: String,
    bom: bool,
}

/// The default SD-ID (32473 is the private enterprise number reserved for
/// documentation, RFC 5612).
pub const DEFAULT_SD_ID: &str = "jamless@32473";

impl SyslogFormat {
    /// RFC 5424 with facility `user`, the machine's host name, the
    /// program's name, the process id, no MSGID and the SD-ID
    /// [`DEFAULT_SD_ID`].
    pub fn rfc5424() -> SyslogFormat {
        SyslogFormat {
            rfc3164: false,
            facility: Facility::User,
            hostname: None,
            app_name: None,
            procid: None,
            msgid: MsgId::Nil,
            sd_id: DEFAULT_SD_ID.to_string(),
            bom: false,
        }
    }

    /// RFC 3164 (BSD syslog), with the same defaults as
    /// [`SyslogFormat::rfc5424`].
    pub fn rfc3164() -> SyslogFormat {
        SyslogFormat {
            rfc3164: true,
            ..SyslogFormat::rfc5424()
        }
    }

    /// Sets the facility (`user` by default).
    #[must_use]
    pub fn facility(mut self, facility: Facility) -> SyslogFormat {
        self.facility = facility;
        self
    }

    /// Sets the HOSTNAME (the machine's host name by default).
    #[must_use]
    pub fn hostname(mut self, hostname: impl Into<String>) -> SyslogFormat {
        self.hostname = Some(hostname.into());
        self
    }

    /// Sets the APP-NAME, or the RFC 3164 tag (the program's file name by
    /// default).
    #[must_use]
    pub fn app_name(mut self, app_name: impl Into<String>) -> SyslogFormat {
        self.app_name = Some(app_name.into());
        self
    }

    /// Sets the PROCID (the process id by default).
    #[must_use]
    pub fn procid(mut self, procid: impl Into<String>) -> SyslogFormat {
        self.procid = Some(procid.into());
        self
    }

    /// Sets a fixed MSGID (`-` by default).
    #[must_use]
    pub fn msgid(mut self, msgid: impl Into<String>) -> SyslogFormat {
        self.msgid = MsgId::Fixed(msgid.into());
        self
    }

    /// Uses each record's target (its module path, usually), cut to 32
    /// bytes, as its MSGID.
    #[must_use]
    pub fn msgid_from_target(mut self) -> SyslogFormat {
        self.msgid = MsgId::Target;
        self
    }

    /// Sets the SD-ID of the structured-data element that carries the
    /// fields: 1 to 32 printable US-ASCII characters without space, `=`,
    /// `]` or `"`, such as `myapp@12345` (checked when the logger is built).
    #[must_use]
    pub fn sd_id(mut self, sd_id: impl Into<String>) -> SyslogFormat {
        self.sd_id = sd_id.into();
        self
    }

    /// Writes a UTF-8 byte order mark before the message (RFC 5424's
    /// MSG-UTF8); off by default, see [`SyslogFormat`]. No effect in RFC 3164.
    #[must_use]
    pub fn bom(mut self, bom: bool) -> SyslogFormat {
        self.bom = bom;
        self
    }
}

/// Whether `b` may appear in an SD-NAME (RFC 5424, section 6).
fn is_sd_name_byte(b: u8) -> bool {
    (33..=126).contains(&b) && !matches!(b, b'=' | b']' | b'"')
}

const BOM: &[u8] = "\u{feff}".as_bytes();
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A [`SyslogFormat`] made ready on the writer: the constant header parts
/// sanitised once, and scratch buffers.
pub(crate) struct SyslogRenderer {
    rfc3164: bool,
    facility: u8,
    /// RFC 5424: ` HOSTNAME APP-NAME PROCID ` (before MSGID).
    /// RFC 3164: ` HOSTNAME TAG[PROCID]: `.
    header: Vec<u8>,
    msgid: MsgId,
    sd_id: Box<[u8]>,
    bom: bool,
    scratch: Vec<u8>,
}

/// Appends `value` with every byte outside printable US-ASCII as `_`, cut
/// to `max` bytes, or `-` when empty.
fn header_field(value: &[u8], max: usize, out: &mut Vec<u8>) {
    if value.is_empty() {
        out.push(b'-');
        return;
    }
    out.extend(
        value
            .iter()
            .take(max)
            .map(|&b| if (33..=126).contains(&b) { b } else { b'_' }),
    );
}

fn default_app_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default()
}

impl SyslogRenderer {
    /// Resolves the defaults (host name, program name, process id) and
    /// checks the SD-ID.
    pub(crate) fn new(f: &SyslogFormat) -> Result<SyslogRenderer, Error> {
        if f.sd_id.is_empty() || f.sd_id.len() > 32 || !f.sd_id.bytes().all(is_sd_name_byte) {
            return Err(Error::config(format!(
                "syslog SD-ID {:?} must be 1 to 32 printable US-ASCII characters without \
                 space, '=', ']' or '\"'",
                f.sd_id
            )));
        }
        let hostname = match &f.hostname {
            Some(h) => h.clone(),
            None => rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned(),
        };
        let app = f.app_name.clone().unwrap_or_else(default_app_name);
        let procid = f
            .procid
            .clone()
            .unwrap_or_else(|| std::process::id().to_string());
        let mut header = vec![b' '];
        header_field(hostname.as_bytes(), 255, &mut header);
        header.push(b' ');
        if f.rfc3164 {
            // A tag of printable characters except the brackets and colon
            // that end it.
            let tag: Vec<u8> = app
                .bytes()
                .map(|b| if b"[]:".contains(&b) { b'_' } else { b })
                .collect();
            header_field(&tag, 32, &mut header);
            header.push(b'[');
            header_field(procid.as_bytes(), 128, &mut header);
            header.extend_from_slice(b"]: ");
        } else {
            header_field(app.as_bytes(), 48, &mut header);
            header.push(b' ');
            header_field(procid.as_bytes(), 128, &mut header);
            header.push(b' ');
        }
        Ok(SyslogRenderer {
            rfc3164: f.rfc3164,
            facility: f.facility as u8,
            header,
            msgid: f.msgid.clone(),
            sd_id: f.sd_id.as_bytes().into(),
            bom: f.bom,
            scratch: Vec::new(),
        })
    }

    /// Appends one record as one syslog line ending in `\n`.
    pub(crate) fn render(
        &mut self,
        time: &mut TimeFormatter,
        rec: &RecordView<'_>,
        out: &mut Vec<u8>,
    ) {
        out.push(b'<');
        let pri = self.facility * 8 + severity(rec.level);
        out.extend_from_slice(itoa::Buffer::new().format(pri).as_bytes());
        out.push(b'>');
        let message = if rec.kind == Kind::Raw {
            strip_line_end(rec.message())
        } else {
            rec.message()
        };
        if self.rfc3164 {
            self.bsd_timestamp(time, rec.timestamp_ns, out);
            out.extend_from_slice(&self.header);
            escape::text(message, out);
            if rec.truncated() {
                marker_truncated(rec.orig_len, out);
            }
            super::text::fields(rec, true, out);
            out.push(b'\n');
            return;
        }
        out.extend_from_slice(b"1 ");
        time.write(rec.timestamp_ns, out);
        out.extend_from_slice(&self.header);
        match &self.msgid {
            MsgId::Nil => out.push(b'-'),
            MsgId::Fixed(id) => header_field(id.as_bytes(), 32, out),
            MsgId::Target => header_field(rec.target, 32, out),
        }
        out.push(b' ');
        self.structured_data(rec, out);
        if !message.is_empty() || rec.truncated() {
            out.push(b' ');
            if self.bom {
                out.extend_from_slice(BOM);
            }
            escape::text(message, out);
            if rec.truncated() {
                marker_truncated(rec.orig_len, out);
            }
        }
        out.push(b'\n');
    }

    /// `Mmm dd hh:mm:ss`, from the RFC 3339 form in the format's zone.
    fn bsd_timestamp(&mut self, time: &mut TimeFormatter, ns: u64, out: &mut Vec<u8>) {
        self.scratch.clear();
        time.write(ns, &mut self.scratch);
        // YYYY-MM-DDTHH:MM:SS...
        let s = &self.scratch;
        let month = usize::from(s[5] - b'0') * 10 + usize::from(s[6] - b'0');
        out.extend_from_slice(MONTHS[month.clamp(1, 12) - 1]);
        out.push(b' ');
        out.push(if s[8] == b'0' { b' ' } else { s[8] });
        out.push(s[9]);
        out.push(b' ');
        out.extend_from_slice(&s[11..19]);
    }

    /// `[SD-ID k="v" ...]`, or `-` without fields and spans.
    fn structured_data(&mut self, rec: &RecordView<'_>, out: &mut Vec<u8>) {
        let start = out.len();
        out.push(b'[');
        out.extend_from_slice(&self.sd_id);
        let empty_len = out.len();
        let mut span: &[u8] = &[];
        let mut chain_start = None::<usize>;
        for item in rec.items() {
            match item {
                Ok(Item::Field(key, v)) => {
                    out.push(b' ');
                    let name_start = out.len();
                    if !span.is_empty() {
                        sd_name(span, out);
                        out.push(b'.');
                    }
                    sd_name(key, out);
                    out.truncate(name_start + (out.len() - name_start).min(32));
                    out.extend_from_slice(b"=\"");
                    self.sd_value(v, out);
                    out.push(b'"');
                }
                Ok(Item::Span(name)) => {
                    span = if name.is_empty() { b"_" } else { name };
                    if chain_start.is_none() {
                        chain_start = Some(out.len());
                    }
                    self.push_chain(name);
                }
                Err(_) => {
                    out.extend_from_slice(b" malformed_fields=\"true\"");
                    break;
                }
            }
        }
        if chain_start.is_some() {
            out.extend_from_slice(b" span=\"");
            let chain = std::mem::take(&mut self.scratch);
            sd_escape(&chain, out);
            self.scratch = chain;
            out.push(b'"');
        }
        self.scratch.clear();
        if out.len() == empty_len {
            out.truncate(start);
            out.push(b'-');
        } else {
            out.push(b']');
        }
    }

    /// Adds a span name to the `outer>inner` chain kept in `scratch`.
    fn push_chain(&mut self, name: &[u8]) {
        if !self.scratch.is_empty() {
            self.scratch.push(b'>');
        }
        escape::text(name, &mut self.scratch);
    }

    /// A PARAM-VALUE: text-escaped, then `"`, `\` and `]` escaped.
    fn sd_value(&mut self, v: Value<'_>, out: &mut Vec<u8>) {
        match v {
            Value::Str(s) => {
                // The span chain may be in `scratch`: append after it.
                let mark = self.scratch.len();
                escape::text(s, &mut self.scratch);
                sd_escape(&self.scratch[mark..], out);
                self.scratch.truncate(mark);
            }
            Value::I64(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            Value::U64(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            Value::F64(f) => super::push_float(f, out),
            Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        }
    }
}

/// Appends an SD-NAME: bytes RFC 5424 does not allow become `_`.
fn sd_name(name: &[u8], out: &mut Vec<u8>) {
    if name.is_empty() {
        out.push(b'_');
    }
    out.extend(
        name.iter()
            .map(|&b| if is_sd_name_byte(b) { b } else { b'_' }),
    );
}

/// Appends already text-escaped bytes with `"`, `\` and `]` escaped.
fn sd_escape(s: &[u8], out: &mut Vec<u8>) {
    for &b in s {
        if matches!(b, b'"' | b'\\' | b']') {
            out.push(b'\\');
        }
        out.push(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::{encode, meta, It, OwnedValue};
    use crate::render::{Format, Renderer};

    fn render(f: SyslogFormat, message: &[u8], items: &[It]) -> String {
        let buf = encode(&meta(), message, items);
        let mut r = Renderer::new(&Format::syslog(f)).unwrap();
        let mut out = Vec::new();
        r.render(&RecordView::parse(&buf).unwrap(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn f() -> SyslogFormat {
        SyslogFormat::rfc5424()
            .hostname("web-1")
            .app_name("shop")
            .procid("4711")
    }

    fn field(k: &str, v: &str) -> It {
        It::Field(k.into(), OwnedValue::Str(v.as_bytes().to_vec()))
    }

    #[test]
    fn golden_rfc5424() {
        let items = [
            field("path", "/v1"),
            It::Field("status".into(), OwnedValue::U64(200)),
            It::Span("request".into()),
            It::Field("id".into(), OwnedValue::I64(7)),
        ];
        assert_eq!(
            render(f(), b"request served", &items),
            "<14>1 2026-11-27T06:22:17.123456Z web-1 shop 4711 - [jamless@32473 path=\"/v1\" \
             status=\"200\" request.id=\"7\" span=\"request\"] request served\n"
        );
        assert_eq!(
            render(f().facility(Facility::Local3).msgid("REQ"), b"x", &[]),
            "<158>1 2026-11-27T06:22:17.123456Z web-1 shop 4711 REQ - x\n"
        );
        assert_eq!(
            render(f().msgid_from_target(), b"", &[]),
            "<14>1 2026-11-27T06:22:17.123456Z web-1 shop 4711 app::http -\n"
        );
        assert_eq!(
            render(f().bom(true), b"x", &[]),
            "<14>1 2026-11-27T06:22:17.123456Z web-1 shop 4711 - - \u{feff}x\n"
        );
    }

    #[test]
    fn escaping_keeps_one_line_and_valid_sd() {
        let items = [
            field("q", "a\"b\\c]d\ne"),
            field("bad key=]\"", "v"),
            field("ключ", "значение"),
            field(&"k".repeat(40), "long"),
        ];
        let line = render(f(), b"line1\nline2\r\x1b[31m", &items);
        assert_eq!(
            line,
            "<14>1 2026-11-27T06:22:17.123456Z web-1 shop 4711 - [jamless@32473 \
             q=\"a\\\"b\\\\c\\]d\\\\ne\" bad_key___=\"v\" ________=\"значение\" \
             kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk=\"long\"] line1\\nline2\\r\\x1b[31m\n"
        );
        assert_eq!(line.matches('\n').count(), 1);
    }

    #[test]
    fn header_fields_are_sanitised() {
        let line = render(
            SyslogFormat::rfc5424()
                .hostname("bad host")
                .app_name("")
                .procid("1"),
            b"m",
            &[],
        );
        assert_eq!(
            line,
            "<14>1 2026-11-27T06:22:17.123456Z bad_host - 1 - - m\n"
        );
        let mut m = meta();
        m.level = Level::Error;
        let buf = encode(&m, b"boom", &[]);
        let mut r = Renderer::new(&Format::syslog(f().facility(Facility::Local7))).unwrap();
        let mut out = Vec::new();
        r.render(&RecordView::parse(&buf).unwrap(), &mut out);
        assert!(
            out.starts_with(b"<187>1 "),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }

    #[test]
    fn bad_sd_id_is_a_config_error() {
        for bad in ["", "has space", "a=b", "x]", &"x".repeat(33)] {
            let e = Renderer::new(&Format::syslog(f().sd_id(bad)))
                .err()
                .unwrap();
            assert!(e.is_config(), "{bad:?}");
        }
        assert!(Renderer::new(&Format::syslog(f().sd_id("app@12345"))).is_ok());
    }

    #[test]
    fn golden_rfc3164() {
        let items = [field("path", "/v1"), It::Span("req".into())];
        assert_eq!(
            render(
                SyslogFormat::rfc3164()
                    .hostname("web-1")
                    .app_name("shop")
                    .procid("4711"),
                b"served",
                &items
            ),
            "<14>Nov 27 06:22:17 web-1 shop[4711]: served path=/v1 span=req\n"
        );
    }

    #[test]
    fn defaults_are_resolved() {
        let line = render(SyslogFormat::rfc5424(), b"m", &[]);
        let host = rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned();
        let pid = std::process::id().to_string();
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts[2], host);
        assert!(!parts[3].is_empty() && parts[3] != "-");
        assert_eq!(parts[4], pid);
    }

    /// Checks one RFC 5424 line: a single line of printable text whose
    /// structured data is well-formed; returns the parameters, unescaped.
    fn parse_line(line: &str) -> Vec<(String, String)> {
        let body = line.strip_suffix('\n').expect("ends with a newline");
        assert!(!body.contains('\n'), "{line:?}");
        assert!(
            !body.chars().any(|c| c.is_control()),
            "control character in {line:?}"
        );
        // <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]
        let mut rest = body;
        for _ in 0..6 {
            let sp = rest.find(' ').expect("six header fields");
            rest = &rest[sp + 1..];
        }
        let mut params = Vec::new();
        if let Some(r) = rest.strip_prefix('-') {
            assert!(r.is_empty() || r.starts_with(' '), "{line:?}");
            return params;
        }
        let r = rest.strip_prefix("[jamless@32473").expect("the SD-ID");
        let mut chars = r.chars().peekable();
        loop {
            match chars.next() {
                Some(']') => break,
                Some(' ') => {}
                other => panic!("unexpected {other:?} in {line:?}"),
            }
            let mut name = String::new();
            for c in chars.by_ref() {
                if c == '=' {
                    break;
                }
                assert!(
                    c.is_ascii_graphic() && c != ']' && c != '"',
                    "bad SD-NAME byte {c:?} in {line:?}"
                );
                name.push(c);
            }
            assert!(!name.is_empty() && name.len() <= 32, "{name:?}");
            assert_eq!(chars.next(), Some('"'));
            let mut value = String::new();
            loop {
                match chars.next().expect("value closed") {
                    '\\' => {
                        let c = chars.next().expect("escaped character");
                        if !matches!(c, '"' | '\\' | ']') {
                            value.push('\\');
                        }
                        value.push(c);
                    }
                    '"' => break,
                    ']' => panic!("unescaped ] in a value: {line:?}"),
                    c => value.push(c),
                }
            }
            params.push((name, value));
        }
        let after: String = chars.collect();
        assert!(after.is_empty() || after.starts_with(' '), "{line:?}");
        params
    }

    fn escaped(s: &[u8]) -> String {
        let mut out = Vec::new();
        escape::text(s, &mut out);
        String::from_utf8(out).unwrap()
    }

    proptest::proptest! {
        #[test]
        fn any_record_is_one_line_with_well_formed_structured_data(
            message in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            fields in proptest::collection::vec(
                (
                    proptest::prelude::prop_oneof!["[a-z]{1,6}", ".{0,40}"],
                    proptest::prelude::prop_oneof![
                        "[\\]\\\\\"= a\n\r\u{1b}é]{0,12}",
                        proptest::prelude::any::<String>(),
                    ],
                ),
                0..5,
            ),
            span in proptest::option::of("[\\]\" a-z]{0,8}"),
        ) {
            let mut items: Vec<It> = fields
                .iter()
                .map(|(k, v)| field(k, v))
                .collect();
            if let Some(name) = &span {
                items.push(It::Span(name.clone()));
                items.push(field("inner", "x]y"));
            }
            let line = render(f(), &message, &items);
            let params = parse_line(&line);
            let mut want: Vec<(String, String)> = fields
                .iter()
                .map(|(_, v)| escaped(v.as_bytes()))
                .map(|v| (String::new(), v))
                .collect();
            if let Some(name) = &span {
                want.push((String::new(), "x]y".to_string()));
                want.push((String::new(), escaped(name.as_bytes())));
            }
            let got: Vec<(String, String)> =
                params.into_iter().map(|(_, v)| (String::new(), v)).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
