//! jamless's native macros (`jamless::info!` and its siblings) through an
//! explicit logger into a real file: every argument type and spec renders
//! as `format!` renders it, filtering, key-values, drops counted.
//!
//! This binary never installs a global logger: one test checks that the
//! macros then do nothing.
#![cfg(feature = "log")]

mod common;

use common::{assert_accounted, read_lines, settle, Fault, FaultySink};

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use jamless::{
    Builder, FileSinkBuilder, Format, Guard, LogAdapter, Logger, NativeArg, NativeValue, Pipeline,
};

fn logger(path: &Path, pattern: &str, filter: &str) -> (Logger, Guard, LogAdapter) {
    let (logger, guard) = Builder::new()
        .file(path)
        .format(Format::text_pattern(pattern).unwrap())
        .filter(filter)
        .build()
        .unwrap();
    let adapter = logger.log_adapter().unwrap();
    (logger, guard, adapter)
}

/// Counts its `Display` calls, to see that a disabled call evaluates
/// nothing and that an eager argument is formatted once.
struct Counted<'a>(&'a Cell<u32>);

impl fmt::Display for Counted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.set(self.0.get() + 1);
        f.pad("counted")
    }
}

#[derive(Debug)]
#[allow(dead_code)] // Read by `Debug`.
struct Point {
    x: i32,
    y: i32,
}

/// Opts in: stored raw as a u64, formatted as one.
struct UserId(u64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl NativeArg for UserId {
    fn native_value(&self) -> NativeValue<'_> {
        NativeValue::U64(self.0)
    }
}

/// A `Display` that fails after writing a little.
struct Failing;

impl fmt::Display for Failing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("half")?;
        Err(fmt::Error)
    }
}

#[test]
fn every_argument_type_and_spec_renders_as_format_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard, l) = logger(&path, "{message}", "trace");
    let mut expected = Vec::new();
    macro_rules! check {
        ($($t:tt)*) => {{
            jamless::info!(logger: &l, $($t)*);
            // The text format escapes a line break (`{:#?}`).
            expected.push(format!($($t)*).replace('\n', "\\n"));
        }};
    }
    let (i8v, i16v, i32v, i64v, i128v, isz) =
        (-8i8, -1600i16, -32i32, i64::MIN, i128::MIN, -5isize);
    let (u8v, u16v, u32v, u64v, u128v, usz) = (255u8, 16u16, 32u32, u64::MAX, u128::MAX, 7usize);
    let (f32v, f64v) = (0.1f32, -2.5e-8f64);
    let s = "str \"quoted\" ü";
    let owned = String::from("owned");
    let cow: Cow<'_, str> = Cow::Borrowed("cow");
    let boxed: Box<str> = "boxed".into();
    let arc: Arc<str> = "arc".into();
    let p = Point { x: 1, y: -2 };
    let calls = Cell::new(0);
    check!("ints {} {} {} {} {} {}", i8v, i16v, i32v, i64v, i128v, isz);
    check!("uints {} {} {} {} {} {}", u8v, u16v, u32v, u64v, u128v, usz);
    check!(
        "hex {:x} {:X} {:#x} {:#010x} {:x} {:X}",
        i8v,
        u16v,
        i32v,
        u32v,
        i128v,
        u128v
    );
    check!(
        "oct bin {:o} {:#o} {:b} {:#b} {:010b}",
        u8v,
        i16v,
        u8v,
        i8v,
        u16v
    );
    check!(
        "exp {:e} {:E} {:.2e} {:e} {:E}",
        f64v,
        f32v,
        f64v,
        u64v,
        i32v
    );
    check!(
        "floats {} {} {:.3} {:+.1} {:10.2} {:<10.4}| {:^+12.1e}",
        f32v,
        f64v,
        f32v,
        f64v,
        f64v,
        f32v,
        f64v
    );
    check!(
        "special {} {} {} {:?} {:?}",
        f64::NAN,
        f64::INFINITY,
        -0.0f64,
        f32::NEG_INFINITY,
        1e300f64
    );
    check!(
        "bool char {} {:?} {} {:?} {:>5} {:?}",
        true,
        false,
        'x',
        '\'',
        'y',
        '\u{7f}'
    );
    check!(
        "strs {} {:?} {} {} {} {} {:#?}",
        s,
        s,
        owned,
        cow,
        boxed,
        arc,
        owned
    );
    check!(
        "pad {:>8}|{:<8}|{:^8}|{:*^9}|{:-<4}|{:08.3}|{:+}|{:+05}",
        s,
        u8v,
        "mid",
        "st",
        'c',
        f64v,
        i32v,
        i16v
    );
    check!("debug of others {:?} {:#?}", p, p);
    jamless::info!(logger: &l, "eager {} {:>12} {:<3}|", Counted(&calls), Counted(&calls), UserId(99));
    assert_eq!(
        calls.get(),
        2,
        "each eager argument formatted once, on the caller"
    );
    expected.push(format!(
        "eager {} {:>12} {:<3}|",
        Counted(&calls),
        Counted(&calls),
        UserId(99)
    ));
    check!("opt-in {} {:>6} {:?}", UserId(7), UserId(8), u64v);
    let (width, prec) = (9usize, 2usize);
    check!(
        "counts {0:1$}|{2:>w$.p$}|{0:>1$}",
        f64v,
        width,
        f32v,
        w = width,
        p = prec
    );
    check!("star {:.*}|{:>8.*}|", 3, f64v, 1, f32v);
    check!("named {a} {b:?} {a:>4}", a = i32v, b = s);
    check!("inline {i32v} {s:?} {f64v:.1e} {width:>width$}");
    check!("positional {1} {0} {1:?} {0:#x}", u8v, s);
    check!("braces {{ {} }} {{}}", u8v);
    check!("no arguments at all");
    check!("trailing comma {}", u8v,);
    jamless::info!(logger: &l, "failing {} then more {}", Failing, 1);
    expected.push("failing half<formatting error>".to_string());

    settle(&logger);
    assert_eq!(read_lines(&path), expected);
}

