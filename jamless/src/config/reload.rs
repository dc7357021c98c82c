//! Applying a new version of the configuration to a running logger.
//!
//! The new text is parsed and checked whole (as for building) before
//! anything changes, so a bad file changes nothing. Then the filters and
//! formats that differ are swapped in (see [`crate::live`]); every other
//! difference is listed as needing a restart.

use std::fmt;
use std::path::Path;
use std::sync::atomic::Ordering;

use super::build::rust_log;
use super::error::Source;
use super::format::format;
use super::model::{ConfigFile, FormatModel, PipelineModel};
use crate::error::Error;
use crate::level::Level;
use crate::logger::Logger;
use crate::render::Format;

/// What a reload changed, and what it could not change live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadReport {
    /// Changes now in force, such as `filter "info" -> "debug"` or
    /// `pipeline "file": format`.
    pub applied: Vec<String>,
    /// Changes the file asks for that only a restart can make (a sink, a
    /// queue size, a pipeline added or removed); the running logger keeps
    /// what it has.
    pub needs_restart: Vec<String>,
    /// Remarks, such as `RUST_LOG` overriding the file's `filter`.
    pub notes: Vec<String>,
}

impl ReloadReport {
    /// True when the file asked for nothing new.
    pub fn is_unchanged(&self) -> bool {
        self.applied.is_empty() && self.needs_restart.is_empty()
    }
}

impl fmt::Display for ReloadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.applied.is_empty() {
            f.write_str("nothing to apply")?;
        } else {
            write!(f, "applied: {}", self.applied.join(", "))?;
        }
        if !self.needs_restart.is_empty() {
            write!(
                f,
                "; needs a restart (not applied): {}",
                self.needs_restart.join(", ")
            )?;
        }
        if !self.notes.is_empty() {
            write!(f, "; {}", self.notes.join("; "))?;
        }
        Ok(())
    }
}

/// One change to make, prepared (parsed) before any is made.
enum Change {
    Filter(String),
    PipelineFilter(String, String),
    PipelineFormat(String, Format),
}

/// Lists the keys whose values differ between two models.
macro_rules! differing {
    ($old:expr, $new:expr, $out:expr, $prefix:expr, [$($key:ident),* $(,)?]) => {{
        $(
            if $old.$key != $new.$key {
                $out.push(format!("{}{}", $prefix, stringify!($key)));
            }
        )*
    }};
}

