//! From the model to a [`Builder`]: each key to its builder call. Keys
//! left out make no call, so the builder's defaults stay in force.

use std::sync::Arc;

use toml::Spanned;

use super::error::Source;
use super::model::*;
use crate::builder::Builder;
use crate::error::Error;
use crate::level::Level;
use crate::pipeline::{Directives, Pipeline};
use crate::policy::{Overflow, Shedding};
use crate::render::{Facility, Format, SyslogFormat, TimeZoneChoice};
use crate::rotation::{Compression, Naming, Retention, Rotation, RotationTz};
use crate::sink::{
    FileSinkBuilder, RotatingFileSink, Sink, StderrSink, StdoutSink, SyslogSink, TlsConfig,
    Transport,
};

/// Whether `RUST_LOG` is set (and not empty): it then replaces the file's
/// logger-level `filter`.
pub(crate) fn rust_log() -> Option<String> {
    std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// Checks a set of directives where they are written.
pub(crate) fn check_filter(
    src: Source<'_>,
    key: &str,
    spec: &Spanned<String>,
    pipeline: bool,
) -> Result<(), Error> {
    let result = if pipeline {
        Directives::parse(spec.get_ref()).map(drop)
    } else {
        crate::live::FacadeFilter::parse(spec.get_ref()).map(drop)
    };
    result.map_err(|e| src.error(Some(spec.span()), key, &e.detail()))
}

/// The builder a configuration file describes.
pub(crate) fn builder(src: Source<'_>, file: &ConfigFile) -> Result<Builder, Error> {
    let mut b = Builder::new();
    if file.pipelines.is_empty() {
        return Err(src.error(
            None,
            "pipeline",
            "at least one [[pipeline]] is required (with a name and a [pipeline.sink])",
        ));
    }
    if let Some(name) = &file.name {
        b = b.name(name.clone());
    }
    if let Some(n) = file.capacity_bytes {
        b = b.capacity_bytes(n);
    }
    if let Some(n) = file.max_record_bytes {
        b = b.max_record_bytes(n);
    }
    if let Some(o) = &file.overflow {
        b = b.overflow(overflow(src, o)?);
    }
    if let Some(s) = &file.shedding {
        b = b.shedding(shedding(s));
    }
    if let Some(f) = &file.filter {
        check_filter(src, "filter", f, false)?;
        // RUST_LOG, when set, replaces the file's filter (the builder
        // reads it when no filter is given).
        if rust_log().is_none() {
            b = b.filter(f.get_ref().clone());
        }
    }
    if let Some(h) = file.error_handler {
        b = b.error_handler(match h {
            HandlerName::Stderr => crate::report::stderr_handler(),
            HandlerName::None => Arc::new(|_: &crate::health::LastError| {}),
        });
    }
    if let Some(f) = &file.format {
        b = b.format(format(src, "format", f)?);
    }
    match file.fallback {
        // Standard error is the builder's default; standard output serves
        // every pipeline, so it is given to each (below).
        None | Some(FallbackName::Stderr) | Some(FallbackName::Stdout) => {}
        Some(FallbackName::None) => b = b.fallback(None),
    }
    if let Some(d) = file.fallback_after {
        b = b.fallback_after(d.0);
    }
    if let Some(r) = &file.retry_backoff {
        b = b.retry_backoff(r.initial.0, r.max.0);
    }
    for (d, set) in [
        (
            file.idle_interval,
            Builder::idle_interval as fn(Builder, _) -> Builder,
        ),
        (file.maintain_interval, Builder::maintain_interval),
        (file.notice_interval, Builder::notice_interval),
        (file.stall_timeout, Builder::stall_timeout),
        (file.watch_interval, Builder::watch_interval),
        (file.shutdown_timeout, Builder::shutdown_timeout),
    ] {
        if let Some(d) = d {
            b = set(b, d.0);
        }
    }
    for (i, p) in file.pipelines.iter().enumerate() {
        let mut out = pipeline(src, &format!("pipeline[{i}]"), p)?;
        if p.fallback.is_none() && file.fallback == Some(FallbackName::Stdout) {
            out = out.fallback(fallback(FallbackName::Stdout));
        }
        b = b.pipeline(out);
    }
    Ok(b)
}

fn overflow(src: Source<'_>, o: &OverflowModel) -> Result<Overflow, Error> {
    match (o.policy.get_ref(), o.timeout) {
        (OverflowPolicy::DropNewest, None) => Ok(Overflow::drop_newest()),
        (OverflowPolicy::BlockFor, Some(t)) => Ok(Overflow::block_for(t.0)),
        (OverflowPolicy::DropNewest, Some(_)) => Err(src.error(
            Some(o.policy.span()),
            "overflow.timeout",
            "a timeout is for policy = \"block_for\" only",
        )),
        (OverflowPolicy::BlockFor, None) => Err(src.error(
            Some(o.policy.span()),
            "overflow.timeout",
            "policy = \"block_for\" needs a timeout, such as timeout = \"20ms\"",
        )),
    }
}

fn shedding(s: &SheddingModel) -> Option<Shedding> {
    if s.enabled == Some(false) {
        return None;
    }
    let d = Shedding::default();
    Some(Shedding::new(
        s.watermark.unwrap_or(d.watermark),
        s.keep.map_or(d.keep, level),
    ))
}

pub(crate) fn level(l: LevelName) -> Level {
    match l {
        LevelName::Error => Level::Error,
        LevelName::Warn => Level::Warn,
        LevelName::Info => Level::Info,
        LevelName::Debug => Level::Debug,
        LevelName::Trace => Level::Trace,
    }
}

fn fallback(f: FallbackName) -> Option<Box<dyn Sink>> {
    match f {
        FallbackName::Stderr => Some(Box::new(StderrSink::new())),
        FallbackName::Stdout => Some(Box::new(StdoutSink::new())),
        FallbackName::None => None,
    }
}

fn pipeline(src: Source<'_>, key: &str, p: &PipelineModel) -> Result<Pipeline, Error> {
    let sink = sink(src, &format!("{key}.sink"), &p.sink)?;
    let mut out = Pipeline::boxed(p.name.clone(), sink);
    if let Some(f) = &p.format {
        out = out.format(format(src, &format!("{key}.format"), f)?);
    }
    if let Some(f) = &p.filter {
        check_filter(src, &format!("{key}.filter"), f, true)?;
        out = out.filter(f.get_ref().clone());
    }
    if let Some(n) = p.backlog_bytes {
        out = out.backlog_bytes(n);
    }
    if let Some(f) = p.fallback {
        out = out.fallback(fallback(f));
    }
    if let Some(d) = p.fallback_after {
        out = out.fallback_after(d.0);
    }
    if let Some(r) = &p.retry_backoff {
        out = out.retry_backoff(r.initial.0, r.max.0);
    }
    if let Some(e) = p.essential {
        out = out.essential(e);
    }
    Ok(out)
}

/// The keys each sink type takes, besides `type`.
fn allowed_keys(kind: SinkKind) -> &'static [&'static str] {
    match kind {
        SinkKind::File => &[
            "path",
            "mode",
            "follow_symlinks",
            "check_interval",
            "create_dirs",
        ],
        SinkKind::Rotating => &[
            "path",
            "mode",
            "follow_symlinks",
            "check_interval",
            "suffix",
            "instance_tag",
            "fixed_name",
            "rotation",
            "timezone",
            "max_bytes",
            "rotate_on_start",
            "retention",
        ],
        SinkKind::Stdout | SinkKind::Stderr => &[],
        SinkKind::Syslog => &[
            "transport",
            "address",
            "path",
            "tls",
            "connect_timeout",
            "write_timeout",
            "ack_timeout",
            "window",
            "max_message_bytes",
            "reconnect_backoff",
        ],
    }
}

