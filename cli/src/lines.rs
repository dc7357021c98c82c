//! Cutting a byte stream into lines with bounded memory.
//!
//! The reader hands [`LineSplitter::feed`] whatever `read(2)` returned. A
//! line that lies whole inside one chunk is passed on as a slice of that
//! chunk (no copy). A line that spans chunks is collected in a buffer that
//! never holds more than `keep` bytes: the rest of a longer line is counted
//! and discarded as it arrives. So a 10 MiB line costs `keep` bytes of
//! memory plus the read buffer, never 10 MiB.

/// One complete line, as handed to the sink of [`LineSplitter::feed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line's first bytes (at most `keep`), with its `\n` when that
    /// fitted.
    pub bytes: &'a [u8],
    /// The line's real length without the `\n`.
    pub len: u64,
}

/// Splits chunks of bytes into lines, keeping at most `keep` bytes of a
/// line that spans chunks.
#[derive(Debug)]
pub struct LineSplitter {
    keep: usize,
    pending: Vec<u8>,
    /// The real length of the partial line in `pending`.
    pending_len: u64,
}

impl LineSplitter {
    /// A splitter that keeps at most `keep` bytes (at least 1) of a line.
    pub fn new(keep: usize) -> LineSplitter {
        LineSplitter {
            keep: keep.max(1),
            pending: Vec::new(),
            pending_len: 0,
        }
    }

    /// Passes every line completed by `data` to `sink`, and keeps the
    /// unfinished rest for the next call.
    pub fn feed(&mut self, mut data: &[u8], sink: &mut impl FnMut(Line<'_>)) {
        while let Some(i) = memchr::memchr(b'\n', data) {
            let (line, rest) = data.split_at(i + 1);
            if self.pending_len == 0 {
                let bytes = &line[..line.len().min(self.keep + 1)];
                sink(Line {
                    bytes,
                    len: i as u64,
                });
            } else {
                self.append(line);
                self.pending_len -= 1; // the '\n' is not part of the length
                sink(Line {
                    bytes: &self.pending,
                    len: self.pending_len,
                });
                self.pending.clear();
                self.pending_len = 0;
            }
            data = rest;
        }
        self.append(data);
    }

    /// Passes on a last line that had no `\n` (the input ended inside it).
    pub fn finish(&mut self, sink: &mut impl FnMut(Line<'_>)) {
        if self.pending_len > 0 {
            sink(Line {
                bytes: &self.pending,
                len: self.pending_len,
            });
        }
        self.pending.clear();
        self.pending_len = 0;
    }

    /// The bytes held for an unfinished line (at most `keep` + 1).
    #[cfg(test)]
    fn buffered(&self) -> usize {
        self.pending.len()
    }

    fn append(&mut self, part: &[u8]) {
        let room = (self.keep + 1).saturating_sub(self.pending.len());
        self.pending
            .extend_from_slice(&part[..part.len().min(room)]);
        self.pending_len += part.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(keep: usize, chunks: &[&[u8]]) -> (Vec<(Vec<u8>, u64)>, usize) {
        let mut s = LineSplitter::new(keep);
        let mut out = Vec::new();
        let mut max_buffered = 0;
        for c in chunks {
            s.feed(c, &mut |l: Line<'_>| out.push((l.bytes.to_vec(), l.len)));
            max_buffered = max_buffered.max(s.buffered());
        }
        s.finish(&mut |l: Line<'_>| out.push((l.bytes.to_vec(), l.len)));
        (out, max_buffered)
    }

    #[test]
    fn lines_within_and_across_chunks() {
        let (out, _) = split(100, &[b"a\nbc", b"d\n\ne", b"f"]);
        assert_eq!(
            out,
            [
                (b"a\n".to_vec(), 1),
                (b"bcd\n".to_vec(), 3),
                (b"\n".to_vec(), 0),
                (b"ef".to_vec(), 2),
            ]
        );
    }

    #[test]
    fn a_long_line_keeps_keep_plus_one_bytes_and_its_real_length() {
        let chunk = vec![b'x'; 1000];
        let mut chunks: Vec<&[u8]> = vec![&chunk; 10_000]; // 10 MB
        chunks.push(b"\nnext\n");
        let (out, max_buffered) = split(64, &chunks);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0.len(), 65);
        assert_eq!(out[0].1, 10_000_000);
        assert_eq!(out[1], (b"next\n".to_vec(), 4));
        assert!(max_buffered <= 65, "{max_buffered}");
    }

    #[test]
    fn a_long_line_inside_one_chunk_is_cut_too() {
        let mut chunk = vec![b'y'; 500];
        chunk.push(b'\n');
        let mut s = LineSplitter::new(10);
        let mut seen = Vec::new();
        s.feed(&chunk, &mut |l: Line<'_>| seen.push((l.bytes.len(), l.len)));
        assert_eq!(seen, [(11, 500)]);
    }

    #[test]
    fn input_without_any_newline_is_one_line() {
        let (out, _) = split(4, &[b"abcdefgh"]);
        assert_eq!(out, [(b"abcde".to_vec(), 8)]);
    }
}
