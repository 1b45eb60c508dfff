//! Reviewing collections: the queue rows, the case page (artwork, highlighted text, similar
//! images, the issuer's history), claiming a case, and decisions with the four-eyes rule.
//! Published collections can be frozen and unfrozen from the same page.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::audit_view::{AuditLine, lines};
use super::auth::Reviewer;
use super::collections::{CollectionFacts, ScreeningView, notify_issuer, transition_error};
use super::context::RequestContext;
use super::error::{AppError, AppResult};
use super::render;
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::collection::Collection;
use crate::domain::collection::CollectionStatus;
use crate::domain::identity::REVIEW_LOCK;
use crate::domain::ids::CollectionId;
use crate::domain::ids::IssuerId;
use crate::domain::ids::UserId;
use crate::domain::issuer::Issuer;
use crate::domain::screening::ReasonCode;
use crate::mail::CollectionNotice;
use crate::state::AppState;
use crate::store;
use crate::store::audit::AuditFilter;

/// One case in the reviewer queue.
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

/// The queue's collection filters: a finding category and an issuer.
pub struct CollectionFilter {
    pub category: String,
    pub issuer: Option<i64>,
}

/// The collection cases waiting for review, riskiest first, then oldest.
pub async fn queue_rows(
    state: &AppState,
    me: UserId,
    filter: &CollectionFilter,
    now: DateTime<Utc>,
) -> AppResult<Vec<CollectionRow>> {
    let policy = store::moderation::review_policy(&state.services.db).await?;
    let queue = store::collections::queue(&state.services.db).await?;
    let issuer_ids: Vec<_> = queue.iter().map(|c| c.issuer).collect();
    let issuers = store::issuers::legal_names(&state.services.db, &issuer_ids).await?;
    let mut rows = Vec::new();
    for record in queue {
        let mut categories: Vec<String> = record.findings.iter().map(|f| f.category().to_owned()).collect();
        categories.sort();
        categories.dedup();
        if !filter.category.is_empty() && !categories.contains(&filter.category) {
            continue;
        }
        if filter.issuer.is_some_and(|i| i != record.issuer.0) {
            continue;
        }
        let issuer = issuers.get(&record.issuer).cloned().unwrap_or_default();
        let submitted = record.submitted_at.unwrap_or(record.created_at);
        rows.push(CollectionRow {
            id: record.id.0,
            title: record.terms.title.clone(),
            issuer,
            risk: record.risk_score,
            categories,
            four_eyes: policy.needs_four_eyes(record.risk_score),
            first_approved: record.status.first_approval().is_some(),
            submitted,
            waited: super::review::waited(submitted, now),
            claim: super::review::claim_key(record.claimed_by, record.claimed_until, me, now),
        });
    }
    Ok(rows)
}

/// Refuses reviewers who belong to the issuer: they never decide on its collections or tokens.
pub(super) async fn check_not_member(state: &AppState, reviewer: UserId, issuer: IssuerId) -> AppResult<()> {
    match store::issuers::membership(&state.services.db, issuer, reviewer).await? {
        Some(_) => Err(AppError::Forbidden),
        None => Ok(()),
    }
}

async fn find(state: &AppState, id: i64) -> AppResult<Collection> {
    store::collections::find(&state.services.db, CollectionId(id))
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn claim(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let record = find(&state, id).await?;
    check_not_member(&state, reviewer.user.id, record.issuer).await?;
    record.status.claimable_by(reviewer.user.id).map_err(transition_error)?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    if !store::collections::claim(&txn, record.id, reviewer.user.id, now, now + REVIEW_LOCK).await? {
        return Err(AppError::ReviewConflict);
    }
    let entry = AuditEntry::new(
        Some(reviewer.user.id),
        AuditAction::CollectionClaimed,
        AuditSubject::Collection(record.id),
        ctx.request_id.clone(),
    );
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/review/collections/{id}")).into_response())
}

/// Another collection's artwork that resembles this one.
struct SimilarArtwork {
    id: i64,
    distance: u32,
    title: String,
    issuer: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "review_collection.html")]
struct CaseTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    facts: CollectionFacts,
    screening: ScreeningView,
    similar: Vec<SimilarArtwork>,
    holds_claim: bool,
    /// The reviewer belongs to the issuer and may not decide.
    member: bool,
    four_eyes: bool,
    /// This reviewer gave the first of two approvals.
    approved_by_me: bool,
    first_approved: bool,
    issuer_rejections: u64,
    issuer_history: Vec<AuditLine>,
    history: Vec<AuditLine>,
    reason_codes: Vec<&'static str>,
}

fn audit_of(subject_type: &str, id: i64) -> AuditFilter {
    AuditFilter {
        subject_type: Some(subject_type.to_owned()),
        subject_id: Some(id.to_string()),
        ..AuditFilter::default()
    }
}

