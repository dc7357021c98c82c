//! The configuration file's model: what the TOML says, key for key.
//!
//! Every field is optional unless noted: a key left out keeps the
//! builder's default (the model holds no default values of its own).
//! Unknown keys are errors everywhere.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// A whole configuration file: logger settings, then `[[pipeline]]`s.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    pub(crate) name: Option<String>,
    pub(crate) capacity_bytes: Option<usize>,
    pub(crate) max_record_bytes: Option<usize>,
    pub(crate) overflow: Option<OverflowModel>,
    pub(crate) shedding: Option<SheddingModel>,
    pub(crate) filter: Option<Spanned<String>>,
    pub(crate) error_handler: Option<HandlerName>,
    pub(crate) format: Option<FormatModel>,
    pub(crate) fallback: Option<FallbackName>,
    pub(crate) fallback_after: Option<Dur>,
    pub(crate) retry_backoff: Option<Backoff>,
    pub(crate) idle_interval: Option<Dur>,
    pub(crate) maintain_interval: Option<Dur>,
    pub(crate) notice_interval: Option<Dur>,
    pub(crate) stall_timeout: Option<Dur>,
    pub(crate) watch_interval: Option<Dur>,
    pub(crate) shutdown_timeout: Option<Dur>,
    /// At least one.
    #[serde(default, rename = "pipeline")]
    pub(crate) pipelines: Vec<PipelineModel>,
}

/// `overflow = { policy = "drop_newest" }` or
/// `overflow = { policy = "block_for", timeout = "20ms" }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OverflowModel {
    pub(crate) policy: Spanned<OverflowPolicy>,
    pub(crate) timeout: Option<Dur>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OverflowPolicy {
    DropNewest,
    BlockFor,
}

/// `shedding = { watermark = 0.8, keep = "warn" }` or `{ enabled = false }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SheddingModel {
    pub(crate) enabled: Option<bool>,
    pub(crate) watermark: Option<f64>,
    pub(crate) keep: Option<LevelName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LevelName {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HandlerName {
    Stderr,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FallbackName {
    Stderr,
    Stdout,
    None,
}

/// `retry_backoff = { initial = "5ms", max = "1s" }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Backoff {
    pub(crate) initial: Dur,
    pub(crate) max: Dur,
}

/// One `[[pipeline]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PipelineModel {
    /// Required.
    pub(crate) name: String,
    /// Required.
    pub(crate) sink: SinkModel,
    pub(crate) format: Option<FormatModel>,
    pub(crate) filter: Option<Spanned<String>>,
    pub(crate) backlog_bytes: Option<usize>,
    pub(crate) fallback: Option<FallbackName>,
    pub(crate) fallback_after: Option<Dur>,
    pub(crate) retry_backoff: Option<Backoff>,
    pub(crate) essential: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SinkKind {
    File,
    Rotating,
    Stdout,
    Stderr,
    Syslog,
}

/// `[pipeline.sink]`: `type` says which keys apply.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SinkModel {
    #[serde(rename = "type")]
    pub(crate) kind: Spanned<SinkKind>,
    // file and rotating
    pub(crate) path: Option<PathBuf>,
    pub(crate) mode: Option<u32>,
    pub(crate) follow_symlinks: Option<bool>,
    pub(crate) check_interval: Option<Dur>,
    // file
    pub(crate) create_dirs: Option<bool>,
    // rotating
    pub(crate) suffix: Option<String>,
    pub(crate) instance_tag: Option<String>,
    pub(crate) fixed_name: Option<bool>,
    pub(crate) rotation: Option<Spanned<String>>,
    pub(crate) timezone: Option<String>,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) rotate_on_start: Option<bool>,
    pub(crate) retention: Option<RetentionModel>,
    // syslog
    pub(crate) transport: Option<TransportKind>,
    pub(crate) address: Option<String>,
    pub(crate) tls: Option<TlsModel>,
    pub(crate) connect_timeout: Option<Dur>,
    pub(crate) write_timeout: Option<Dur>,
    pub(crate) ack_timeout: Option<Dur>,
    pub(crate) window: Option<usize>,
    pub(crate) max_message_bytes: Option<usize>,
    pub(crate) reconnect_backoff: Option<Backoff>,
}

/// `[pipeline.sink.retention]` of a rotating sink.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetentionModel {
    pub(crate) max_files: Option<usize>,
    pub(crate) max_age: Option<Dur>,
    pub(crate) max_total_bytes: Option<u64>,
    pub(crate) compress: Option<CompressionName>,
    pub(crate) grace: Option<Dur>,
    pub(crate) free_space_on_enospc: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CompressionName {
    None,
    Gzip,
    Zstd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TransportKind {
    Udp,
    Tcp,
    Unix,
    Tls,
    Relp,
    RelpTls,
}

/// `tls = { ca_file = "...", client_cert = "...", client_key = "...",
/// server_name = "..." }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsModel {
    pub(crate) ca_file: PathBuf,
    pub(crate) client_cert: Option<PathBuf>,
    pub(crate) client_key: Option<PathBuf>,
    pub(crate) server_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FormatKind {
    Text,
    Json,
    Syslog,
}

/// `format = { type = "text", pattern = "..." }`, `{ type = "json" }` or
/// `{ type = "syslog", rfc = "5424", facility = "local0", ... }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormatModel {
    #[serde(rename = "type")]
    pub(crate) kind: FormatKind,
    pub(crate) timezone: Option<String>,
    // text
    pub(crate) pattern: Option<Spanned<String>>,
    // syslog
    pub(crate) rfc: Option<SyslogRfc>,
    pub(crate) facility: Option<FacilityName>,
    pub(crate) hostname: Option<String>,
    pub(crate) app_name: Option<String>,
    pub(crate) procid: Option<String>,
    pub(crate) msgid: Option<String>,
    pub(crate) msgid_from_target: Option<bool>,
    pub(crate) sd_id: Option<String>,
    pub(crate) bom: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum SyslogRfc {
    #[serde(rename = "5424")]
    Rfc5424,
    #[serde(rename = "3164")]
    Rfc3164,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub(crate) enum FacilityName {
    Kern,
    User,
    Mail,
    Daemon,
    Auth,
    Syslog,
    Lpr,
    News,
    Uucp,
    Cron,
    Authpriv,
    Ftp,
    Ntp,
    Audit,
    Alert,
    Clock,
    Local0,
    Local1,
    Local2,
    Local3,
    Local4,
    Local5,
    Local6,
    Local7,
}

/// A duration written as a string: `"250ms"`, `"5s"`, `"1h 30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dur(pub(crate) Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Dur, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration such as \"250ms\", \"5s\" or \"1h 30m\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Dur, E> {
                humantime::parse_duration(s)
                    .map(Dur)
                    .map_err(|e| E::custom(format!("{s:?} is not a duration ({e}); expected a duration such as \"250ms\" or \"5s\"")))
            }
        }
        d.deserialize_str(V)
    }
}
