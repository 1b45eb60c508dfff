//! Text screening: every term list matched in one pass over the normalised text.
//!
//! Terms and texts go through the same [`normalise`](crate::normalise::normalise), and the terms
//! of every list plus the allowlist are found in one pass whatever their number: those in ASCII
//! by one Aho–Corasick automaton over the runs of ASCII, the others (Han above all) by an index
//! of their first characters (see the `first_char` module). Matches are then filtered:
//!
//! - a term that begins or ends with a letter or digit of a spaced script (Latin, Cyrillic,
//!   digits…) only counts on a word boundary there, so `bet` does not fire inside `alphabet`;
//!   terms in Han characters have no such check, because Chinese has no spaces to check against
//!   (the allowlist handles the ordinary words that contain a short term: `炒` in `炒菜`);
//! - a match lying inside an allowlist match is dropped;
//! - a match lying inside a longer match of the same or a higher severity is dropped, so
//!   `保值增值` reports that phrase rather than also `保值` and `增值`, but a block term inside a
//!   longer review term is still reported.
//!
//! Each finding names its term, category, severity and list version, and carries the byte span
//! in the original text, for the reviewer's highlighting.

use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::ascii::ascii_prefix_len;
use crate::first_char::FirstCharIndex;
use crate::lists::{Allowlist, Category, ListError, Severity, TermList, starter_allowlist, starter_lists};
use crate::normalise::{is_unspaced, is_word_char, normalise};
use crate::spellings::{NUMBER, display, english_stemmer, spellings};

/// One listed term found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFinding {
    pub category: Category,
    pub severity: Severity,
    /// The term as written in its list.
    pub term: String,
    /// The version of the list the term came from.
    pub list_version: String,
    /// Byte range of the match in the original text, on character boundaries.
    pub span: Range<usize>,
}

/// A finding in one of several fields screened together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFinding {
    /// Index of the field in the slice given to [`TextScreener::screen_fields`].
    pub field: usize,
    /// The finding, with its span in that field.
    pub finding: TextFinding,
}

/// A compiled set of term lists and an allowlist.
#[derive(Debug, Clone)]
pub struct TextScreener {
    /// The automaton for the needles in ASCII, with the needle index of every pattern, run over
    /// the runs of ASCII only, so that its byte classes and states stay few.
    latin: (AhoCorasick, Vec<usize>),
    /// The needles that are not all ASCII (Han above all), by their first character.
    others: FirstCharIndex,
    needles: Vec<Needle>,
    /// The words that cancel a match nearby, one set per context rule.
    exceptions: Vec<AhoCorasick>,
    versions: String,
}

/// How far (in bytes of normalised text, either side) a context rule looks for its words:
/// about a short sentence.
const CONTEXT_WINDOW: usize = 48;

/// How much of each field's end is screened glued to the next field's start.
const GLUE_REACH: usize = 64;

/// Separates a context rule's term from the words that cancel it, in an allowlist entry.
const CONTEXT_MARK: &str = " ~ ";

/// One normalised string in the automaton, and what a match on it means.
#[derive(Debug, Clone)]
struct Needle {
    terms: Vec<Term>,
    allow: bool,
    /// The context rule that can cancel a match, as an index into `exceptions`.
    exception: Option<usize>,
    /// Whether this is the pinyin of a Han term.
    romanised: bool,
    bounded_start: bool,
    bounded_end: bool,
}

#[derive(Debug, Clone)]
struct Term {
    category: Category,
    severity: Severity,
    term: String,
    list_version: String,
}

/// A match that survived the boundary check, before allowlist and containment filtering.
#[derive(Debug, Clone)]
struct Candidate<'a> {
    span: Range<usize>,
    term: &'a Term,
}

