//! Reports (投诉举报): filing one (anyone, about something public), the reviewers' queue with
//! its review lock, and the decision, audited and mailed to the reporter if they left an
//! address. Acting on what a report names (freezing a collection or a token, suspending an
//! issuer) is the reviewer's usual decision on that page: illegal content is taken down at
//! once, and the report is decided after.

use chrono::{DateTime, Utc};

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::account::Email;
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::identity::REVIEW_LOCK;
use crate::domain::ids::UserId;
use crate::domain::report::{ReportCategory, ReportDecision, ReportStatus, ReportTarget, Ticket};
use crate::domain::review_queue::{QueueView, held_by};
use crate::domain::screening::ReasonCode;
use crate::i18n::Locale;
use crate::mail::Mail;
use crate::store::{self, reports::NewReport, reports::Report};

/// How many open reports the reviewers' queue shows at once.
pub const QUEUE_SHOWN: u64 = 100;

/// What a person reports.
#[derive(Debug, Clone)]
pub struct Filing {
    pub target: ReportTarget,
    pub category: ReportCategory,
    pub description: String,
    pub contact: Option<Email>,
    pub locale: Locale,
}

/// Whether `target` is something the public can see, and so report.
pub async fn reportable(services: &Services, target: ReportTarget) -> ServiceResult<bool> {
    Ok(match target {
        ReportTarget::Collection(id) => store::collections::find(&services.db, id)
            .await?
            .is_some_and(|c| c.status.is_public()),
        ReportTarget::Token(id) => store::tokens::find(&services.db, id).await?.is_some(),
        ReportTarget::Issuer(id) => store::issuers::find(&services.db, id)
            .await?
            .is_some_and(|i| i.status.is_active()),
    })
}

/// Files a report, by `reporter` if signed in; [`ServiceError::NotFound`] if its target is not
/// public.
pub async fn file(
    services: &Services,
    reporter: Option<&Actor>,
    filing: Filing,
    request_id: Option<String>,
    now: DateTime<Utc>,
) -> ServiceResult<Report> {
    if !reportable(services, filing.target).await? {
        return Err(ServiceError::NotFound);
    }
    let mut random = [0u8; 10];
    getrandom::fill(&mut random).map_err(ServiceError::internal)?;
    let details = AuditDetails::ReportFiled {
        target: filing.target.to_string(),
        category: filing.category.as_str().to_owned(),
    };
    let txn = store::begin(&services.db).await?;
    let report = store::reports::file(
        &txn,
        NewReport {
            ticket: Ticket::generate(random),
            target: filing.target,
            category: filing.category,
            description: filing.description,
            contact: filing.contact,
            reporter: reporter.map(|r| r.user),
            locale: filing.locale,
        },
        now,
    )
    .await?;
    let mut entry = AuditEntry::new(
        reporter.map(|r| r.user),
        AuditAction::ReportFiled,
        AuditSubject::Report(report.id),
        request_id,
    );
    entry.after = Some(ReportStatus::Open.as_str());
    entry.details = Some(details);
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    tracing::info!(report = report.id, target = %report.target, category = report.category.as_str(), "report filed");
    Ok(report)
}

pub async fn by_ticket(services: &Services, ticket: &Ticket) -> ServiceResult<Report> {
    store::reports::by_ticket(&services.db, ticket)
        .await?
        .ok_or(ServiceError::NotFound)
}

pub async fn find(services: &Services, id: i64) -> ServiceResult<Report> {
    store::reports::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// The open reports `view` shows, illegal content first.
pub async fn queue(services: &Services, view: &QueueView) -> ServiceResult<Vec<Report>> {
    Ok(store::reports::queue(&services.db, view, QUEUE_SHOWN).await?)
}

/// How many reports wait for a decision.
pub async fn waiting(services: &Services) -> ServiceResult<u64> {
    Ok(store::reports::waiting(&services.db).await?)
}

/// Whether `reviewer` holds the live lock on `report`.
pub fn holds_claim(report: &Report, reviewer: UserId, now: DateTime<Utc>) -> bool {
    held_by(report.claimed_by, report.claimed_until, reviewer, now)
}

/// Takes the review lock on an open report for [`REVIEW_LOCK`].
pub async fn claim(services: &Services, reviewer: &Actor, id: i64, now: DateTime<Utc>) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    if !store::reports::claim(&txn, id, reviewer.user, now, now + REVIEW_LOCK).await? {
        return Err(ServiceError::ReviewConflict);
    }
    store::audit::append(
        &txn,
        reviewer.audit(AuditAction::ReportClaimed, AuditSubject::Report(id)),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(())
}

/// Decides a report the reviewer holds, at `version`; the reporter is mailed if they left an
/// address.
#[allow(clippy::too_many_arguments)]
pub async fn decide(
    services: &Services,
    reviewer: &Actor,
    id: i64,
    decision: ReportDecision,
    code: ReasonCode,
    reason: &str,
    version: i32,
    now: DateTime<Utc>,
) -> ServiceResult<ReportStatus> {
    let report = find(services, id).await?;
    let next = report.status.decide(decision, code, reason)?;
    let action = match decision {
        ReportDecision::Uphold => AuditAction::ReportUpheld,
        ReportDecision::Dismiss => AuditAction::ReportDismissed,
    };
    let txn = store::begin(&services.db).await?;
    if !store::reports::decide(&txn, id, reviewer.user, version, &next, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let entry = AuditEntry {
        before: Some(report.status.as_str()),
        after: Some(next.as_str()),
        reason: next.reason().map(str::to_owned),
        details: Some(AuditDetails::ReasonCode {
            code: code.as_str().to_owned(),
        }),
        ..reviewer.audit(action, AuditSubject::Report(id))
    };
    store::audit::append(&txn, entry, now).await?;
    if let Some(contact) = &report.contact {
        let link = services.absolute_url(&format!("/reports/{}", report.ticket.as_str()));
        let mail = Mail::ReportDecided {
            link: &link,
            reason: next.reason().unwrap_or_default(),
            upheld: decision == ReportDecision::Uphold,
        };
        services.queue_mail(&txn, contact, report.locale, mail, now).await?;
    }
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(reviewer = %reviewer.user, report = id, to = next.as_str(), "report decided");
    Ok(next)
}