/// The keys given in a sink table.
fn given_keys(s: &SinkModel) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let mut given = |set: bool, key: &'static str| {
        if set {
            keys.push(key);
        }
    };
    given(s.path.is_some(), "path");
    given(s.mode.is_some(), "mode");
    given(s.follow_symlinks.is_some(), "follow_symlinks");
    given(s.check_interval.is_some(), "check_interval");
    given(s.create_dirs.is_some(), "create_dirs");
    given(s.suffix.is_some(), "suffix");
    given(s.instance_tag.is_some(), "instance_tag");
    given(s.fixed_name.is_some(), "fixed_name");
    given(s.rotation.is_some(), "rotation");
    given(s.timezone.is_some(), "timezone");
    given(s.max_bytes.is_some(), "max_bytes");
    given(s.rotate_on_start.is_some(), "rotate_on_start");
    given(s.retention.is_some(), "retention");
    given(s.transport.is_some(), "transport");
    given(s.address.is_some(), "address");
    given(s.tls.is_some(), "tls");
    given(s.connect_timeout.is_some(), "connect_timeout");
    given(s.write_timeout.is_some(), "write_timeout");
    given(s.ack_timeout.is_some(), "ack_timeout");
    given(s.window.is_some(), "window");
    given(s.max_message_bytes.is_some(), "max_message_bytes");
    given(s.reconnect_backoff.is_some(), "reconnect_backoff");
    keys
}

