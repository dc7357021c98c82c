//! Level detection: which severity a line from another program has.
//!
//! A line has no level of its own; without detection every line gets the
//! default level. With `--level-json-field KEY` a line that is a JSON
//! object has its level in the top-level field `KEY`; with
//! `--level-regex RE` the level is the text captured by the group named
//! `level`, or else by the first group. The text is matched against the
//! usual names (case-insensitive): `error`/`err`/`fatal`/`critical`/
//! `crit`/`alert`/`emerg`/`emergency`/`panic`/`severe` are ERROR,
//! `warn`/`warning` WARN, `info`/`information`/`notice` INFO,
//! `debug`/`fine` DEBUG, `trace`/`finer`/`finest`/`verbose` TRACE, plus
//! their first letters `E`, `W`, `I`, `D`, `T` (klog's and Android's). A JSON number is read
//! as pino's and bunyan's levels: 50 and above ERROR, 40 WARN, 30 INFO,
//! 20 DEBUG, below TRACE. A line whose level cannot be found gets the
//! default.

use std::fmt;

use jamless::Level;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// How the level of a line is found.
pub enum Detector {
    /// Every line gets the default level.
    None,
    /// A top-level field of a JSON object.
    JsonField(String),
    /// A regular expression over the line's bytes and the group to read.
    Regex(regex::bytes::Regex, usize),
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Detector::None => f.write_str("None"),
            Detector::JsonField(k) => write!(f, "JsonField({k:?})"),
            Detector::Regex(re, g) => write!(f, "Regex({:?}, {g})", re.as_str()),
        }
    }
}

impl Detector {
    /// A regex detector; the pattern must have a capture group.
    pub fn regex(pattern: &str) -> Result<Detector, String> {
        let re = regex::bytes::Regex::new(pattern)
            .map_err(|e| format!("--level-regex {pattern:?}: {e}"))?;
        let group = match re.capture_names().position(|n| n == Some("level")) {
            Some(i) => i,
            None if re.captures_len() > 1 => 1,
            None => {
                return Err(format!(
                    "--level-regex {pattern:?} has no capture group: put the level in \
                     (...) or (?P<level>...)"
                ))
            }
        };
        Ok(Detector::Regex(re, group))
    }

    /// The level of `line`, if it can be found.
    pub fn detect(&self, line: &[u8]) -> Option<Level> {
        match self {
            Detector::None => None,
            Detector::JsonField(key) => json_level(line, key),
            Detector::Regex(re, group) => {
                let caps = re.captures(line)?;
                level_from_name(caps.get(*group)?.as_bytes())
            }
        }
    }
}

/// The level a name stands for (case-insensitive).
pub fn level_from_name(name: &[u8]) -> Option<Level> {
    let name = std::str::from_utf8(name).ok()?.trim();
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "error" | "err" | "fatal" | "critical" | "crit" | "alert" | "emerg" | "emergency"
        | "panic" | "severe" | "e" | "f" | "c" => Level::Error,
        "warn" | "warning" | "w" => Level::Warn,
        "info" | "information" | "notice" | "i" | "n" => Level::Info,
        "debug" | "fine" | "d" => Level::Debug,
        "trace" | "finer" | "finest" | "verbose" | "t" | "v" => Level::Trace,
        _ => return None,
    })
}

/// pino's and bunyan's numeric levels.
fn level_from_number(n: f64) -> Level {
    if n >= 50.0 {
        Level::Error
    } else if n >= 40.0 {
        Level::Warn
    } else if n >= 30.0 {
        Level::Info
    } else if n >= 20.0 {
        Level::Debug
    } else {
        Level::Trace
    }
}

fn json_level(line: &[u8], key: &str) -> Option<Level> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let start = line.iter().position(|b| !b.is_ascii_whitespace())?;
    if line[start] != b'{' {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(&line[start..]);
    de.deserialize_map(FieldVisitor { key }).ok().flatten()
}

/// Walks the top level of an object, reading only the wanted field.
struct FieldVisitor<'k> {
    key: &'k str,
}

impl<'de> Visitor<'de> for FieldVisitor<'_> {
    type Value = Option<Level>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Level>, A::Error> {
        let mut found = None;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if found.is_none() && k == self.key {
                found = map.next_value::<LevelValue>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// A level written as a string or a number; anything else is no level.
struct LevelValue(Option<Level>);

impl<'de> de::Deserialize<'de> for LevelValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LevelValue, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LevelValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a level name or number")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<LevelValue, E> {
                Ok(LevelValue(level_from_name(s.as_bytes())))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<LevelValue, E> {
                Ok(LevelValue(Some(level_from_number(n as f64))))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<LevelValue, E> {
                Ok(LevelValue(Some(level_from_number(n as f64))))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<LevelValue, E> {
                Ok(LevelValue(Some(level_from_number(n))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<LevelValue, E> {
                Ok(LevelValue(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LevelValue, E> {
                Ok(LevelValue(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<LevelValue, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LevelValue(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<LevelValue, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LevelValue(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_levels() {
        for (name, level) in [
            ("ERROR", Level::Error),
            ("fatal", Level::Error),
            ("Warning", Level::Warn),
            ("notice", Level::Info),
            (" info ", Level::Info),
            ("DEBUG", Level::Debug),
            ("trace", Level::Trace),
            ("W", Level::Warn),
        ] {
            assert_eq!(level_from_name(name.as_bytes()), Some(level), "{name}");
        }
        assert_eq!(level_from_name(b"loud"), None);
        assert_eq!(level_from_name(b"\xff"), None);
    }

    #[test]
    fn json_field_string_number_and_misses() {
        let d = Detector::JsonField("level".into());
        assert_eq!(
            d.detect(br#"{"msg":"x","level":"warn","n":[1,{"level":"debug"}]}"#),
            Some(Level::Warn)
        );
        assert_eq!(d.detect(b"  {\"level\":50}\n"), Some(Level::Error));
        assert_eq!(d.detect(br#"{"level":30.0}"#), Some(Level::Info));
        assert_eq!(d.detect(br#"{"level":{"name":"error"}}"#), None);
        assert_eq!(d.detect(br#"{"severity":"error"}"#), None);
        assert_eq!(d.detect(b"level=error plain text"), None);
        assert_eq!(d.detect(br#"{"level":"error", "cut off"#), None);
        assert_eq!(d.detect(b"\xff\xfe{"), None);
    }

    #[test]
    fn regex_uses_the_named_group_or_the_first() {
        let d = Detector::regex(r"^\S+ \[(\w+)\]").unwrap();
        assert_eq!(d.detect(b"12:00:01 [ERROR] boom"), Some(Level::Error));
        assert_eq!(d.detect(b"12:00:01 [chatty] hello"), None);
        assert_eq!(d.detect(b"no match"), None);
        let d = Detector::regex(r"(\d+) level=(?P<level>\w+)").unwrap();
        assert_eq!(d.detect(b"pid 42 level=debug x"), Some(Level::Debug));
        // Invalid UTF-8 elsewhere in the line does not stop a match.
        assert_eq!(d.detect(b"\xff 7 level=warn"), Some(Level::Warn));
    }

    #[test]
    fn a_regex_without_a_group_is_refused() {
        assert!(Detector::regex("ERROR")
            .unwrap_err()
            .contains("capture group"));
        assert!(Detector::regex("(").is_err());
    }
}
