//! Text normalisation for screening, with a map back to the original text.
//!
//! Term matching is only as good as the normalisation in front of it: `升 值`, `升*值`,
//! `ＧＵＡＲＡＮＴＥＥＤ`, `Guaranteed` and `guar\u{200B}anteed` must all meet the same term.
//! [`normalise`] turns a text into a canonical matching form and remembers, for every byte of
//! that form, which bytes of the original produced it, so that a match can be highlighted where
//! the author actually wrote it.
//!
//! # The steps
//!
//! 1. **Unicode NFKC**, per cluster (a starter character with the combining marks that follow
//!    it). NFKC also folds full-width ASCII (`Ｇ` → `G`), the ideographic space and half-width
//!    katakana, circled digits and the like. Compositions that span two starters (conjoining
//!    Hangul jamo) are not performed; no term list depends on them.
//! 2. **Case folding** with Unicode lower-casing, followed by NFKC again because lower-casing can
//!    leave decomposed sequences (`İ` → `i` + U+0307).
//! 3. **Folding** of spellings that read alike (see the `fold` module): traditional, variant
//!    and Japanese forms of Han characters to simplified ones, look-alike letters of other
//!    scripts to the Latin letter, and Latin letters with diacritics to their base letter.
//! 4. **Removal of invisible characters**: zero-width spaces and joiners, soft hyphens,
//!    bidirectional controls, variation selectors, tag characters, Hangul fillers, and any
//!    combining mark that NFKC could not compose into its base (stacked marks are a common way to
//!    break a term without changing how it looks). These are removed outright, so
//!    `guar\u{200D}anteed` reads as one word.
//! 5. **Separators** (everything that is not a letter or digit: spaces, punctuation, symbols,
//!    emoji) are removed or collapsed according to the characters on either side:
//!
//!    | left            | right           | result                          |
//!    |-----------------|-----------------|---------------------------------|
//!    | start of text   | anything        | removed                         |
//!    | anything        | end of text     | removed                         |
//!    | CJK             | CJK             | removed                         |
//!    | CJK             | other word      | removed                         |
//!    | other word      | CJK             | removed                         |
//!    | single letter   | single letter   | removed (`d.r.u.g` → `drug`)    |
//!    | other word      | other word      | one space (`a -- b` → `a b`)    |
//!
//!    "CJK" means Han ideographs, kana and bopomofo: scripts written without spaces between
//!    words, where a separator between two characters carries no word boundary that matching
//!    could respect anyway (a term is already found inside any longer run of Han characters, so
//!    removing `。` between two of them adds little risk, while `麻。。。痹` is a common evasion).
//!    In spaced scripts (Latin, Cyrillic, Hangul, digits), removing separators would glue
//!    ordinary words together (`be tting` → `betting`, `all i n` → `allin`) and invent matches
//!    across word boundaries, so a separator run becomes a single space there — except between
//!    two tokens that are each a single letter or digit, which ordinary prose almost never
//!    strings together but which spelled-out evasions always do. A token here is a run of
//!    letters and digits in the original, so `d.r.u.g` joins fully while `a drug` stays two
//!    words. The known cost: an evasion that splits a Latin word unevenly (`dr ug`) is not
//!    rejoined, and a dotted number such as `1.5` reads as `15`.
//!
//! 6. **Digits for letters**: in a word that also has a Latin letter, `0 1 3 4 5 7 9` read as
//!    `o i e a s t g`, `@` before a letter or between two letters or digits as `a`, and `$`
//!    between two as `s` (`pr0fit`, `c@sino`); numbers on their own stay as they are.
//!
//! The result is idempotent: normalising a normalised text changes nothing, which is also what
//! makes term lists and texts comparable, since terms go through the same function.
//!
//! # Speed
//!
//! Screening runs over every text submitted, so the common cases bypass the general path (which
//! allocates for NFKC) with exactly the same result: runs of ASCII letters and digits or of ASCII
//! separators are taken whole with byte operations, since ASCII is its own NFKC form, and so are
//! the plain words after a word (single spaces, words of two or more letters: most English
//! prose); runs of CJK characters are copied as they are, with the folds written in place; and
//! full-width ASCII and the commonest CJK punctuation are mapped directly. The position map
//! records one piece per stretch that maps byte for byte, not one entry per character.

use std::ops::Range;

