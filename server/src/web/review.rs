//! The reviewer console: the queue of pending identity checks, claiming a case, deciding it,
//! and the audit log. Every route here requires the reviewer role (admins have it too).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::audit_view::{AuditLine, action_key, lines, transfer_attempts, transfer_period};
use super::auth::{Admin, Reviewer};
use super::collection_review::{self, CollectionFilter, CollectionRow};
use super::context::RequestContext;
use super::csv_export::CsvFile;
use super::error::{AppError, AppResult};
use super::identity::{Decision, record_decision};
use super::issuers::{DocumentView, document_views};
use super::ledger::queue_entry;
use super::render;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::claim_stats::mask_email;
use crate::domain::identity::{IdentityStatus, REVIEW_LOCK, check_reviewer};
use crate::domain::ids::IssuerId;
use crate::domain::ids::UserId;
use crate::domain::issuer::Issuer;
use crate::domain::issuer::IssuerStatus;
use crate::kyc::Field;
use crate::ledger::entry::EntryBody;
use crate::mail::{self, IssuerNotice, Mail};
use crate::state::AppState;
use crate::store;
use crate::store::audit::AuditFilter;

/// "3 h 20 min" style waiting time.
pub(super) fn waited(since: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - since).num_minutes().max(0);
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

/// What the collection queue can be filtered by: the term categories and the image findings.
const FINDING_CATEGORIES: [&str; 7] = [
    "financialisation",
    "illegal",
    "pornographic",
    "gambling",
    "fraud",
    "similar_image",
    "blocklisted_image",
];

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

pub(super) fn claim_key(
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
    let pending = store::identities::queue(&state.services.db).await?;
    let applicant_ids: Vec<UserId> = pending.iter().map(|r| r.user).collect();
    let applicants = store::users::find_many(&state.services.db, &applicant_ids).await?;
    let rows = pending
        .into_iter()
        .map(|r| QueueRow {
            user: r.user.0,
            applicant: applicants
                .get(&r.user)
                .map(|u| mask_email(u.email.as_str()))
                .unwrap_or_default(),
            masked: r.masked,
            submitted: r.submitted_at,
            waited: waited(r.submitted_at, now),
            claim: claim_key(r.claimed_by, r.claimed_until, reviewer.user.id, now),
            own: r.user == reviewer.user.id,
        })
        .filter(|row| filter.shows("identities", row.claim))
        .collect();
    let me = reviewer.user.id;
    let applications = store::issuers::queue(&state.services.db)
        .await?
        .into_iter()
        .map(|i| issuer_row(i, me, now))
        .filter(|row| filter.shows("issuers", row.claim))
        .collect();
    let issuers = store::issuers::decided(&state.services.db)
        .await?
        .into_iter()
        .map(|i| issuer_row(i, me, now))
        .collect();
    let collection_filter = CollectionFilter {
        category: filter.category.trim().to_owned(),
        issuer: filter.issuer.trim().parse().ok(),
    };
    let collections = collection_review::queue_rows(&state, me, &collection_filter, now)
        .await?
        .into_iter()
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
        category: collection_filter.category,
        issuer: filter.issuer,
        categories: FINDING_CATEGORIES.to_vec(),
    })
}

pub async fn claim(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(user): Path<i64>,
) -> AppResult<Response> {
    let applicant = UserId(user);
    check_reviewer(reviewer.user.id, applicant).map_err(|_| AppError::Forbidden)?;
    store::identities::find(&state.services.db, applicant)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    if !store::identities::claim(&txn, applicant, reviewer.user.id, now, now + REVIEW_LOCK).await? {
        return Err(AppError::ReviewConflict);
    }
    let entry = AuditEntry::new(
        Some(reviewer.user.id),
        AuditAction::IdentityClaimed,
        AuditSubject::Identity(applicant),
        ctx.request_id.clone(),
    );
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/review/identities/{user}")).into_response())
}

