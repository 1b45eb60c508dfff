//! Renewing an issuer's filings: its admins send new validity dates, and a reviewer who is not
//! a member of the issuer accepts them (claims resume if a filing had run out, on the ledger
//! too) or refuses them with a reason. Both are audited and mailed to the applicant.

use chrono::{DateTime, Utc};

use super::review::is_member;
use crate::domain::age::beijing_date;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::filing_dates::{Filing, FilingDates};
use crate::domain::issuer::{FilingRenewal, Issuer};
use crate::ledger::entry::EntryBody;
use crate::mail::FilingNotice;
use crate::services::filings::IssuerFilingsNotice;
use crate::services::ledger::log;
use crate::services::{Actor, ServiceError, ServiceResult, Services};
use crate::store;

/// Puts `dates` before the reviewers for `issuer` (an approved or suspended one, at
/// `version`), replacing a renewal not yet decided.
pub async fn send_renewal(
    services: &Services,
    admin: &Actor,
    issuer: &Issuer,
    dates: &FilingDates,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    if !store::issuer_filings::send_renewal(&txn, issuer.id, issuer.version, dates, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let entry = admin.audit(AuditAction::IssuerFilingsRenewalSent, AuditSubject::Issuer(issuer.id));
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    tracing::info!(issuer = %issuer.id, "filings renewal sent");
    Ok(())
}

/// Issuers with a renewal waiting for a reviewer, oldest first.
pub async fn renewals(services: &Services) -> ServiceResult<Vec<Issuer>> {
    Ok(store::issuer_filings::renewals(&services.db).await?)
}

/// A reviewer's decision on the renewal `issuer` has waiting at `version`: accepted, the
/// renewal's dates become the issuer's and a lapse is lifted; refused (with `reason`), it is
/// dropped. A renewal whose dates passed while it waited cannot be accepted.
pub async fn decide_renewal(
    services: &Services,
    reviewer: &Actor,
    issuer: &Issuer,
    accept: bool,
    reason: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    if is_member(services, reviewer.user, issuer.id).await? {
        return Err(ServiceError::Forbidden);
    }
    let Some(FilingRenewal { dates, .. }) = &issuer.filings.renewal else {
        return Err(ServiceError::ReviewConflict);
    };
    let today = beijing_date(now);
    let reason = reason.trim();
    if accept
        && Filing::ALL
            .into_iter()
            .any(|f| dates.get(f).is_some_and(|day| day < today))
    {
        return Err(ServiceError::RenewalOutdated);
    }
    if !accept && reason.is_empty() {
        return Err(ServiceError::BadInput);
    }
    let applicant = store::users::find(&services.db, issuer.created_by)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let txn = store::begin(&services.db).await?;
    let changed = if accept {
        store::issuer_filings::accept_renewal(&txn, issuer.id, issuer.version, dates, today).await?
    } else {
        store::issuer_filings::refuse_renewal(&txn, issuer.id, issuer.version).await?
    };
    if !changed {
        return Err(ServiceError::ReviewConflict);
    }
    let lapsed = issuer.filings.lapsed();
    let (action, notice) = if accept {
        (AuditAction::IssuerFilingsRenewed, FilingNotice::Renewed)
    } else {
        (AuditAction::IssuerFilingsRenewalRefused, FilingNotice::RenewalRefused)
    };
    let entry = AuditEntry {
        reason: (!accept).then(|| reason.to_owned()),
        ..reviewer.audit(action, AuditSubject::Issuer(issuer.id))
    };
    store::audit::append(&txn, entry, now).await?;
    if accept && lapsed {
        let issuer_id = issuer.id.0 as u64;
        log::queue_entry(&txn, EntryBody::IssuerFilingsRenewed { issuer_id }, now).await?;
    }
    // Accepted, the first of the new dates; refused, the first of the dates that stand.
    let recheck = services.filings.recheck;
    let deadline = if accept {
        dates.checked_deadline(today, recheck)
    } else {
        let checked_on = issuer.filings.checked_on.unwrap_or(today);
        issuer.filings.dates.checked_deadline(checked_on, recheck)
    };
    let notice = IssuerFilingsNotice {
        notice,
        deadline,
        reason,
    };
    notice.queue(services, &txn, issuer, &applicant, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    if accept && lapsed {
        services.entries_queued();
    }
    tracing::info!(reviewer = %reviewer.user, issuer = %issuer.id, accept, "filings renewal decided");
    Ok(())
}
