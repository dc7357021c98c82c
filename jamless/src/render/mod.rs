//! Rendering records into lines: a text pattern, or JSON.
//!
//! The writer thread owns one [`Renderer`], built from the user's
//! [`Format`], and calls it for each record it drains. Each call appends
//! exactly one line, ending in `\n`, to the batch buffer; nothing a record
//! carries can break that (see [`escape`]), and nothing is allocated once the
//! buffer has grown. The expensive parts of a timestamp are cached per second
//! ([`time`]).
//!
//! Files: [`text`] (patterns), [`json`] (ECS objects), [`syslog`] (RFC 5424
//! and RFC 3164 lines), [`passthrough`] (raw lines that are already JSON),
//! [`escape`] (neutralising untrusted bytes), [`time`] (timestamps).

mod escape;
mod json;
mod json_keys;
mod passthrough;
mod syslog;
mod text;
mod time;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use jiff::tz::TimeZone;

use crate::level::Level;
use crate::native::Resolver;
use crate::record::{self, Encoder, Kind, Meta, RecordView, Value};
use crate::Error;

use self::syslog::SyslogRenderer;
pub use self::syslog::{severity, Facility, SyslogFormat, DEFAULT_SD_ID};
use self::text::Pattern;
use self::time::TimeFormatter;

/// The default text pattern, as [`Pattern::standard`] builds it.
#[cfg(test)]
const DEFAULT_PATTERN: &str = "{timestamp} {level:<5} [{thread}] {target}: {message}{fields}";