use unicode_normalization::char::{canonical_combining_class, is_combining_mark};

use crate::fold;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// A text in matching form, with the way back to the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    text: String,
    pieces: Vec<Piece>,
}

/// A stretch of the normalised text and where it came from.
///
/// An aligned piece maps byte for byte onto an equally long stretch of the original (most text
/// is either unchanged or ASCII-lower-cased, so this keeps the map small); any other piece maps
/// as a whole onto the original range that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    out: usize,
    orig: usize,
    orig_end: usize,
    aligned: bool,
}

impl Normalised {
    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Maps a byte range of the normalised text (on character boundaries) to the smallest range
    /// of the original text that produced it. The result always lies on character boundaries of
    /// the original.
    ///
    /// # Panics
    ///
    /// If the range is not within the normalised text.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        assert!(
            range.start <= range.end && range.end <= self.text.len(),
            "range {range:?} outside the normalised text"
        );
        if self.pieces.is_empty() {
            return 0..0;
        }
        let piece_at = |pos: usize| &self.pieces[self.pieces.partition_point(|p| p.out <= pos).saturating_sub(1)];
        let first = piece_at(range.start);
        let start = if first.aligned {
            first.orig + (range.start - first.out)
        } else {
            first.orig
        };
        if range.is_empty() {
            return start..start;
        }
        let last = piece_at(range.end - 1);
        let end = if last.aligned {
            last.orig + (range.end - last.out)
        } else {
            last.orig_end
        };
        start..end
    }
}

/// Normalises `original` for matching; see the module documentation for the steps.
pub fn normalise(original: &str) -> Normalised {
    let mut sink = Sink::new(original.len());
    let mut at = 0;
    while let Some(c) = original[at..].chars().next() {
        if c.is_ascii()
            && let Some((len, word)) = ascii_run(&original[at..])
        {
            let run = &original[at..at + len];
            if word {
                sink.push_ascii_word(run, at);
                at += len;
                at += sink.push_plain_words(&original[at..], at);
            } else {
                sink.push_separator(at..at + len);
                at += len;
            }
            continue;
        }
        if !c.is_ascii() {
            let len = sink.push_unspaced_run(&original[at..], at);
            if len > 0 {
                at += len;
                continue;
            }
        }
        let mut end = at + c.len_utf8();
        while let Some(next) = original[end..].chars().next() {
            if is_starter(next) {
                break;
            }
            end += next.len_utf8();
        }
        if end == at + c.len_utf8() {
            fold_char(c, at..end, &mut sink);
        } else {
            fold_cluster(&original[at..end], at..end, &mut sink);
        }
        at = end;
    }
    sink.finish()
}

/// The length of the run at the start of `text` made of ASCII letters and digits, or of ASCII
/// separators, not counting a last character that a combining mark follows (that character
/// forms a cluster with the mark and needs the general path), and whether it is a word. `None`
/// if no such run is left.
///
/// ASCII is its own NFKC form and only needs ASCII lower-casing, so such a run can be handled
/// as a whole with byte operations; this is what makes Latin text cheap to normalise.
fn ascii_run(text: &str) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    // Inside a word, `@` and `$` between two letters or digits stand for a letter (`c@sino`),
    // and so does `@` before a letter (`@ppreciation`).
    let in_word = |i: usize| {
        let b = bytes[i];
        let before = i > 0 && bytes[i - 1].is_ascii_alphanumeric();
        b.is_ascii_alphanumeric()
            || (b == b'@'
                && bytes
                    .get(i + 1)
                    .is_some_and(|n| n.is_ascii_alphabetic() || (before && n.is_ascii_digit())))
            || (b == b'$' && before && bytes.get(i + 1).is_some_and(u8::is_ascii_alphanumeric))
    };
    let word = in_word(0);
    let plain_end = |from: usize| {
        bytes[from..]
            .iter()
            .position(|b| !b.is_ascii() || b.is_ascii_alphanumeric() != word)
            .map_or(bytes.len(), |p| from + p)
    };
    let mut len = plain_end(usize::from(!bytes[0].is_ascii_alphanumeric()));
    if word {
        // Go on through each `@` or `$` that stands for a letter.
        while len < bytes.len() && in_word(len) {
            len = plain_end(len + 1);
        }
    } else if len > 1 && len < bytes.len() && in_word(len - 1) {
        // The `@` before the word ends the separators.
        len -= 1;
    }
    // Only a non-ASCII character can be a combining mark.
    let marked = bytes.get(len).is_some_and(|b| !b.is_ascii()) && followed_by_non_starter(text, len);
    let mut len = if marked { len - 1 } else { len };
    // An `@` or `$` stands for a letter only before the letter it was seen with.
    if marked && word && len > 0 && matches!(bytes[len - 1], b'@' | b'$') {
        len -= 1;
    }
    (len > 0).then_some((len, word))
}

