//! Finding needles by their first character: the matcher for needles that are not all ASCII,
//! which means Han characters above all.
//!
//! A byte automaton over thousands of Han needles is large (each character is three bytes, and
//! the bytes of different characters share few states), so scanning Chinese text with one
//! misses the cache at nearly every byte. Here every needle is filed under its first character
//! instead: a dense table over the Han ranges says where each character's needles begin in one
//! sorted list, so a character that starts no needle costs one look-up, and one that does costs
//! a binary search among the needles that start with it.

use std::collections::HashMap;
use std::ops::Range;

use crate::ascii::ascii_prefix_len;

/// The Han characters of the Basic Multilingual Plane that the dense table covers: Extension A
/// and the URO, where nearly every character of real text lies.
const DENSE: Range<u32> = 0x3400..0xA000;

/// A set of needles, each with an id, filed by first character.
#[derive(Debug, Clone)]
pub(crate) struct FirstCharIndex {
    /// The needles, sorted (bytewise) so that those with one first character are together, as
    /// where each ends in `bytes` and its id.
    needles: Vec<(u32, usize)>,
    /// The needles' bytes one after the other, so that the needles of one character share a
    /// cache line or two.
    bytes: Vec<u8>,
    /// For each character of [`DENSE`] and one past the end, where its needles begin.
    dense: Vec<u32>,
    /// One bit for each character of [`DENSE`]: whether some needle begins with it. Small
    /// enough to stay in the fastest cache, unlike `dense`, so that most characters cost no
    /// look-up there.
    starts: Vec<u64>,
    /// Where the needles of every other first character lie.
    sparse: HashMap<char, Range<u32>>,
    /// Whether some needle begins with an ASCII character; if none does, ASCII text is skipped.
    ascii_first: bool,
}

impl FirstCharIndex {
    /// Files `needles` (non-empty strings, each given once) with their ids.
    pub(crate) fn new(mut needles: Vec<(Box<str>, usize)>) -> Self {
        needles.sort_unstable();
        let first = |s: &str| s.chars().next().unwrap_or_default();
        let position = |i: usize| u32::try_from(i).expect("fewer than 2^32 needles");
        let mut sparse: HashMap<char, Range<u32>> = HashMap::new();
        for (i, (needle, _)) in needles.iter().enumerate() {
            let c = first(needle);
            if !DENSE.contains(&u32::from(c)) {
                sparse.entry(c).or_insert(position(i)..position(i)).end = position(i + 1);
            }
        }
        let mut dense = Vec::with_capacity(DENSE.len() + 1);
        let mut at = 0;
        for code in DENSE.start..=DENSE.end {
            while at < needles.len() && u32::from(first(&needles[at].0)) < code {
                at += 1;
            }
            dense.push(position(at));
        }
        let ascii_first = sparse.keys().any(char::is_ascii);
        let mut bytes = Vec::new();
        let needles = needles
            .into_iter()
            .map(|(needle, id)| {
                bytes.extend_from_slice(needle.as_bytes());
                (
                    u32::try_from(bytes.len()).expect("needles shorter than 4 GiB in all"),
                    id,
                )
            })
            .collect();
        let mut starts = vec![0u64; DENSE.len().div_ceil(64)];
        for (i, pair) in dense.windows(2).enumerate() {
            if pair[0] < pair[1] {
                starts[i / 64] |= 1 << (i % 64);
            }
        }
        FirstCharIndex {
            needles,
            bytes,
            dense,
            starts,
            sparse,
            ascii_first,
        }
    }