impl TextScreener {
    /// Compiles term lists and an allowlist.
    ///
    /// Terms are normalised first; two spellings that normalise alike are one term. A term
    /// listed with both severities in one category keeps the stronger. Allowlist words that
    /// normalise to nothing are ignored, since they could never cancel anything.
    ///
    /// # Errors
    ///
    /// A term that normalises to nothing (it would match everywhere), a block term of a single
    /// character (see [`ListError::SingleCharacterBlock`]), or lists too large for the matcher.
    pub fn new(lists: &[TermList], allowlist: &Allowlist) -> Result<Self, ListError> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut needles: Vec<Needle> = Vec::new();
        let mut needle_for = |normalised: String, needles: &mut Vec<Needle>| -> usize {
            *index.entry(normalised).or_insert_with_key(|n| {
                needles.push(Needle {
                    terms: Vec::new(),
                    allow: false,
                    exception: None,
                    romanised: false,
                    bounded_start: n.chars().next().is_some_and(is_word_char),
                    bounded_end: n.chars().next_back().is_some_and(is_word_char),
                });
                needles.len() - 1
            })
        };
        let mut strings: Vec<String> = Vec::new();
        let stemmer = english_stemmer();
        for list in lists {
            for term in &list.terms {
                let forms = spellings(term, &stemmer);
                let Some(own) = forms.first() else {
                    return Err(ListError::EmptyTerm {
                        category: list.category,
                        version: list.version.clone(),
                        term: term.clone(),
                    });
                };
                if list.severity == Severity::Block && own.chars().count() == 1 {
                    return Err(ListError::SingleCharacterBlock {
                        category: list.category,
                        version: list.version.clone(),
                        term: term.clone(),
                    });
                }
                let amount = term.ends_with(NUMBER);
                let han = own.chars().all(is_unspaced);
                for form in forms {
                    let romanised = han && form.is_ascii();
                    let id = needle_for(form.clone(), &mut needles);
                    if id == strings.len() {
                        strings.push(form);
                    }
                    // The number goes on past the needle's first digit.
                    needles[id].bounded_end &= !amount;
                    needles[id].romanised |= romanised;
                    let terms = &mut needles[id].terms;
                    match terms.iter_mut().find(|t| t.category == list.category) {
                        Some(existing) if existing.severity >= list.severity => {}
                        Some(existing) => {
                            existing.severity = list.severity;
                            existing.term = display(term);
                            existing.list_version.clone_from(&list.version);
                        }
                        None => terms.push(Term {
                            category: list.category,
                            severity: list.severity,
                            term: display(term),
                            list_version: list.version.clone(),
                        }),
                    }
                }
            }
        }
        let mut exceptions = Vec::new();
        for entry in &allowlist.terms {
            let (word, near) = match entry.split_once(CONTEXT_MARK) {
                Some((word, near)) => (word, Some(near)),
                None => (entry.as_str(), None),
            };
            let exception = match near {
                Some(near) => {
                    let near: Vec<String> = near
                        .split_whitespace()
                        .map(|w| normalise(w).as_str().to_owned())
                        .filter(|w| !w.is_empty())
                        .collect();
                    if near.is_empty() {
                        continue;
                    }
                    let near = AhoCorasick::builder()
                        .match_kind(MatchKind::Standard)
                        .build(&near)
                        .map_err(|e| ListError::TooLarge(e.to_string()))?;
                    exceptions.push(near);
                    Some(exceptions.len() - 1)
                }
                None => None,
            };
            for form in spellings(word, &stemmer) {
                let id = needle_for(form.clone(), &mut needles);
                if id == strings.len() {
                    strings.push(form);
                }
                match exception {
                    Some(e) => needles[id].exception = Some(e),
                    None => needles[id].allow = true,
                }
            }
        }
        // Overlapping search (which needs standard match semantics) is what lets a short term
        // and the allowlist word or longer term around it both be seen and weighed.
        let ids: Vec<usize> = (0..strings.len()).filter(|&i| strings[i].is_ascii()).collect();
        let latin = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(ids.iter().map(|&i| &strings[i]))
            .map_err(|e| ListError::TooLarge(e.to_string()))?;
        let others = FirstCharIndex::new(
            strings
                .into_iter()
                .enumerate()
                .filter(|(_, s)| !s.is_ascii())
                .map(|(i, s)| (s.into_boxed_str(), i))
                .collect(),
        );
        Ok(TextScreener {
            latin: (latin, ids),
            others,
            needles,
            exceptions,
            versions: describe_versions(lists, allowlist),
        })
    }

    /// A screener over the bundled starter lists and allowlist.
    pub fn starter() -> Self {
        TextScreener::new(&starter_lists(), &starter_allowlist()).expect("the bundled starter lists compile")
    }

    /// Which lists this screener was built from, as one line to store with each screening:
    /// `category/severity@version` for every list, then `allow@version`.
    pub fn list_versions(&self) -> &str {
        &self.versions
    }

    /// Finds every listed term in `text`, ordered by position.
    pub fn screen(&self, text: &str) -> Vec<TextFinding> {
        let normalised = normalise(text);
        let haystack = normalised.as_str();
        let mut allowed: Vec<Range<usize>> = Vec::new();
        let mut candidates: Vec<Candidate<'_>> = Vec::new();
        let (latin, latin_ids) = &self.latin;
        // An ASCII needle lies within a run of ASCII, so only those runs need its automaton.
        let mut matches: Vec<(usize, Range<usize>)> = ascii_runs(haystack)
            .flat_map(|(at, run)| {
                latin
                    .find_overlapping_iter(run)
                    .map(move |m| (latin_ids[m.pattern().as_usize()], at + m.start()..at + m.end()))
            })
            .collect();
        self.others.find_all(haystack, |id, range| matches.push((id, range)));
        for (id, range) in matches {
            let needle = &self.needles[id];
            if (needle.bounded_start && haystack[..range.start].chars().next_back().is_some_and(is_word_char))
                || (needle.bounded_end && haystack[range.end..].chars().next().is_some_and(is_word_char))
            {
                continue;
            }
            if needle.allow {
                allowed.push(range.clone());
            }
            if let Some(e) = needle.exception
                && self.mentions(e, around(haystack, range.clone()))
            {
                continue;
            }
            // A capitalised word in pinyin is far more often a place or a name (`Duchang`, the
            // county) than a disguised word, so it only counts where the term blocks outright.
            let proper_noun = needle.romanised && is_proper_noun(&text[normalised.original_range(range.clone())]);
            candidates.extend(
                needle
                    .terms
                    .iter()
                    .filter(|term| !proper_noun || term.severity == Severity::Block)
                    .map(|term| Candidate {
                        span: range.clone(),
                        term,
                    }),
            );
        }
        candidates.sort_by(|a, b| a.span.start.cmp(&b.span.start).then(b.span.end.cmp(&a.span.end)));
        allowed.sort_by_key(|r| r.start);

        let mut findings = Vec::new();
        let mut allow_at = 0;
        let mut allow_end = 0;
        let mut any = Cover::default();
        let mut block = Cover::default();
        for candidate in candidates {
            while allow_at < allowed.len() && allowed[allow_at].start <= candidate.span.start {
                allow_end = allow_end.max(allowed[allow_at].end);
                allow_at += 1;
            }
            if allow_end >= candidate.span.end {
                continue;
            }
            let severity = candidate.term.severity;
            let cover = if severity == Severity::Block { &block } else { &any };
            let covered = cover.strictly_covers(&candidate.span);
            any.add(&candidate.span);
            if severity == Severity::Block {
                block.add(&candidate.span);
            }
            if covered {
                continue;
            }
            findings.push(TextFinding {
                category: candidate.term.category,
                severity,
                term: candidate.term.term.clone(),
                list_version: candidate.term.list_version.clone(),
                span: normalised.original_range(candidate.span),
            });
        }
        findings
    }
}

