//! From a `format` table to a [`Format`]: text pattern, JSON or syslog.

use super::error::Source;
use super::model::*;
use crate::error::Error;
use crate::render::{Facility, Format, SyslogFormat, TimeZoneChoice};

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