impl Logger {
    /// Reads the configuration file again and applies what can change
    /// live: the logger's and the pipelines' filters and the pipelines'
    /// formats. Other differences (sinks, sizes, timeouts, pipelines added
    /// or removed) are listed in the report's `needs_restart` and not
    /// applied. `RUST_LOG`, when set, keeps replacing the file's `filter`.
    ///
    /// A file that cannot be read, does not parse or does not validate
    /// changes nothing and returns the error (counted in the health
    /// snapshot's `config_errors`; a reload that succeeds counts in
    /// `config_reloads`).
    pub fn reload_config_file(&self, path: impl AsRef<Path>) -> Result<ReloadReport, Error> {
        let path = path.as_ref();
        match super::read(path) {
            Ok(text) => self.reload_config_str(&text, &path.display().to_string()),
            Err(e) => {
                self.core
                    .common
                    .config_errors
                    .fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// [`Logger::reload_config_file`] from TOML text; `origin` names it in
    /// errors.
    pub fn reload_config_str(&self, text: &str, origin: &str) -> Result<ReloadReport, Error> {
        let result = self.reload(text, origin);
        let counter = match result {
            Ok(_) => &self.core.common.config_reloads,
            Err(_) => &self.core.common.config_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    fn reload(&self, text: &str, origin: &str) -> Result<ReloadReport, Error> {
        // Parses and checks everything, building (and dropping) the sinks
        // as a new logger would; nothing runs and nothing is opened.
        let (new, _checked) = super::parse(text, origin)?;
        let src = Source { origin, text };
        let mut applied = self.core.live.applied_config();
        let old = applied.as_deref();
        let mut report = ReloadReport::default();
        let mut changes = Vec::new();
        self.plan_logger(old, &new, &mut changes, &mut report);
        for p in &new.pipelines {
            self.plan_pipeline(src, old, &new, p, &mut changes, &mut report)?;
        }
        for p in &self.core.common.pipelines {
            if !new.pipelines.iter().any(|n| n.name == p.name) {
                report
                    .needs_restart
                    .push(format!("pipeline {:?}: removed from the file", p.name));
            }
        }
        for change in changes {
            match change {
                Change::Filter(spec) => {
                    report
                        .applied
                        .push(format!("filter {:?} -> {spec:?}", self.filter()));
                    self.set_filter(&spec)?;
                }
                Change::PipelineFilter(name, spec) => {
                    let was = self.pipeline_filter(&name).unwrap_or_default();
                    report
                        .applied
                        .push(format!("pipeline {name:?}: filter {was:?} -> {spec:?}"));
                    self.set_pipeline_filter(&name, &spec)?;
                }
                Change::PipelineFormat(name, f) => {
                    self.set_pipeline_format(&name, &f)?;
                    report.applied.push(format!("pipeline {name:?}: format"));
                }
            }
        }
        // What runs now: the sinks and settings it was built with, the
        // filters and formats just applied.
        if let Some(running) = applied.as_deref_mut() {
            running.format = new.format.clone();
            for p in &mut running.pipelines {
                if let Some(n) = new.pipelines.iter().find(|n| n.name == p.name) {
                    p.format = n.format.clone().or_else(|| new.format.clone());
                    p.filter = n.filter.clone();
                }
            }
        }
        Ok(report)
    }

    fn plan_logger(
        &self,
        old: Option<&ConfigFile>,
        new: &ConfigFile,
        changes: &mut Vec<Change>,
        report: &mut ReloadReport,
    ) {
        let wanted = match (rust_log(), &new.filter) {
            (Some(_), Some(_)) => {
                report
                    .notes
                    .push("RUST_LOG is set and replaces the file's filter".to_string());
                None
            }
            (Some(_), None) => None,
            (None, Some(f)) => Some(f.get_ref().clone()),
            // Left out: the builder's default.
            (None, None) => Some("info".to_string()),
        };
        if let Some(spec) = wanted {
            if spec != self.filter() {
                changes.push(Change::Filter(spec));
            }
        }
        match old {
            Some(old) => differing!(
                old,
                new,
                report.needs_restart,
                "",
                [
                    name,
                    capacity_bytes,
                    max_record_bytes,
                    overflow,
                    shedding,
                    error_handler,
                    fallback,
                    fallback_after,
                    retry_backoff,
                    idle_interval,
                    maintain_interval,
                    notice_interval,
                    stall_timeout,
                    watch_interval,
                    shutdown_timeout,
                ]
            ),
            None => report.notes.push(
                "the logger was not built from a configuration file: only filters and \
                 formats were compared"
                    .to_string(),
            ),
        }
    }

    fn plan_pipeline(
        &self,
        src: Source<'_>,
        old: Option<&ConfigFile>,
        new: &ConfigFile,
        p: &PipelineModel,
        changes: &mut Vec<Change>,
        report: &mut ReloadReport,
    ) -> Result<(), Error> {
        let Some(current) = self.pipeline_filter(&p.name) else {
            report
                .needs_restart
                .push(format!("pipeline {:?}: added to the file", p.name));
            return Ok(());
        };
        let spec = p.filter.as_ref().map_or("", |f| f.get_ref().as_str());
        if spec != current {
            changes.push(Change::PipelineFilter(p.name.clone(), spec.to_string()));
        }
        let effective = |c: &ConfigFile, p: Option<&PipelineModel>| -> Option<FormatModel> {
            p.and_then(|p| p.format.clone())
                .or_else(|| c.format.clone())
        };
        let wanted = effective(new, Some(p));
        let old_pipeline = old.and_then(|o| o.pipelines.iter().find(|o| o.name == p.name));
        let changed = match old {
            Some(old) => effective(old, old_pipeline) != wanted,
            // Not built from a file: apply only a format the file names.
            None => wanted.is_some(),
        };
        if changed {
            let key = format!("pipeline {:?}.format", p.name);
            let f = match &wanted {
                Some(m) => format(src, &key, m)?,
                None => Format::text(),
            };
            changes.push(Change::PipelineFormat(p.name.clone(), f));
        }
        if let Some(o) = old_pipeline {
            differing!(
                o,
                p,
                report.needs_restart,
                format!("pipeline {:?}: ", p.name),
                [
                    sink,
                    backlog_bytes,
                    fallback,
                    fallback_after,
                    retry_backoff,
                    essential
                ]
            );
        }
        Ok(())
    }
}

/// Reloads `path` for a watcher or a signal and tells of it: a notice line
/// in the log (`INFO` when applied, `WARN` when something needs a restart
/// or the file was refused) and, for a refused file, the error handler and
/// the health snapshot's `last_error`.
pub(crate) fn reload_and_tell(logger: &Logger, path: &Path, why: &str) {
    const TARGET: &str = "jamless::config";
    match logger.reload_config_file(path) {
        Ok(r) if r.is_unchanged() => {}
        Ok(r) => {
            let level = if r.needs_restart.is_empty() {
                Level::Info
            } else {
                Level::Warn
            };
            logger.log(
                level,
                TARGET,
                format_args!("configuration {} reloaded ({why}): {r}", path.display()),
            );
        }
        Err(e) => {
            let message = format!(
                "configuration {} not applied ({why}), the running configuration is unchanged: {e}",
                path.display()
            );
            logger.log(Level::Warn, TARGET, format_args!("{message}"));
            logger
                .core
                .common
                .report(None, "config reload", "config", message);
        }
    }
}
