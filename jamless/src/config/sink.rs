//! From a `[pipeline.sink]` table to a sink: file, rotating file,
//! standard output or error, syslog.

use super::error::Source;
use super::model::*;
use crate::error::Error;
use crate::rotation::{Compression, Naming, Retention, Rotation, RotationTz};
use crate::sink::{
    FileSinkBuilder, RotatingFileSink, Sink, StderrSink, StdoutSink, SyslogSink, TlsConfig,
    Transport,
};

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

/// The sink a sink table describes; a key of another sink type is an
/// error.
pub(super) fn sink(src: Source<'_>, key: &str, s: &SinkModel) -> Result<Box<dyn Sink>, Error> {
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
