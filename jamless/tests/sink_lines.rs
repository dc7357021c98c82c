//! The sink interface beyond bytes: per-line metadata, and records a sink
//! reports lost after it had written them.

mod common;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{assert_accounted, settle};
use jamless::{DropCause, Level, LineMeta, Lines, LostLines, Sink};

/// Keeps every line with its metadata; reports the first `lose` records
/// it wrote as lost once, as if the file had been truncated.
#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<(String, LineMeta)>>>,
    lose: Arc<Mutex<u64>>,
    short: bool,
}

impl Sink for Recorder {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        unreachable!("the writer calls write_lines")
    }

    fn write_lines(&mut self, lines: &Lines<'_>) -> io::Result<usize> {
        // With `short`, take one line at a time (and the first line only in
        // part when it is long), so the writer resumes mid-batch.
        let mut n = 0;
        for (line, meta) in lines.iter() {
            let take = if self.short && line.len() > 10 && n == 0 {
                line.len() / 2
            } else {
                line.len()
            };
            let text = String::from_utf8_lossy(&line[..take]).into_owned();
            self.seen.lock().unwrap().push((text, meta));
            n += take;
            if self.short {
                break;
            }
        }
        assert!(n <= lines.bytes().len());
        Ok(n)
    }

    fn take_lost(&mut self) -> Option<LostLines> {
        let mut lose = self.lose.lock().unwrap();
        if *lose == 0 {
            return None;
        }
        let n = std::mem::take(&mut *lose);
        Some(LostLines {
            cause: DropCause::FileTruncated,
            by_level: [0, 0, n, 0, 0],
        })
    }

    fn describe(&self) -> String {
        "recorder".into()
    }
}

#[test]
fn sinks_see_each_lines_level_and_timestamp() {
    for short in [false, true] {
        let sink = Recorder {
            short,
            ..Recorder::default()
        };
        let seen = Arc::clone(&sink.seen);
        let (logger, _guard) = jamless::Builder::new().sink(sink).build().unwrap();
        let before = jamless_now_ns();
        logger.log(Level::Error, "t", format_args!("first"));
        logger.log(Level::Info, "t", format_args!("second"));
        logger.log(Level::Debug, "t", format_args!("third"));
        let h = settle(&logger);
        assert_accounted(&h, 3);
        let seen = seen.lock().unwrap();
        // Rejoin the pieces of lines written in parts.
        let mut whole: Vec<(String, LineMeta)> = Vec::new();
        for (text, meta) in seen.iter() {
            match whole.last_mut() {
                Some((t, _)) if !t.ends_with('\n') => t.push_str(text),
                _ => whole.push((text.clone(), *meta)),
            }
        }
        let levels: Vec<Level> = whole.iter().map(|(_, m)| m.level).collect();
        assert_eq!(
            levels,
            [Level::Error, Level::Info, Level::Debug],
            "{whole:?}"
        );
        for (text, meta) in &whole {
            assert!(text.ends_with('\n') && !meta.notice, "{text:?}");
            assert!(
                meta.timestamp_unix_ns >= before - 1_000_000_000,
                "{meta:?} vs {before}"
            );
        }
        assert!(whole[0].0.contains("first") && whole[2].0.contains("third"));
    }
}

#[test]
fn records_reported_lost_move_from_written_to_their_cause() {
    let sink = Recorder::default();
    let lose = Arc::clone(&sink.lose);
    let (handler, reports) = common::collecting_handler();
    let (logger, _guard) = jamless::Builder::new()
        .sink(sink)
        .error_handler(handler)
        .maintain_interval(Duration::from_millis(1))
        .build()
        .unwrap();
    for i in 0..10 {
        logger.log(Level::Info, "t", format_args!("record {i}"));
    }
    let h = settle(&logger);
    assert_eq!(h.written, 10);
    *lose.lock().unwrap() = 4;
    // The writer asks after its next write or maintenance.
    logger.log(Level::Info, "t", format_args!("record 10"));
    let h = settle(&logger);
    assert_accounted(&h, 11);
    assert_eq!(h.written, 7, "{h}");
    assert_eq!(h.drops.file_truncated, 4, "{h}");
    assert_eq!(h.drops.by_level[2], 4, "{h}");
    let reports = reports.lock().unwrap();
    assert!(
        reports.iter().any(|e| e.class == "file_truncated"),
        "{reports:?}"
    );
}

fn jamless_now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
