//! View models more than one audience's pages show: a collection's facts and its screening
//! (issuers' console, the public page, the reviewers' case), an issuer's documents (console and
//! review), collection cards (home, explore, issuer pages), an image's problem (artwork and the
//! blocklist), and how long a case has waited and who holds it.

use chrono::{DateTime, Utc};
use moderation::image::ImageError;

use super::context::RequestContext;
use crate::crypto;
use crate::domain::claim_stats::cumulative;
use crate::domain::collection::Collection;
use crate::domain::ids::UserId;
use crate::domain::issuer::IssuerDocument;
use crate::domain::screening::{Finding, Segment, TextField, highlight};
use crate::services::collections::Listed;
use crate::services::collections::claims::ClaimsOverTime;

/// Facts every collection page shows.
pub struct CollectionFacts {
    pub id: i64,
    pub status: &'static str,
    pub reason: Option<String>,
    pub reason_code: Option<String>,
    pub title: String,
    pub description: String,
    pub edition_size: u32,
    pub per_person_limit: u32,
    pub claimed: u64,
    pub remaining: u64,
    pub starts: String,
    pub ends: String,
    pub claim_mode: &'static str,
    /// The youngest age that may claim: the platform's minimum, or the collection's if higher.
    pub minimum_age: String,
    /// The issuer declared the artwork AI-generated; a reviewer flagged it so; either, so
    /// that it carries the AI label.
    pub ai_declared: bool,
    pub ai_flagged: bool,
    pub ai_generated: bool,
    pub risk_score: u8,
    pub content_hash: String,
    pub perceptual_hash: String,
    /// `PNG`, `JPEG`, `WEBP` or `GIF`.
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub kilobytes: u64,
    pub version: i32,
}

impl CollectionFacts {
    /// Where the AI label comes from: `declared`, `flagged` or `no`.
    pub fn ai_source(&self) -> &'static str {
        match (self.ai_declared, self.ai_flagged) {
            (true, _) => "declared",
            (false, true) => "flagged",
            (false, false) => "no",
        }
    }

    /// What the pages say about the AI label, as a message key.
    pub fn ai_message(&self) -> &'static str {
        match self.ai_source() {
            "declared" => "ai.declared",
            "flagged" => "ai.flagged",
            _ => "ai.not_declared",
        }
    }

    pub fn of(collection: &Collection, ctx: &RequestContext) -> Self {
        let terms = &collection.terms;
        let artwork = &collection.artwork;
        CollectionFacts {
            id: collection.id.0,
            status: collection.status.as_str(),
            reason: collection.status.reason().map(str::to_owned),
            reason_code: collection.reason_code.clone(),
            title: terms.title.clone(),
            description: terms.description.clone(),
            edition_size: terms.edition_size,
            per_person_limit: terms.per_person_limit,
            claimed: collection.claimed_count,
            remaining: collection.remaining(),
            starts: ctx.time(terms.claim_starts_at),
            ends: ctx.time(terms.claim_ends_at),
            claim_mode: terms.claim_mode.as_str(),
            minimum_age: ctx.minimum_age.with(terms.minimum_age).to_string(),
            ai_declared: terms.ai_declared,
            ai_flagged: collection.ai_flagged,
            ai_generated: collection.ai_generated(),
            risk_score: collection.risk_score,
            content_hash: crypto::hex(&artwork.content_hash),
            perceptual_hash: artwork.perceptual_hash.to_string(),
            format: artwork.media_type.trim_start_matches("image/").to_uppercase(),
            width: artwork.width,
            height: artwork.height,
            kilobytes: artwork.bytes.div_ceil(1024),
            version: collection.version,
        }
    }
}

/// A listed term found in the collection's text.
pub struct TermFound {
    pub category: String,
    pub severity: String,
    pub term: String,
    pub list_version: String,
}

/// What the pages show of a collection's screening: the texts cut into highlighted runs and
/// the image findings.
pub struct ScreeningView {
    pub title: Vec<Segment>,
    pub description: Vec<Segment>,
    pub text_findings: Vec<TermFound>,
    pub blocklisted: Vec<(i64, String, u32)>,
    /// (other collection, distance)
    pub similar: Vec<(i64, u32)>,
}

