//! Character folds that make different spellings of one word read alike, used by the
//! normaliser on every character that is neither ASCII nor left as it is:
//!
//! - **Han characters**: traditional, Hong Kong, Taiwan and Japanese (shinjitai) forms and their
//!   variants fold to the simplified character, from OpenCC's character dictionaries as embedded
//!   by `hanconv` (`網絡賭博`, `転売` and `穩賺` meet `网络赌博`, `转卖` and `稳赚`). Only
//!   one-to-one character entries are used, taking the first (commonest) simplified form, so that
//!   a fold never changes how many characters a text has. A character that is still outside
//!   GB 2312 (the standard simplified set) after that goes to one of its variants in the Unihan
//!   database (z-, semantic and spoofing variants, `data/unihan-variants.txt`) that is inside it:
//!   `升値`, `賭塲` and `囘购` meet `升值`, `赌场` and `回购`.
//! - **Look-alike letters of other scripts**: a letter whose UTS #39 confusable skeleton
//!   (`unicode-security`) is a single Latin letter folds to it, so a Cyrillic `а` inside `cаsino`
//!   reads as `a`.
//! - **Diacritics**: a Latin letter with marks (pinyin tone marks above all: `wěn zhuàn`) folds
//!   to its base letter.
//!
//! Every fold is idempotent: folding the result again changes nothing.

use std::collections::HashMap;
use std::sync::LazyLock;

use hanconv::Dictionary;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// The Han characters of the Basic Multilingual Plane that a dense table covers: Extension A and
/// the URO, where nearly every character of real text lies.
const DENSE_START: u32 = 0x3400;
const DENSE_END: u32 = 0x9FFF;

struct HanFolds {
    /// Indexed by code point minus [`DENSE_START`]; `'\0'` where the character stays.
    dense: Vec<char>,
    /// Folds of characters outside the dense range.
    sparse: HashMap<char, char>,
}

static HAN: LazyLock<HanFolds> = LazyLock::new(han_folds);

fn single(s: &str) -> Option<char> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn han_folds() -> HanFolds {
    // A variant form to OpenCC's standard traditional character, then traditional to simplified.
    let mut standard: HashMap<char, char> = HashMap::new();
    for dictionary in [
        Dictionary::JPVariantsRev,
        Dictionary::JPShinjitaiCharacters,
        Dictionary::HKVariantsRev,
        Dictionary::TWVariantsRev,
    ] {
        for (variant, target) in dictionary.iter() {
            if let (Some(v), Some(t)) = (single(variant), single(target))
                && v != t
            {
                standard.entry(v).or_insert(t);
            }
        }
    }
    let mut simplified: HashMap<char, char> = HashMap::new();
    for (traditional, target) in Dictionary::TSCharacters.iter() {
        if let (Some(t), Some(s)) = (single(traditional), single(target))
            && t != s
        {
            simplified.entry(t).or_insert(s);
        }
    }
    let step = |c: char| {
        let c = standard.get(&c).copied().unwrap_or(c);
        simplified.get(&c).copied().unwrap_or(c)
    };
    // Follow the chain to a character that no longer changes; a cycle (which the dictionaries
    // should not contain) leaves the character as it is.
    let opencc = |c: char| {
        let mut folded = c;
        for _ in 0..8 {
            let next = step(folded);
            if next == folded {
                return folded;
            }
            folded = next;
        }
        c
    };
    let unihan = unihan_variants();
    // A character still outside the standard set after OpenCC goes to the first of its Unihan
    // variants (its own, else those of the character it came from) that lands inside it.
    let fold = |c: char| {
        let folded = opencc(c);
        if is_standard(folded) {
            return folded;
        }
        [folded, c]
            .iter()
            .filter_map(|v| unihan.get(v))
            .flatten()
            .map(|&t| opencc(t))
            .find(|&t| is_standard(t))
            .unwrap_or(folded)
    };
    let mut folds = HanFolds {
        dense: vec!['\0'; (DENSE_END - DENSE_START + 1) as usize],
        sparse: HashMap::new(),
    };
    for c in standard.keys().chain(simplified.keys()).chain(unihan.keys()).copied() {
        let folded = fold(c);
        if folded == c || !crate::normalise::is_unspaced(c) || !crate::normalise::is_unspaced(folded) {
            continue;
        }
        match u32::from(c) {
            code @ DENSE_START..=DENSE_END => folds.dense[(code - DENSE_START) as usize] = folded,
            _ => {
                folds.sparse.insert(c, folded);
            }
        }
    }
    folds
}