/// In a generic function the argument's type is not known to opt in, so
/// it is formatted on the caller; the line is the same.
fn generic<T: fmt::Display + fmt::Debug>(l: &LogAdapter, t: T) {
    jamless::info!(logger: l, "generic {t} {t:?} {:>4}", t);
}

#[test]
fn generic_arguments_and_closures_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard, l) = logger(&path, "{message}", "trace");
    generic(&l, 7u8);
    generic(&l, "s");
    let log_in_closure = |n: i64| jamless::warn!(logger: &l, "closure {n:+}");
    log_in_closure(3);
    settle(&logger);
    assert_eq!(
        read_lines(&path),
        vec!["generic 7 7    7", "generic s \"s\"    s", "closure +3"]
    );
}

#[test]
fn metadata_target_and_key_values_render_as_the_facade_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard, l) = logger(
        &path,
        "{level} [{thread}] {target} {module} {file}:{line}: {message}{fields}",
        "trace",
    );
    let line = line!() + 1;
    jamless::warn!(logger: &l, target: "app::auth", user_id = 42, ratio = 0.5, admin = false, name = "ann", dbg:? = "q"; "login from {}", "10.0.0.7");
    jamless::error!(logger: &l, big = u128::MAX, who:% = 'x'; "wide");
    jamless::debug!(logger: &l, "debug");
    jamless::trace!(logger: &l, "trace");
    settle(&logger);
    let lines = read_lines(&path);
    let file = file!();
    let module = module_path!();
    let thread = std::thread::current().name().unwrap().to_string();
    assert_eq!(
        lines,
        vec![
            format!("WARN [{thread}] app::auth {module} {file}:{line}: login from 10.0.0.7 user_id=42 ratio=0.5 admin=false name=ann dbg=\"q\""),
            format!("ERROR [{thread}] {module} {module} {file}:{}: wide big={} who=x", line + 1, u128::MAX),
            format!("DEBUG [{thread}] {module} {module} {file}:{}: debug", line + 2),
            format!("TRACE [{thread}] {module} {module} {file}:{}: trace", line + 3),
        ]
    );
}

#[test]
fn disabled_levels_and_targets_do_nothing_and_evaluate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard, l) = logger(&path, "{level} {target}: {message}", "info,noisy=warn");
    let calls = Cell::new(0);
    jamless::debug!(logger: &l, "below the level {}", Counted(&calls));
    jamless::info!(logger: &l, target: "noisy", "below its target's level {}", 1);
    jamless::warn!(logger: &l, target: "noisy::sub", "passes");
    jamless::trace!(logger: &l, "below {}", Counted(&calls));
    jamless::info!(logger: &l, "passes too");
    assert_eq!(calls.get(), 0, "a disabled call formats nothing");
    let h = settle(&logger);
    assert_eq!(
        read_lines(&path),
        vec!["WARN noisy::sub: passes", "INFO native_macros: passes too"]
    );
    // Filtered calls are never offered, as with the facade.
    assert_accounted(&h, 2);
}

#[test]
fn a_regex_filter_matches_the_formatted_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard, l) = logger(&path, "{message}", "info/keep");
    jamless::info!(logger: &l, "drop {}", "this");
    jamless::info!(logger: &l, "{} {}", "keep", 7);
    let h = settle(&logger);
    assert_eq!(read_lines(&path), vec!["keep 7"]);
    assert_accounted(&h, 1);
}