fn sink(src: Source<'_>, key: &str, s: &SinkModel) -> Result<Box<dyn Sink>, Error> {
    let kind = *s.kind.get_ref();
    let at = Some(s.kind.span());
    let at = || at.clone();
    let allowed = allowed_keys(kind);
    if let Some(k) = given_keys(s).into_iter().find(|k| !allowed.contains(k)) {
        return Err(src.error(
            at(),
            &format!("{key}.{k}"),
            &format!("not a key of a {kind:?} sink; expected one of {allowed:?}").to_lowercase(),
        ));
    }
    let need_path = || {
        s.path.clone().ok_or_else(|| {
            src.error(
                at(),
                &format!("{key}.path"),
                "missing: this sink needs a path",
            )
        })
    };
    Ok(match kind {
        SinkKind::Stdout => Box::new(StdoutSink::new()),
        SinkKind::Stderr => Box::new(StderrSink::new()),
        SinkKind::File => {
            let mut f = FileSinkBuilder::new(need_path()?);
            if let Some(m) = s.mode {
                f = f.mode(m);
            }
            if let Some(y) = s.follow_symlinks {
                f = f.follow_symlinks(y);
            }
            if let Some(y) = s.create_dirs {
                f = f.create_dirs(y);
            }
            if let Some(d) = s.check_interval {
                f = f.check_interval(d.0);
            }
            Box::new(f.build())
        }
        SinkKind::Rotating => Box::new(rotating(src, key, s, need_path()?)?),
        SinkKind::Syslog => Box::new(syslog(src, key, s)?),
    })
}

fn rotating(
    src: Source<'_>,
    key: &str,
    s: &SinkModel,
    path: std::path::PathBuf,
) -> Result<RotatingFileSink, Error> {
    let mut naming = Naming::from_path(path);
    if let Some(x) = &s.suffix {
        naming = naming.suffix(x.clone());
    }
    if let Some(t) = &s.instance_tag {
        naming = naming.instance_tag(t.clone());
    }
    if let Some(y) = s.fixed_name {
        naming = naming.fixed_active_name(y);
    }
    let mut r = RotatingFileSink::builder(naming);
    if let Some(rot) = &s.rotation {
        r =
            r.rotation(Rotation::parse(rot.get_ref()).map_err(|e| {
                src.error(Some(rot.span()), &format!("{key}.rotation"), &e.detail())
            })?);
    }
    if let Some(tz) = &s.timezone {
        r = r.timezone(match tz.to_ascii_lowercase().as_str() {
            "utc" => RotationTz::Utc,
            "local" => RotationTz::Local,
            _ => RotationTz::named(tz.clone()),
        });
    }
    if let Some(n) = s.max_bytes {
        r = r.max_bytes(n);
    }
    if let Some(y) = s.rotate_on_start {
        r = r.rotate_on_start(y);
    }
    if let Some(m) = s.mode {
        r = r.mode(m);
    }
    if let Some(y) = s.follow_symlinks {
        r = r.follow_symlinks(y);
    }
    if let Some(d) = s.check_interval {
        r = r.check_interval(d.0);
    }
    if let Some(ret) = &s.retention {
        r = r.retention(retention(ret));
    }
    r.build()
        .map_err(|e| src.error(Some(s.kind.span()), key, &e.detail()))
}