/// The Unihan z-, semantic and spoofing variants of each character, in the order listed.
fn unihan_variants() -> HashMap<char, Vec<char>> {
    let code = |field: &str| {
        field
            .strip_prefix("U+")
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32)
    };
    let mut variants: HashMap<char, Vec<char>> = HashMap::new();
    for line in include_str!("../data/unihan-variants.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let mut fields = line.split('\t');
        let (Some(from), Some(_), Some(targets)) = (fields.next().and_then(code), fields.next(), fields.next()) else {
            continue;
        };
        variants
            .entry(from)
            .or_default()
            .extend(targets.split(' ').filter_map(code).filter(|&t| t != from));
    }
    variants
}

/// Whether a Han character is in GB 2312, the standard set of simplified Chinese, which is
/// where folds should land.
fn is_standard(c: char) -> bool {
    let mut buf = [0; 4];
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
    // GB 2312's Han characters are the double bytes with both bytes from 0xA1 and the first
    // from 0xB0 (rows 16–87), a subset of GBK.
    !unmappable && matches!(*bytes, [0xB0..=0xF7, 0xA1..=0xFE])
}

/// The simplified form of a Han character, if it differs.
#[inline]
pub(crate) fn han(c: char) -> Option<char> {
    HanTable::get().fold(c)
}

/// The table of Han folds, to look up many characters without going through the lazy static
/// each time.
#[derive(Clone, Copy)]
pub(crate) struct HanTable(&'static HanFolds);

impl HanTable {
    pub(crate) fn get() -> Self {
        HanTable(&HAN)
    }

    /// The simplified form of a Han character, if it differs.
    #[inline]
    pub(crate) fn fold(self, c: char) -> Option<char> {
        match u32::from(c) {
            code @ DENSE_START..=DENSE_END => Some(self.0.dense[(code - DENSE_START) as usize]).filter(|&f| f != '\0'),
            code if code > 0xFFFF => self.0.sparse.get(&c).copied(),
            _ => None,
        }
    }
}

/// The Latin letter a lower-case letter that is not ASCII stands for: its base letter without
/// diacritics, or the Latin letter it is confusable with. The letter itself if neither.
pub(crate) fn letter(c: char) -> char {
    if c.is_ascii() || !c.is_alphabetic() {
        return c;
    }
    let mut base = None;
    let mut marks_only = true;
    decompose_canonical(c, |d| match base {
        None => base = Some(d),
        Some(_) => marks_only &= is_combining_mark(d),
    });
    if let Some(b) = base.filter(|b| b.is_ascii_alphabetic() && marks_only) {
        return b.to_ascii_lowercase();
    }
    let mut buf = [0; 4];
    let mut skeleton = unicode_security::skeleton(c.encode_utf8(&mut buf));
    match (skeleton.next(), skeleton.next()) {
        (Some(s), None) if s.is_ascii_alphabetic() => s.to_ascii_lowercase(),
        _ => c,
    }
}

/// The letter a digit or symbol stands for inside a Latin word (`pr0fit`, `c@sino`).
pub(crate) fn leet(b: u8) -> Option<u8> {
    match b {
        b'0' => Some(b'o'),
        b'1' => Some(b'i'),
        b'3' => Some(b'e'),
        b'4' | b'@' => Some(b'a'),
        b'5' | b'$' => Some(b's'),
        b'7' => Some(b't'),
        b'9' => Some(b'g'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_and_variant_characters_fold_to_simplified() {
        for (from, to) in [
            ('穩', '稳'),
            ('賺', '赚'),
            ('賭', '赌'),
            ('網', '网'),
            ('転', '转'),
            ('売', '卖'),
            ('綫', '线'),
            ('値', '值'),
            ('塲', '场'),
            ('囘', '回'),
            ('躶', '裸'),
        ] {
            assert_eq!(han(from), Some(to), "{from}");
        }
        assert_eq!(han('稳'), None);
        assert_eq!(han('a'), None);
    }

    #[test]
    fn han_folds_are_idempotent() {
        for code in DENSE_START..=DENSE_END {
            if let Some(c) = char::from_u32(code)
                && let Some(f) = han(c)
            {
                assert_eq!(han(f), None, "{c} folds to {f}, which folds again");
            }
        }
    }

    #[test]
    fn look_alikes_and_diacritics_fold_to_latin() {
        assert_eq!(letter('а'), 'a'); // Cyrillic
        assert_eq!(letter('р'), 'p');
        assert_eq!(letter('ο'), 'o'); // Greek
        assert_eq!(letter('ě'), 'e');
        assert_eq!(letter('ǜ'), 'u');
        assert_eq!(letter('ж'), 'ж');
        assert_eq!(letter('b'), 'b');
    }
}