#[test]
fn without_a_global_logger_the_macros_do_nothing() {
    let calls = Cell::new(0);
    // Nothing installed in this process: the call is one load and compare,
    // and no argument is evaluated.
    jamless::error!("no logger {}", Counted(&calls));
    jamless::info!(target: "x", k = 1; "no logger {}", Counted(&calls));
    assert_eq!(calls.get(), 0);
}

#[test]
fn a_full_queue_drops_and_counts_native_records() {
    let sink = FaultySink::new();
    let (logger, _guard) = Builder::new()
        .sink(sink.clone())
        .format(Format::text_pattern("{message}").unwrap())
        .capacity_bytes(64 * 1024)
        .shedding(None)
        .retry_backoff(
            std::time::Duration::from_millis(50),
            std::time::Duration::from_millis(50),
        )
        .fallback_after(std::time::Duration::from_secs(60))
        .build()
        .unwrap();
    let l = logger.log_adapter().unwrap();
    // Hold the writer on a failing sink so the queue fills.
    sink.set(Fault::Error);
    let offered = 20_000u64;
    for i in 0..offered {
        jamless::info!(logger: &l, "record {i} of {offered} payload={:>40}", "x");
    }
    let full = logger.health();
    assert!(full.drops.queue_full > 0, "the queue filled: {full}");
    sink.set(Fault::None);
    // Let the retry (every 50 ms) write the held batch to the recovered
    // sink before flushing: a flush during the failure would route it to
    // the fallback at once.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while logger.health().queued > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let h = settle(&logger);
    assert_accounted(&h, offered);
    let records: Vec<String> = sink
        .inner
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("record "))
        .collect();
    assert_eq!(
        records.len() as u64,
        h.accepted,
        "every accepted record written: {h}"
    );
    assert_eq!(h.drops.queue_full, offered - h.accepted, "{h}");
    assert!(
        records[0].ends_with(&format!("{:>40}", "x")),
        "{}",
        records[0]
    );
}

#[test]
fn a_record_cut_to_fit_keeps_what_fits_and_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard) = Builder::new()
        .file(&path)
        .format(Format::text_pattern("{message}").unwrap())
        .max_record_bytes(1024)
        .build()
        .unwrap();
    let l = logger.log_adapter().unwrap();
    let long = "y".repeat(4000);
    jamless::info!(logger: &l, "head {} long {} tail {}", 1, long, 2);
    let h = settle(&logger);
    let lines = read_lines(&path);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with("head 1 long yyyy"), "{}", lines[0]);
    assert!(lines[0].len() > 900, "{}", lines[0]);
    assert!(lines[0].contains("…[truncated from "), "{}", lines[0]);
    assert!(!lines[0].contains("tail"), "{}", lines[0]);
    assert_eq!(h.truncated, 1);
}

#[test]
fn pipelines_route_native_records_by_target_and_render_them_each_in_its_format() {
    let dir = tempfile::tempdir().unwrap();
    let (all, db) = (dir.path().join("all.log"), dir.path().join("db.log"));
    let (logger, _guard) = Builder::new()
        .pipeline(
            Pipeline::new("all", FileSinkBuilder::new(&all).build())
                .format(Format::text_pattern("{target}: {message}").unwrap()),
        )
        .pipeline(
            Pipeline::new("db", FileSinkBuilder::new(&db).build())
                .format(Format::text_pattern("{level} {module} {line}: {message}").unwrap())
                .filter("warn,app::db=debug"),
        )
        .filter("debug")
        .build()
        .unwrap();
    let l = logger.log_adapter().unwrap();
    let line = line!() + 1;
    jamless::debug!(logger: &l, target: "app::db", "query {} took {:.1} ms", "q1", 2.25);
    jamless::info!(logger: &l, target: "app::http", "served {}", 200);
    jamless::warn!(logger: &l, target: "app::http", "slow {}", 900);
    let h = settle(&logger);
    assert_eq!(
        read_lines(&all),
        vec![
            "app::db: query q1 took 2.2 ms",
            "app::http: served 200",
            "app::http: slow 900"
        ]
    );
    let module = module_path!();
    assert_eq!(
        read_lines(&db),
        vec![
            format!("DEBUG {module} {line}: query q1 took 2.2 ms"),
            format!("WARN {module} {}: slow 900", line + 2),
        ]
    );
    assert_eq!((h.offered, h.accepted, h.rejected), (3, 3, 0), "{h}");
    for (name, n) in [("all", 3), ("db", 2)] {
        let p = h.pipeline(name).unwrap();
        assert_eq!((p.received, p.written, p.queued), (n, n, 0), "{h}");
    }
}