impl TextScreener {
    /// Screens the fields of one submission (a title and a description) as one text, so that a
    /// term split across the end of one field and the start of the next is found too. A finding
    /// that crosses fields is reported once for each field it touches, with the part of its span
    /// that lies in that field.
    pub fn screen_fields(&self, fields: &[&str]) -> Vec<FieldFinding> {
        let mut joined = String::new();
        let mut starts = Vec::with_capacity(fields.len());
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                joined.push('\n');
            }
            starts.push(joined.len());
            joined.push_str(field);
        }
        let mut found = Vec::new();
        for finding in self.screen(&joined) {
            for (field, (text, &offset)) in fields.iter().zip(&starts).enumerate() {
                let start = finding.span.start.max(offset);
                let end = finding.span.end.min(offset + text.len());
                if start < end {
                    found.push(FieldFinding {
                        field,
                        finding: TextFinding {
                            span: start - offset..end - offset,
                            ..finding.clone()
                        },
                    });
                }
            }
        }
        // A Latin word cut in two (`cas` | `ino`): the line break between the fields reads as a
        // space, so the two ends are also screened glued together.
        for (field, pair) in fields.windows(2).enumerate() {
            let (before, after) = (pair[0], pair[1]);
            if !before.ends_with(|c: char| c.is_ascii_alphanumeric())
                || !after.starts_with(|c: char| c.is_ascii_alphanumeric())
            {
                continue;
            }
            let mut tail = before.len().saturating_sub(GLUE_REACH);
            while !before.is_char_boundary(tail) {
                tail += 1;
            }
            let mut head = GLUE_REACH.min(after.len());
            while !after.is_char_boundary(head) {
                head -= 1;
            }
            let glue = before.len() - tail;
            let glued = format!("{}{}", &before[tail..], &after[..head]);
            for finding in self.screen(&glued) {
                if finding.span.start >= glue || finding.span.end <= glue {
                    continue;
                }
                for (at, span) in [
                    (field, tail + finding.span.start..before.len()),
                    (field + 1, 0..finding.span.end - glue),
                ] {
                    let part = FieldFinding {
                        field: at,
                        finding: TextFinding {
                            span,
                            ..finding.clone()
                        },
                    };
                    if !found.contains(&part) {
                        found.push(part);
                    }
                }
            }
        }
        found
    }
}