#[derive(Template)]
#[template(path = "review_identity.html")]
struct CaseTemplate {
    ctx: RequestContext,
    user: i64,
    status: &'static str,
    masked: String,
    /// The applicant's address, masked.
    applicant: String,
    submitted: DateTime<Utc>,
    province_known: bool,
    /// Decrypted only for the reviewer holding the claim.
    revealed: Option<(String, String)>,
    version: i32,
    own: bool,
}

pub async fn case(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(user): Path<i64>,
) -> AppResult<Html<String>> {
    let applicant = UserId(user);
    let record = store::identities::find(&state.services.db, applicant)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let holds_claim = record.status == IdentityStatus::Pending
        && record.claimed_by == Some(reviewer.user.id)
        && record.claimed_until.is_some_and(|until| until >= now);
    let revealed = if holds_claim {
        let name = state
            .services
            .vault
            .open(Field::LegalName, applicant, &record.sealed_name);
        let number = state
            .services
            .vault
            .open(Field::IdNumber, applicant, &record.sealed_id_number);
        Some((
            name.map_err(|e| AppError::Internal(e.into()))?,
            number.map_err(|e| AppError::Internal(e.into()))?,
        ))
    } else {
        None
    };
    render(CaseTemplate {
        ctx,
        user,
        status: record.status.as_str(),
        masked: record.masked,
        applicant: store::users::find(&state.services.db, applicant)
            .await?
            .map(|u| mask_email(u.email.as_str()))
            .unwrap_or_default(),
        submitted: record.submitted_at,
        province_known: record.province_known,
        revealed,
        version: record.version,
        own: applicant == reviewer.user.id,
    })
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    reason: String,
    version: i32,
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(user): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let applicant = UserId(user);
    check_reviewer(reviewer.user.id, applicant).map_err(|_| AppError::Forbidden)?;
    let record = store::identities::find(&state.services.db, applicant)
        .await?
        .ok_or(AppError::NotFound)?;
    let decided = match form.decision.as_str() {
        "approve" => record.status.approve(),
        "reject" => record.status.reject(&form.reason),
        _ => return Err(AppError::BadRequest),
    };
    let decided = decided.map_err(|_| AppError::BadRequest)?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    if !store::identities::decide(&txn, applicant, reviewer.user.id, form.version, &decided, now).await? {
        return Err(AppError::ReviewConflict);
    }
    let decision = Decision {
        applicant,
        reviewer: Some(reviewer.user.id),
        to: &decided,
        request_id: ctx.request_id.clone(),
    };
    record_decision(&state, &txn, decision, now).await?;
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    tracing::info!(reviewer = %reviewer.user.id, applicant = %applicant, decision = decided.as_str(), "identity decided");
    Ok(Redirect::to("/review").into_response())
}

// ---- issuer applications and sanctions ----

/// Refuses reviewers who belong to the issuer.
async fn check_issuer_reviewer(state: &AppState, reviewer: UserId, issuer: IssuerId) -> AppResult<()> {
    let members: Vec<UserId> = store::issuers::members(&state.services.db, issuer)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    crate::domain::issuer::check_reviewer(reviewer, &members).map_err(|_| AppError::Forbidden)
}

pub async fn claim_issuer(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let issuer = IssuerId(id);
    check_issuer_reviewer(&state, reviewer.user.id, issuer).await?;
    store::issuers::find(&state.services.db, issuer)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    if !store::issuers::claim(&txn, issuer, reviewer.user.id, now, now + REVIEW_LOCK).await? {
        return Err(AppError::ReviewConflict);
    }
    let entry = AuditEntry::new(
        Some(reviewer.user.id),
        AuditAction::IssuerClaimed,
        AuditSubject::Issuer(issuer),
        ctx.request_id.clone(),
    );
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/review/issuers/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "review_issuer.html")]
struct IssuerCaseTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    documents: Vec<DocumentView>,
    holds_claim: bool,
    member: bool,
    history: Vec<AuditLine>,
}

