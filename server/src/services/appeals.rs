//! Appeals: the notice of a standing decision against an issuer, a collection or a holder's
//! collectible (what was decided, why, by when it may be appealed), filing an appeal, the
//! reviewers' queue, and the outcome decided by another reviewer than the one who decided.
//! Overturning reverses the decision through the same service a reviewer would use (its
//! ledger entry, audit row and mail), then records the outcome, audited and mailed to the
//! appellant; a reversal already made is not made twice, and a decision superseded since the
//! appeal is never undone by it. Neither the reviewer who decided, nor the appellant, nor a
//! member of the issuer concerned decides an appeal.

use chrono::{DateTime, Utc};

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::appeal::{
    AppealOutcome, AppealRefusal, AppealStatus, AppealableDecision, check_appeal_reviewer, statement,
};
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::identity::REVIEW_LOCK;
use crate::domain::ids::{CollectionId, IssuerId, TokenId, UserId};
use crate::domain::issuer::IssuerDecision;
use crate::domain::report::ReportTarget;
use crate::domain::review_queue::{QueueView, held_by};
use crate::mail::Mail;
use crate::paths;
use crate::services::collections::review::{self as collection_review, Verdict};
use crate::services::issuers::review as issuer_review;
use crate::services::tokens::decisions::{self, Decision};
use crate::store::appeals::{Appeal, NewAppeal};
use crate::store::{self, StoreError};

/// How many open appeals the reviewers' queue shows at once.
pub const QUEUE_SHOWN: u64 = 100;

/// A standing decision against someone, as its notice shows it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub decision: AppealableDecision,
    /// The audit row that recorded it.
    pub audit_id: i64,
    pub decided_by: Option<UserId>,
    pub decided_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub reason_code: Option<String>,
    /// When the appeal window closes.
    pub closes: DateTime<Utc>,
    /// Its appeal, once filed.
    pub appeal: Option<Appeal>,
}

impl Notice {
    /// Whether it may still be appealed at `now`.
    pub fn appealable(&self, now: DateTime<Utc>) -> bool {
        self.appeal.is_none() && now < self.closes
    }
}

/// The decision that put `subject` in `status`, if that status is one an appeal can reverse.
pub async fn notice(services: &Services, subject: &AuditSubject, status: &str) -> ServiceResult<Option<Notice>> {
    let Some(decision) = AppealableDecision::ALL
        .into_iter()
        .find(|d| d.subject_kind() == subject.kind() && d.standing_status() == status)
    else {
        return Ok(None);
    };
    let Some(row) = store::audit::latest_of(&services.db, subject, &[decision.action()]).await? else {
        return Ok(None);
    };
    let reason_code = row
        .details
        .as_deref()
        .and_then(|json| serde_json::from_str::<AuditDetails>(json).ok())
        .and_then(|details| match details {
            AuditDetails::ReasonCode { code } => Some(code),
            _ => None,
        });
    Ok(Some(Notice {
        decision,
        audit_id: row.id,
        decided_by: row.actor_user_id.map(UserId),
        decided_at: row.at,
        closes: services.appeal_window.closes(row.at),
        reason: row.reason,
        reason_code,
        appeal: store::appeals::of_decision(&services.db, row.id).await?,
    }))
}

/// What a person may appeal about: the subject, its status now, its page and its name.
#[derive(Debug, Clone)]
pub struct Standing {
    pub subject: AuditSubject,
    pub status: &'static str,
    pub page: String,
    pub name: String,
}

