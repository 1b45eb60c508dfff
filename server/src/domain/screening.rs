//! Screening a collection: the operator's policy (extra terms, image blocklist, thresholds),
//! the findings stored with a collection, and the highlighted text reviewers and issuers see.
//!
//! The rules themselves live in the `moderation` crate; this module decides what of their
//! output is kept (findings are stored as JSON with the collection, so a decision can always be
//! explained with the lists that were in force) and how the operator's lists combine with the
//! bundled starter lists: both always apply, and the operator's allowlist extends the starter one.

use moderation::lists::{starter_allowlist, starter_lists};
use moderation::phash::{DEFAULT_MAX_DISTANCE, matches_within};
use moderation::{Allowlist, Assessment, Category, ListError, PerceptualHash, Severity, TermList, TextScreener};
use serde::{Deserialize, Serialize};

use super::ids::CollectionId;

/// Most terms one admin form may add at once.
pub const MAX_TERMS_PER_CHANGE: usize = 1_000;
/// Longest term, in characters.
pub const MAX_TERM_CHARS: usize = 100;

/// Which list an operator's term belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermKind {
    /// Matches go to the category's list with this severity.
    Listed(Severity),
    /// A longer word that cancels matches inside it (`炒菜` for `炒`).
    Allow,
}

impl TermKind {
    pub const ALL: [TermKind; 3] = [
        TermKind::Listed(Severity::Review),
        TermKind::Listed(Severity::Block),
        TermKind::Allow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TermKind::Listed(severity) => severity.as_str(),
            TermKind::Allow => "allow",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "block" => Some(TermKind::Listed(Severity::Block)),
            "review" => Some(TermKind::Listed(Severity::Review)),
            "allow" => Some(TermKind::Allow),
            _ => None,
        }
    }
}

/// A category by its stored name.
pub fn parse_category(text: &str) -> Option<Category> {
    Category::ALL.into_iter().find(|c| c.as_str() == text)
}

/// One term of the operator's lists, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyTerm {
    pub id: i64,
    pub category: Category,
    pub kind: TermKind,
    pub term: String,
}

/// Why an admin's term change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("enter between 1 and {MAX_TERMS_PER_CHANGE} terms, one per line, each at most {MAX_TERM_CHARS} characters")]
    Terms,
    #[error("the four-eyes score is a whole number from 1 to 100")]
    FourEyesScore,
    #[error("the image distance is a whole number from 0 to 32 bits")]
    MaxDistance,
    #[error(transparent)]
    List(#[from] ListError),
}

/// Splits the admin's text area into terms: one per line, trimmed, blank lines and repeats dropped.
pub fn parse_terms(text: &str) -> Result<Vec<String>, PolicyError> {
    let mut terms: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.chars().count() > MAX_TERM_CHARS || line.chars().any(char::is_control) {
            return Err(PolicyError::Terms);
        }
        if !terms.iter().any(|t| t == line) {
            terms.push(line.to_owned());
        }
    }
    if terms.is_empty() || terms.len() > MAX_TERMS_PER_CHANGE {
        return Err(PolicyError::Terms);
    }
    Ok(terms)
}

/// Compiles the starter lists plus the operator's terms. The operator's lists are versioned by
/// their newest row and size, so findings record which edition of the lists produced them.
pub fn build_screener(terms: &[PolicyTerm]) -> Result<TextScreener, ListError> {
    let version = format!("db-{}-{}", terms.iter().map(|t| t.id).max().unwrap_or(0), terms.len());
    let mut lists = starter_lists();
    for category in Category::ALL {
        for severity in [Severity::Block, Severity::Review] {
            let listed: Vec<String> = terms
                .iter()
                .filter(|t| t.category == category && t.kind == TermKind::Listed(severity))
                .map(|t| t.term.clone())
                .collect();
            if !listed.is_empty() {
                lists.push(TermList {
                    category,
                    severity,
                    version: version.clone(),
                    terms: listed,
                });
            }
        }
    }
    let starter = starter_allowlist();
    let allowlist = Allowlist {
        version: format!("{}+{version}", starter.version),
        terms: starter
            .terms
            .into_iter()
            .chain(
                terms
                    .iter()
                    .filter(|t| t.kind == TermKind::Allow)
                    .map(|t| t.term.clone()),
            )
            .collect(),
    };
    TextScreener::new(&lists, &allowlist)
}

