//! File names, written and read back: pure string work.
//!
//! ```text
//! name = prefix [ "." tag ] [ "." label ] [ "." index ] [ "." suffix ] [ ext ]
//! ext  = ".gz" | ".zst" | ".gz.tmp" | ".zst.tmp"
//! ```
//!
//! `index` (the size split, `1`, `2`, ...) is left out for the first file of
//! a period and `label` for [`Rotation::NEVER`](super::Rotation::NEVER):
//! `app.2026-11-27.log`, `app.2026-11-27.1.log`, `app.pod-7.2026-11-27.log`,
//! `app.log`, `app.1.log`, `app.2026-11-27.log.gz`.
//!
//! Reading a name back only matches this logger's files: the same prefix,
//! the same tag (or none), the same suffix, a well-formed label and index.
//! `app2.2026-11-27.log`, `app.2026-11-27.log.bak` or another instance's
//! `app.pod-8.2026-11-27.log` are somebody else's and are left alone. (So
//! files of an earlier run whose tag was `{pid}` or `{random}` are not
//! cleaned up by this run's retention; prefer `{host}` or `{pod}` when
//! retention matters.)

use std::path::{Path, PathBuf};

use super::instance::{self, InstanceEnv};
use super::label::Label;
use super::retention::Compression;
use crate::Error;

/// The extension of a compression's temporary file, after the compressed
/// extension (`app.2026-11-27.log.gz.tmp`).
pub(crate) const TEMP_EXT: &str = "tmp";

/// Where log files go and what they are called.
///
/// ```ignore
/// // logs/app.2026-11-27.log, logs/app.2026-11-27.1.log, ...
/// let naming = Naming::new("logs", "app");
/// // logs/app.pod-7.2026-11-27.json, with POD_NAME=pod-7
/// let naming = Naming::new("logs", "app").suffix("json").instance_tag("{pod}");
/// // logs/app.log, renamed to logs/app.2026-11-27.log at rotation
/// let naming = Naming::from_path("logs/app.log").fixed_active_name(true);
/// ```
///
/// By default each period's file is written directly under its dated name,
/// so no file is ever renamed and processes sharing the directory converge
/// on the same file. [`fixed_active_name`](Naming::fixed_active_name)
/// instead writes to one name and renames it at rotation, for log shippers
/// that follow a single path.
///
/// The optional instance tag (after the prefix) is a template:
/// `{host}` (host name), `{pod}` (`$POD_NAME`, else `$HOSTNAME`), `{pid}`
/// (`pid-4711`), `{random}` (eight letters and digits, new at each start)
/// and literal text. It is expanded when the logger is built and sanitised
/// to `[A-Za-z0-9._-]`, without `..`, at most 64 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Naming {
    dir: PathBuf,
    prefix: String,
    suffix: String,
    tag: Option<String>,
    fixed_active: bool,
}

impl Naming {
    /// Files `<dir>/<prefix>.<date>.log`.
    pub fn new(dir: impl Into<PathBuf>, prefix: impl Into<String>) -> Naming {
        Naming {
            dir: dir.into(),
            prefix: prefix.into(),
            suffix: "log".to_string(),
            tag: None,
            fixed_active: false,
        }
    }

    /// Splits a path such as `logs/app.log` into directory (`logs`), prefix
    /// (`app`) and suffix (`log`); a path without an extension has an empty
    /// suffix, one without a directory part uses the current directory.
    pub fn from_path(path: impl AsRef<Path>) -> Naming {
        let path = path.as_ref();
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let text = |part: Option<&std::ffi::OsStr>| {
            part.map_or_else(String::new, |part| part.to_string_lossy().into_owned())
        };
        Naming::new(dir, text(path.file_stem())).suffix(text(path.extension()))
    }

    /// The part after the date (default `log`); may be empty, for names
    /// without one.
    pub fn suffix(mut self, suffix: impl Into<String>) -> Naming {
        self.suffix = suffix.into();
        self
    }

    /// Puts an instance tag after the prefix: a template such as `{pod}`,
    /// `{host}-{pid}` or `{random}` (see the type's documentation).
    pub fn instance_tag(mut self, template: impl Into<String>) -> Naming {
        self.tag = Some(template.into());
        self
    }

    /// Writes to one fixed name (`app.log`) and renames it to its dated name
    /// at rotation (default `false`: write to dated names directly).
    pub fn fixed_active_name(mut self, fixed: bool) -> Naming {
        self.fixed_active = fixed;
        self
    }

    /// Checks the parts and expands the tag.
    pub(crate) fn resolve(&self, env: &InstanceEnv) -> Result<Names, Error> {
        check_prefix(&self.prefix)?;
        check_suffix(&self.suffix)?;
        let (tag, note) = match &self.tag {
            Some(template) => {
                let (tag, note) = instance::expand_noted(template, env)?;
                (Some(tag), note)
            }
            None => (None, None),
        };
        Ok(Names {
            dir: self.dir.clone(),
            prefix: self.prefix.clone(),
            suffix: self.suffix.clone(),
            tag,
            fixed_active: self.fixed_active,
            note,
        })
    }
}

