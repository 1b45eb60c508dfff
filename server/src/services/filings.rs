//! Filings that run out. The daily pass ([`sweep`]) reminds each issuer 30, 7 and 1 days
//! before its first filing runs out and, the day after, pauses claims on its collections in
//! one transaction with an audit row, a ledger entry and a mail; the operator's own filings
//! (settings) remind every administrator the same way and pause every claim. Claims check
//! [`FilingRules::current`] themselves, so they pause at the turn of the day even before the
//! pass has recorded it.

use chrono::{DateTime, NaiveDate, Utc};

use super::ledger::log;
use super::{ServiceResult, Services};
use crate::domain::age::beijing_date;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::filing_dates::{Deadline, FilingDates, FilingStanding, RecheckPeriod, SentReminder};
use crate::domain::issuer::{Issuer, IssuerFilings};
use crate::domain::role::Role;
use crate::ledger::entry::EntryBody;
use crate::mail::{FilingNotice, Mail};
use crate::paths;
use crate::store::users::User;
use crate::store::{self, Connection};

/// Reminders about the operator's filings are remembered under this subject.
const OPERATOR: &str = "operator";

/// The platform's rules for filings: how often undated ones are checked again, and the
/// operator's own.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilingRules {
    pub recheck: RecheckPeriod,
    pub operator: FilingDates,
    pub operator_checked_on: Option<NaiveDate>,
}

impl FilingRules {
    /// The operator's filing that runs out first, if any has a last day.
    pub fn operator_deadline(&self) -> Option<Deadline> {
        self.operator.deadline(self.operator_checked_on, self.recheck)
    }

    /// Where the operator's filings stand at `now`, once they are due soon or ran out.
    pub fn operator_alert(&self, now: DateTime<Utc>) -> Option<FilingStanding> {
        let standing = self.operator_deadline()?.standing(beijing_date(now));
        (standing != FilingStanding::Current).then_some(standing)
    }

    /// Whether claims on an issuer's collections may go on at `now`: neither its filings nor
    /// the operator's ran out.
    pub fn current(&self, issuer: &IssuerFilings, now: DateTime<Utc>) -> bool {
        let today = beijing_date(now);
        let ran_out = |deadline: Option<Deadline>| {
            matches!(deadline.map(|d| d.standing(today)), Some(FilingStanding::Lapsed { .. }))
        };
        !issuer.lapsed() && !ran_out(issuer.deadline(self.recheck)) && !ran_out(self.operator_deadline())
    }
}

/// One daily pass at `now`; failures are logged and tried again at the next pass.
pub async fn sweep(services: &Services, now: DateTime<Utc>) {
    if let Err(err) = sweep_issuers(services, now).await {
        tracing::warn!(error = %err, "checking issuers' filings failed");
    }
    if let Err(err) = sweep_operator(services, now).await {
        tracing::warn!(error = %err, "checking the operator's filings failed");
    }
}

async fn sweep_issuers(services: &Services, now: DateTime<Utc>) -> ServiceResult<()> {
    let today = beijing_date(now);
    for issuer in store::issuer_filings::kept(&services.db).await? {
        let Some(deadline) = issuer.filings.deadline(services.filings.recheck) else {
            continue;
        };
        let done = match deadline.standing(today) {
            FilingStanding::Lapsed { .. } if !issuer.filings.lapsed() => lapse(services, &issuer, deadline, now).await,
            FilingStanding::DueSoon { .. } => remind(services, &issuer, deadline, today, now).await,
            _ => Ok(()),
        };
        // One issuer failing does not keep the others waiting for the next pass.
        if let Err(err) = done {
            tracing::warn!(issuer = %issuer.id, error = %err, "checking an issuer's filings failed");
        }
    }
    Ok(())
}