/// Reads digits as the letters they stand for in every word of `text` that also has an ASCII
/// letter (`pr0fit` → `profit`), leaving numbers (`2026`, `第3期`) as they are. Works on the
/// finished text so that words joined from spelled-out letters are judged whole, which keeps
/// normalisation idempotent; every replacement is one ASCII byte for another, so the position
/// map still holds.
fn spell_out_digits(text: String) -> String {
    let mut bytes = text.into_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if !bytes[start].is_ascii_alphanumeric() {
            start += 1;
            continue;
        }
        let end = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(bytes.len(), |p| start + p);
        let word = &mut bytes[start..end];
        if word.iter().any(u8::is_ascii_alphabetic) {
            for b in word.iter_mut() {
                if b.is_ascii_digit()
                    && let Some(letter) = fold::leet(*b)
                {
                    *b = letter;
                }
            }
        }
        start = end;
    }
    String::from_utf8(bytes).expect("ASCII bytes were replaced by ASCII bytes")
}

/// Whether the character at byte `at` of `text` (if any) joins the cluster before it.
fn followed_by_non_starter(text: &str, at: usize) -> bool {
    // An ASCII character, or none, is the common answer and needs no decoding.
    text.as_bytes().get(at).is_some_and(|b| !b.is_ascii()) && text[at..].chars().next().is_some_and(|c| !is_starter(c))
}

fn is_starter(c: char) -> bool {
    c.is_ascii() || is_unspaced(c) || canonical_combining_class(c) == 0
}

/// Folds a cluster of one character, taking the cheap paths for the characters that make up
/// nearly all real text.
fn fold_char(c: char, orig: Range<usize>, sink: &mut Sink) {
    if c.is_ascii() {
        sink.push(c.to_ascii_lowercase(), orig, true);
        return;
    }
    if is_unspaced(c) {
        let folded = fold::han(c).unwrap_or(c);
        sink.push(folded, orig, folded.len_utf8() == c.len_utf8());
        return;
    }
    // The commonest Chinese punctuation (`、。〃〈〉《》「」『』【】`) is already in NFKC form and
    // has no case, so it needs none of the checks below.
    if let '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' = c {
        sink.push_separator(orig);
        return;
    }
    // Full-width ASCII (`Ｇ`, `，`) is common in Chinese text; its NFKC form is the plain ASCII
    // character, which spares the general path's allocation.
    if let '\u{FF01}'..='\u{FF5E}' = c
        && let Some(narrow) = char::from_u32(u32::from(c) - 0xFEE0)
    {
        sink.push(narrow.to_ascii_lowercase(), orig, false);
        return;
    }
    if is_invisible(c) {
        return;
    }
    // Look-alikes are judged before lower-casing, which can part them: Greek `Ν` looks like
    // `N`, but its small form `ν` like `v`.
    if c.is_alphabetic() {
        let latin = fold::letter(c);
        if latin.is_ascii() {
            sink.push(latin, orig, false);
            return;
        }
    }
    let mut lower = c.to_lowercase();
    if lower.len() == 1 {
        let l = lower.next().unwrap_or(c);
        if is_nfkc_quick(std::iter::once(l)) == IsNormalized::Yes
            && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
        {
            if !is_combining_mark(l) {
                let l = fold::letter(l);
                sink.push(l, orig, l.len_utf8() == c.len_utf8());
            }
            return;
        }
    }
    let mut buf = [0; 4];
    fold_cluster(c.encode_utf8(&mut buf), orig, sink);
}

