//! Reviewing collections: the queue (riskiest first, then oldest), claiming a case, the case's
//! context (similar artworks, the issuer's record) and decisions under the four-eyes rule;
//! published collections are frozen and unfrozen the same way. A reviewer never decides on an
//! issuer they belong to.

use chrono::{DateTime, Utc};

use super::{find, notify_issuer};
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::collection::{Collection, CollectionStatus};
use crate::domain::identity::REVIEW_LOCK;
use crate::domain::ids::{CollectionId, IssuerId, UserId};
use crate::domain::review_queue::QueueView;
use crate::domain::screening::{Finding, ReasonCode, ReviewPolicy};
use crate::mail::CollectionNotice;
use crate::services::{Actor, ServiceError, ServiceResult, Services};
use crate::store;

/// What a reviewer decides on a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    RequestChanges,
    Reject,
    Freeze,
    Unfreeze,
    /// An appeal overturned a rejection: the case is back in review (never a form's verdict).
    Reconsider,
}

impl Verdict {
    /// The verdict a form names (`approve`, `request_changes`, `reject`, `freeze`, `unfreeze`).
    pub fn parse(action: &str) -> Option<Self> {
        Some(match action {
            "approve" => Verdict::Approve,
            "request_changes" => Verdict::RequestChanges,
            "reject" => Verdict::Reject,
            "freeze" => Verdict::Freeze,
            "unfreeze" => Verdict::Unfreeze,
            _ => return None,
        })
    }
}

/// Refuses reviewers who belong to the issuer: they never decide on its collections or tokens.
pub async fn check_not_member(services: &Services, reviewer: UserId, issuer: IssuerId) -> ServiceResult<()> {
    match store::issuers::membership(&services.db, issuer, reviewer).await? {
        Some(_) => Err(ServiceError::Forbidden),
        None => Ok(()),
    }
}

/// A case waiting for review, with its issuer's name.
#[derive(Debug, Clone)]
pub struct QueuedCase {
    pub collection: Collection,
    pub issuer: String,
    /// The finding categories, sorted, each once.
    pub categories: Vec<String>,
    pub four_eyes: bool,
}

/// The `limit` riskiest cases `view` shows (of `issuer`, when given), then the oldest; of those,
/// the ones with a finding of `category`, when given. Collections reach review only after
/// screening, so the queue is short; the bound keeps a flood from loading it whole.
pub async fn queue(
    services: &Services,
    view: &QueueView,
    category: Option<&str>,
    issuer: Option<IssuerId>,
    limit: u64,
) -> ServiceResult<Vec<QueuedCase>> {
    let policy = store::moderation::review_policy(&services.db).await?;
    let queue = store::collections::queue(&services.db, view, issuer, limit).await?;
    let issuer_ids: Vec<IssuerId> = queue.iter().map(|c| c.issuer).collect();
    let issuers = store::issuers::legal_names(&services.db, &issuer_ids).await?;
    let mut cases = Vec::new();
    for collection in queue {
        let mut categories: Vec<String> = collection.findings.iter().map(|f| f.category().to_owned()).collect();
        categories.sort();
        categories.dedup();
        if category.is_some_and(|wanted| !categories.iter().any(|c| c == wanted)) {
            continue;
        }
        cases.push(QueuedCase {
            issuer: issuers.get(&collection.issuer).cloned().unwrap_or_default(),
            four_eyes: policy.needs_four_eyes(collection.risk_score),
            categories,
            collection,
        });
    }
    Ok(cases)
}

/// How many collections wait for review.
pub async fn waiting(services: &Services) -> ServiceResult<u64> {
    Ok(store::collections::waiting(&services.db).await?)
}

/// Takes the review lock on a case in review for [`REVIEW_LOCK`].
pub async fn claim(services: &Services, reviewer: &Actor, id: CollectionId, now: DateTime<Utc>) -> ServiceResult<()> {
    let collection = find(services, id).await?;
    check_not_member(services, reviewer.user, collection.issuer).await?;
    collection.status.claimable_by(reviewer.user)?;
    let txn = store::begin(&services.db).await?;
    if !store::collections::claim(&txn, collection.id, reviewer.user, now, now + REVIEW_LOCK).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let entry = reviewer.audit(AuditAction::CollectionClaimed, AuditSubject::Collection(collection.id));
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Another collection's artwork that resembles the case's.
#[derive(Debug, Clone)]
pub struct Similar {
    pub collection: Collection,
    pub issuer: String,
    pub distance: u32,
}

/// What a reviewer needs beside the case itself to decide it.
#[derive(Debug, Clone)]
pub struct CaseContext {
    pub policy: ReviewPolicy,
    pub similar: Vec<Similar>,
    /// The reviewer belongs to the issuer and may not decide.
    pub member: bool,
    /// How many of the issuer's collections reviewers rejected.
    pub issuer_rejections: u64,
}

pub async fn context(services: &Services, reviewer: UserId, collection: &Collection) -> ServiceResult<CaseContext> {
    let similar: Vec<(CollectionId, u32)> = collection
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Similar { collection, distance } => Some((CollectionId(*collection), *distance)),
            _ => None,
        })
        .collect();
    let ids: Vec<CollectionId> = similar.iter().map(|(id, _)| *id).collect();
    let mut found = store::collections::find_many(&services.db, &ids).await?;
    let their_issuers: Vec<IssuerId> = found.values().map(|c| c.issuer).collect();
    let names = store::issuers::legal_names(&services.db, &their_issuers).await?;
    let similar = similar
        .into_iter()
        .filter_map(|(id, distance)| {
            let other = found.remove(&id)?;
            Some(Similar {
                issuer: names.get(&other.issuer).cloned().unwrap_or_default(),
                collection: other,
                distance,
            })
        })
        .collect();
    Ok(CaseContext {
        policy: store::moderation::review_policy(&services.db).await?,
        similar,
        member: store::issuers::membership(&services.db, collection.issuer, reviewer)
            .await?
            .is_some(),
        issuer_rejections: store::collections::rejections_of(&services.db, collection.issuer).await?,
    })
}

