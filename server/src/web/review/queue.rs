//! The reviewer's queue: pending identity checks and issuer applications oldest first, the
//! collections waiting for review riskiest first, the issuers already decided; filtered by
//! kind, by whose claim, and for collections by finding category and issuer.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::claim_stats::mask_email;
use crate::domain::ids::{IssuerId, UserId};
use crate::domain::issuer::Issuer;
use crate::domain::screening::finding_categories;
use crate::services::collections::review::{self as collection_review, QueuedCase};
use crate::services::identity;
use crate::services::issuers::review as issuer_review;
use crate::state::AppState;
use crate::web::auth::Reviewer;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::render;
use crate::web::views::{claim_key, waited};

struct QueueRow {
    user: i64,
    /// The applicant's address, masked.
    applicant: String,
    masked: String,
    submitted: DateTime<Utc>,
    waited: String,
    claim: &'static str,
    own: bool,
}

struct IssuerRow {
    id: i64,
    legal_name: String,
    credit_code: String,
    status: &'static str,
    submitted: DateTime<Utc>,
    waited: String,
    claim: &'static str,
}

fn issuer_row(issuer: Issuer, me: UserId, now: DateTime<Utc>) -> IssuerRow {
    let submitted = issuer.submitted_at.unwrap_or(now);
    IssuerRow {
        id: issuer.id.0,
        legal_name: issuer.legal_name,
        credit_code: issuer.credit_code,
        status: issuer.status.as_str(),
        submitted,
        waited: waited(submitted, now),
        claim: claim_key(issuer.claimed_by, issuer.claimed_until, me, now),
    }
}

/// One collection case in the queue.
pub struct CollectionRow {
    pub id: i64,
    pub title: String,
    pub issuer: String,
    pub risk: u8,
    pub categories: Vec<String>,
    pub four_eyes: bool,
    pub first_approved: bool,
    pub submitted: DateTime<Utc>,
    pub waited: String,
    pub claim: &'static str,
}

fn collection_row(case: QueuedCase, me: UserId, now: DateTime<Utc>) -> CollectionRow {
    let QueuedCase {
        collection,
        issuer,
        categories,
        four_eyes,
    } = case;
    let submitted = collection.submitted_at.unwrap_or(collection.created_at);
    CollectionRow {
        id: collection.id.0,
        risk: collection.risk_score,
        first_approved: collection.status.first_approval().is_some(),
        waited: waited(submitted, now),
        claim: claim_key(collection.claimed_by, collection.claimed_until, me, now),
        title: collection.terms.title,
        issuer,
        categories,
        four_eyes,
        submitted,
    }
}

#[derive(Template)]
#[template(path = "review_queue.html")]
struct QueueTemplate {
    ctx: RequestContext,
    rows: Vec<QueueRow>,
    applications: Vec<IssuerRow>,
    issuers: Vec<IssuerRow>,
    collections: Vec<CollectionRow>,
    kind: String,
    claim: String,
    category: String,
    issuer: String,
    categories: Vec<&'static str>,
}

/// Queue filters: which kind of case, whose claims, and for collections a finding category
/// and an issuer.
#[derive(Deserialize, Default)]
pub struct QueueFilter {
    /// `identities`, `issuers` or `collections`; all when absent.
    #[serde(default)]
    kind: String,
    /// `mine` (claimed by me) or `unclaimed`; all when absent.
    #[serde(default)]
    claim: String,
    #[serde(default)]
    category: String,
    /// An issuer id.
    #[serde(default)]
    issuer: String,
}

impl QueueFilter {
    fn shows(&self, kind: &str, claim: &str) -> bool {
        let kind_ok = self.kind.is_empty() || self.kind == kind;
        let claim_ok = match self.claim.as_str() {
            "mine" => claim == "review.claimed_by_you",
            "unclaimed" => claim == "review.unclaimed",
            _ => true,
        };
        kind_ok && claim_ok
    }
}

pub async fn queue(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Query(filter): Query<QueueFilter>,
) -> AppResult<Html<String>> {
    let now = Utc::now();
    let me = reviewer.user.id;
    let rows = identity::queue(&state.services)
        .await?
        .into_iter()
        .map(|(record, email)| QueueRow {
            user: record.user.0,
            applicant: email.map(|e| mask_email(e.as_str())).unwrap_or_default(),
            masked: record.masked,
            submitted: record.submitted_at,
            waited: waited(record.submitted_at, now),
            claim: claim_key(record.claimed_by, record.claimed_until, me, now),
            own: record.user == me,
        })
        .filter(|row| filter.shows("identities", row.claim))
        .collect();
    let applications = issuer_review::queue(&state.services)
        .await?
        .into_iter()
        .map(|i| issuer_row(i, me, now))
        .filter(|row| filter.shows("issuers", row.claim))
        .collect();
    let issuers = issuer_review::decided(&state.services)
        .await?
        .into_iter()
        .map(|i| issuer_row(i, me, now))
        .collect();
    let category = filter.category.trim().to_owned();
    let issuer = filter.issuer.trim().parse::<IssuerId>().ok();
    let collections = collection_review::queue(
        &state.services,
        Some(category.as_str()).filter(|c| !c.is_empty()),
        issuer,
    )
    .await?
    .into_iter()
    .map(|case| collection_row(case, me, now))
    .filter(|row| filter.shows("collections", row.claim))
    .collect();
    render(QueueTemplate {
        ctx,
        rows,
        applications,
        issuers,
        collections,
        kind: filter.kind,
        claim: filter.claim,
        category,
        issuer: filter.issuer,
        categories: finding_categories(),
    })
}
