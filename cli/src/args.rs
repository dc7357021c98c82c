//! The command line, and how each flag maps onto the library's builders.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgGroup, Parser};
use jamless::{
    Builder, Compression, FileSinkBuilder, Format, Level, Naming, Pipeline, Retention,
    RotatingFileSink, Rotation, StdoutSink,
};

use crate::detect::Detector;

/// Reads lines from standard input and writes them through jamless
/// pipelines (rotated files, standard output, text or JSON), without ever
/// making the program that writes them wait.
///
///   my-server 2>&1 | jamless --file logs/app.log --rotate hourly --keep 48 --gzip
///   my-server 2>&1 | jamless --config logs.toml
///
/// Exit status: 0 when every line read was written (or filtered out on
/// purpose); 1 when records were lost (dropped or left unwritten at the
/// shutdown deadline: the summary on standard error says how many and
/// why); 2 for a usage or configuration error; 3 when standard input
/// could not be read.
#[derive(Debug, Parser)]
#[command(name = "jamless", version, verbatim_doc_comment)]
#[command(group(ArgGroup::new("output").required(true).multiple(true).args(["config", "file", "stdout"])))]
pub struct Args {
    /// A jamless configuration file (TOML): logger settings and pipelines.
    /// SIGHUP reopens the files and reloads the file.
    #[arg(long, value_name = "PATH", conflicts_with_all = [
        "file", "stdout", "rotate", "keep", "gzip", "max_bytes", "fixed_name", "json",
        "filter", "queue_bytes", "max_record_bytes",
    ])]
    pub config: Option<PathBuf>,

    /// Write the lines to this file (pipeline "file"). Alone: one file,
    /// opened with O_APPEND and reopened on SIGHUP (for logrotate). With
    /// --rotate, --max-bytes, --keep or --gzip: a rotating file with dated
    /// names (logs/app.2026-12-03T14.log), unless --fixed-name.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,

    /// Rotate the file by time: minutely, hourly, daily, never, or an
    /// interval such as 30s, 15m, 2h.
    #[arg(long, value_name = "WHEN", requires = "file", value_parser = parse_rotation)]
    pub rotate: Option<Rotation>,

    /// Keep at most N rotated files (older ones are deleted).
    #[arg(long, value_name = "N", requires = "file")]
    pub keep: Option<usize>,

    /// Compress rotated files with gzip.
    #[arg(long, requires = "file")]
    pub gzip: bool,

    /// Start a new file when the current one would grow past N bytes.
    #[arg(long, value_name = "N", requires = "file")]
    pub max_bytes: Option<u64>,

    /// Rotating file: keep writing to the --file name itself and rename it
    /// to its dated name at rotation (for shippers that tail one name).
    #[arg(long, requires = "file")]
    pub fixed_name: bool,

    /// Also write the lines to standard output (pipeline "stdout").
    #[arg(long)]
    pub stdout: bool,

    /// Write JSON lines (ECS: @timestamp, log.level, message) instead of
    /// the lines as read; a line that is a JSON object passes unchanged.
    #[arg(long)]
    pub json: bool,

    /// Keep only the lines these directives let through (RUST_LOG syntax on
    /// the detected level, such as `warn`).
    #[arg(long, value_name = "DIRECTIVES")]
    pub filter: Option<String>,

    /// Read each line's level from this top-level field of a JSON object
    /// (a name such as "warn", or pino/bunyan numbers).
    #[arg(long, value_name = "KEY", conflicts_with = "level_regex")]
    pub level_json_field: Option<String>,

    /// Read each line's level from this regular expression's group named
    /// `level`, or else its first group, e.g. '^\S+ \[(\w+)\]'.
    #[arg(long, value_name = "REGEX")]
    pub level_regex: Option<String>,

    /// The level of a line whose level is not detected.
    #[arg(long, value_name = "LEVEL", default_value = "info", value_parser = parse_level)]
    pub default_level: Level,

    /// The records' target (written as `log.logger` in JSON; also what
    /// target-specific filter directives match).
    #[arg(long, value_name = "NAME", default_value = "")]
    pub target: String,

    /// The in-memory queue between the reader and the pipelines, in bytes
    /// (at least 65536). When it is full, lines are dropped and counted.
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20)]
    pub queue_bytes: usize,

    /// The longest line written whole, in bytes (at least 1024); longer
    /// lines are cut and marked `…[truncated from N bytes]`.
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 10)]
    pub max_record_bytes: usize,

    /// Serve GET /health (the health snapshot as JSON; 503 when stalled or
    /// dead) and GET /metrics (Prometheus text) on this address.
    #[arg(long, value_name = "ADDR")]
    pub health_addr: Option<SocketAddr>,

    /// How long to keep flushing after standard input closes or on SIGTERM.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub shutdown_timeout: Duration,

    /// Write the final report (lines read, health snapshot, flush outcome)
    /// as JSON to this file before exiting.
    #[arg(long, value_name = "PATH")]
    pub report_file: Option<PathBuf>,
}

