//! A pipeline's own filter: `RUST_LOG`-style directives on level and
//! target, applied on top of the logger's filter.
//!
//! `warn` lets `WARN` and `ERROR` through; `info,my_app::db=debug,hyper=off`
//! sets a default and overrides it for targets that start with a prefix
//! (the longest matching prefix wins, as in `env_logger`). A bare target
//! (`my_app`) enables everything for it. An empty string allows all.

use crate::error::Error;
use crate::level::Level;

/// One directive: records whose target starts with `prefix` (or all, when
/// `None`) pass up to `max` (`None`: nothing passes).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Directive {
    prefix: Option<String>,
    max: Option<Level>,
}

/// Parsed directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Directives {
    /// The directives as given.
    spec: String,
    default: Option<Level>,
    /// Longest prefix first.
    targets: Vec<Directive>,
}

fn parse_level(s: &str) -> Option<Option<Level>> {
    match s.to_ascii_lowercase().as_str() {
        "off" => Some(None),
        "error" => Some(Some(Level::Error)),
        "warn" => Some(Some(Level::Warn)),
        "info" => Some(Some(Level::Info)),
        "debug" => Some(Some(Level::Debug)),
        "trace" => Some(Some(Level::Trace)),
        _ => None,
    }
}

impl Directives {
    /// Everything passes.
    pub(crate) fn all() -> Directives {
        Directives {
            spec: String::new(),
            default: Some(Level::Trace),
            targets: Vec::new(),
        }
    }

    /// The directives as given (`""` for [`Directives::all`]).
    pub(crate) fn spec(&self) -> &str {
        &self.spec
    }

    /// Parses `spec`. Errors name the directive that is wrong.
    pub(crate) fn parse(spec: &str) -> Result<Directives, Error> {
        let mut d = Directives {
            spec: spec.to_string(),
            default: None,
            targets: Vec::new(),
        };
        let mut any = false;
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            any = true;
            let (prefix, max) = match part.split_once('=') {
                Some((target, level)) => {
                    let target = target.trim();
                    let level = parse_level(level.trim()).ok_or_else(|| {
                        Error::config(format!(
                            "pipeline filter {spec:?}: {level:?} in {part:?} is not a level (off, error, warn, info, debug, trace)"
                        ))
                    })?;
                    if target.is_empty() {
                        return Err(Error::config(format!(
                            "pipeline filter {spec:?}: {part:?} has no target before '='"
                        )));
                    }
                    (Some(target.to_string()), level)
                }
                None => match parse_level(part) {
                    Some(level) => (None, level),
                    None if part
                        .chars()
                        .all(|c| c.is_alphanumeric() || "_:-.".contains(c)) =>
                    {
                        (Some(part.to_string()), Some(Level::Trace))
                    }
                    None => {
                        return Err(Error::config(format!(
                            "pipeline filter {spec:?}: {part:?} is neither a level nor a target"
                        )))
                    }
                },
            };
            match prefix {
                None => d.default = max,
                Some(prefix) => {
                    d.targets
                        .retain(|t| t.prefix.as_deref() != Some(prefix.as_str()));
                    d.targets.push(Directive {
                        prefix: Some(prefix),
                        max,
                    });
                }
            }
        }
        if !any {
            return Ok(Directives {
                spec: spec.to_string(),
                ..Directives::all()
            });
        }
        d.targets
            .sort_by_key(|t| std::cmp::Reverse(t.prefix.as_ref().map_or(0, String::len)));
        Ok(d)
    }

    /// Whether a record of `level` from `target` passes.
    #[inline]
    pub(crate) fn allows(&self, level: Level, target: &[u8]) -> bool {
        for t in &self.targets {
            if let Some(p) = &t.prefix {
                if target.starts_with(p.as_bytes()) {
                    return t.max.is_some_and(|max| level <= max);
                }
            }
        }
        self.default.is_some_and(|max| level <= max)
    }

    /// The most verbose level any directive lets through (`None`: none).
    pub(crate) fn max_level(&self) -> Option<Level> {
        self.targets
            .iter()
            .map(|t| t.max)
            .chain(std::iter::once(self.default))
            .max()
            .flatten()
    }

    /// True when the directives are one level for all targets.
    pub(crate) fn is_global(&self) -> bool {
        self.targets.is_empty()
    }
}