/// How records are written: a text pattern or JSON lines, and the time zone
/// of the timestamps.
///
/// # Text
///
/// [`Format::text`] writes, for example,
///
/// ```text
/// 2026-11-27T06:22:17.123456Z INFO  [main] app::http: request served path=/v1 status=200
/// ```
///
/// and [`Format::text_pattern`] takes a pattern of literal text and
/// placeholders in braces (`{{` and `}}` are literal braces):
///
/// | placeholder   | renders                                                        |
/// |---------------|----------------------------------------------------------------|
/// | `{timestamp}` | RFC 3339 with microseconds: `2026-11-27T06:22:17.123456Z`, or with the zone's offset (`+01:00`) |
/// | `{level}`     | `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`                    |
/// | `{thread}`    | the thread's name, or `#` and its id if it has none            |
/// | `{target}`    | the record's target (usually its module path)                  |
/// | `{module}`    | the module path                                                |
/// | `{file}`      | the source file                                                |
/// | `{line}`      | the source line                                                |
/// | `{message}`   | the message                                                    |
/// | `{fields}`    | ` key=value` for each field, each with a leading space; then, unless the pattern has `{spans}`, the spans as ` span=outer{k=v}>inner{k=v}` (outermost first) |
/// | `{spans}`     | the spans as `outer{k=v}>inner: `, or nothing outside any span |
///
/// A placeholder can be padded to a width in characters: `{level:<5}` pads
/// on the right (left-aligned), `{thread:>10}` on the left. Values are never
/// cut. An empty value (no file, no line) renders as nothing.
///
/// Field values are written as they are, without quotes: a string field
/// that was recorded with `Debug` (`?value` in `tracing`) carries the quotes
/// `Debug` gave it. Numbers and booleans are written as such, floats in
/// their shortest exact form (`NaN`, `inf`, `-inf` when not finite).
///
/// Everything that comes from the application (message, fields, target,
/// thread name) is escaped so that a record is always exactly one line and
/// cannot send control sequences to a terminal: `\n`, `\r`, `\t` become
/// `\n`, `\r`, `\t`; other control characters, escape and DEL become `\x1b`;
/// C1 controls, the Unicode line and paragraph separators and the bidi
/// override characters become `\u{9b}`; invalid UTF-8 becomes `\xff` per
/// byte. A backslash is left as it is, so the text form is not reversible:
/// use JSON for a lossless record.
///
/// A line that a `tracing-subscriber` fmt layer formatted itself (through
/// jamless's `MakeWriter`) is written as it is, after the same escaping,
/// with its own line ending replaced: the pattern does not apply to it.
///
/// A message cut to fit the maximum record size ends with
/// ` …[truncated from N bytes]`, where N is the size of the whole record
/// before it was cut (its fields are dropped).
///
/// # JSON
///
/// [`Format::json`] writes one object per line with the field names of the
/// [Elastic Common Schema](https://www.elastic.co/guide/en/ecs/current/ecs-field-reference.html),
/// so Filebeat and Elasticsearch ingest it without a pipeline:
///
/// ```text
/// {"@timestamp":"2026-11-27T06:22:17.123456Z","log.level":"info","message":"request served","ecs.version":"8.11","log.logger":"app::http","log.origin.file.name":"src/http.rs","log.origin.file.line":42,"process.thread.name":"main","process.thread.id":1,"path":"/v1","status":200,"spans":[{"name":"request","id":7}]}
/// ```
///
/// - `@timestamp`, `log.level` (lower case), `message` and `ecs.version`
///   always come first, in that order.
/// - `log.logger` is the target; `log.module` (not an ECS field) is the
///   module path, written only when it differs from the target;
///   `log.origin.file.name` and `log.origin.file.line` the source location;
///   `process.thread.name` and `process.thread.id` the thread. Empty values
///   are left out.
/// - Event fields follow as top-level keys named as given, dotted keys
///   included, so a field named `user.id` lands on the ECS field `user.id`.
///   A key that would clash with one jamless writes (`message`, or `log`,
///   which would turn `log.level` into a conflict) is written as
///   `fields.<key>` instead. A key written twice in one object (`a = 1,
///   a = 2`) is written the second time as `a_2` (then `a_3`, the first
///   free suffix), so every value is kept and no reader sees a duplicate
///   key (Elasticsearch refuses such a document).
/// - Spans, outermost first, are `"spans":[{"name":"outer","k":"v"},...]`
///   (a span field named `name` becomes `fields.name`).
/// - Integers and finite floats are JSON numbers, booleans JSON booleans,
///   non-finite floats the strings `"NaN"`, `"inf"` and `"-inf"`.
/// - Strings are escaped per RFC 8259, with U+2028, U+2029, DEL, C1 and bidi
///   controls also escaped; invalid UTF-8 becomes U+FFFD, one for each
///   maximal invalid sequence, as `String::from_utf8_lossy` reads it.
/// - A truncated record has the marker at the end of `message`, and
///   `"jamless.truncated":true` and `"jamless.original_size":N`.
///
/// A line from a `tracing-subscriber` fmt layer is wrapped as the `message`
/// of such an object, unless it already is exactly one JSON object (its
/// `.json()` format) free of control characters: then it is written
/// unchanged.
///
/// # Syslog
///
/// [`Format::syslog`] writes RFC 5424 (or RFC 3164) messages, one per line,
/// for a syslog sink to frame; see [`SyslogFormat`].
///
/// # Time zone
///
/// Timestamps are in UTC unless [`Format::with_timezone`] says otherwise;
/// in a zone they carry the offset in force at that instant, so a DST change
/// shows up exactly when it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    style: Style,
    timezone: TimeZoneChoice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Style {
    Text(Pattern),
    Json,
    Syslog(SyslogFormat),
}

/// The time zone of rendered timestamps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeZoneChoice {
    /// Coordinated Universal Time, written with a `Z` suffix (the default).
    #[default]
    Utc,
    /// The system's time zone (`TZ`, else `/etc/localtime`), looked up once
    /// when the logger starts; UTC if none can be found.
    Local,
    /// A zone of the IANA time zone database by name, such as
    /// `Europe/Berlin`. The system's database is used, and a copy built into
    /// jamless where the system has none. An unknown name fails when the
    /// logger is built.
    Named(String),
}

impl Format {
    /// The text format with the default pattern,
    /// `{timestamp} {level:<5} [{thread}] {target}: {message}{fields}`.
    pub fn text() -> Format {
        Format {
            style: Style::Text(Pattern::standard()),
            timezone: TimeZoneChoice::Utc,
        }
    }