fn retention(r: &RetentionModel) -> Retention {
    let mut out = Retention::new();
    if let Some(n) = r.max_files {
        out = out.max_files(n);
    }
    if let Some(d) = r.max_age {
        out = out.max_age(d.0);
    }
    if let Some(n) = r.max_total_bytes {
        out = out.max_total_bytes(n);
    }
    if let Some(c) = r.compress {
        out = out.compress(match c {
            CompressionName::None => Compression::None,
            CompressionName::Gzip => Compression::Gzip,
            CompressionName::Zstd => Compression::Zstd,
        });
    }
    if let Some(d) = r.grace {
        out = out.grace(d.0);
    }
    if let Some(y) = r.free_space_on_enospc {
        out = out.free_space_on_enospc(y);
    }
    out
}

fn syslog(src: Source<'_>, key: &str, s: &SinkModel) -> Result<SyslogSink, Error> {
    let at = || Some(s.kind.span());
    let missing = &|k: &str, what: &str| src.error(at(), &format!("{key}.{k}"), what);
    let address = || {
        s.address.clone().ok_or_else(|| {
            missing(
                "address",
                "missing: this transport needs an address (\"host:port\")",
            )
        })
    };
    let tls = || -> Result<TlsConfig, Error> {
        let t = s.tls.as_ref().ok_or_else(|| {
            missing(
                "tls",
                "missing: this transport needs tls = { ca_file = ... }",
            )
        })?;
        let mut c = TlsConfig::new(t.ca_file.clone());
        match (&t.client_cert, &t.client_key) {
            (Some(cert), Some(k)) => c = c.client_cert(cert.clone(), k.clone()),
            (None, None) => {}
            _ => {
                return Err(missing(
                    "tls",
                    "client_cert and client_key go together: give both or neither",
                ))
            }
        }
        if let Some(n) = &t.server_name {
            c = c.server_name(n.clone());
        }
        Ok(c)
    };
    let kind = s.transport.ok_or_else(|| {
        missing(
            "transport",
            "missing: udp, tcp, unix, tls, relp or relp_tls",
        )
    })?;
    let transport =
        match kind {
            TransportKind::Udp => Transport::udp(address()?),
            TransportKind::Tcp => Transport::tcp(address()?),
            TransportKind::Tls => Transport::tls(address()?, tls()?),
            TransportKind::Relp => Transport::relp(address()?),
            TransportKind::RelpTls => Transport::relp_tls(address()?, tls()?),
            TransportKind::Unix => Transport::unix(s.path.clone().ok_or_else(|| {
                missing("path", "missing: the unix transport needs a socket path")
            })?),
        };
    let mut b = SyslogSink::builder(transport);
    if let Some(d) = s.connect_timeout {
        b = b.connect_timeout(d.0);
    }
    if let Some(d) = s.write_timeout {
        b = b.write_timeout(d.0);
    }
    if let Some(d) = s.ack_timeout {
        b = b.ack_timeout(d.0);
    }
    if let Some(n) = s.window {
        b = b.window(n);
    }
    if let Some(n) = s.max_message_bytes {
        b = b.max_message_bytes(n);
    }
    if let Some(r) = &s.reconnect_backoff {
        b = b.reconnect_backoff(r.initial.0, r.max.0);
    }
    b.build().map_err(|e| src.error(at(), key, &e.detail()))
}