/// The general path: NFKC, lower-case, NFKC again, then drop what should be invisible.
fn fold_cluster(cluster: &str, orig: Range<usize>, sink: &mut Sink) {
    let lowered: String = cluster.nfkc().flat_map(char::to_lowercase).collect();
    let single = cluster.chars().count() == 1;
    let mut out = lowered
        .nfkc()
        .filter(|&c| !is_invisible(c) && !is_combining_mark(c))
        .peekable();
    while let Some(c) = out.next() {
        let c = if is_unspaced(c) {
            fold::han(c).unwrap_or(c)
        } else {
            fold::letter(c)
        };
        let aligned = single && out.peek().is_none() && c.len_utf8() == cluster.len();
        sink.push(c, orig.clone(), aligned);
    }
}

/// Characters that render as nothing (or only alter their neighbour) and so can be slipped
/// inside a term unseen.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Scripts written without spaces between words: Han ideographs, kana, bopomofo and the
/// ideographic iteration and number marks.
pub(crate) fn is_unspaced(c: char) -> bool {
    // The URO first: it holds nearly every character of Chinese text.
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
        || matches!(
            c,
            '\u{3005}'..='\u{3007}'
                | '\u{3021}'..='\u{3029}'
                | '\u{3041}'..='\u{3096}'
                | '\u{309D}'..='\u{309F}'
                | '\u{30A1}'..='\u{30FA}'
                | '\u{30FC}'..='\u{30FF}'
                | '\u{3105}'..='\u{312F}'
                | '\u{31A0}'..='\u{31BF}'
                | '\u{31F0}'..='\u{31FF}'
                | '\u{3400}'..='\u{4DBF}'
                | '\u{20000}'..='\u{3FFFF}'
        )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Unspaced,
    Word,
    Separator,
}

fn classify(c: char) -> Class {
    if c.is_ascii_alphanumeric() {
        Class::Word
    } else if c.is_ascii() {
        Class::Separator
    } else if is_unspaced(c) {
        Class::Unspaced
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Separator
    }
}

/// Whether `c` belongs to a spaced-script word, i.e. whether a term next to it needs a word
/// boundary to count.
pub(crate) fn is_word_char(c: char) -> bool {
    classify(c) == Class::Word
}

/// A folded character waiting for the character after it, which decides the separators before
/// it.
#[derive(Debug, Clone)]
struct Held {
    c: char,
    orig: Range<usize>,
    aligned: bool,
}

/// Applies the separator rules to the stream of folded characters and records the pieces.
struct Sink {
    text: String,
    pieces: Vec<Piece>,
    /// Class of the last character emitted, if any.
    last: Option<Class>,
    /// Length (capped at 2) of the last run of word characters in the original, not counting any
    /// that were joined to it across a removed separator; kept across the separators after it
    /// because it decides them.
    token_len: u8,
    /// Original range of the separators seen since the last emitted character.
    pending: Option<Range<usize>>,
    held: Option<Held>,
    /// Whether an ASCII digit was emitted, which a word may use in place of a letter.
    digits: bool,
}

impl Sink {
    fn new(capacity: usize) -> Self {
        Sink {
            text: String::with_capacity(capacity),
            pieces: Vec::new(),
            last: None,
            token_len: 0,
            pending: None,
            held: None,
            digits: false,
        }
    }

    /// Takes the run of CJK characters at the start of `text` and returns its length (0 if
    /// there is none), with the same effect as pushing its characters one by one. Nearly all
    /// Chinese text consists of such runs, which are copied as they are except where a
    /// character folds. A last character that a combining mark follows is left out (it forms a
    /// cluster with the mark and needs the general path).
    fn push_unspaced_run(&mut self, text: &str, orig: usize) -> usize {
        let mut chars = text.char_indices();
        match chars.next() {
            Some((_, first)) if is_unspaced(first) && !followed_by_non_starter(text, first.len_utf8()) => {}
            _ => return 0,
        }
        // Separators between CJK characters go, and a held letter has no letter after it.
        if let Some(held) = self.held.take() {
            self.release(held, 1);
        }
        self.pending = None;
        let table = fold::HanTable::get();
        // The run is written out as it goes, folds included; the position map only needs a new
        // piece where a fold changes a character's length, which almost never happens.
        let mut copied = 0;
        let mut aligned_from = 0;
        // A folded character is written once the next character shows it is not left out.
        let mut waiting = table.fold(text.chars().next().unwrap_or_default()).map(|f| (0, f));
        let mut last = 0;
        let mut end = text.len();
        for (i, c) in chars {
            if !is_unspaced(c) {
                end = i;
                break;
            }
            if let Some((at, folded)) = waiting.take() {
                self.write_folded(text, orig, (&mut copied, &mut aligned_from), at, folded);
            }
            waiting = table.fold(c).map(|f| (i, f));
            last = i;
        }
        if followed_by_non_starter(text, end) {
            end = last;
        } else if let Some((at, folded)) = waiting {
            self.write_folded(text, orig, (&mut copied, &mut aligned_from), at, folded);
        }
        self.text.push_str(&text[copied..end]);
        if aligned_from < end {
            let written = self.text.len() - (end - aligned_from);
            self.note_aligned(written, orig + aligned_from..orig + end);
        }
        self.token_len = 0;
        self.last = Some(Class::Unspaced);
        end
    }

