//! Reviewing issuers: applications oldest first, claiming a case, and decisions (approve or
//! reject an application; suspend, reinstate or revoke an approved issuer). Every decision is
//! mailed to the applicant with its reason, and those that change whether an issuer may issue
//! go on the public ledger. A reviewer never decides for an issuer they belong to.

use chrono::{DateTime, Utc};

use crate::domain::age::beijing_date;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::identity::REVIEW_LOCK;
use crate::domain::ids::{IssuerId, UserId};
use crate::domain::issuer::{Issuer, IssuerDecision, IssuerEvent, IssuerStatus, check_reviewer};
use crate::domain::page::{Page, PageSize, TimeKey};
use crate::domain::review_queue::{QueueView, held_by};
use crate::ledger::entry::EntryBody;
use crate::mail::{IssuerNotice, Mail};
use crate::paths;
use crate::services::ledger::log;
use crate::services::{Actor, ServiceError, ServiceResult, Services};
use crate::store;

/// Whether `reviewer` belongs to `issuer` (and so may not decide for it).
pub async fn is_member(services: &Services, reviewer: UserId, issuer: IssuerId) -> ServiceResult<bool> {
    let members: Vec<UserId> = store::issuers::members(&services.db, issuer)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    Ok(check_reviewer(reviewer, &members).is_err())
}

async fn check_not_member(services: &Services, reviewer: UserId, issuer: IssuerId) -> ServiceResult<()> {
    if is_member(services, reviewer, issuer).await? {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

/// A page of the applications `view` shows, oldest first, after `after` if given.
pub async fn queue(
    services: &Services,
    view: &QueueView,
    after: Option<TimeKey>,
    size: PageSize,
) -> ServiceResult<Page<Issuer, TimeKey>> {
    let rows = store::issuers::queue(&services.db, view, after, size.fetch()).await?;
    Ok(Page::from_rows(rows, size, |issuer| TimeKey {
        // A submitted application always has its submission time.
        at: issuer.submitted_at.unwrap_or(DateTime::<Utc>::MIN_UTC),
        id: issuer.id.0,
    }))
}

/// How many applications wait for a decision.
pub async fn waiting(services: &Services) -> ServiceResult<u64> {
    Ok(store::issuers::waiting(&services.db).await?)
}

/// A page of the issuers that have been decided, newest first, older than `before` if given.
pub async fn decided(
    services: &Services,
    before: Option<IssuerId>,
    size: PageSize,
) -> ServiceResult<Page<Issuer, IssuerId>> {
    let rows = store::issuers::decided(&services.db, before, size.fetch()).await?;
    Ok(Page::from_rows(rows, size, |issuer| issuer.id))
}

/// Takes the review lock on an application for [`REVIEW_LOCK`].
pub async fn claim(services: &Services, reviewer: &Actor, issuer: IssuerId, now: DateTime<Utc>) -> ServiceResult<()> {
    check_not_member(services, reviewer.user, issuer).await?;
    store::issuers::find(&services.db, issuer)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let txn = store::begin(&services.db).await?;
    if !store::issuers::claim(&txn, issuer, reviewer.user, now, now + REVIEW_LOCK).await? {
        return Err(ServiceError::ReviewConflict);
    }
    store::audit::append(
        &txn,
        reviewer.audit(AuditAction::IssuerClaimed, AuditSubject::Issuer(issuer)),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(())
}

/// Whether `reviewer` holds the live review lock of an application.
pub fn holds_claim(issuer: &Issuer, reviewer: UserId, now: DateTime<Utc>) -> bool {
    issuer.status == IssuerStatus::Submitted && held_by(issuer.claimed_by, issuer.claimed_until, reviewer, now)
}

/// A reviewer's decision on the issuer at `version`, mailed to its applicant; answers the
/// status it took the issuer to.
pub async fn decide(
    services: &Services,
    reviewer: &Actor,
    id: IssuerId,
    decision: IssuerDecision,
    reason: &str,
    version: i32,
    now: DateTime<Utc>,
) -> ServiceResult<IssuerStatus> {
    check_not_member(services, reviewer.user, id).await?;
    let issuer = store::issuers::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let current = &issuer.status;
    let next = decision.apply(current, reason)?;
    let (action, notice) = match decision {
        IssuerDecision::Approve => (AuditAction::IssuerApproved, IssuerNotice::Approved),
        IssuerDecision::Reject => (AuditAction::IssuerRejected, IssuerNotice::Rejected),
        IssuerDecision::Suspend => (AuditAction::IssuerSuspended, IssuerNotice::Suspended),
        IssuerDecision::Reinstate => (AuditAction::IssuerReinstated, IssuerNotice::Reinstated),
        IssuerDecision::Revoke => (AuditAction::IssuerRevoked, IssuerNotice::Revoked),
    };
    let applicant = store::users::find(&services.db, issuer.created_by)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let txn = store::begin(&services.db).await?;
    if !store::issuers::transition(&txn, id, version, current, &next, reviewer.user, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    if decision == IssuerDecision::Approve {
        // The reviewer checked the filings with the application: undated ones are checked
        // again within the re-check period from today.
        store::issuer_filings::checked(&txn, id, beijing_date(now)).await?;
    }
    let reason = next.reason().map(str::to_owned);
    let entry = AuditEntry {
        before: Some(current.as_str()),
        after: Some(next.as_str()),
        reason: reason.clone(),
        ..reviewer.audit(action, AuditSubject::Issuer(id))
    };
    store::audit::append(&txn, entry, now).await?;
    if let Some(event) = decision.on_ledger() {
        log::queue_entry(&txn, ledger_entry(event, &issuer), now).await?;
    }
    let link = services.absolute_url(&paths::console(id));
    let mail = Mail::IssuerStatus {
        link: &link,
        issuer: &issuer.legal_name,
        status: notice,
        reason: reason.as_deref().unwrap_or_default(),
    };
    services
        .queue_mail(&txn, &applicant.email, applicant.locale, mail, now)
        .await?;
    store::commit(txn).await?;
    services.mail_queued();
    services.entries_queued();
    tracing::info!(reviewer = %reviewer.user, issuer = %id, to = next.as_str(), "issuer status changed");
    Ok(next)
}

/// The ledger entry of an issuer's event.
fn ledger_entry(event: IssuerEvent, issuer: &Issuer) -> EntryBody {
    let issuer_id = issuer.id.0 as u64;
    match event {
        IssuerEvent::Approved => EntryBody::IssuerApproved {
            issuer_id,
            credit_code: issuer.credit_code.clone(),
            legal_name: issuer.legal_name.clone(),
        },
        IssuerEvent::Suspended => EntryBody::IssuerSuspended { issuer_id },
        IssuerEvent::Reinstated => EntryBody::IssuerReinstated { issuer_id },
        IssuerEvent::Revoked => EntryBody::IssuerRevoked { issuer_id },
    }
}