    /// The text format with a pattern of your own; see [`Format`] for the
    /// placeholders.
    ///
    /// # Errors
    ///
    /// A configuration error ([`Error::is_config`]) for an unknown
    /// placeholder, an unmatched brace, a bad padding, or a control
    /// character in the literal text (a pattern must render as one line).
    pub fn text_pattern(pattern: &str) -> Result<Format, Error> {
        Ok(Format {
            style: Style::Text(Pattern::parse(pattern)?),
            timezone: TimeZoneChoice::Utc,
        })
    }

    /// JSON lines with Elastic Common Schema field names; see [`Format`].
    pub fn json() -> Format {
        Format {
            style: Style::Json,
            timezone: TimeZoneChoice::Utc,
        }
    }

    /// Syslog messages (RFC 5424 or RFC 3164), one per line; see
    /// [`SyslogFormat`]. Use it with a [`SyslogSink`](crate::SyslogSink).
    pub fn syslog(format: SyslogFormat) -> Format {
        Format {
            style: Style::Syslog(format),
            timezone: TimeZoneChoice::Utc,
        }
    }

    /// Sets the time zone of the timestamps (UTC by default).
    #[must_use]
    pub fn with_timezone(mut self, timezone: TimeZoneChoice) -> Format {
        self.timezone = timezone;
        self
    }

    /// The time zone of the timestamps.
    pub fn timezone(&self) -> &TimeZoneChoice {
        &self.timezone
    }

    /// True for JSON lines, false for text.
    pub fn is_json(&self) -> bool {
        matches!(self.style, Style::Json)
    }
}

impl Default for Format {
    /// [`Format::text`].
    fn default() -> Format {
        Format::text()
    }
}

/// Turns records into lines on the writer thread.
pub(crate) struct Renderer {
    style: Active,
    time: TimeFormatter,
    /// Formats the messages of native records.
    native: Resolver,
    /// Reused to encode jamless's own notices.
    scratch: Vec<u8>,
}

/// A [`Style`] made ready for rendering.
enum Active {
    Text(Pattern),
    Json,
    Syslog(SyslogRenderer),
}

/// Target, module and thread name of the lines jamless writes itself.
const SELF_NAME: &str = "jamless";

impl Renderer {
    /// Builds a renderer, resolving the time zone.
    pub(crate) fn new(format: &Format) -> Result<Renderer, Error> {
        let time = match &format.timezone {
            TimeZoneChoice::Utc => TimeFormatter::utc(),
            TimeZoneChoice::Local => TimeFormatter::zone(TimeZone::system()),
            TimeZoneChoice::Named(name) => TimeFormatter::zone(
                TimeZone::get(name)
                    .map_err(|e| Error::config(format!("unknown time zone {name:?}: {e}")))?,
            ),
        };
        let style = match &format.style {
            Style::Text(p) => Active::Text(p.clone()),
            Style::Json => Active::Json,
            Style::Syslog(f) => Active::Syslog(SyslogRenderer::new(f)?),
        };
        Ok(Renderer {
            style,
            time,
            native: Resolver::default(),
            scratch: Vec::new(),
        })
    }

    /// Appends one record as exactly one line ending in `\n`. The kind is
    /// looked at here only: a raw line has its own rendering, and a native
    /// record becomes the event it stands for once its message is
    /// formatted, so that everything else renders through the same code.
    pub(crate) fn render(&mut self, rec: &RecordView<'_>, out: &mut Vec<u8>) {
        let (style, time) = (&mut self.style, &mut self.time);
        match rec.kind {
            Kind::Event => render_event(style, time, rec, out),
            Kind::Raw => match style {
                Active::Text(_) => text::render_raw(rec, out),
                Active::Json => json::render_raw(time, rec, out),
                // The syslog renderer frames a raw line itself.
                Active::Syslog(s) => s.render(time, rec, out),
            },
            Kind::Native => self
                .native
                .resolve(rec, |event| render_event(style, time, event, out)),
        }
    }