    /// Writes the part of an unspaced run from `copied` to byte `at`, then the character at
    /// `at` folded to `folded`. Where the fold changes the character's length, the aligned
    /// stretch so far (from `aligned_from`) and the folded character get pieces of their own.
    fn write_folded(
        &mut self,
        run: &str,
        orig: usize,
        (copied, aligned_from): (&mut usize, &mut usize),
        at: usize,
        folded: char,
    ) {
        self.text.push_str(&run[*copied..at]);
        let len = run[at..].chars().next().map_or(0, char::len_utf8);
        *copied = at + len;
        if folded.len_utf8() == len {
            self.text.push(folded);
            return;
        }
        if *aligned_from < at {
            let written = self.text.len() - (at - *aligned_from);
            self.note_aligned(written, orig + *aligned_from..orig + at);
        }
        self.emit(folded, orig + at..orig + at + len, false, Class::Unspaced);
        *aligned_from = at + len;
    }

    /// After a word of two or more characters, takes the words of two or more ASCII letters and
    /// digits that follow it, each after a single space and followed by an ASCII separator, and
    /// returns their length. This is what ordinary English prose consists of, and such words
    /// only need lower-casing: each space stays, and all of it maps byte for byte. Anything else
    /// is left to the general path.
    fn push_plain_words(&mut self, text: &str, orig: usize) -> usize {
        if !(self.held.is_none() && self.pending.is_none() && self.last == Some(Class::Word) && self.token_len == 2) {
            return 0;
        }
        let bytes = text.as_bytes();
        let mut taken = 0;
        let mut digits = false;
        while bytes.get(taken) == Some(&b' ') {
            let start = taken + 1;
            let len = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            let after = bytes.get(start + len);
            if len < 2 || !after.is_some_and(|&b| b.is_ascii() && !b.is_ascii_alphanumeric() && b != b'@' && b != b'$')
            {
                break;
            }
            digits |= bytes[start..start + len].iter().any(u8::is_ascii_digit);
            taken = start + len;
        }
        if taken > 0 {
            let out = self.text.len();
            self.emit_aligned(&text[..taken], orig);
            self.text[out..].make_ascii_lowercase();
            self.digits |= digits;
        }
        taken
    }

    /// Takes a run of ASCII letters and digits found by [`ascii_run`], with the same effect as
    /// pushing its characters one by one through [`Sink::push`], but deciding the separator rules
    /// once for the run: only its first character can meet a held character or pending
    /// separators, and once the run is two characters long it is no longer a single letter.
    fn push_ascii_word(&mut self, run: &str, orig: usize) {
        let len = run.len();
        if let Some(held) = self.held.take() {
            // The held character had one letter before it; this run makes its token longer.
            self.release(held, 2);
            self.emit_ascii_word(run, orig);
            self.token_len = 2;
        } else if self.pending.is_some() && self.last == Some(Class::Word) {
            if len == 1 {
                // Whether the separators go depends on what follows this single letter.
                let c = char::from(run.as_bytes()[0].to_ascii_lowercase());
                self.held = Some(Held {
                    c,
                    orig: orig..orig + 1,
                    aligned: true,
                });
                return;
            }
            // A token of two or more characters: the separators before it become one space.
            if let Some(sep) = self.pending.take() {
                let one_byte = sep.len() == 1;
                self.emit(' ', sep, one_byte, Class::Separator);
            }
            self.emit_ascii_word(run, orig);
            self.token_len = 2;
        } else {
            let continues = self.pending.take().is_none() && self.last == Some(Class::Word);
            let before = if continues { usize::from(self.token_len) } else { 0 };
            self.emit_ascii_word(run, orig);
            self.token_len = if before + len >= 2 { 2 } else { 1 };
        }
    }