/// A reviewer's decision on the collection at `version`, with a reason code and the note the
/// issuer reads; the issuer's members are mailed every decision (the first of two approvals is
/// not one yet).
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    services: &Services,
    reviewer: &Actor,
    id: CollectionId,
    verdict: Verdict,
    reason_code: Option<ReasonCode>,
    note: &str,
    version: i32,
    now: DateTime<Utc>,
) -> ServiceResult<CollectionStatus> {
    let collection = find(services, id).await?;
    let me = reviewer.user;
    check_not_member(services, me, collection.issuer).await?;
    let policy = store::moderation::review_policy(&services.db).await?;
    let current = &collection.status;
    let (next, action) = match verdict {
        Verdict::Approve => (
            current.approve(me, policy.needs_four_eyes(collection.risk_score)),
            AuditAction::CollectionApproved,
        ),
        Verdict::RequestChanges => (current.request_changes(note), AuditAction::CollectionChangesRequested),
        Verdict::Reject => (current.reject(note), AuditAction::CollectionRejected),
        Verdict::Freeze => (current.freeze(note), AuditAction::CollectionFrozen),
        Verdict::Unfreeze => (current.unfreeze(), AuditAction::CollectionUnfrozen),
        Verdict::Reconsider => (current.reconsider(), AuditAction::CollectionReconsidered),
    };
    let next = next?;
    let notice = match &next {
        CollectionStatus::Approved => Some(CollectionNotice::Approved),
        CollectionStatus::ChangesRequested { .. } => Some(CollectionNotice::ChangesRequested),
        CollectionStatus::Rejected { .. } => Some(CollectionNotice::Rejected),
        CollectionStatus::Frozen { .. } => Some(CollectionNotice::Frozen),
        CollectionStatus::Published => Some(CollectionNotice::Unfrozen),
        _ => None,
    };
    let note = note.trim();
    let code = reason_code.map(ReasonCode::as_str);
    let txn = store::begin(&services.db).await?;
    if !store::collections::transition(&txn, collection.id, version, current, &next, Some(me), code, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let entry = AuditEntry {
        actor: Some(me),
        action,
        subject: AuditSubject::Collection(collection.id),
        before: Some(current.as_str()),
        after: Some(next.as_str()),
        reason: (!note.is_empty()).then(|| note.to_owned()),
        details: code.map(|code| AuditDetails::ReasonCode { code: code.to_owned() }),
        request_id: reviewer.request_id.clone(),
    };
    store::audit::append(&txn, entry, now).await?;
    if let Some(notice) = notice {
        notify_issuer(services, &txn, &collection, notice, note, now).await?;
    }
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(reviewer = %me, collection = %collection.id, to = next.as_str(), "collection decided");
    Ok(next)
}

/// Labels the artwork of the collection at `version` AI-generated (`flagged`), or takes the
/// reviewer's label back; an issuer's own declaration stays. At any stage, published
/// collections included: the label follows the artwork wherever it is shown.
pub async fn flag_ai(
    services: &Services,
    reviewer: &Actor,
    id: CollectionId,
    flagged: bool,
    version: i32,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let collection = find(services, id).await?;
    check_not_member(services, reviewer.user, collection.issuer).await?;
    let txn = store::begin(&services.db).await?;
    if !store::collections::set_ai_flag(&txn, collection.id, version, &collection.status, flagged, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let action = match flagged {
        true => AuditAction::CollectionAiFlagged,
        false => AuditAction::CollectionAiUnflagged,
    };
    store::audit::append(
        &txn,
        reviewer.audit(action, AuditSubject::Collection(collection.id)),
        now,
    )
    .await?;
    store::commit(txn).await?;
    tracing::info!(reviewer = %reviewer.user, collection = %collection.id, flagged, "AI label set");
    Ok(())
}

/// Published and frozen collections, newest first, for reviewers to watch.
pub async fn live(services: &Services, limit: u64) -> ServiceResult<Vec<Collection>> {
    Ok(store::collections::live(&services.db, limit).await?)
}