/// The union of the pipelines' filters: what a caller checks before it
/// encodes a record, so a record no pipeline wants costs no more than a
/// disabled level.
#[derive(Debug, Clone)]
pub(crate) struct Routes {
    /// The most verbose level any pipeline takes: the one-comparison check.
    max: Option<Level>,
    /// Every pipeline's filter is a global level: `max` decides alone.
    global: bool,
    filters: Vec<Directives>,
}

impl Routes {
    pub(crate) fn new(filters: Vec<Directives>) -> Routes {
        Routes {
            max: filters.iter().filter_map(Directives::max_level).max(),
            global: filters.iter().all(Directives::is_global),
            filters,
        }
    }

    /// The most verbose level any pipeline takes, as a number (0: none).
    pub(crate) fn max_u8(&self) -> u8 {
        self.max.map_or(0, |l| l as u8)
    }

    /// [`Routes::max_u8`] when every pipeline's filter is one global level
    /// (the level decides alone), else [`crate::live::NOT_EXACT`].
    pub(crate) fn exact_u8(&self) -> u8 {
        if self.global {
            self.max_u8()
        } else {
            crate::live::NOT_EXACT
        }
    }

    /// Whether at least one pipeline takes this record.
    #[inline]
    pub(crate) fn wanted(&self, level: Level, target: &str) -> bool {
        if self.max.is_none_or(|max| level > max) {
            return false;
        }
        self.global
            || self
                .filters
                .iter()
                .any(|f| f.allows(level, target.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_prefixes_and_off() {
        let d = Directives::parse("info, my_app::db=debug ,hyper=off,noisy").unwrap();
        assert!(d.allows(Level::Info, b"other"));
        assert!(!d.allows(Level::Debug, b"other"));
        assert!(d.allows(Level::Debug, b"my_app::db::pool"));
        assert!(!d.allows(Level::Trace, b"my_app::db"));
        assert!(!d.allows(Level::Error, b"hyper::client"));
        assert!(d.allows(Level::Trace, b"noisy"));
        assert_eq!(d.max_level(), Some(Level::Trace));
        assert!(!d.is_global());
    }

    #[test]
    fn empty_allows_all_and_errors_name_the_directive() {
        assert!(Directives::parse("").unwrap().allows(Level::Trace, b"x"));
        let e = Directives::parse("info,db=loud").unwrap_err().to_string();
        assert!(e.contains("\"loud\"") && e.contains("db=loud"), "{e}");
        assert!(Directives::parse("=info").is_err());
        assert!(Directives::parse("a b").is_err());
        assert_eq!(Directives::parse("off").unwrap().max_level(), None);
    }

    #[test]
    fn longest_prefix_wins() {
        let d = Directives::parse("a=error,a::b=trace").unwrap();
        assert!(d.allows(Level::Trace, b"a::b::c"));
        assert!(!d.allows(Level::Warn, b"a::c"));
        assert!(!d.allows(Level::Error, b"zzz"), "no default: nothing else");
    }

    #[test]
    fn routes_take_the_union() {
        let r = Routes::new(vec![
            Directives::parse("warn").unwrap(),
            Directives::parse("error,db=debug").unwrap(),
        ]);
        assert!(r.wanted(Level::Warn, "x"));
        assert!(r.wanted(Level::Debug, "db"));
        assert!(!r.wanted(Level::Info, "x"));
        assert!(!r.wanted(Level::Trace, "db"));
        let global = Routes::new(vec![Directives::parse("info").unwrap()]);
        assert!(global.wanted(Level::Info, "x") && !global.wanted(Level::Debug, "x"));
    }
}
