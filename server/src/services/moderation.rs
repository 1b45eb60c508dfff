//! The moderation policy an administrator keeps: the operator's term lists per category and
//! severity, the image blocklist (only perceptual hashes are kept) and the review thresholds.
//! Every change is audited; a term list that would not compile is refused before it is stored.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use moderation::Category;
use moderation::image::{ImageError, ImageLimits, decode};

use super::collections::artwork::MAX_ARTWORK_BYTES;
use super::forms::{self, Submission};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::audit::{AuditAction, AuditDetails, AuditSubject};
use crate::domain::ids::{BlockedImageId, TermId};
use crate::domain::screening::{BlockedImage, PolicyError, PolicyTerm, ReviewPolicy, TermKind, build_screener};
use crate::store::{self, Transaction};

/// The address of the policy page, where every change leads back to.
pub const PAGE: &str = "/admin/moderation";

/// The policy in force.
#[derive(Debug, Clone)]
pub struct Policy {
    pub terms: Vec<PolicyTerm>,
    pub blocklist: Vec<BlockedImage>,
    pub thresholds: ReviewPolicy,
}

pub async fn policy(services: &Services) -> ServiceResult<Policy> {
    Ok(Policy {
        terms: store::moderation::terms(&services.db).await?,
        blocklist: store::moderation::blocklist(&services.db).await?,
        thresholds: store::moderation::review_policy(&services.db).await?,
    })
}

/// Audits a policy change in its transaction and commits both.
async fn commit_change(
    txn: Transaction,
    actor: &Actor,
    action: AuditAction,
    details: AuditDetails,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let mut entry = actor.audit(action, AuditSubject::ModerationPolicy);
    entry.details = Some(details);
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Adds the operator's `terms` of `category` and `kind`, if the lists still compile with them.
pub async fn add_terms(
    services: &Services,
    actor: &Actor,
    category: Category,
    kind: TermKind,
    terms: Vec<String>,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), PolicyError>> {
    let mut candidate = store::moderation::terms(&services.db).await?;
    candidate.extend(terms.iter().map(|term| PolicyTerm {
        id: 0,
        category,
        kind,
        term: term.clone(),
    }));
    if let Err(err) = build_screener(&candidate) {
        return Ok(Err(PolicyError::List(err)));
    }
    let txn = store::begin(&services.db).await?;
    let added = store::moderation::add_terms(&txn, category, kind, &terms, actor.user, now).await?;
    let details = AuditDetails::TermsAdded {
        category: category.to_string(),
        severity: kind.as_str().to_owned(),
        added,
        terms,
    };
    commit_change(txn, actor, AuditAction::ModerationTermsAdded, details, now).await?;
    Ok(Ok(()))
}

pub async fn remove_term(services: &Services, actor: &Actor, id: TermId, now: DateTime<Utc>) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    let removed = store::moderation::delete_term(&txn, id.0)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let details = AuditDetails::TermRemoved {
        category: removed.category.to_string(),
        severity: removed.kind.as_str().to_owned(),
        term: removed.term,
    };
    commit_change(txn, actor, AuditAction::ModerationTermRemoved, details, now).await
}

/// Blocks an image: only its perceptual hash is kept, with the admin's label. Answers where the
/// result is shown, or the image's problem.
pub async fn block_image(
    services: &Services,
    actor: &Actor,
    image: Bytes,
    label: &str,
    submission: &Submission,
    now: DateTime<Utc>,
) -> ServiceResult<Result<String, ImageError>> {
    let label: String = label.trim().chars().take(200).collect();
    let hashed = tokio::task::spawn_blocking(move || {
        let limits = ImageLimits {
            max_bytes: MAX_ARTWORK_BYTES,
            ..ImageLimits::default()
        };
        decode(&image, &limits).map(|decoded| decoded.perceptual_hash())
    })
    .await
    .map_err(ServiceError::internal)?;
    let hash = match hashed {
        Ok(hash) => hash,
        Err(err) => return Ok(Err(err)),
    };
    let txn = store::begin(&services.db).await?;
    let id = store::moderation::block_image(&txn, hash, &label, actor.user, now).await?;
    let mut entry = actor.audit(AuditAction::ModerationImageBlocked, AuditSubject::ModerationPolicy);
    entry.details = Some(AuditDetails::ImageBlocked {
        entry: id,
        hash: hash.to_string(),
        label,
    });
    store::audit::append(&txn, entry, now).await?;
    Ok(Ok(
        forms::finish::<()>(services, txn, submission, PAGE, None, now).await?
    ))
}

pub async fn unblock_image(
    services: &Services,
    actor: &Actor,
    id: BlockedImageId,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    let removed = store::moderation::unblock_image(&txn, id.0)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let details = AuditDetails::ImageUnblocked {
        entry: id.0,
        hash: removed.hash.to_string(),
        label: removed.label,
    };
    commit_change(txn, actor, AuditAction::ModerationImageUnblocked, details, now).await
}

/// Sets the review thresholds.
pub async fn set_thresholds(
    services: &Services,
    actor: &Actor,
    thresholds: ReviewPolicy,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let before = store::moderation::review_policy(&services.db).await?;
    let txn = store::begin(&services.db).await?;
    store::moderation::set_review_policy(&txn, thresholds, actor.user, now).await?;
    let details = AuditDetails::ThresholdsChanged {
        four_eyes_before: before.four_eyes_score,
        four_eyes_after: thresholds.four_eyes_score,
        distance_before: before.max_distance,
        distance_after: thresholds.max_distance,
    };
    commit_change(txn, actor, AuditAction::ModerationThresholdsChanged, details, now).await
}