/// Pauses claims on `issuer`'s collections: its `deadline` passed.
async fn lapse(services: &Services, issuer: &Issuer, deadline: Deadline, now: DateTime<Utc>) -> ServiceResult<()> {
    let Some(applicant) = store::users::find(&services.db, issuer.created_by).await? else {
        return Ok(());
    };
    let txn = store::begin(&services.db).await?;
    if !store::issuer_filings::lapse(&txn, issuer.id, issuer.version, now).await? {
        // Renewed or changed since it was read: the next pass sees it as it is.
        return Ok(());
    }
    let entry = AuditEntry::new(
        None,
        AuditAction::IssuerFilingsLapsed,
        AuditSubject::Issuer(issuer.id),
        None,
    );
    store::audit::append(&txn, entry, now).await?;
    let issuer_id = issuer.id.0 as u64;
    log::queue_entry(&txn, EntryBody::IssuerFilingsLapsed { issuer_id }, now).await?;
    let notice = IssuerFilingsNotice {
        notice: FilingNotice::Lapsed,
        deadline,
        reason: "",
    };
    notice.queue(services, &txn, issuer, &applicant, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    services.entries_queued();
    tracing::info!(issuer = %issuer.id, filing = deadline.filing.as_str(), "issuer's filings ran out: claims paused");
    Ok(())
}

/// Mails `issuer`'s applicant the reminder due on `today`, once.
async fn remind(
    services: &Services,
    issuer: &Issuer,
    deadline: Deadline,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let subject = format!("issuer:{}", issuer.id);
    let sent = store::issuer_filings::reminder(&services.db, &subject).await?;
    let Some(days_before) = deadline.reminder_due(today, sent) else {
        return Ok(());
    };
    let Some(applicant) = store::users::find(&services.db, issuer.created_by).await? else {
        return Ok(());
    };
    let txn = store::begin(&services.db).await?;
    let reminder = SentReminder {
        last_day: deadline.last_day,
        days_before,
    };
    if !store::issuer_filings::remember(&txn, &subject, reminder, now).await? {
        return Ok(());
    }
    let notice = IssuerFilingsNotice {
        notice: FilingNotice::Due,
        deadline,
        reason: "",
    };
    notice.queue(services, &txn, issuer, &applicant, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    Ok(())
}

/// A mail to an issuer's applicant about its filings: what happened, the filing that runs out
/// first, and a refusal's reason.
pub(crate) struct IssuerFilingsNotice<'a> {
    pub notice: FilingNotice,
    pub deadline: Deadline,
    pub reason: &'a str,
}

impl IssuerFilingsNotice<'_> {
    /// Queues the mail to `applicant` in the caller's transaction, linking to the issuer's
    /// filings page.
    pub(crate) async fn queue(
        &self,
        services: &Services,
        conn: &impl Connection,
        issuer: &Issuer,
        applicant: &User,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let link = services.absolute_url(&paths::console_filings(issuer.id));
        let mail = Mail::Filings {
            link: &link,
            issuer: &issuer.legal_name,
            notice: self.notice,
            filing: self.deadline.filing,
            last_day: self.deadline.last_day,
            reason: self.reason,
        };
        services
            .queue_mail(conn, &applicant.email, applicant.locale, mail, now)
            .await
    }
}

/// Mails every administrator about the operator's filings: each reminder once, and once
/// when one ran out (remembered as a reminder 0 days ahead).
async fn sweep_operator(services: &Services, now: DateTime<Utc>) -> ServiceResult<()> {
    let Some(deadline) = services.filings.operator_deadline() else {
        return Ok(());
    };
    let today = beijing_date(now);
    let sent = store::issuer_filings::reminder(&services.db, OPERATOR).await?;
    let (notice, days_before) = match deadline.standing(today) {
        FilingStanding::Lapsed { .. } => (FilingNotice::OperatorLapsed, 0),
        FilingStanding::DueSoon { .. } => match deadline.reminder_due(today, sent) {
            Some(days) => (FilingNotice::OperatorDue, days),
            None => return Ok(()),
        },
        FilingStanding::Current => return Ok(()),
    };
    let admins = store::users::holding(&services.db, Role::Admin).await?;
    if admins.is_empty() {
        // Nobody to tell yet: the next pass tells the first administrator.
        return Ok(());
    }
    let txn = store::begin(&services.db).await?;
    let reminder = SentReminder {
        last_day: deadline.last_day,
        days_before,
    };
    if !store::issuer_filings::remember(&txn, OPERATOR, reminder, now).await? {
        return Ok(());
    }
    let link = services.absolute_url("/admin/users");
    for admin in &admins {
        let mail = Mail::Filings {
            link: &link,
            issuer: "",
            notice,
            filing: deadline.filing,
            last_day: deadline.last_day,
            reason: "",
        };
        services.queue_mail(&txn, &admin.email, admin.locale, mail, now).await?;
    }
    store::commit(txn).await?;
    services.mail_queued();
    Ok(())
}
