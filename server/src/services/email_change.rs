//! Changing an account's email address (see [`crate::domain::email_change`]): requested with
//! the password (failures count towards the log-in throttle), made from a link mailed to the
//! new address, and taken back from a link mailed to the old one. Each step ends every
//! session of the account, is audited and is mailed in the same transaction.

use chrono::{DateTime, Utc};

use super::accounts::{confirm_password, issue_link, use_link};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::account::Email;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::email_change::{EmailChangeStatus, NewAddressRefusal, may_change, new_address};
use crate::domain::email_token::TokenPurpose;
use crate::domain::ids::UserId;
use crate::mail::Mail;
use crate::store::{self, StoreError};

/// Why a change of address was not requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeRefused {
    WrongPassword,
    Address(NewAddressRefusal),
    /// Another account has the new address.
    Taken,
    /// The address changed lately and the old one can still undo that.
    TooSoon,
}

/// Asks for `actor`'s address to become `raw_new`: with the right `password`, mails the new
/// address a link that makes the change (a newer request replaces one still pending).
/// `client` is the client's pseudonym, under which wrong passwords are counted.
pub async fn request(
    services: &Services,
    actor: &Actor,
    password: String,
    raw_new: &str,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), ChangeRefused>> {
    let user = store::users::find(&services.db, actor.user)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !confirm_password(services, &user, password, client, now).await? {
        return Ok(Err(ChangeRefused::WrongPassword));
    }
    let last = store::email_changes::latest(&services.db, user.id, EmailChangeStatus::Confirmed).await?;
    if may_change(last.and_then(|change| change.confirmed_at), now).is_err() {
        return Ok(Err(ChangeRefused::TooSoon));
    }
    let new = match new_address(&user.email, raw_new) {
        Ok(new) => new,
        Err(refusal) => return Ok(Err(ChangeRefused::Address(refusal))),
    };
    if store::users::find_by_email(&services.db, &new).await?.is_some() {
        return Ok(Err(ChangeRefused::Taken));
    }
    let txn = store::begin(&services.db).await?;
    store::email_changes::request(&txn, user.id, &user.email, &new, now).await?;
    let purpose = TokenPurpose::ConfirmEmailChange;
    let link = issue_link(services, &txn, user.id, purpose, None, now).await?;
    services
        .queue_mail(&txn, &new, user.locale, Mail::for_link(purpose, &link), now)
        .await?;
    let entry = actor.audit(AuditAction::EmailChangeRequested, AuditSubject::User(user.id));
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(user = %user.id, "email change requested");
    Ok(Ok(()))
}

/// Uses the link mailed to the new address: the account takes that address (verified), every
/// session ends, and the old address is mailed a link that puts it back.
pub async fn confirm(services: &Services, token: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    let user = use_link(&txn, token, TokenPurpose::ConfirmEmailChange, now).await?;
    let change = store::email_changes::latest(&txn, user, EmailChangeStatus::Pending)
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    let confirmed = change.status.confirm().map_err(|_| ServiceError::InvalidLink)?;
    readdress(&txn, user, &change.old_email, &change.new_email, now).await?;
    if !store::email_changes::moved(&txn, &change, confirmed, now).await? {
        return Err(ServiceError::InvalidLink);
    }
    store::sessions::delete_all_for(&txn, user).await?;
    // Links already mailed to the old address no longer lead into the account.
    store::email_tokens::revoke_all(&txn, user, TokenPurpose::ResetPassword, now).await?;
    let purpose = TokenPurpose::UndoEmailChange;
    let link = issue_link(services, &txn, user, purpose, None, now).await?;
    let locale = store::users::find(&txn, user)
        .await?
        .ok_or(ServiceError::InvalidLink)?
        .locale;
    services
        .queue_mail(&txn, &change.old_email, locale, Mail::for_link(purpose, &link), now)
        .await?;
    let entry = AuditEntry::new(Some(user), AuditAction::EmailChanged, AuditSubject::User(user), None);
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(%user, "email changed");
    Ok(())
}

/// Uses the link mailed to the old address: it is the account's again, every session ends,
/// and the old address is mailed the way to a new password.
pub async fn undo(services: &Services, token: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    let user = use_link(&txn, token, TokenPurpose::UndoEmailChange, now).await?;
    let change = store::email_changes::latest(&txn, user, EmailChangeStatus::Confirmed)
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    let undone = change.status.undo().map_err(|_| ServiceError::InvalidLink)?;
    readdress(&txn, user, &change.new_email, &change.old_email, now).await?;
    if !store::email_changes::moved(&txn, &change, undone, now).await? {
        return Err(ServiceError::InvalidLink);
    }
    store::sessions::delete_all_for(&txn, user).await?;
    for purpose in [TokenPurpose::ResetPassword, TokenPurpose::ConfirmEmailChange] {
        store::email_tokens::revoke_all(&txn, user, purpose, now).await?;
    }
    let locale = store::users::find(&txn, user)
        .await?
        .ok_or(ServiceError::InvalidLink)?
        .locale;
    let link = services.absolute_url("/password/forgot");
    let mail = Mail::EmailChangeUndone { link: &link };
    services.queue_mail(&txn, &change.old_email, locale, mail, now).await?;
    let entry = AuditEntry::new(
        Some(user),
        AuditAction::EmailChangeUndone,
        AuditSubject::User(user),
        None,
    );
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(%user, "email change undone");
    Ok(())
}

/// Moves the account from `from` to `to`; an address another account took meanwhile, or an
/// account no longer at `from`, refuses the link.
async fn readdress(
    txn: &store::Transaction,
    user: UserId,
    from: &Email,
    to: &Email,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    match store::email_changes::readdress(txn, user, from, to, now).await {
        Ok(true) => Ok(()),
        Ok(false) | Err(StoreError::Conflict(_)) => Err(ServiceError::InvalidLink),
        Err(err) => Err(err.into()),
    }
}