impl TextScreener {
    /// Whether a word of context rule `rule` stands in `window`, on word boundaries where it
    /// begins or ends with a letter or digit of a spaced script.
    fn mentions(&self, rule: usize, window: &str) -> bool {
        self.exceptions[rule].find_overlapping_iter(window).any(|m| {
            let word = &window[m.range()];
            let open = |inner: Option<char>, outer: Option<char>| {
                !inner.is_some_and(is_word_char) || !outer.is_some_and(is_word_char)
            };
            open(word.chars().next(), window[..m.start()].chars().next_back())
                && open(word.chars().next_back(), window[m.end()..].chars().next())
        })
    }
}

/// The runs of ASCII in `text` that hold a letter or digit, with where each begins.
fn ascii_runs(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        loop {
            let start = at + bytes[at..].iter().position(u8::is_ascii)?;
            let end = start + ascii_prefix_len(&bytes[start..]);
            at = end;
            if bytes[start..end].iter().any(u8::is_ascii_alphanumeric) {
                return Some((start, &text[start..end]));
            }
        }
    })
}

/// Whether `word` is one word written like a name: a capital, then only small letters.
fn is_proper_noun(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_uppercase()) && chars.all(|c| c.is_lowercase())
}

/// The normalised text within [`CONTEXT_WINDOW`] of `span`, on character boundaries.
fn around(haystack: &str, span: Range<usize>) -> &str {
    let mut start = span.start.saturating_sub(CONTEXT_WINDOW);
    while !haystack.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (span.end + CONTEXT_WINDOW).min(haystack.len());
    while !haystack.is_char_boundary(end) {
        end += 1;
    }
    &haystack[start..end]
}

/// The furthest-reaching span among those seen so far, which all start at or before the spans
/// still to come (they are visited in order of start, longest first).
#[derive(Debug, Default)]
struct Cover {
    end: usize,
    start: usize,
}

impl Cover {
    fn add(&mut self, span: &Range<usize>) {
        if span.end > self.end {
            self.end = span.end;
            self.start = span.start;
        }
    }

    fn strictly_covers(&self, span: &Range<usize>) -> bool {
        self.end > span.end || (self.end == span.end && self.start < span.start)
    }
}