/// The thresholds an admin sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPolicy {
    /// Cases scoring at least this need two different reviewers' approval.
    pub four_eyes_score: u8,
    /// Largest Hamming distance (of 64 bits) at which two artworks count as the same image.
    pub max_distance: u32,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            four_eyes_score: 60,
            max_distance: DEFAULT_MAX_DISTANCE,
        }
    }
}

impl ReviewPolicy {
    pub fn parse(four_eyes_score: &str, max_distance: &str) -> Result<Self, PolicyError> {
        let four_eyes_score = four_eyes_score
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|s| (1..=100).contains(s))
            .ok_or(PolicyError::FourEyesScore)?;
        let max_distance = max_distance
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|d| *d <= 32)
            .ok_or(PolicyError::MaxDistance)?;
        Ok(ReviewPolicy {
            four_eyes_score,
            max_distance,
        })
    }

    pub fn needs_four_eyes(&self, risk_score: u8) -> bool {
        risk_score >= self.four_eyes_score
    }
}

/// Which text of a collection a finding is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextField {
    Title,
    Description,
}

/// One stored finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A listed term; `start..end` is the byte range in the text as the issuer wrote it.
    Text {
        field: TextField,
        category: String,
        severity: String,
        term: String,
        list_version: String,
        start: usize,
        end: usize,
    },
    /// The artwork is (nearly) an image on the operator's blocklist.
    Blocklisted { entry: i64, label: String, distance: u32 },
    /// The artwork resembles one another issuer submitted: possible copyright infringement.
    Similar { collection: i64, distance: u32 },
}

impl Finding {
    /// The category a reviewer filters by; image findings have their own.
    pub fn category(&self) -> &str {
        match self {
            Finding::Text { category, .. } => category,
            Finding::Blocklisted { .. } => BLOCKLISTED_IMAGE,
            Finding::Similar { .. } => SIMILAR_IMAGE,
        }
    }
}

/// The category of a finding that the artwork is a blocklisted image.
const BLOCKLISTED_IMAGE: &str = "blocklisted_image";
/// The category of a finding that the artwork resembles another issuer's.
const SIMILAR_IMAGE: &str = "similar_image";

/// Every category a finding can have, in the order reviewers filter the queue by: the term
/// lists' categories (financialisation, the regulator's own concern for 数字藏品, first), then
/// the image findings.
pub fn finding_categories() -> Vec<&'static str> {
    let text = std::iter::once(moderation::Category::Financialisation).chain(
        moderation::Category::ALL
            .into_iter()
            .filter(|c| *c != moderation::Category::Financialisation),
    );
    text.map(moderation::Category::as_str)
        .chain([SIMILAR_IMAGE, BLOCKLISTED_IMAGE])
        .collect()
}

/// What screening produced for one submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screened {
    pub findings: Vec<Finding>,
    pub assessment: Assessment,
    pub list_versions: String,
}

/// An entry of the image blocklist, as screening sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockedImage {
    pub entry: i64,
    pub label: String,
    pub hash: PerceptualHash,
}

/// Screens a collection's title, description and artwork hash against the lists, the image
/// blocklist and the artworks of other issuers.
pub fn screen(
    screener: &TextScreener,
    title: &str,
    description: &str,
    artwork: PerceptualHash,
    blocklist: &[BlockedImage],
    others: &[(CollectionId, PerceptualHash)],
    policy: &ReviewPolicy,
) -> Screened {
    let mut text_findings = Vec::new();
    let mut findings = Vec::new();
    // Screened as one text, so that a term split across the two fields is found as well.
    for found in screener.screen_fields(&[title, description]) {
        let field = if found.field == 0 {
            TextField::Title
        } else {
            TextField::Description
        };
        let found = found.finding;
        findings.push(Finding::Text {
            field,
            category: found.category.as_str().to_owned(),
            severity: found.severity.as_str().to_owned(),
            term: found.term.clone(),
            list_version: found.list_version.clone(),
            start: found.span.start,
            end: found.span.end,
        });
        text_findings.push(found);
    }
    let blocklist_hashes: Vec<(usize, PerceptualHash)> =
        blocklist.iter().enumerate().map(|(i, b)| (i, b.hash)).collect();
    let blocked = matches_within(artwork, &blocklist_hashes, policy.max_distance);
    findings.extend(blocked.iter().map(|m| Finding::Blocklisted {
        entry: blocklist[m.id].entry,
        label: blocklist[m.id].label.clone(),
        distance: m.distance,
    }));
    let similar = matches_within(artwork, others, policy.max_distance);
    findings.extend(similar.iter().map(|m| Finding::Similar {
        collection: m.id.0,
        distance: m.distance,
    }));
    Screened {
        assessment: moderation::risk::assess(&text_findings, &blocked, &similar),
        findings,
        list_versions: screener.list_versions().to_owned(),
    }
}