/// What `user` may appeal about `target` (written as a report's target is): an issuer they
/// belong to, a collection of such an issuer, or a collectible they hold; not found otherwise.
pub async fn standing(services: &Services, user: UserId, target: ReportTarget) -> ServiceResult<Standing> {
    let member_of = |issuer: IssuerId| async move {
        store::issuers::membership(&services.db, issuer, user)
            .await
            .map(|m| m.is_some())
    };
    match target {
        ReportTarget::Issuer(id) => {
            let issuer = store::issuers::find(&services.db, id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            if !member_of(id).await? {
                return Err(ServiceError::NotFound);
            }
            Ok(Standing {
                subject: AuditSubject::Issuer(id),
                status: issuer.status.as_str(),
                page: paths::console(id),
                name: issuer.legal_name,
            })
        }
        ReportTarget::Collection(id) => {
            let collection = store::collections::find(&services.db, id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            if !member_of(collection.issuer).await? {
                return Err(ServiceError::NotFound);
            }
            Ok(Standing {
                subject: AuditSubject::Collection(id),
                status: collection.status.as_str(),
                page: paths::console_collection(collection.issuer, id),
                name: collection.terms.title,
            })
        }
        ReportTarget::Token(id) => {
            let token = store::tokens::find(&services.db, id)
                .await?
                .filter(|t| t.holder == user)
                .ok_or(ServiceError::NotFound)?;
            let collection = store::collections::find(&services.db, token.collection)
                .await?
                .ok_or(ServiceError::NotFound)?;
            Ok(Standing {
                subject: AuditSubject::Token(id),
                status: token.status.as_str(),
                page: paths::token(id),
                name: format!("{} #{}", collection.terms.title, token.serial),
            })
        }
    }
}

/// Whether an appeal about `subject` is open, for the "under appeal" mark on public pages.
pub async fn under_appeal(services: &Services, subject: &AuditSubject) -> ServiceResult<bool> {
    let id = subject.id().parse().unwrap_or(0);
    Ok(store::appeals::open_about(&services.db, subject.kind(), id).await?)
}

/// Files an appeal against the decision standing on `subject` (in `status`), by someone the
/// caller authorised (an issuer's member, a collectible's holder).
pub async fn file(
    services: &Services,
    appellant: &Actor,
    subject: &AuditSubject,
    status: &str,
    text: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<Appeal, AppealRefusal>> {
    let statement = match statement(text) {
        Ok(statement) => statement,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Some(notice) = notice(services, subject, status).await? else {
        return Ok(Err(AppealRefusal::NothingToAppeal));
    };
    if notice.appeal.is_some() {
        return Ok(Err(AppealRefusal::AlreadyAppealed));
    }
    if !notice.appealable(now) {
        return Ok(Err(AppealRefusal::WindowClosed));
    }
    let subject_id: i64 = subject.id().parse().map_err(|_| ServiceError::BadInput)?;
    let txn = store::begin(&services.db).await?;
    let appeal = match store::appeals::file(
        &txn,
        NewAppeal {
            decision: notice.decision,
            subject_id,
            decision_audit_id: notice.audit_id,
            decided_by: notice.decided_by,
            appellant: appellant.user,
            statement,
        },
        now,
    )
    .await
    {
        Ok(appeal) => appeal,
        Err(StoreError::Conflict(_)) => return Ok(Err(AppealRefusal::AlreadyAppealed)),
        Err(err) => return Err(err.into()),
    };
    let mut entry = appellant.audit(AuditAction::AppealFiled, AuditSubject::Appeal(appeal.id));
    entry.after = Some(AppealStatus::Open.as_str());
    entry.details = Some(AuditDetails::AppealFiled {
        decision: notice.decision.as_str().to_owned(),
        target: format!("{}:{}", subject.kind(), subject.id()),
    });
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    tracing::info!(appeal = appeal.id, decision = notice.decision.as_str(), "appeal filed");
    Ok(Ok(appeal))
}

pub async fn find(services: &Services, id: i64) -> ServiceResult<Appeal> {
    store::appeals::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// The open appeals `view` shows, the longest waiting first.
pub async fn queue(services: &Services, view: &QueueView) -> ServiceResult<Vec<Appeal>> {
    Ok(store::appeals::queue(&services.db, view, QUEUE_SHOWN).await?)
}

/// How many appeals wait for a decision.
pub async fn waiting(services: &Services) -> ServiceResult<u64> {
    Ok(store::appeals::waiting(&services.db).await?)
}

/// Whether `reviewer` holds the live lock on `appeal`.
pub fn holds_claim(appeal: &Appeal, reviewer: UserId, now: DateTime<Utc>) -> bool {
    held_by(appeal.claimed_by, appeal.claimed_until, reviewer, now)
}

/// The issuer the appealed decision concerns.
async fn issuer_of(services: &Services, appeal: &Appeal) -> ServiceResult<IssuerId> {
    let collection = |id| async move {
        store::collections::find(&services.db, id)
            .await?
            .map(|c| c.issuer)
            .ok_or(ServiceError::NotFound)
    };
    match appeal.decision {
        AppealableDecision::IssuerSuspended => Ok(IssuerId(appeal.subject_id)),
        AppealableDecision::CollectionFrozen | AppealableDecision::CollectionRejected => {
            collection(CollectionId(appeal.subject_id)).await
        }
        AppealableDecision::TokenFrozen => {
            let token = store::tokens::find(&services.db, TokenId(appeal.subject_id))
                .await?
                .ok_or(ServiceError::NotFound)?;
            collection(token.collection).await
        }
    }
}

/// Refuses the appeal to a reviewer who is one of its parties or belongs to the issuer.
async fn check_reviewer(services: &Services, reviewer: UserId, appeal: &Appeal) -> ServiceResult<()> {
    check_appeal_reviewer(reviewer, appeal.parties())?;
    if issuer_review::is_member(services, reviewer, issuer_of(services, appeal).await?).await? {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

/// Takes the review lock on an open appeal, unless the reviewer may not decide it.
pub async fn claim(services: &Services, reviewer: &Actor, id: i64, now: DateTime<Utc>) -> ServiceResult<()> {
    let appeal = find(services, id).await?;
    check_reviewer(services, reviewer.user, &appeal).await?;
    let txn = store::begin(&services.db).await?;
    if !store::appeals::claim(&txn, id, reviewer.user, now, now + REVIEW_LOCK).await? {
        return Err(ServiceError::ReviewConflict);
    }
    store::audit::append(
        &txn,
        reviewer.audit(AuditAction::AppealClaimed, AuditSubject::Appeal(id)),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(())
}

/// Where the appellant sees the decision: their console or their collectible.
async fn appellant_page(services: &Services, appeal: &Appeal) -> ServiceResult<String> {
    Ok(match appeal.decision {
        AppealableDecision::IssuerSuspended => paths::console(IssuerId(appeal.subject_id)),
        AppealableDecision::CollectionFrozen | AppealableDecision::CollectionRejected => {
            let id = CollectionId(appeal.subject_id);
            let collection = store::collections::find(&services.db, id)
                .await?
                .ok_or(ServiceError::NotFound)?;
            paths::console_collection(collection.issuer, id)
        }
        AppealableDecision::TokenFrozen => paths::token(TokenId(appeal.subject_id)),
    })
}

/// Reverses the decision appealed. A reversal made before (the subject already in its
/// reversed status) is not made twice; a decision that no longer stands as appealed (a newer
/// decision on the subject, or a harsher one such as a revocation) is a conflict, never undone.
async fn reverse(
    services: &Services,
    reviewer: &Actor,
    appeal: &Appeal,
    reason: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let decision = appeal.decision;
    let subject = match decision {
        AppealableDecision::IssuerSuspended => AuditSubject::Issuer(IssuerId(appeal.subject_id)),
        AppealableDecision::CollectionFrozen | AppealableDecision::CollectionRejected => {
            AuditSubject::Collection(CollectionId(appeal.subject_id))
        }
        AppealableDecision::TokenFrozen => AuditSubject::Token(TokenId(appeal.subject_id)),
    };
    let latest = store::audit::latest_of(&services.db, &subject, &[decision.action()]).await?;
    if latest.map(|row| row.id) != Some(appeal.decision_audit_id) {
        return Err(ServiceError::ReviewConflict);
    }
    let status = |status: &str| -> ServiceResult<bool> {
        if status == decision.standing_status() {
            Ok(true)
        } else if status == decision.reversed_status() {
            Ok(false)
        } else {
            Err(ServiceError::ReviewConflict)
        }
    };
    match decision {
        AppealableDecision::IssuerSuspended => {
            let issuer = store::issuers::find(&services.db, IssuerId(appeal.subject_id))
                .await?
                .ok_or(ServiceError::NotFound)?;
            if status(issuer.status.as_str())? {
                issuer_review::decide(
                    services,
                    reviewer,
                    issuer.id,
                    IssuerDecision::Reinstate,
                    reason,
                    issuer.version,
                    now,
                )
                .await?;
            }
        }
        AppealableDecision::CollectionFrozen | AppealableDecision::CollectionRejected => {
            let collection = store::collections::find(&services.db, CollectionId(appeal.subject_id))
                .await?
                .ok_or(ServiceError::NotFound)?;
            if status(collection.status.as_str())? {
                let verdict = match decision {
                    AppealableDecision::CollectionFrozen => Verdict::Unfreeze,
                    _ => Verdict::Reconsider,
                };
                collection_review::decide(
                    services,
                    reviewer,
                    collection.id,
                    verdict,
                    None,
                    reason,
                    collection.version,
                    now,
                )
                .await?;
            }
        }
        AppealableDecision::TokenFrozen => {
            let token = store::tokens::find(&services.db, TokenId(appeal.subject_id))
                .await?
                .ok_or(ServiceError::NotFound)?;
            if status(token.status.as_str())? {
                decisions::decide(services, reviewer, token.id, Decision::Unfreeze, reason, now).await?;
            }
        }
    }
    Ok(())
}

/// Decides an appeal the reviewer holds, at `version`: overturning reverses the decision first.
pub async fn decide(
    services: &Services,
    reviewer: &Actor,
    id: i64,
    outcome: AppealOutcome,
    reason: &str,
    version: i32,
    now: DateTime<Utc>,
) -> ServiceResult<AppealStatus> {
    let appeal = find(services, id).await?;
    check_reviewer(services, reviewer.user, &appeal).await?;
    let next = appeal.status.decide(reviewer.user, appeal.parties(), outcome, reason)?;
    if !holds_claim(&appeal, reviewer.user, now) || appeal.version != version {
        return Err(ServiceError::ReviewConflict);
    }
    // Everything the outcome's record needs is read before the reversal, which commits on its
    // own: what can still fail after it is the write of the outcome, which a retry completes
    // without reversing twice.
    let appellant = store::users::find(&services.db, appeal.appellant).await?;
    let link = services.absolute_url(&appellant_page(services, &appeal).await?);
    if outcome == AppealOutcome::Overturn {
        reverse(services, reviewer, &appeal, reason, now).await?;
    }
    let action = match outcome {
        AppealOutcome::Uphold => AuditAction::AppealUpheld,
        AppealOutcome::Overturn => AuditAction::AppealOverturned,
    };
    let txn = store::begin(&services.db).await?;
    if !store::appeals::decide(&txn, id, reviewer.user, version, &next, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let entry = AuditEntry {
        before: Some(appeal.status.as_str()),
        after: Some(next.as_str()),
        reason: next.reason().map(str::to_owned),
        ..reviewer.audit(action, AuditSubject::Appeal(id))
    };
    store::audit::append(&txn, entry, now).await?;
    if let Some(appellant) = appellant {
        let mail = Mail::AppealDecided {
            link: &link,
            reason: next.reason().unwrap_or_default(),
            overturned: outcome == AppealOutcome::Overturn,
        };
        services
            .queue_mail(&txn, &appellant.email, appellant.locale, mail, now)
            .await?;
    }
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(reviewer = %reviewer.user, appeal = id, to = next.as_str(), "appeal decided");
    Ok(next)
}