/// The format a `format` table describes.
pub(crate) fn format(src: Source<'_>, key: &str, f: &FormatModel) -> Result<Format, Error> {
    let syslog_keys = [
        ("rfc", f.rfc.is_some()),
        ("facility", f.facility.is_some()),
        ("hostname", f.hostname.is_some()),
        ("app_name", f.app_name.is_some()),
        ("procid", f.procid.is_some()),
        ("msgid", f.msgid.is_some()),
        ("msgid_from_target", f.msgid_from_target.is_some()),
        ("sd_id", f.sd_id.is_some()),
        ("bom", f.bom.is_some()),
    ];
    let wrong = |k: &str, what: &str| src.error(None, &format!("{key}.{k}"), what);
    if f.kind != FormatKind::Syslog {
        if let Some((k, _)) = syslog_keys.iter().find(|(_, set)| *set) {
            return Err(wrong(k, "is for type = \"syslog\" only"));
        }
    }
    if f.kind != FormatKind::Text && f.pattern.is_some() {
        return Err(wrong("pattern", "is for type = \"text\" only"));
    }
    let out = match f.kind {
        FormatKind::Json => Format::json(),
        FormatKind::Text => match &f.pattern {
            None => Format::text(),
            Some(p) => Format::text_pattern(p.get_ref())
                .map_err(|e| src.error(Some(p.span()), &format!("{key}.pattern"), &e.detail()))?,
        },
        FormatKind::Syslog => Format::syslog(syslog_format(f)),
    };
    Ok(match &f.timezone {
        None => out,
        Some(tz) => out.with_timezone(match tz.to_ascii_lowercase().as_str() {
            "utc" => TimeZoneChoice::Utc,
            "local" => TimeZoneChoice::Local,
            _ => TimeZoneChoice::Named(tz.clone()),
        }),
    })
}

fn syslog_format(f: &FormatModel) -> SyslogFormat {
    let mut s = match f.rfc {
        Some(SyslogRfc::Rfc3164) => SyslogFormat::rfc3164(),
        Some(SyslogRfc::Rfc5424) | None => SyslogFormat::rfc5424(),
    };
    if let Some(x) = f.facility {
        s = s.facility(facility(x));
    }
    if let Some(x) = &f.hostname {
        s = s.hostname(x.clone());
    }
    if let Some(x) = &f.app_name {
        s = s.app_name(x.clone());
    }
    if let Some(x) = &f.procid {
        s = s.procid(x.clone());
    }
    if let Some(x) = &f.msgid {
        s = s.msgid(x.clone());
    }
    if f.msgid_from_target == Some(true) {
        s = s.msgid_from_target();
    }
    if let Some(x) = &f.sd_id {
        s = s.sd_id(x.clone());
    }
    if let Some(x) = f.bom {
        s = s.bom(x);
    }
    s
}

fn facility(f: FacilityName) -> Facility {
    use FacilityName as N;
    match f {
        N::Kern => Facility::Kern,
        N::User => Facility::User,
        N::Mail => Facility::Mail,
        N::Daemon => Facility::Daemon,
        N::Auth => Facility::Auth,
        N::Syslog => Facility::Syslog,
        N::Lpr => Facility::Lpr,
        N::News => Facility::News,
        N::Uucp => Facility::Uucp,
        N::Cron => Facility::Cron,
        N::Authpriv => Facility::Authpriv,
        N::Ftp => Facility::Ftp,
        N::Ntp => Facility::Ntp,
        N::Audit => Facility::Audit,
        N::Alert => Facility::Alert,
        N::Clock => Facility::Clock,
        N::Local0 => Facility::Local0,
        N::Local1 => Facility::Local1,
        N::Local2 => Facility::Local2,
        N::Local3 => Facility::Local3,
        N::Local4 => Facility::Local4,
        N::Local5 => Facility::Local5,
        N::Local6 => Facility::Local6,
        N::Local7 => Facility::Local7,
    }
}