fn describe_versions(lists: &[TermList], allowlist: &Allowlist) -> String {
    let mut parts: Vec<String> = lists
        .iter()
        .map(|l| format!("{}/{}@{}", l.category, l.severity, l.version))
        .collect();
    parts.dedup();
    parts.push(format!("allow@{}", allowlist.version));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screener() -> TextScreener {
        TextScreener::starter()
    }

    fn terms(findings: &[TextFinding]) -> Vec<&str> {
        findings.iter().map(|f| f.term.as_str()).collect()
    }

    fn list(category: Category, severity: Severity, terms: &[&str]) -> TermList {
        TermList {
            category,
            severity,
            version: "test-1".into(),
            terms: terms.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn finds_spaced_and_starred_evasions_with_original_spans() {
        for text in [
            "这件藏品未来必将升 值",
            "这件藏品未来必将升*值",
            "这件藏品未来必将升\u{200D}值",
            "未来必将升。。。值",
        ] {
            let findings = screener().screen(text);
            assert_eq!(terms(&findings), ["升值"], "{text}");
            let f = &findings[0];
            assert_eq!(f.category, Category::Financialisation);
            assert_eq!(f.severity, Severity::Review);
            assert!(text[f.span.clone()].starts_with('升') && text[f.span.clone()].ends_with('值'));
        }
    }

    #[test]
    fn finds_full_width_and_mixed_case_latin() {
        let text = "Limited drop, ＧＵＡＲＡＮＴＥＥＤ ｐｒｏｆｉｔ!";
        let findings = screener().screen(text);
        assert_eq!(terms(&findings), ["guaranteed profit"]);
        assert_eq!(findings[0].severity, Severity::Block);
        assert_eq!(&text[findings[0].span.clone()], "ＧＵＡＲＡＮＴＥＥＤ ｐｒｏｆｉｔ");

        let text = "A GuArAnTeEd-PrOfIt offer";
        let findings = screener().screen(text);
        assert_eq!(terms(&findings), ["guaranteed profit"]);
        assert_eq!(&text[findings[0].span.clone()], "GuArAnTeEd-PrOfIt");
    }

    #[test]
    fn finds_spelled_out_latin_terms() {
        let text = "we have d.r.u.g.s for sale";
        let findings = screener().screen(text);
        assert_eq!(terms(&findings), ["drugs for sale"]);
        assert_eq!(&text[findings[0].span.clone()], "d.r.u.g.s for sale");
    }

    #[test]
    fn gambling_with_inserted_symbol() {
        let findings = screener().screen("欢迎来玩赌*博游戏");
        assert_eq!(terms(&findings), ["赌博"]);
        assert_eq!(findings[0].category, Category::Gambling);
    }

    #[test]
    fn latin_terms_need_word_boundaries() {
        assert!(screener().screen("the alphabet of profitability").is_empty());
        assert_eq!(terms(&screener().screen("pure profit!")), ["profit"]);
    }

    #[test]
    fn separators_do_not_join_ordinary_words() {
        // `in` + `vestment` would read as `investment`, and `re-sell` as `resell`, if separators
        // between words vanished.
        assert!(screener().screen("all in, vestment of the robe").is_empty());
        assert!(screener().screen("Sold out? Re-sell? No: pre-order again.").is_empty());
        assert_eq!(terms(&screener().screen("r.e.s.e.l.l now")), ["resell"]);
    }

    #[test]
    fn allowlist_cancels_contained_matches_only() {
        assert!(screener().screen("非遗大师现场炒菜，炒饭香气扑鼻").is_empty());
        let findings = screener().screen("先炒菜，再炒币");
        assert_eq!(terms(&findings), ["炒"]);
        assert_eq!(findings[0].span, "先炒菜，再".len().."先炒菜，再炒".len());
    }

    #[test]
    fn longer_match_hides_contained_match_of_no_higher_severity() {
        let lists = [
            list(
                Category::Financialisation,
                Severity::Review,
                &["保值", "保值增值", "增值"],
            ),
            list(Category::Gambling, Severity::Block, &["赌场"]),
            list(Category::Gambling, Severity::Review, &["网络赌场攻略"]),
        ];
        let s = TextScreener::new(&lists, &Allowlist::default()).unwrap();
        assert_eq!(terms(&s.screen("保值增值")), ["保值增值"]);
        assert_eq!(terms(&s.screen("网络赌场攻略")), ["网络赌场攻略", "赌场"]);
    }

    #[test]
    fn same_term_in_two_lists_keeps_the_stronger_severity() {
        let lists = [
            list(Category::Fraud, Severity::Review, &["内部渠道"]),
            list(Category::Fraud, Severity::Block, &["内部 渠道"]),
            list(Category::Financialisation, Severity::Review, &["内部渠道"]),
        ];
        let s = TextScreener::new(&lists, &Allowlist::default()).unwrap();
        let findings = s.screen("内部渠道");
        assert_eq!(findings.len(), 2);
        assert_eq!(
            findings
                .iter()
                .find(|f| f.category == Category::Fraud)
                .unwrap()
                .severity,
            Severity::Block
        );
    }

    #[test]
    fn refuses_empty_and_single_character_block_terms() {
        let err = TextScreener::new(
            &[list(Category::Fraud, Severity::Review, &["***"])],
            &Allowlist::default(),
        );
        assert!(matches!(err, Err(ListError::EmptyTerm { .. })));
        let err = TextScreener::new(
            &[list(Category::Illegal, Severity::Block, &["的"])],
            &Allowlist::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("one-character term \"的\""), "{err}");
        assert!(
            TextScreener::new(
                &[list(Category::Illegal, Severity::Review, &["的"])],
                &Allowlist::default()
            )
            .is_ok()
        );
    }

    #[test]
    fn records_list_versions() {
        let s = TextScreener::new(
            &[list(Category::Fraud, Severity::Review, &["内部渠道"])],
            &Allowlist {
                version: "a-3".into(),
                terms: vec![],
            },
        )
        .unwrap();
        assert_eq!(s.list_versions(), "fraud/review@test-1 allow@a-3");
        assert_eq!(s.screen("内部渠道")[0].list_version, "test-1");
    }

    #[test]
    fn clean_text_has_no_findings() {
        let text = "这套数字藏品记录了景德镇青花瓷的烧制工艺，凭实物购买凭证免费领取。";
        assert!(screener().screen(text).is_empty());
        assert!(screener().screen("").is_empty());
    }

    #[test]
    fn terms_split_across_fields_are_found_in_both() {
        let (title, description) = ("限量典藏，未来稳", "赚不赔的好机会");
        let found = screener().screen_fields(&[title, description]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].field, &title[found[0].finding.span.clone()]), (0, "稳"));
        assert_eq!(
            (found[1].field, &description[found[1].finding.span.clone()]),
            (1, "赚不赔")
        );
        assert_eq!(found[0].finding.severity, Severity::Block);
        let found = screener().screen_fields(&["纪念徽章", "升值空间大"]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, 1);
        assert_eq!(found[0].finding.span, 0.."升值".len());
    }

    #[test]
    fn evasions_by_script_spelling_and_inflection_are_found() {
        for (text, term, severity) in [
            ("穩賺不賠，限時領取", "稳赚不赔", Severity::Block),
            ("網絡賭博", "网络赌博", Severity::Block),
            ("転売はご遠慮ください", "转卖", Severity::Review),
            ("visit our c\u{0430}sino", "casino", Severity::Review),
            ("guar4nteed pr0fit", "guaranteed profit", Severity::Block),
            ("Wěn zhuàn bù péi", "稳赚不赔", Severity::Block),
            ("wenzhuanbupei", "稳赚不赔", Severity::Block),
            ("we keep reselling them", "resell", Severity::Review),
            ("售价：99元", "售价N", Severity::Review),
        ] {
            let findings = screener().screen(text);
            assert!(
                findings.iter().any(|f| f.term == term && f.severity == severity),
                "{text}: {findings:?}"
            );
        }
    }

    #[test]
    fn context_rules_spare_innocent_uses() {
        assert!(screener().screen("义卖收益将全部捐赠给山区学校").is_empty());
        assert_eq!(terms(&screener().screen("收益可观")), ["收益"]);
        assert!(screener().screen("开通增值服务，支持开具增值税发票").is_empty());
        assert!(screener().screen("An evening of art appreciation").is_empty());
        assert!(screener().screen("Our investment in education continues").is_empty());
        assert_eq!(terms(&screener().screen("a sound investment")), ["investment"]);
    }

    #[test]
    fn terms_mixing_scripts_are_found_anywhere() {
        let lists = [list(
            Category::Financialisation,
            Severity::Review,
            &["a股市场", "炒nft", "x1y2z3秒杀"],
        )];
        let s = TextScreener::new(&lists, &Allowlist::default()).unwrap();
        let padding = "plain words ".repeat(20);
        for text in [
            "a股市场".to_owned(),
            format!("{padding}a股市场{padding}"),
            format!("今天{padding}炒nft"),
            format!("{padding}炒 NFT，{padding}"),
            format!("买x1y2z3秒杀{padding}"),
        ] {
            assert_eq!(s.screen(&text).len(), 1, "{text}");
        }
    }

    #[test]
    fn every_category_is_detected() {
        let cases = [
            ("出售枪支", Category::Illegal),
            ("色情视频", Category::Pornographic),
            ("百家乐", Category::Gambling),
            ("刷单返利", Category::Fraud),
            ("二级市场", Category::Financialisation),
        ];
        for (text, category) in cases {
            let findings = screener().screen(text);
            assert_eq!(findings.len(), 1, "{text}");
            assert_eq!(findings[0].category, category);
        }
    }
}