    /// Appends a run of ASCII letters and digits, lower-cased.
    fn emit_ascii_word(&mut self, run: &str, orig: usize) {
        let out = self.text.len();
        // Digits, `@` and `$` all sort before the letters, so one test finds whether the run
        // has any of them.
        if run.bytes().any(|b| b < b'A') {
            self.emit_spelled_word(run, orig);
        } else {
            self.emit_aligned(run, orig);
        }
        self.text[out..].make_ascii_lowercase();
        self.last = Some(Class::Word);
    }

    /// Appends a run of ASCII letters and digits that holds a digit, `@` or `$`, with `@` and
    /// `$` spelled as the letters they stand for.
    #[cold]
    fn emit_spelled_word(&mut self, run: &str, orig: usize) {
        self.digits |= run.bytes().any(|b| b.is_ascii_digit());
        let spelled: String = run
            .bytes()
            .map(|b| match b {
                b'@' | b'$' => char::from(fold::leet(b).unwrap_or(b)),
                _ => char::from(b),
            })
            .collect();
        self.emit_aligned(&spelled, orig);
    }

    /// Takes a separator, or a run of ASCII separators found by [`ascii_run`] (with the same
    /// effect as pushing them one by one).
    fn push_separator(&mut self, orig: Range<usize>) {
        if let Some(held) = self.held.take() {
            self.release(held, 1);
        }
        if self.last.is_some() {
            let start = self.pending.as_ref().map_or(orig.start, |p| p.start);
            self.pending = Some(start..orig.end);
        }
    }

    /// Appends `run`, which maps byte for byte onto the original from `orig`, extending the last
    /// piece when it is aligned and ends where the run begins.
    fn emit_aligned(&mut self, run: &str, orig: usize) {
        if run.is_empty() {
            return;
        }
        let out = self.text.len();
        self.text.push_str(run);
        self.note_aligned(out, orig..orig + run.len());
    }

    /// Records that the text from `out` on maps byte for byte onto `orig`, extending the last
    /// piece when it is aligned and ends where `orig` begins.
    fn note_aligned(&mut self, out: usize, orig: Range<usize>) {
        match self.pieces.last_mut() {
            Some(prev) if prev.aligned && prev.orig_end == orig.start => prev.orig_end = orig.end,
            _ => self.pieces.push(Piece {
                out,
                orig: orig.start,
                orig_end: orig.end,
                aligned: true,
            }),
        }
    }

    fn push(&mut self, c: char, orig: Range<usize>, aligned: bool) {
        match classify(c) {
            Class::Separator => self.push_separator(orig),
            Class::Unspaced => {
                if let Some(held) = self.held.take() {
                    self.release(held, 1);
                }
                self.pending = None;
                self.emit(c, orig, aligned, Class::Unspaced);
                self.token_len = 0;
            }
            Class::Word => {
                if let Some(held) = self.held.take() {
                    self.release(held, 2);
                    self.emit(c, orig, aligned, Class::Word);
                    self.token_len = 2;
                } else if self.pending.is_some() && self.last == Some(Class::Word) {
                    self.held = Some(Held { c, orig, aligned });
                } else {
                    let continues = self.pending.take().is_none() && self.last == Some(Class::Word);
                    self.emit(c, orig, aligned, Class::Word);
                    self.token_len = if continues { (self.token_len + 1).min(2) } else { 1 };
                }
            }
        }
    }

    /// Emits a held word character, first deciding the separators between it and the previous
    /// word now that the length of its own token (`right_len`, capped at 2) is known.
    fn release(&mut self, held: Held, right_len: u8) {
        if let Some(sep) = self.pending.take()
            && !(self.token_len == 1 && right_len == 1)
        {
            let one_byte = sep.len() == 1;
            self.emit(' ', sep, one_byte, Class::Separator);
        }
        self.emit(held.c, held.orig, held.aligned, Class::Word);
        self.token_len = 1;
    }

    fn emit(&mut self, c: char, orig: Range<usize>, aligned: bool, class: Class) {
        let out = self.text.len();
        self.text.push(c);
        self.digits |= c.is_ascii_digit();
        self.last = Some(class);
        if let Some(prev) = self.pieces.last_mut() {
            if aligned && prev.aligned && prev.orig_end == orig.start {
                prev.orig_end = orig.end;
                return;
            }
            if !aligned && !prev.aligned && prev.orig == orig.start && prev.orig_end == orig.end {
                return;
            }
        }
        self.pieces.push(Piece {
            out,
            orig: orig.start,
            orig_end: orig.end,
            aligned,
        });
    }