fn check_prefix(prefix: &str) -> Result<(), Error> {
    let bad = prefix.is_empty()
        || prefix == "."
        || prefix == ".."
        || prefix.ends_with('.')
        || prefix.contains(['/', '\0']);
    if bad {
        return Err(Error::config(format!(
            "log file prefix {prefix:?} must be a non-empty file name that does not end with '.'"
        )));
    }
    Ok(())
}

fn check_suffix(suffix: &str) -> Result<(), Error> {
    if suffix.is_empty() {
        return Ok(());
    }
    let reserved = [Compression::Gzip, Compression::Zstd]
        .iter()
        .filter_map(Compression::extension)
        .chain([TEMP_EXT])
        .any(|ext| suffix == ext || suffix.ends_with(&format!(".{ext}")));
    let bad = reserved
        || suffix.starts_with('.')
        || suffix.ends_with('.')
        || suffix.contains("..")
        || suffix.contains(['/', '\0'])
        || suffix.bytes().all(|b| b.is_ascii_digit())
        || Label::parse(suffix).is_some();
    if bad {
        return Err(Error::config(format!(
            "log file suffix {suffix:?} is not usable (no '/', no leading or trailing '.', not a number, date, gz, zst or tmp)"
        )));
    }
    Ok(())
}

/// A [`Naming`] checked and with its tag expanded: writes and reads names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Names {
    dir: PathBuf,
    prefix: String,
    suffix: String,
    tag: Option<String>,
    fixed_active: bool,
    /// Why the instance tag differs from its expansion, if it does: for
    /// the error handler.
    note: Option<String>,
}

/// What a file name says about the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParsedName {
    /// The period label; empty for files of [`Rotation::NEVER`](super::Rotation::NEVER).
    pub(crate) label: String,
    /// The size split, 0 for the first file of a period.
    pub(crate) index: u32,
    /// The compression of the file, from its extension.
    pub(crate) compression: Compression,
    /// A compression in progress (or abandoned): `.gz.tmp`, `.zst.tmp`.
    pub(crate) temp: bool,
}

impl Names {
    /// The log directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The note on a sanitised instance tag, if any.
    pub(crate) fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// The expanded instance tag.
    #[cfg(test)]
    pub(crate) fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// Whether the active file has the fixed name of
    /// [`active_path`](Names::active_path).
    pub(crate) fn is_fixed_active(&self) -> bool {
        self.fixed_active
    }

    /// The name of split `index` of the period labelled `label`.
    ///
    /// With a fixed active name and [`Rotation::NEVER`](super::Rotation::NEVER)
    /// (empty label), index 0 is the active name itself: rotated files start
    /// at index 1.
    pub(crate) fn file_name(&self, label: &str, index: u32) -> String {
        let mut name = self.prefix.clone();
        let index = (index > 0).then(|| index.to_string());
        let parts = [
            self.tag.as_deref(),
            Some(label),
            index.as_deref(),
            Some(self.suffix.as_str()),
        ];
        for part in parts.into_iter().flatten().filter(|part| !part.is_empty()) {
            name.push('.');
            name.push_str(part);
        }
        name
    }

    /// [`file_name`](Names::file_name) in the log directory.
    pub(crate) fn path(&self, label: &str, index: u32) -> PathBuf {
        self.dir.join(self.file_name(label, index))
    }

    /// The fixed active file (`app.log`), if the naming uses one.
    pub(crate) fn active_path(&self) -> Option<PathBuf> {
        self.fixed_active.then(|| self.path("", 0))
    }

    /// Reads a directory entry's name; `None` if it is not one of this
    /// logger's period files (or is the fixed active file).
    pub(crate) fn parse(&self, name: &str) -> Option<ParsedName> {
        let (name, temp) = match name
            .strip_suffix(TEMP_EXT)
            .and_then(|n| n.strip_suffix('.'))
        {
            Some(stem) => (stem, true),
            None => (name, false),
        };
        let (name, compression) = Compression::from_name(name);
        if temp && compression == Compression::None {
            return None;
        }
        let mut rest = name.strip_prefix(self.prefix.as_str())?;
        if let Some(tag) = &self.tag {
            rest = rest.strip_prefix('.')?.strip_prefix(tag.as_str())?;
        }
        if !self.suffix.is_empty() {
            rest = rest.strip_suffix(self.suffix.as_str())?.strip_suffix('.')?;
        }
        let (label, index) = if rest.is_empty() {
            if self.fixed_active {
                return None;
            }
            ("", 0)
        } else {
            let tokens: Vec<&str> = rest.strip_prefix('.')?.split('.').collect();
            match tokens[..] {
                [only] => match parse_index(only) {
                    Some(index) => ("", index),
                    None => (Label::parse(only).map(|_| only)?, 0),
                },
                [label, index] => (Label::parse(label).map(|_| label)?, parse_index(index)?),
                _ => return None,
            }
        };
        Some(ParsedName {
            label: label.to_string(),
            index,
            compression,
            temp,
        })
    }
}

/// A size index as written in names: 1, 2, ... without leading zeros.
fn parse_index(text: &str) -> Option<u32> {
    let canonical =
        !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit());
    canonical.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
#[path = "naming_tests.rs"]
mod tests;