pub async fn issuer_case(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let issuer = store::issuers::find(&state.services.db, IssuerId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let holds_claim = issuer.status == IssuerStatus::Submitted
        && issuer.claimed_by == Some(reviewer.user.id)
        && issuer.claimed_until.is_some_and(|until| until >= now);
    let member = check_issuer_reviewer(&state, reviewer.user.id, issuer.id)
        .await
        .is_err();
    let documents = document_views(store::issuers::documents(&state.services.db, issuer.id).await?);
    let filter = AuditFilter {
        subject_type: Some("issuer".to_owned()),
        subject_id: Some(id.to_string()),
        ..AuditFilter::default()
    };
    let history = lines(
        &state,
        &ctx,
        store::audit::list(&state.services.db, &filter, Some(50)).await?,
    )
    .await?;
    render(IssuerCaseTemplate {
        ctx,
        issuer,
        documents,
        holds_claim,
        member,
        history,
    })
}

#[derive(Deserialize)]
pub struct IssuerDecisionForm {
    /// approve, reject, suspend, reinstate or revoke.
    action: String,
    #[serde(default)]
    reason: String,
    version: i32,
}

pub async fn decide_issuer(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<IssuerDecisionForm>,
) -> AppResult<Response> {
    let issuer_id = IssuerId(id);
    check_issuer_reviewer(&state, reviewer.user.id, issuer_id).await?;
    let issuer = store::issuers::find(&state.services.db, issuer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = &issuer.status;
    let (next, action, notice) = match form.action.as_str() {
        "approve" => (current.approve(), AuditAction::IssuerApproved, IssuerNotice::Approved),
        "reject" => (
            current.reject(&form.reason),
            AuditAction::IssuerRejected,
            IssuerNotice::Rejected,
        ),
        "suspend" => (
            current.suspend(&form.reason),
            AuditAction::IssuerSuspended,
            IssuerNotice::Suspended,
        ),
        "reinstate" => (
            current.reinstate(),
            AuditAction::IssuerReinstated,
            IssuerNotice::Reinstated,
        ),
        "revoke" => (
            current.revoke(&form.reason),
            AuditAction::IssuerRevoked,
            IssuerNotice::Revoked,
        ),
        _ => return Err(AppError::BadRequest),
    };
    let next = next.map_err(|_| AppError::BadRequest)?;
    let applicant = store::users::find(&state.services.db, issuer.created_by)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    if !store::issuers::transition(&txn, issuer_id, form.version, current, &next, reviewer.user.id, now).await? {
        return Err(AppError::ReviewConflict);
    }
    let reason = next.reason().map(str::to_owned);
    let entry = AuditEntry {
        actor: Some(reviewer.user.id),
        action,
        subject: AuditSubject::Issuer(issuer_id),
        before: Some(current.as_str()),
        after: Some(next.as_str()),
        reason: reason.clone(),
        details: None,
        request_id: ctx.request_id.clone(),
    };
    store::audit::append(&txn, entry, now).await?;
    let issuer_number = issuer_id.0 as u64;
    let ledger_body = match notice {
        IssuerNotice::Approved => Some(EntryBody::IssuerApproved {
            issuer_id: issuer_number,
            credit_code: issuer.credit_code.clone(),
            legal_name: issuer.legal_name.clone(),
        }),
        IssuerNotice::Suspended => Some(EntryBody::IssuerSuspended {
            issuer_id: issuer_number,
        }),
        IssuerNotice::Reinstated => Some(EntryBody::IssuerReinstated {
            issuer_id: issuer_number,
        }),
        IssuerNotice::Revoked => Some(EntryBody::IssuerRevoked {
            issuer_id: issuer_number,
        }),
        IssuerNotice::Rejected => None,
    };
    if let Some(body) = ledger_body {
        queue_entry(&txn, body, now).await?;
    }
    let link = state.services.absolute_url(&format!("/console/{id}"));
    let to = applicant.email.clone();
    let message = Mail::IssuerStatus {
        link: &link,
        issuer: &issuer.legal_name,
        status: notice,
        reason: reason.as_deref().unwrap_or_default(),
    }
    .render(&to, applicant.locale, &state.config.operator.name)?;
    mail::enqueue(&txn, message, now).await?;
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    state.services.ledger_wakeup.notify_one();
    tracing::info!(reviewer = %reviewer.user.id, issuer = %issuer_id, to = next.as_str(), "issuer status changed");
    Ok(Redirect::to(&format!("/review/issuers/{id}")).into_response())
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    subject_type: String,
    #[serde(default)]
    subject_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn non_empty(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

fn day_start(value: &str) -> AppResult<Option<DateTime<Utc>>> {
    match non_empty(value) {
        None => Ok(None),
        Some(day) => NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map(|d| Some(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()))
            .map_err(|_| AppError::BadRequest),
    }
}

impl AuditQuery {
    /// The filter; `to` is inclusive (the whole day).
    fn filter(&self) -> AppResult<AuditFilter> {
        Ok(AuditFilter {
            action: non_empty(&self.action),
            subject_type: non_empty(&self.subject_type),
            subject_id: non_empty(&self.subject_id),
            from: day_start(&self.from)?,
            until: day_start(&self.to)?.map(|d| d + chrono::Duration::days(1)),
        })
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditTemplate {
    ctx: RequestContext,
    rows: Vec<AuditLine>,
    query: AuditQuery,
    /// (stored name, message key) of every action, for the filter.
    actions: Vec<(&'static str, String)>,
    subject_types: [&'static str; 6],
}

const AUDIT_PAGE_ROWS: u64 = 200;

pub async fn audit(
    State(state): State<AppState>,
    ctx: RequestContext,
    _reviewer: Reviewer,
    Query(query): Query<AuditQuery>,
) -> AppResult<Html<String>> {
    let rows = store::audit::list(&state.services.db, &query.filter()?, Some(AUDIT_PAGE_ROWS)).await?;
    let rows = lines(&state, &ctx, rows).await?;
    render(AuditTemplate {
        ctx,
        rows,
        query,
        actions: AuditAction::ALL
            .iter()
            .map(|a| (a.as_str(), action_key(a.as_str())))
            .collect(),
        subject_types: ["identity", "issuer", "collection", "token", "user", "moderation_policy"],
    })
}

/// The audit log for a date range as CSV (admins only).
pub async fn audit_csv(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    let filter = query.filter()?;
    if filter.from.is_none() || filter.until.is_none() {
        return Err(AppError::BadRequest);
    }
    let rows = store::audit::list(&state.services.db, &filter, None).await?;
    let mut csv = CsvFile::new(&[
        "id",
        "at",
        "actor_user_id",
        "action",
        "subject_type",
        "subject_id",
        "before",
        "after",
        "reason",
        "details",
        "request_id",
        "transfer_attempts_in_hour",
    ])?;
    // A refused transfer's row stands for every attempt on its token in that clock hour.
    let attempts = transfer_attempts(&state, &rows).await?;
    for row in rows.iter().rev() {
        let hour_attempts = transfer_period(row)
            .and_then(|period| attempts.get(&period))
            .map(i64::to_string)
            .unwrap_or_default();
        csv.row([
            row.id.to_string(),
            row.at.to_rfc3339(),
            row.actor_user_id.map(|id| id.to_string()).unwrap_or_default(),
            row.action.clone(),
            row.subject_type.clone(),
            row.subject_id.clone(),
            row.before_state.clone().unwrap_or_default(),
            row.after_state.clone().unwrap_or_default(),
            row.reason.clone().unwrap_or_default(),
            row.details.clone().unwrap_or_default(),
            row.request_id.clone().unwrap_or_default(),
            hour_attempts,
        ])?;
    }
    csv.into_download(&format!("audit-{}-{}.csv", query.from.trim(), query.to.trim()))
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