impl ScreeningView {
    pub fn of(collection: &Collection) -> Self {
        let findings = &collection.findings;
        ScreeningView {
            title: highlight(&collection.terms.title, findings, TextField::Title),
            description: highlight(&collection.terms.description, findings, TextField::Description),
            text_findings: findings
                .iter()
                .filter_map(|f| match f {
                    Finding::Text {
                        category,
                        severity,
                        term,
                        list_version,
                        ..
                    } => Some(TermFound {
                        category: category.clone(),
                        severity: severity.clone(),
                        term: term.clone(),
                        list_version: list_version.clone(),
                    }),
                    _ => None,
                })
                .collect(),
            blocklisted: findings
                .iter()
                .filter_map(|f| match f {
                    Finding::Blocklisted { entry, label, distance } => Some((*entry, label.clone(), *distance)),
                    _ => None,
                })
                .collect(),
            similar: findings
                .iter()
                .filter_map(|f| match f {
                    Finding::Similar { collection, distance } => Some((*collection, *distance)),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// Claims over time as an SVG polyline, for the issuer's dashboard and the regulator's page.
pub struct ClaimsChart {
    /// `x,y` pairs in a 600 × 160 view box, cumulative claims left to right.
    pub points: String,
    pub total: u64,
    pub from: String,
    pub to: String,
}

impl ClaimsChart {
    pub fn of(claims: &ClaimsOverTime, ctx: &RequestContext) -> Self {
        let totals = cumulative(&claims.per_bucket);
        let total = totals.last().copied().unwrap_or(0);
        let top = total.max(1) as f64;
        let step = 600.0 / totals.len().max(1) as f64;
        let points = std::iter::once((0.0, 160.0))
            .chain(
                totals
                    .iter()
                    .enumerate()
                    .map(|(i, n)| ((i + 1) as f64 * step, 160.0 - *n as f64 * 150.0 / top)),
            )
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ");
        ClaimsChart {
            points,
            total,
            from: ctx.time(claims.from),
            to: ctx.time(claims.to),
        }
    }
}

/// A document as the console and the reviewers see it: the newest of each kind is the one on
/// file; older ones stay listed, marked as replaced.
pub struct DocumentView {
    pub id: i64,
    pub kind: &'static str,
    /// `PDF`, `PNG` or `JPEG`.
    pub format: String,
    pub kilobytes: u64,
    pub uploaded_at: DateTime<Utc>,
    pub current: bool,
}

/// Views of `documents` (newest first, as the store lists them).
pub fn document_views(documents: Vec<IssuerDocument>) -> Vec<DocumentView> {
    let mut seen = std::collections::HashSet::new();
    documents
        .into_iter()
        .map(|d| DocumentView {
            current: seen.insert(d.kind),
            id: d.id.0,
            format: d.content_type.rsplit('/').next().unwrap_or_default().to_uppercase(),
            kilobytes: d.size.div_ceil(1024),
            uploaded_at: d.uploaded_at,
            kind: d.kind.as_str(),
        })
        .collect()
}

/// A collection as a card in a list.
pub struct CollectionCard {
    pub id: i64,
    pub title: String,
    pub issuer: String,
    /// `open`, `upcoming`, `ended`, `sold_out` or `paused`: what a visitor can do now.
    pub phase: &'static str,
    /// The line under the title: how many are left, or when claims open or ended.
    pub note: String,
    pub claim_mode: &'static str,
    /// The artwork carries the AI label.
    pub ai_generated: bool,
}

/// Cards for listed collections.
pub fn cards(ctx: &RequestContext, listed: Vec<Listed>) -> Vec<CollectionCard> {
    let now = Utc::now();
    listed
        .into_iter()
        .map(|Listed { collection, issuer }| {
            let phase = collection.phase(now).as_str();
            let terms = &collection.terms;
            let note = match phase {
                "open" => ctx.tf(
                    "explore.remaining",
                    &[
                        ("remaining", &collection.remaining().to_string()),
                        ("total", &terms.edition_size.to_string()),
                    ],
                ),
                "upcoming" => ctx.tf("claim.opens_at", &[("time", &ctx.time(terms.claim_starts_at))]),
                _ => ctx.tf("explore.claimed", &[("claimed", &collection.claimed_count.to_string())]),
            };
            CollectionCard {
                id: collection.id.0,
                issuer,
                phase,
                note,
                claim_mode: terms.claim_mode.as_str(),
                ai_generated: collection.ai_generated(),
                title: collection.terms.title,
            }
        })
        .collect()
}

/// The message key of an image's problem.
pub fn image_error_key(error: &ImageError) -> &'static str {
    match error {
        ImageError::FileTooLarge { .. } => "collection.error_artwork_large",
        ImageError::UnsupportedFormat => "collection.error_artwork_format",
        ImageError::DimensionsTooLarge { .. } | ImageError::TooManyPixels { .. } | ImageError::MemoryLimit { .. } => {
            "collection.error_artwork_dimensions"
        }
        ImageError::NoPixels { .. } | ImageError::Corrupt { .. } | ImageError::Encode(_) => {
            "collection.error_artwork_corrupt"
        }
    }
}

/// "3 h 20 min" style waiting time.
pub fn waited(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - since).num_minutes().max(0);
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

/// The message key of who holds a review case: `me`, another reviewer, or nobody.
pub fn claim_key(
    claimed_by: Option<UserId>,
    claimed_until: Option<DateTime<Utc>>,
    me: UserId,
    now: DateTime<Utc>,
) -> &'static str {
    match (claimed_by, claimed_until) {
        (Some(by), Some(until)) if until >= now && by == me => "review.claimed_by_you",
        (Some(_), Some(until)) if until >= now => "review.claimed_by_other",
        _ => "review.unclaimed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_time() {
        let now = Utc::now();
        assert_eq!(waited(now - chrono::Duration::minutes(200), now), "3 h 20 min");
        assert_eq!(waited(now + chrono::Duration::minutes(5), now), "0 h 00 min");
    }
}