    /// Appends one line from jamless itself (target `jamless`), such as a
    /// notice of dropped records, in the configured format.
    pub(crate) fn render_notice(
        &mut self,
        level: Level,
        timestamp_ns: u64,
        message: &str,
        fields: &[(&str, Value<'_>)],
        out: &mut Vec<u8>,
    ) {
        let mut buf = std::mem::take(&mut self.scratch);
        let meta = Meta {
            kind: Kind::Event,
            level,
            timestamp_ns,
            thread_id: 0,
            thread_name: SELF_NAME,
            target: SELF_NAME,
            module_path: SELF_NAME,
            file: "",
            line: None,
        };
        let mut enc = Encoder::new(&mut buf, &meta);
        enc.message_bytes(message.as_bytes());
        for (key, value) in fields {
            enc.field(key, *value);
        }
        enc.finish();
        match RecordView::parse(&buf) {
            Ok(rec) => self.render(&rec, out),
            // Unreachable: the encoder above wrote the record. Still one line.
            Err(record::DecodeError) => out.extend_from_slice(b"jamless: notice lost\n"),
        }
        self.scratch = buf;
    }
}

fn render_event(
    style: &mut Active,
    time: &mut TimeFormatter,
    rec: &RecordView<'_>,
    out: &mut Vec<u8>,
) {
    match style {
        Active::Text(pattern) => text::render(pattern, time, rec, out),
        Active::Json => json::render(time, rec, out),
        Active::Syslog(s) => s.render(time, rec, out),
    }
}

/// Appends a float in its shortest exact form (`12.5`, `1e-7`), or `NaN`,
/// `inf`, `-inf`.
fn push_float(f: f64, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"inf" } else { b"-inf" });
    } else if !push_short_decimal(f, out) {
        out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
    }
}

/// Appends a finite float with at most three decimals by hand (`ryu` is
/// slowest on exactly these, the usual latencies and ratios). Returns
/// false, having written nothing, for any other float.
fn push_short_decimal(f: f64, out: &mut Vec<u8>) -> bool {
    const SCALES: [(f64, u64); 4] = [(1.0, 1), (10.0, 10), (100.0, 100), (1000.0, 1000)];
    let a = f.abs();
    if !(1e-3..1e15).contains(&a) {
        return false;
    }
    for (k, &(scale, pow)) in SCALES.iter().enumerate() {
        let scaled = (a * scale).round();
        if scaled >= 9_007_199_254_740_992.0 {
            // 2^53: past it `n` would not be exact.
            return false;
        }
        // `n` is exact, and division is correctly rounded, so
        // `n / scale == a` proves that the decimal n·10^-k parses back to
        // exactly `a`; trying k = 0, 1, 2, 3 in turn finds the shortest.
        let n = scaled as u64;
        if n as f64 / scale != a {
            continue;
        }
        if f.is_sign_negative() {
            out.push(b'-');
        }
        out.extend_from_slice(itoa::Buffer::new().format(n / pow).as_bytes());
        out.push(b'.');
        if k == 0 {
            out.push(b'0');
        } else {
            let mut frac = [b'0'; 3];
            let mut r = n % pow;
            for d in frac[..k].iter_mut().rev() {
                *d = b'0' + (r % 10) as u8;
                r /= 10;
            }
            out.extend_from_slice(&frac[..k]);
        }
        return true;
    }
    false
}

/// A raw line without one trailing `\n` (or `\r\n`).
fn strip_line_end(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] => rest,
        _ => line,
    }
}

/// Appends the truncation marker ` …[truncated from N bytes]`. It is plain
/// text, safe in every format (syslog sinks use it for datagrams they cut).
pub(crate) fn marker_truncated(orig_len: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(" \u{2026}[truncated from ".as_bytes());
    out.extend_from_slice(itoa::Buffer::new().format(orig_len).as_bytes());
    out.extend_from_slice(b" bytes]");
}
