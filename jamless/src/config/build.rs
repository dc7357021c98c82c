//! From the model to a [`Builder`]: each key to its builder call. Keys
//! left out make no call, so the builder's defaults stay in force. Sinks
//! are in `sink.rs`, formats in `format.rs`.

use std::sync::Arc;

use toml::Spanned;

use super::error::Source;
use super::format::format;
use super::model::*;
use super::sink::sink;
use crate::builder::Builder;
use crate::error::Error;
use crate::level::Level;
use crate::pipeline::{Directives, Pipeline};
use crate::policy::{Overflow, Shedding};
use crate::sink::{Sink, StderrSink, StdoutSink};

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