pub async fn case(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let record = find(&state, id).await?;
    let issuer = store::issuers::find(&state.services.db, record.issuer)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let me = reviewer.user.id;
    let in_review = matches!(record.status, CollectionStatus::InReview { .. });
    let holds_claim =
        in_review && record.claimed_by == Some(me) && record.claimed_until.is_some_and(|until| until >= now);
    let policy = store::moderation::review_policy(&state.services.db).await?;
    let screening = ScreeningView::of(&record);
    let others: Vec<_> = screening
        .similar
        .iter()
        .map(|(other, _)| CollectionId(*other))
        .collect();
    let mut found = store::collections::find_many(&state.services.db, &others).await?;
    let their_issuers: Vec<_> = found.values().map(|c| c.issuer).collect();
    let issuer_names = store::issuers::legal_names(&state.services.db, &their_issuers).await?;
    let mut similar = Vec::new();
    for (other, distance) in &screening.similar {
        if let Some(found) = found.remove(&CollectionId(*other)) {
            similar.push(SimilarArtwork {
                id: *other,
                distance: *distance,
                issuer: issuer_names.get(&found.issuer).cloned().unwrap_or_default(),
                title: found.terms.title,
                status: found.status.as_str(),
            });
        }
    }
    let issuer_history = store::audit::list(&state.services.db, &audit_of("issuer", record.issuer.0), Some(20)).await?;
    let history = store::audit::list(&state.services.db, &audit_of("collection", id), Some(50)).await?;
    render(CaseTemplate {
        member: store::issuers::membership(&state.services.db, record.issuer, me)
            .await?
            .is_some(),
        four_eyes: policy.needs_four_eyes(record.risk_score),
        approved_by_me: record.status.first_approval() == Some(me),
        first_approved: record.status.first_approval().is_some(),
        issuer_rejections: store::collections::rejections_of(&state.services.db, record.issuer).await?,
        issuer_history: lines(&state, &ctx, issuer_history).await?,
        history: lines(&state, &ctx, history).await?,
        reason_codes: ReasonCode::ALL.iter().map(|c| c.as_str()).collect(),
        facts: CollectionFacts::of(&record, &ctx),
        screening,
        similar,
        holds_claim,
        ctx,
        issuer,
    })
}

#[derive(Deserialize)]
pub struct DecisionForm {
    /// approve, request_changes, reject, freeze or unfreeze.
    action: String,
    #[serde(default)]
    reason_code: String,
    /// The words the issuer reads.
    #[serde(default)]
    note: String,
    version: i32,
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let record = find(&state, id).await?;
    let me = reviewer.user.id;
    check_not_member(&state, me, record.issuer).await?;
    let reason_code = match form.reason_code.trim() {
        "" => None,
        code => Some(ReasonCode::parse(code).ok_or(AppError::BadRequest)?),
    };
    let policy = store::moderation::review_policy(&state.services.db).await?;
    let current = &record.status;
    let (next, action) = match form.action.as_str() {
        "approve" => (
            current.approve(me, policy.needs_four_eyes(record.risk_score)),
            AuditAction::CollectionApproved,
        ),
        "request_changes" => (
            current.request_changes(&form.note),
            AuditAction::CollectionChangesRequested,
        ),
        "reject" => (current.reject(&form.note), AuditAction::CollectionRejected),
        "freeze" => (current.freeze(&form.note), AuditAction::CollectionFrozen),
        "unfreeze" => (current.unfreeze(), AuditAction::CollectionUnfrozen),
        _ => return Err(AppError::BadRequest),
    };
    let next = next.map_err(transition_error)?;
    let notice = match &next {
        CollectionStatus::Approved => Some(CollectionNotice::Approved),
        CollectionStatus::ChangesRequested { .. } => Some(CollectionNotice::ChangesRequested),
        CollectionStatus::Rejected { .. } => Some(CollectionNotice::Rejected),
        CollectionStatus::Frozen { .. } => Some(CollectionNotice::Frozen),
        CollectionStatus::Published => Some(CollectionNotice::Unfrozen),
        // The first of two approvals is not a decision yet.
        _ => None,
    };
    let note = form.note.trim();
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let code = reason_code.map(ReasonCode::as_str);
    if !store::collections::transition(&txn, record.id, form.version, current, &next, Some(me), code, now).await? {
        return Err(AppError::ReviewConflict);
    }
    let entry = AuditEntry {
        actor: Some(me),
        action,
        subject: AuditSubject::Collection(record.id),
        before: Some(current.as_str()),
        after: Some(next.as_str()),
        reason: (!note.is_empty()).then(|| note.to_owned()),
        details: code.map(|code| AuditDetails::ReasonCode { code: code.to_owned() }),
        request_id: ctx.request_id.clone(),
    };
    store::audit::append(&txn, entry, now).await?;
    if let Some(notice) = notice {
        notify_issuer(&state, &txn, &record, notice, note, now).await?;
    }
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    tracing::info!(reviewer = %me, collection = %record.id, to = next.as_str(), "collection decided");
    Ok(Redirect::to(&format!("/review/collections/{id}")).into_response())
}
