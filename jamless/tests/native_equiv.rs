//! Property test: a native call (`jamless::info!`) renders byte for byte
//! the line of the same `log::info!` call through jamless, in text and in
//! JSON, with the same logger configuration.
//!
//! Format strings must be literals at compile time, so the random format
//! strings (literal text with escapes, braces and control characters;
//! holes of every type with random fill, alignment, sign, `#`, `0`, width,
//! precision, `x`/`X`/`o`/`b`/`e`/`E`/`?`; implicit, explicit, named and
//! captured arguments; widths and precisions from arguments and `.*`;
//! key-values) are drawn by `native_equiv/gen_corpus.py` with a fixed seed
//! into `native_equiv/corpus.rs`; each site's argument values are drawn
//! here by proptest (any string, char, integer and float, NaN and
//! infinities included). `JAMLESS_EQUIV_CASES` sets the cases per site
//! (32 by default).
#![cfg(feature = "log")]

use std::cell::Cell;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use jamless::{Builder, Format, Guard, LogAdapter, Logger};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Opts out of the raw path: formatted on the caller, with its spec.
#[derive(Debug, Clone)]
struct Disp(i64);

impl fmt::Display for Disp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Only `Debug`, derived.
#[derive(Debug, Clone)]
#[allow(dead_code)] // Read by `Debug`.
struct Dbg {
    a: u8,
    b: String,
}

struct Side {
    logger: Logger,
    _guard: Guard,
    adapter: LogAdapter,
    path: PathBuf,
    seen: Cell<usize>,
    /// The part of a line before the timestamp ends.
    strip: fn(&str) -> &str,
}

struct Harness {
    _dir: tempfile::TempDir,
    text: Side,
    json: Side,
}

fn strip_text(line: &str) -> &str {
    line.split_once(' ').map_or(line, |(_, rest)| rest)
}

fn strip_json(line: &str) -> &str {
    line.find("\",\"log.level\"").map_or(line, |at| &line[at..])
}

impl Harness {
    fn new(name: &str) -> Harness {
        log::set_max_level(log::LevelFilter::Trace);
        let dir = tempfile::tempdir().unwrap();
        let side = |format: Format, file: &str, strip: fn(&str) -> &str| {
            let path = dir.path().join(file);
            let (logger, guard) = Builder::new()
                .name(name)
                .file(&path)
                .format(format)
                .filter("trace")
                .build()
                .unwrap();
            let adapter = logger.log_adapter().unwrap();
            Side {
                logger,
                _guard: guard,
                adapter,
                path,
                seen: Cell::new(0),
                strip,
            }
        };
        let pattern =
            "{timestamp} {level:<5} [{thread}] {target} {module} {file}:{line}: {message}{fields}";
        Harness {
            text: side(
                Format::text_pattern(pattern).unwrap(),
                "text.log",
                strip_text,
            ),
            json: side(Format::json(), "json.log", strip_json),
            _dir: dir,
        }
    }

    fn run<S: Strategy>(&self, strategy: &S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
        let cases = std::env::var("JAMLESS_EQUIV_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(32);
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = runner.run(strategy, test) {
            panic!("{e}");
        }
    }

    /// The two lines each side got since the last check are equal but for
    /// their timestamps.
    fn check(&self) -> Result<(), TestCaseError> {
        for side in [&self.text, &self.json] {
            let r = side.logger.flush(Duration::from_secs(30));
            prop_assert!(r.complete, "flush: {:?}", r);
            let text = std::fs::read_to_string(&side.path).unwrap();
            let lines: Vec<&str> = text.lines().skip(side.seen.get()).collect();
            side.seen.set(side.seen.get() + lines.len());
            prop_assert_eq!(lines.len(), 2, "{:#?}", lines);
            prop_assert_eq!((side.strip)(lines[0]), (side.strip)(lines[1]));
        }
        Ok(())
    }
}

/// Logs one call through the native path, then through `log::info!`, on
/// one source line (so file and line agree), to each side.
macro_rules! both {
    ($h:ident, $($t:tt)*) => {{
        for side in [&$h.text, &$h.json] {
            let l = &side.adapter;
            jamless::info!(logger: l, $($t)*);
            log::info!(logger: l, $($t)*);
        }
    }};
}

include!("native_equiv/corpus.rs");
