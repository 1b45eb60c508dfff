//! Text screening: every term list matched in one pass over the normalised text.
//!
//! Terms and texts go through the same [`normalise`](crate::normalise::normalise), and one
//! Aho–Corasick automaton holds the terms of every list plus the allowlist, so the cost of a
//! screening is one scan however many lists there are. Matches are then filtered:
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

use crate::lists::{Allowlist, Category, ListError, Severity, TermList, starter_allowlist, starter_lists};
use crate::normalise::{is_word_char, normalise};

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

/// A compiled set of term lists and an allowlist.
#[derive(Debug, Clone)]
pub struct TextScreener {
    matcher: AhoCorasick,
    needles: Vec<Needle>,
    versions: String,
}

/// One normalised string in the automaton, and what a match on it means.
#[derive(Debug, Clone)]
struct Needle {
    terms: Vec<Term>,
    allow: bool,
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
                    bounded_start: n.chars().next().is_some_and(is_word_char),
                    bounded_end: n.chars().next_back().is_some_and(is_word_char),
                });
                needles.len() - 1
            })
        };
        let mut strings: Vec<String> = Vec::new();
        for list in lists {
            for term in &list.terms {
                let normalised = normalise(term).as_str().to_owned();
                if normalised.is_empty() {
                    return Err(ListError::EmptyTerm {
                        category: list.category,
                        version: list.version.clone(),
                        term: term.clone(),
                    });
                }
                if list.severity == Severity::Block && normalised.chars().count() == 1 {
                    return Err(ListError::SingleCharacterBlock {
                        category: list.category,
                        version: list.version.clone(),
                        term: term.clone(),
                    });
                }
                let id = needle_for(normalised.clone(), &mut needles);
                if id == strings.len() {
                    strings.push(normalised);
                }
                let terms = &mut needles[id].terms;
                match terms.iter_mut().find(|t| t.category == list.category) {
                    Some(existing) if existing.severity >= list.severity => {}
                    Some(existing) => {
                        existing.severity = list.severity;
                        existing.term.clone_from(term);
                        existing.list_version.clone_from(&list.version);
                    }
                    None => terms.push(Term {
                        category: list.category,
                        severity: list.severity,
                        term: term.clone(),
                        list_version: list.version.clone(),
                    }),
                }
            }
        }
        for word in &allowlist.terms {
            let normalised = normalise(word).as_str().to_owned();
            if normalised.is_empty() {
                continue;
            }
            let id = needle_for(normalised.clone(), &mut needles);
            if id == strings.len() {
                strings.push(normalised);
            }
            needles[id].allow = true;
        }
        // Overlapping search (which needs standard match semantics) is what lets a short term
        // and the allowlist word or longer term around it both be seen and weighed.
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&strings)
            .map_err(|e| ListError::TooLarge(e.to_string()))?;
        Ok(TextScreener {
            matcher,
            needles,
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
        for m in self.matcher.find_overlapping_iter(haystack) {
            let needle = &self.needles[m.pattern().as_usize()];
            if (needle.bounded_start && haystack[..m.start()].chars().next_back().is_some_and(is_word_char))
                || (needle.bounded_end && haystack[m.end()..].chars().next().is_some_and(is_word_char))
            {
                continue;
            }
            if needle.allow {
                allowed.push(m.range());
            }
            candidates.extend(needle.terms.iter().map(|term| Candidate { span: m.range(), term }));
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
