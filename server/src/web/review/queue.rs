//! The reviewer's queue: pending identity checks and issuer applications oldest first, the
//! collections waiting for review riskiest first, the issuers already decided; filtered by
//! kind, by whose claim, and for collections by finding category and issuer; each kind a
//! bounded page at a time, with how many cases of it wait.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::claim_stats::mask_email;
use crate::domain::ids::{IssuerId, UserId};
use crate::domain::issuer::Issuer;
use crate::domain::page::{self, Cursor, PageError, PageSize, TimeKey};
use crate::domain::review_queue::{ClaimShown, QueueView};
use crate::domain::screening::finding_categories;
use crate::services::collections::review::{self as collection_review, QueuedCase};
use crate::services::identity;
use crate::services::issuers::filings as issuer_filings;
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
    /// The artwork carries the AI label.
    pub ai_generated: bool,
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
        ai_generated: collection.ai_generated(),
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
    /// Issuers whose renewed filings wait for a reviewer: (id, legal name, how long it waited).
    renewals: Vec<(i64, String, String)>,
    issuers: Vec<IssuerRow>,
    collections: Vec<CollectionRow>,
    /// How many cases of each kind wait, whatever the filter: (identities, issuers, collections).
    waiting: (u64, u64, u64),
    /// Links to the next cases of a kind, when there are more than a page shows.
    more_identities: Option<String>,
    more_applications: Option<String>,
    older_decisions: Option<String>,
    kind: String,
    claim: String,
    category: String,
    issuer: String,
    categories: Vec<&'static str>,
}

/// Cases per page of each kind.
const QUEUE_PAGE: PageSize = PageSize::fixed(50);

/// The riskiest collections the queue shows at once.
const COLLECTIONS_SHOWN: u64 = 100;

/// Queue filters: which kind of case, whose claims, and for collections a finding category
/// and an issuer; and where a kind's page starts.
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
    /// The cursor a page of `kind` (identities or issuers) continues after.
    #[serde(default)]
    after: String,
    /// The cursor the page of decided issuers continues after.
    #[serde(default)]
    decided_before: String,
}

impl QueueFilter {
    fn shows(&self, kind: &str) -> bool {
        self.kind.is_empty() || self.kind == kind
    }

    /// Where a page of `kind` starts: only the kind the filter names pages.
    fn after(&self, kind: &str) -> Result<Option<TimeKey>, PageError> {
        if self.kind == kind {
            page::after(Some(self.after.trim()))
        } else {
            Ok(None)
        }
    }

    /// This queue with `kind`'s page starting after `cursor`, or the decisions before it.
    fn link(&self, kind: &str, cursor: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("claim", &self.claim),
            ("category", &self.category),
            ("issuer", &self.issuer),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        if kind == "decided" {
            query.append_pair("decided_before", cursor);
        } else {
            query.append_pair("kind", kind).append_pair("after", cursor);
        }
        format!("/review?{}", query.finish())
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
    let view = QueueView {
        claim: ClaimShown::parse(&filter.claim),
        reviewer: me,
        now,
    };
    let (identities_after, applications_after) = (filter.after("identities")?, filter.after("issuers")?);
    let decided_before = page::after::<IssuerId>(Some(filter.decided_before.trim()))?;
    let waiting = (
        identity::waiting(&state.services).await?,
        issuer_review::waiting(&state.services).await?,
        collection_review::waiting(&state.services).await?,
    );
    let (mut rows, mut more_identities) = (Vec::new(), None);
    if filter.shows("identities") {
        let page = identity::queue(&state.services, &view, identities_after, QUEUE_PAGE).await?;
        more_identities = page.next.map(|next| filter.link("identities", &next.encode()));
        rows = page
            .items
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
            .collect();
    }
    let (mut applications, mut more_applications) = (Vec::new(), None);
    if filter.shows("issuers") {
        let page = issuer_review::queue(&state.services, &view, applications_after, QUEUE_PAGE).await?;
        more_applications = page.next.map(|next| filter.link("issuers", &next.encode()));
        applications = page.items.into_iter().map(|i| issuer_row(i, me, now)).collect();
    }
    let renewals = issuer_filings::renewals(&state.services)
        .await?
        .into_iter()
        .filter_map(|issuer| {
            let sent = issuer.filings.renewal.as_ref()?.submitted_at;
            Some((issuer.id.0, issuer.legal_name, waited(sent, now)))
        })
        .collect();
    let decided = issuer_review::decided(&state.services, decided_before, QUEUE_PAGE).await?;
    let older_decisions = decided.next.map(|next| filter.link("decided", &next.encode()));
    let issuers = decided.items.into_iter().map(|i| issuer_row(i, me, now)).collect();
    let category = filter.category.trim().to_owned();
    let issuer = filter.issuer.trim().parse::<IssuerId>().ok();
    let mut collections = Vec::new();
    if filter.shows("collections") {
        collections = collection_review::queue(
            &state.services,
            &view,
            Some(category.as_str()).filter(|c| !c.is_empty()),
            issuer,
            COLLECTIONS_SHOWN,
        )
        .await?
        .into_iter()
        .map(|case| collection_row(case, me, now))
        .collect();
    }
    render(QueueTemplate {
        ctx,
        rows,
        applications,
        renewals,
        issuers,
        collections,
        waiting,
        more_identities,
        more_applications,
        older_decisions,
        kind: filter.kind,
        claim: filter.claim,
        category,
        issuer: filter.issuer,
        categories: finding_categories(),
    })
}
