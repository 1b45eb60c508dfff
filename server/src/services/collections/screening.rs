//! Automated screening of a submission, in the same transaction as its status change, so a
//! submission is never acknowledged without its findings: the term lists and thresholds in
//! force, the image blocklist and the look-alikes of other issuers' artwork.

use chrono::{DateTime, Utc};

use super::notify_issuer;
use crate::domain::audit::{AuditAction, AuditDetails, AuditSubject};
use crate::domain::collection::{Collection, CollectionStatus, CollectionTerms};
use crate::domain::ids::IssuerId;
use crate::domain::screening::{Screened, build_screener, screen};
use crate::mail::CollectionNotice;
use crate::services::{Actor, ServiceError, ServiceResult, Services};
use crate::store::{self, Connection};

/// Screens a submission's text and artwork against the policy in force, in `conn`.
pub async fn screen_submission(
    conn: &impl Connection,
    issuer: IssuerId,
    terms: &CollectionTerms,
    artwork: moderation::PerceptualHash,
) -> ServiceResult<Screened> {
    let policy_terms = store::moderation::terms(conn).await?;
    let screener = build_screener(&policy_terms).map_err(ServiceError::internal)?;
    let blocklist = store::moderation::blocklist(conn).await?;
    let others = store::collections::artworks_of_others(conn, issuer).await?;
    let policy = store::moderation::review_policy(conn).await?;
    Ok(screen(
        &screener,
        &terms.title,
        &terms.description,
        artwork,
        &blocklist,
        &others,
        &policy,
    ))
}

/// Screens `collection` (its content as it now stands, at its current version and status) and
/// records the outcome with its audit row and, for an automatic rejection, the mail to the
/// issuer, in `conn`.
pub(super) async fn submit_for_screening(
    services: &Services,
    conn: &impl Connection,
    actor: &Actor,
    collection: &Collection,
    now: DateTime<Utc>,
) -> ServiceResult<CollectionStatus> {
    let from = &collection.status;
    let submitted = from.submit(true).or_else(|_| from.edit())?;
    let screened = screen_submission(
        conn,
        collection.issuer,
        &collection.terms,
        collection.artwork.perceptual_hash,
    )
    .await?;
    let outcome = submitted.screened(screened.assessment.verdict)?;
    let recorded =
        store::collections::record_screening(conn, collection.id, collection.version, from, &outcome, &screened, now)
            .await?;
    if !recorded {
        return Err(ServiceError::ReviewConflict);
    }
    let mut entry = actor.audit(AuditAction::CollectionScreened, AuditSubject::Collection(collection.id));
    entry.before = Some(from.as_str());
    entry.after = Some(outcome.as_str());
    entry.details = Some(AuditDetails::Screened {
        verdict: screened.assessment.verdict.as_str().to_owned(),
        score: screened.assessment.score,
        findings: screened.findings.len(),
        lists: screened.list_versions.clone(),
    });
    store::audit::append(conn, entry, now).await?;
    if outcome == CollectionStatus::AutoRejected {
        notify_issuer(services, conn, collection, CollectionNotice::AutoRejected, "", now).await?;
    }
    Ok(outcome)
}