    /// Calls `found` with the id and byte range of every occurrence of every needle in `text`,
    /// overlapping ones included, in order of where they begin.
    pub(crate) fn find_all(&self, text: &str, mut found: impl FnMut(usize, Range<usize>)) {
        let bytes = text.as_bytes();
        let mut at = 0;
        while let Some(&lead) = bytes.get(at) {
            if lead.is_ascii() && !self.ascii_first {
                at += ascii_prefix_len(&bytes[at..]);
                continue;
            }
            // Han characters are three bytes long, and decoded here without the general path.
            if let Some(&[b0 @ 0xE3..=0xE9, b1, b2]) = bytes.get(at..at + 3) {
                let code = (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
                if DENSE.contains(&code) {
                    let i = (code - DENSE.start) as usize;
                    if self.starts[i / 64] & (1 << (i % 64)) != 0 {
                        let group = self.dense[i] as usize..self.dense[i + 1] as usize;
                        self.prefixes_of(group, &bytes[at..], |id, len| found(id, at..at + len));
                    }
                    at += 3;
                    continue;
                }
            }
            let c = text[at..].chars().next().unwrap_or_default();
            if let Some(group) = self.sparse.get(&c) {
                let group = group.start as usize..group.end as usize;
                self.prefixes_of(group, &bytes[at..], |id, len| found(id, at..at + len));
            }
            at += c.len_utf8();
        }
    }

    /// Calls `found` with the id and length of every needle in `group` that `text` begins with.
    ///
    /// Every such needle sorts at or before `text`. Walking down from the last needle that
    /// does: one that shares only `common` bytes with `text` rules out every needle before it
    /// longer than that (such a needle would sort after it), so the search goes on among those
    /// that sort at or before `text[..common]`.
    fn prefixes_of(&self, group: Range<usize>, text: &[u8], mut found: impl FnMut(usize, usize)) {
        let start = group
            .start
            .checked_sub(1)
            .map_or(0, |before| self.needles[before].0 as usize);
        let needles = &self.needles[group];
        let needle = |k: usize| {
            let from = k.checked_sub(1).map_or(start, |before| needles[before].0 as usize);
            &self.bytes[from..needles[k].0 as usize]
        };
        // Most characters begin only a few needles, which are quicker to try one by one.
        if needles.len() <= 4 {
            for (k, (_, id)) in needles.iter().enumerate() {
                let needle = needle(k);
                // Most tries fail at the second character, sooner than a call to `memcmp` returns.
                if needle.len() <= text.len() && needle.iter().zip(text).all(|(a, b)| a == b) {
                    found(*id, needle.len());
                }
            }
            return;
        }
        let mut bound = text;
        let mut end = partition_point(needles.len(), |k| needle(k) <= bound);
        while end > 0 {
            let candidate = needle(end - 1);
            let common = candidate.iter().zip(bound).take_while(|(a, b)| a == b).count();
            if common == candidate.len() {
                found(needles[end - 1].1, candidate.len());
                end -= 1;
            } else {
                bound = &bound[..common];
                end = partition_point(end - 1, |k| needle(k) <= bound);
            }
        }
    }
}

/// The number of indices below `end` for which `before` holds, given that it holds for all
/// indices up to some point and for none after (as `slice::partition_point`, over indices).
fn partition_point(end: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, end);
    while low < high {
        let mid = low + (high - low) / 2;
        if before(mid) {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    low
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(needles: &[&str]) -> FirstCharIndex {
        FirstCharIndex::new(needles.iter().enumerate().map(|(i, n)| (Box::from(*n), i)).collect())
    }

    fn find(index: &FirstCharIndex, text: &str) -> Vec<(usize, Range<usize>)> {
        let mut found = Vec::new();
        index.find_all(text, |id, range| found.push((id, range)));
        found.sort_by_key(|(id, range)| (range.start, range.end, *id));
        found
    }

    /// Every occurrence of every needle, the slow way.
    fn naive(needles: &[&str], text: &str) -> Vec<(usize, Range<usize>)> {
        let mut found = Vec::new();
        for (at, _) in text.char_indices() {
            for (id, n) in needles.iter().enumerate() {
                if text[at..].starts_with(n) {
                    found.push((id, at..at + n.len()));
                }
            }
        }
        found.sort_by_key(|(id, range)| (range.start, range.end, *id));
        found
    }

    #[test]
    fn finds_nested_and_overlapping_needles() {
        let needles = [
            "升值",
            "升值空间",
            "值空",
            "保值增值",
            "增值",
            "升",
            "炒nft",
            "ｘ升",
            "a升",
        ];
        let index = index(&needles);
        for text in ["必将升值空间巨大", "保值增值", "炒nft，炒nfts", "ｘ升a升值", "升", ""] {
            assert_eq!(find(&index, text), naive(&needles, text), "{text}");
        }
    }

    #[test]
    fn agrees_with_the_naive_search_on_many_needles_with_shared_beginnings() {
        let needles: Vec<String> = (0..400)
            .map(|i: u32| {
                let len = 1 + i % 4;
                (0..len)
                    .map(|k| char::from_u32(0x4E00 + (i * 7 + k * 13) % 5).unwrap_or('一'))
                    .collect()
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        let text: String = (0..300u32)
            .map(|i| char::from_u32(0x4E00 + (i * i + 3 * i) % 6).unwrap_or('一'))
            .collect();
        let index = index(&needles);
        assert_eq!(find(&index, &text), naive(&needles, &text));
    }
}