/// A run of text, marked if a finding covers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    /// (category, severity) of the finding.
    pub mark: Option<(String, String)>,
}

/// Cuts `text` into plain and marked runs for the findings in `field`. Overlapping findings
/// are marked once (the earliest wins); spans that do not fit the text are ignored.
pub fn highlight(text: &str, findings: &[Finding], field: TextField) -> Vec<Segment> {
    let mut spans: Vec<(usize, usize, &str, &str)> = findings
        .iter()
        .filter_map(|f| match f {
            Finding::Text {
                field: f_field,
                category,
                severity,
                start,
                end,
                ..
            } if *f_field == field && text.get(*start..*end).is_some() && start < end => {
                Some((*start, *end, category.as_str(), severity.as_str()))
            }
            _ => None,
        })
        .collect();
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let mut segments = Vec::new();
    let mut cursor = 0;
    for (start, end, category, severity) in spans {
        if start < cursor {
            continue;
        }
        if start > cursor {
            segments.push(Segment {
                text: text[cursor..start].to_owned(),
                mark: None,
            });
        }
        segments.push(Segment {
            text: text[start..end].to_owned(),
            mark: Some((category.to_owned(), severity.to_owned())),
        });
        cursor = end;
    }
    if cursor < text.len() {
        segments.push(Segment {
            text: text[cursor..].to_owned(),
            mark: None,
        });
    }
    segments
}

/// The reason a reviewer gives with a decision, chosen from a fixed list so that decisions
/// can be counted; the free-text note explains it to the issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonCode {
    Financialisation,
    Illegal,
    Pornographic,
    Gambling,
    Fraud,
    Copyright,
    Quality,
    Other,
}