fn parse_rotation(s: &str) -> Result<Rotation, String> {
    Rotation::parse(s).map_err(|e| e.to_string())
}

fn parse_level(s: &str) -> Result<Level, String> {
    crate::detect::level_from_name(s.as_bytes())
        .ok_or_else(|| format!("{s:?}: expected error, warn, info, debug or trace"))
}

impl Args {
    /// The level detector the flags ask for.
    pub fn detector(&self) -> Result<Detector, String> {
        Ok(match (&self.level_json_field, &self.level_regex) {
            (Some(key), _) => Detector::JsonField(key.clone()),
            (None, Some(re)) => Detector::regex(re)?,
            (None, None) => Detector::None,
        })
    }

    /// The builder for the flags path (`--file`, `--stdout`, ...), or the
    /// configuration file's.
    pub fn builder(&self) -> Result<Builder, String> {
        let builder = match &self.config {
            Some(path) => builder_from_config_file(path)?,
            None => self.flags_builder().map_err(|e| e.to_string())?,
        };
        Ok(builder.shutdown_timeout(self.shutdown_timeout))
    }

    fn rotating(&self) -> bool {
        self.rotate.is_some() || self.max_bytes.is_some() || self.keep.is_some() || self.gzip
    }

    fn flags_builder(&self) -> Result<Builder, jamless::Error> {
        let format = if self.json {
            Format::json()
        } else {
            Format::text()
        };
        // Only --filter (the pipelines') decides which lines are kept: the
        // logger's own filter passes everything (and RUST_LOG, meant for
        // the program's own logging, does not reach the command's lines).
        let mut builder = Builder::new()
            .name("jamless-cli")
            .filter("trace")
            .format(format)
            .capacity_bytes(self.queue_bytes)
            .max_record_bytes(self.max_record_bytes);
        let filtered = |p: Pipeline| match &self.filter {
            Some(f) => p.filter(f.clone()),
            None => p,
        };
        if let Some(path) = &self.file {
            let pipeline = if self.rotating() {
                let mut retention = Retention::new();
                if let Some(n) = self.keep {
                    retention = retention.max_files(n);
                }
                if self.gzip {
                    retention = retention.compress(Compression::Gzip);
                }
                let mut sink = RotatingFileSink::builder(
                    Naming::from_path(path).fixed_active_name(self.fixed_name),
                )
                .rotation(self.rotate.unwrap_or(Rotation::NEVER))
                .retention(retention);
                if let Some(n) = self.max_bytes {
                    sink = sink.max_bytes(n);
                }
                Pipeline::new("file", sink.build()?)
            } else {
                Pipeline::new("file", FileSinkBuilder::new(path).build())
            };
            builder = builder.pipeline(filtered(pipeline));
        }
        if self.stdout {
            builder = builder.pipeline(filtered(Pipeline::new("stdout", StdoutSink::new())));
        }
        Ok(builder)
    }
}

// The configuration file, through the library's configuration API.

/// The logger described by a configuration file.
fn builder_from_config_file(path: &Path) -> Result<Builder, String> {
    Builder::from_config_file(path).map_err(|e| e.to_string())
}

/// Applies the configuration file again to the running logger (filters
/// and formats; the report lists what needs a restart).
pub fn reload_config_file(
    logger: &jamless::Logger,
    path: &Path,
) -> Result<jamless::ReloadReport, String> {
    logger.reload_config_file(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_names_and_intervals() {
        assert_eq!(parse_rotation("Hourly").unwrap(), Rotation::HOURLY);
        assert_eq!(parse_rotation("daily").unwrap(), Rotation::DAILY);
        assert_eq!(parse_rotation("minutely").unwrap(), Rotation::MINUTELY);
        assert_eq!(parse_rotation("never").unwrap(), Rotation::NEVER);
        assert_eq!(
            parse_rotation("90s").unwrap().interval(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(parse_rotation("1h").unwrap(), Rotation::HOURLY);
        assert!(parse_rotation("sometimes").is_err());
        assert!(parse_rotation("500ms").is_err());
    }

    #[test]
    fn flags_need_an_output_and_keep_needs_a_file() {
        assert!(Args::try_parse_from(["jamless"]).is_err());
        assert!(Args::try_parse_from(["jamless", "--keep", "3", "--stdout"]).is_err());
        assert!(Args::try_parse_from(["jamless", "--config", "x.toml", "--file", "y"]).is_err());
        let a = Args::try_parse_from(["jamless", "--file", "a.log", "--rotate", "hourly"]).unwrap();
        assert!(a.rotating());
        assert_eq!(a.shutdown_timeout, Duration::from_secs(5));
        assert_eq!(a.default_level, Level::Info);
    }
}
