//! The verdict and risk score drawn from all findings of one submission.
//!
//! Rules, in order:
//!
//! 1. **AutoReject**, score 100: any text finding of block severity, or the artwork within the
//!    distance threshold of a hash on the operator's blocklist.
//! 2. **NeedsReview**, score 1..=99: any review-severity text finding, or the artwork resembling
//!    an artwork submitted by another issuer. The score orders the review queue; it adds, capped
//!    at 99:
//!    - for each distinct (category, term) found, the category's weight: illegal and
//!      pornographic 40, gambling and fraud 35, financialisation 30 (a term repeated ten times
//!      is one finding to the reviewer, so it counts once);
//!    - for each similar artwork, 60 minus 4 per bit of distance, at least 20 (an exact copy
//!      weighs more than a loose resemblance).
//! 3. **LowRisk**, score 0: nothing found. A human still approves the submission; low risk only
//!    means it may be approved in bulk.
//!
//! The score is a priority, not an explanation: reviewers are shown the findings themselves.

use std::collections::HashSet;

use crate::lists::{Category, Severity};
use crate::phash::HashMatch;
use crate::text::TextFinding;

/// What the screening recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    LowRisk,
    NeedsReview,
    AutoReject,
}

impl Verdict {
    /// A stable lower-case identifier for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::LowRisk => "low_risk",
            Verdict::NeedsReview => "needs_review",
            Verdict::AutoReject => "auto_reject",
        }
    }
}

/// A verdict and a score in 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    pub verdict: Verdict,
    pub score: u8,
}

/// Applies the rules in the module documentation.
///
/// `blocklisted` and `similar` are the hash matches already filtered by distance, e.g. by
/// [`matches_within`](crate::phash::matches_within).
pub fn assess<B, S>(text: &[TextFinding], blocklisted: &[HashMatch<B>], similar: &[HashMatch<S>]) -> Assessment {
    if !blocklisted.is_empty() || text.iter().any(|f| f.severity == Severity::Block) {
        return Assessment {
            verdict: Verdict::AutoReject,
            score: 100,
        };
    }
    let distinct: HashSet<(Category, &str)> = text.iter().map(|f| (f.category, f.term.as_str())).collect();
    let text_score: u32 = distinct.iter().map(|(category, _)| category_weight(*category)).sum();
    let image_score: u32 = similar
        .iter()
        .map(|m| 60u32.saturating_sub(4 * m.distance).max(20))
        .sum();
    let total = text_score + image_score;
    if total == 0 {
        return Assessment {
            verdict: Verdict::LowRisk,
            score: 0,
        };
    }
    Assessment {
        verdict: Verdict::NeedsReview,
        score: u8::try_from(total.min(99)).unwrap_or(99),
    }
}

fn category_weight(category: Category) -> u32 {
    match category {
        Category::Illegal | Category::Pornographic => 40,
        Category::Gambling | Category::Fraud => 35,
        Category::Financialisation => 30,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(category: Category, severity: Severity, term: &str) -> TextFinding {
        TextFinding {
            category,
            severity,
            term: term.into(),
            list_version: "v1".into(),
            span: 0..term.len(),
        }
    }

    const NONE: &[HashMatch<u32>] = &[];

    #[test]
    fn nothing_found_is_low_risk() {
        assert_eq!(
            assess(&[], NONE, NONE),
            Assessment {
                verdict: Verdict::LowRisk,
                score: 0
            }
        );
    }

    #[test]
    fn a_block_term_rejects() {
        let text = [
            finding(Category::Financialisation, Severity::Review, "升值"),
            finding(Category::Financialisation, Severity::Block, "稳赚不赔"),
        ];
        let a = assess(&text, NONE, NONE);
        assert_eq!((a.verdict, a.score), (Verdict::AutoReject, 100));
    }

    #[test]
    fn a_blocklisted_image_rejects() {
        let a = assess(&[], &[HashMatch { id: 7, distance: 3 }], NONE);
        assert_eq!((a.verdict, a.score), (Verdict::AutoReject, 100));
    }

    #[test]
    fn review_terms_need_review_and_repeats_count_once() {
        let once = assess(
            &[finding(Category::Financialisation, Severity::Review, "升值")],
            NONE,
            NONE,
        );
        assert_eq!((once.verdict, once.score), (Verdict::NeedsReview, 30));
        let repeated = [
            finding(Category::Financialisation, Severity::Review, "升值"),
            finding(Category::Financialisation, Severity::Review, "升值"),
        ];
        assert_eq!(assess(&repeated, NONE, NONE), once);
        let two = [
            finding(Category::Financialisation, Severity::Review, "升值"),
            finding(Category::Gambling, Severity::Review, "赌博"),
        ];
        assert_eq!(assess(&two, NONE, NONE).score, 65);
    }

    #[test]
    fn similar_artwork_needs_review_and_closer_weighs_more() {
        let exact = assess(&[], NONE, &[HashMatch { id: 1, distance: 0 }]);
        let loose = assess(&[], NONE, &[HashMatch { id: 1, distance: 10 }]);
        assert_eq!((exact.verdict, exact.score), (Verdict::NeedsReview, 60));
        assert_eq!((loose.verdict, loose.score), (Verdict::NeedsReview, 20));
    }

    #[test]
    fn review_score_is_capped_below_rejection() {
        let text: Vec<_> = ["毒品", "枪支", "假证", "色情"]
            .iter()
            .map(|t| finding(Category::Illegal, Severity::Review, t))
            .collect();
        let a = assess(&text, NONE, &[HashMatch { id: 1, distance: 0 }]);
        assert_eq!((a.verdict, a.score), (Verdict::NeedsReview, 99));
    }
}