impl ReasonCode {
    pub const ALL: [ReasonCode; 8] = [
        ReasonCode::Financialisation,
        ReasonCode::Copyright,
        ReasonCode::Illegal,
        ReasonCode::Pornographic,
        ReasonCode::Gambling,
        ReasonCode::Fraud,
        ReasonCode::Quality,
        ReasonCode::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::Financialisation => "financialisation",
            ReasonCode::Illegal => "illegal",
            ReasonCode::Pornographic => "pornographic",
            ReasonCode::Gambling => "gambling",
            ReasonCode::Fraud => "fraud",
            ReasonCode::Copyright => "copyright",
            ReasonCode::Quality => "quality",
            ReasonCode::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use moderation::Verdict;

    use super::*;

    fn term(id: i64, category: Category, kind: TermKind, term: &str) -> PolicyTerm {
        PolicyTerm {
            id,
            category,
            kind,
            term: term.into(),
        }
    }

    fn screen_text(screener: &TextScreener, description: &str) -> Screened {
        screen(
            screener,
            "年度照片",
            description,
            PerceptualHash(0),
            &[],
            &[],
            &ReviewPolicy::default(),
        )
    }

    #[test]
    fn operator_terms_add_to_the_starter_lists() {
        let screener = build_screener(&[
            term(3, Category::Gambling, TermKind::Listed(Severity::Block), "幸运大转盘"),
            term(4, Category::Financialisation, TermKind::Allow, "升值空间站"),
        ])
        .unwrap();
        assert!(screener.list_versions().contains("db-4-2"));
        let blocked = screen_text(&screener, "参加幸运大转盘");
        assert_eq!(blocked.assessment.verdict, Verdict::AutoReject);
        let starter = screen_text(&screener, "未来必将升值");
        assert_eq!(
            starter.assessment.verdict,
            Verdict::NeedsReview,
            "starter lists still apply"
        );
        let allowed = screen_text(&screener, "欢迎参观升值空间站");
        assert_eq!(
            allowed.assessment.verdict,
            Verdict::LowRisk,
            "the operator's allowlist applies"
        );
    }

    #[test]
    fn a_single_character_block_term_is_refused() {
        let err = build_screener(&[term(1, Category::Gambling, TermKind::Listed(Severity::Block), "赌")]).unwrap_err();
        assert!(matches!(err, ListError::SingleCharacterBlock { .. }));
    }

    #[test]
    fn findings_keep_field_and_original_span() {
        let screener = build_screener(&[]).unwrap();
        let text = "限量发行，未来必将升 值！";
        let screened = screen_text(&screener, text);
        let Some(Finding::Text {
            field,
            start,
            end,
            category,
            ..
        }) = screened.findings.first()
        else {
            panic!("no text finding: {:?}", screened.findings);
        };
        assert_eq!(*field, TextField::Description);
        assert_eq!(category, "financialisation");
        assert_eq!(&text[*start..*end], "升 值");
    }

    #[test]
    fn images_are_matched_against_blocklist_and_other_issuers() {
        let screener = build_screener(&[]).unwrap();
        let artwork = PerceptualHash(0xFFFF_0000_FFFF_0000);
        let near = PerceptualHash(0xFFFF_0000_FFFF_0003);
        let far = PerceptualHash(0x0000_FFFF_0000_FFFF);
        let others = [(CollectionId(8), near), (CollectionId(9), far)];
        let policy = ReviewPolicy::default();
        let similar = screen(&screener, "t", "", artwork, &[], &others, &policy);
        assert_eq!(
            similar.findings,
            vec![Finding::Similar {
                collection: 8,
                distance: 2
            }]
        );
        assert_eq!(similar.assessment.verdict, Verdict::NeedsReview);
        let blocklist = [BlockedImage {
            entry: 5,
            label: "known logo".into(),
            hash: near,
        }];
        let blocked = screen(&screener, "t", "", artwork, &blocklist, &[], &policy);
        assert_eq!(blocked.assessment.verdict, Verdict::AutoReject);
        assert_eq!(blocked.findings[0].category(), "blocklisted_image");
        let strict = ReviewPolicy {
            max_distance: 1,
            ..policy
        };
        assert!(
            screen(&screener, "t", "", artwork, &blocklist, &others, &strict)
                .findings
                .is_empty()
        );
    }

    #[test]
    fn highlighting_marks_each_span_once() {
        let text = "升值升值 and more";
        let finding = |start, end| Finding::Text {
            field: TextField::Description,
            category: "financialisation".into(),
            severity: "review".into(),
            term: "升值".into(),
            list_version: "v".into(),
            start,
            end,
        };
        let findings = [finding(6, 12), finding(0, 6), finding(0, 12), finding(3, 99)];
        let segments = highlight(text, &findings, TextField::Description);
        let rendered: Vec<(String, bool)> = segments.iter().map(|s| (s.text.clone(), s.mark.is_some())).collect();
        assert_eq!(
            rendered,
            vec![("升值升值".to_owned(), true), (" and more".to_owned(), false)]
        );
        assert_eq!(
            highlight(text, &findings, TextField::Title),
            vec![Segment {
                text: text.into(),
                mark: None
            }]
        );
        assert!(highlight("", &findings, TextField::Description).is_empty());
    }

    #[test]
    fn policy_bounds() {
        assert_eq!(
            ReviewPolicy::parse("60", "10").unwrap(),
            ReviewPolicy {
                four_eyes_score: 60,
                max_distance: 10
            }
        );
        assert_eq!(ReviewPolicy::parse("0", "10"), Err(PolicyError::FourEyesScore));
        assert_eq!(ReviewPolicy::parse("101", "10"), Err(PolicyError::FourEyesScore));
        assert_eq!(ReviewPolicy::parse("50", "33"), Err(PolicyError::MaxDistance));
        let policy = ReviewPolicy::default();
        assert!(policy.needs_four_eyes(60) && !policy.needs_four_eyes(59));
    }

    #[test]
    fn terms_from_a_text_area() {
        assert_eq!(
            parse_terms(" 幸运大转盘 \n\n稳赚\n幸运大转盘\r\n").unwrap(),
            vec!["幸运大转盘".to_owned(), "稳赚".to_owned()]
        );
        assert_eq!(parse_terms("  \n "), Err(PolicyError::Terms));
        assert_eq!(parse_terms(&"长".repeat(MAX_TERM_CHARS + 1)), Err(PolicyError::Terms));
        assert!(TermKind::parse("allow").is_some() && TermKind::parse("ban").is_none());
        assert_eq!(parse_category("fraud"), Some(Category::Fraud));
    }
}
