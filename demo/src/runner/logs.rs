//! Counting request lines in a log directory.
//!
//! Every regular file counts, whatever its name (dated files, rotated
//! `service.log.<stamp>.<NNN>` files, the active file), gzip-compressed
//! ones (`.gz`) decompressed. Two exceptions keep the count honest:
//! a compressor's temporary file (`*.tmp`, an incomplete copy of a file
//! that still exists) is skipped, and so is `x` when `x.gz` exists too (a
//! compression interrupted between publishing `x.gz` and removing `x`; the
//! two hold the same lines). Both are listed in [`LogCount::skipped`].
//!
//! A request line is a line containing [`REQUEST_MARKER`]; jamless's drop
//! notices (containing [`NOTICE_MARKER`]) are counted separately, never as
//! request lines.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// The substring that marks one request's log line (the service's
/// request-logging middleware writes it, in both loggers' formats).
pub const REQUEST_MARKER: &str = "path=/v1/healthCheck";
/// The substring of jamless's drop notices.
pub const NOTICE_MARKER: &str = "records dropped between";

/// Lines in one file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileCount {
    /// File name.
    pub name: String,
    /// All lines.
    pub lines: u64,
    /// Request lines.
    pub request_lines: u64,
    /// Drop-notice lines.
    pub notice_lines: u64,
}

/// Lines in a whole directory.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogCount {
    /// Request lines in all files.
    pub request_lines: u64,
    /// Drop-notice lines in all files.
    pub notice_lines: u64,
    /// Lines that are neither.
    pub other_lines: u64,
    /// Per file, sorted by name.
    pub files: Vec<FileCount>,
    /// Files deliberately not counted, with the reason.
    pub skipped: Vec<String>,
}

/// Counts the lines of every regular file in `dir`.
pub fn count_dir(dir: &Path) -> Result<LogCount> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let kind = entry.file_type().context("file type")?;
        if kind.is_file() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    let mut total = LogCount::default();
    for name in &names {
        if name.ends_with(".tmp") {
            total
                .skipped
                .push(format!("{name}: compressor's temporary file"));
            continue;
        }
        if names.contains(&format!("{name}.gz")) {
            total
                .skipped
                .push(format!("{name}: {name}.gz holds the same lines"));
            continue;
        }
        let path = dir.join(name);
        let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let reader: Box<dyn Read> = if name.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        let mut c = count_lines(BufReader::new(reader))
            .with_context(|| format!("reading {}", path.display()))?;
        c.name.clone_from(name);
        total.request_lines += c.request_lines;
        total.notice_lines += c.notice_lines;
        total.other_lines += c.lines - c.request_lines - c.notice_lines;
        total.files.push(c);
    }
    Ok(total)
}

/// Counts lines (a last line without `\n` counts too).
fn count_lines(mut r: impl BufRead) -> std::io::Result<FileCount> {
    let mut c = FileCount::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(c);
        }
        c.lines += 1;
        if contains(&line, NOTICE_MARKER.as_bytes()) {
            c.notice_lines += 1;
        } else if contains(&line, REQUEST_MARKER.as_bytes()) {
            c.request_lines += 1;
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn req(n: usize) -> String {
        (0..n)
            .map(|i| format!("t INFO request id={i} {REQUEST_MARKER} status=200\n"))
            .collect()
    }

    #[test]
    fn counts_plain_gzip_and_skips_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("service.log"), req(3) + "startup line\n").unwrap();
        let notice = format!("jamless: 5 {NOTICE_MARKER} a and b {REQUEST_MARKER}\n");
        std::fs::write(d.join("service.1.log"), req(2) + &notice).unwrap();
        // A compressed file, its not-yet-removed original, and a temp file.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(req(4).as_bytes()).unwrap();
        std::fs::write(d.join("service.0.log.gz"), gz.finish().unwrap()).unwrap();
        std::fs::write(d.join("service.0.log"), req(4)).unwrap();
        std::fs::write(d.join("service.9.log.gz.tmp"), b"partial").unwrap();
        // No trailing newline on the last line.
        std::fs::write(d.join("x.log.000"), req(1).trim_end()).unwrap();
        std::fs::create_dir(d.join("subdir")).unwrap();
        let c = count_dir(d).unwrap();
        assert_eq!(c.request_lines, 3 + 2 + 4 + 1);
        assert_eq!(c.notice_lines, 1);
        assert_eq!(c.other_lines, 1);
        assert_eq!(c.skipped.len(), 2, "{:?}", c.skipped);
        assert_eq!(c.files.len(), 4);
    }
}