    fn finish(mut self) -> Normalised {
        if let Some(held) = self.held.take() {
            self.release(held, 1);
        }
        if self.digits {
            self.text = spell_out_digits(std::mem::take(&mut self.text));
        }
        Normalised {
            text: self.text,
            pieces: self.pieces,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalise(s).as_str().to_owned()
    }

    #[test]
    fn folds_width_and_case() {
        assert_eq!(norm("ＧＵＡＲＡＮＴＥＥＤ ｐｒｏｆｉｔ"), "guaranteed profit");
        assert_eq!(norm("GuArAnTeEd PROFIT"), "guaranteed profit");
        assert_eq!(norm("Ａ２"), "a2");
    }

    #[test]
    fn removes_invisible_characters_without_splitting_words() {
        assert_eq!(norm("guar\u{200B}an\u{200D}teed"), "guaranteed");
        assert_eq!(norm("升\u{200D}值"), "升值");
        assert_eq!(norm("升\u{FE0F}\u{0336}值"), "升值");
    }

    #[test]
    fn removes_separators_between_cjk_characters() {
        assert_eq!(norm("升 值"), "升值");
        assert_eq!(norm("升*值"), "升值");
        assert_eq!(norm("麻。。。痹"), "麻痹");
        assert_eq!(norm("赌\u{3000}博"), "赌博");
        assert_eq!(norm("炒🔥NFT"), "炒nft");
    }

    #[test]
    fn joins_spelled_out_letters_only() {
        assert_eq!(norm("d.r.u.g"), "drug");
        assert_eq!(norm("D R U G"), "drug");
        assert_eq!(norm("buy d-r-u-g-s now"), "buy drugs now");
        assert_eq!(norm("a drug"), "a drug");
        assert_eq!(norm("all in, be tting"), "all in be tting");
        assert_eq!(norm("  guaranteed -- profit!! "), "guaranteed profit");
    }

    #[test]
    fn folds_han_variants_look_alikes_and_tone_marks() {
        assert_eq!(norm("穩賺不賠"), "稳赚不赔");
        assert_eq!(norm("転売"), "转卖");
        assert_eq!(norm("c\u{0430}sino"), "casino");
        assert_eq!(norm("Wěn Zhuàn"), "wen zhuan");
    }

    #[test]
    fn reads_digits_in_words_as_letters() {
        assert_eq!(norm("pr0fit, c4sino and c@sino"), "profit casino and casino");
        assert_eq!(norm("第3期 2026年 No.0001"), "第3期2026年no 0001");
        assert_eq!(norm("info@example.com"), "infoaexample com");
    }

    #[test]
    fn is_idempotent_on_examples() {
        for s in [
            "a b cd e f",
            "ab c d",
            "x 升 y",
            "İstanbul",
            "ﬁ ①",
            "㈱会社",
            "e\u{301}t\u{e9}",
        ] {
            let once = norm(s);
            assert_eq!(norm(&once), once, "for {s:?}");
        }
    }

    #[test]
    fn composes_before_removing_marks() {
        assert_eq!(norm("e\u{301}t\u{e9}"), "ete");
    }

    #[test]
    fn maps_ranges_back_to_the_original() {
        let original = "这件藏品必将升 值！";
        let n = normalise(original);
        let at = n.as_str().find("升值").unwrap();
        let span = n.original_range(at..at + "升值".len());
        assert_eq!(&original[span], "升 值");

        let original = "Ｇｕａｒａｎｔｅｅｄ profit";
        let n = normalise(original);
        let span = n.original_range(0..n.as_str().len());
        assert_eq!(&original[span], original);
        let span = n.original_range(0.."guaranteed".len());
        assert_eq!(&original[span], "Ｇｕａｒａｎｔｅｅｄ");
    }

    #[test]
    fn empty_and_separator_only_texts() {
        assert_eq!(norm(""), "");
        assert_eq!(norm(" ,.!? \u{200B}"), "");
        assert_eq!(normalise("").original_range(0..0), 0..0);
    }
}
