//! Keys already written in one JSON object, so that no key is written
//! twice.
//!
//! `log` key-values and `tracing` fields may repeat a key (`a = 1, a = 2`),
//! and a field renamed on a clash (`fields.message`) may meet one that was
//! given that name. Many JSON readers keep the last value silently, and
//! Elasticsearch refuses the whole document, so a repeated key is written
//! as `<key>_2`, `<key>_3`... (the first free one): the line keeps every
//! value and stays a valid document.
//!
//! Keys are compared as written (escaped): escaping is one-to-one, so two
//! written keys are equal exactly when the keys are. Positions into the
//! output buffer are kept, not copies; a record with more keys than fit
//! inline (rare) spills them into a hash set.

use std::collections::HashSet;

/// How many keys are compared one by one before the rest go to a set.
const INLINE: usize = 16;

/// The written keys of one object, as byte ranges of the output buffer.
pub(super) struct Seen {
    inline: [(usize, usize); INLINE],
    len: usize,
    /// Keys after the first [`INLINE`], copied (made on the first).
    spill: Option<HashSet<Vec<u8>>>,
}

impl Seen {
    pub(super) fn new() -> Seen {
        Seen {
            inline: [(0, 0); INLINE],
            len: 0,
            spill: None,
        }
    }

    /// Forgets every key: a new object begins.
    pub(super) fn clear(&mut self) {
        self.len = 0;
        if let Some(spill) = &mut self.spill {
            spill.clear();
        }
    }

    fn contains(&self, out: &[u8], key: &[u8]) -> bool {
        self.inline[..self.len.min(INLINE)]
            .iter()
            .any(|&(s, e)| &out[s..e] == key)
            || self.spill.as_ref().is_some_and(|s| s.contains(key))
    }

    fn insert(&mut self, out: &[u8], start: usize, end: usize) {
        if self.len < INLINE {
            self.inline[self.len] = (start, end);
        } else {
            self.spill
                .get_or_insert_with(HashSet::new)
                .insert(out[start..end].to_vec());
        }
        self.len += 1;
    }

    /// Takes the key written at `out[start..]` for this object, first
    /// adding `_2`, `_3`... until it is one the object does not hold yet.
    pub(super) fn claim(&mut self, out: &mut Vec<u8>, start: usize) {
        let base = out.len();
        let mut n = 1u64;
        while self.contains(&out[..start], &out[start..]) {
            n += 1;
            out.truncate(base);
            out.push(b'_');
            out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        }
        self.insert(out, start, out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim_all(keys: &[&str]) -> Vec<String> {
        let mut seen = Seen::new();
        let mut out = Vec::new();
        let mut got = Vec::new();
        for k in keys {
            out.push(b',');
            let start = out.len();
            out.extend_from_slice(k.as_bytes());
            seen.claim(&mut out, start);
            got.push(String::from_utf8(out[start..].to_vec()).unwrap());
        }
        got
    }

    #[test]
    fn repeated_keys_get_the_first_free_suffix() {
        assert_eq!(
            claim_all(&["a", "b", "a", "a_2", "a", "b"]),
            ["a", "b", "a_2", "a_2_2", "a_3", "b_2"]
        );
    }

    #[test]
    fn many_keys_spill_and_still_never_repeat() {
        let mut keys: Vec<String> = (0..100).map(|i| format!("k{i}")).collect();
        keys.extend((0..100).map(|i| format!("k{}", i % 7)));
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let got = claim_all(&refs);
        let unique: HashSet<&String> = got.iter().collect();
        assert_eq!(unique.len(), got.len());
        assert_eq!(got[100], "k0_2");
        assert_eq!(got[107], "k0_3");
    }

    #[test]
    fn clear_starts_a_new_object() {
        let mut seen = Seen::new();
        let mut out = b"a".to_vec();
        seen.claim(&mut out, 0);
        seen.clear();
        out.extend_from_slice(b"a");
        seen.claim(&mut out, 1);
        assert_eq!(out, b"aa");
    }
}
