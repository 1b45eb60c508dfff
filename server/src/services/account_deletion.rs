//! Deleting one's account (see [`crate::domain::account_deletion`]): with the password, the
//! copies of their data are deleted, then in one transaction everything that names them is
//! erased and their key shredded, with an audit row; a later pass purges the records kept.

use chrono::{DateTime, Utc};

use super::accounts::confirm_password;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::account::Email;
use crate::domain::account_deletion::{DeletionRefused, RECORDS_KEPT, may_delete, placeholder_email};
use crate::domain::audit::{AuditAction, AuditSubject};
use crate::store;

/// Why the account was not deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotDeleted {
    WrongPassword,
    Refused(DeletionRefused),
}

/// Deletes the actor's account, if `password` is theirs (wrong ones count towards the log-in
/// throttle under `client`).
pub async fn delete(
    services: &Services,
    actor: &Actor,
    password: String,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), NotDeleted>> {
    let user = store::users::find(&services.db, actor.user)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !confirm_password(services, &user, password, client, now).await? {
        return Ok(Err(NotDeleted::WrongPassword));
    }
    let roles = store::users::granted_roles(&services.db, user.id).await?;
    let member = !store::personal_data::memberships(&services.db, user.id)
        .await?
        .is_empty();
    if let Err(refused) = may_delete(&roles, member) {
        return Ok(Err(NotDeleted::Refused(refused)));
    }
    super::data_export::forget_all(services, user.id).await?;
    let mut addresses = vec![user.email.clone()];
    for change in store::personal_data::address_changes(&services.db, user.id).await? {
        addresses.extend(
            [&change.from, &change.to]
                .into_iter()
                .filter_map(|a| Email::parse(a).ok()),
        );
    }
    let txn = store::begin(&services.db).await?;
    if !store::account_erasure::erase(&txn, user.id, &addresses, &placeholder_email(user.id), now).await? {
        return Err(ServiceError::NotFound);
    }
    store::audit::append(
        &txn,
        actor.audit(AuditAction::AccountDeleted, AuditSubject::User(user.id)),
        now,
    )
    .await?;
    store::commit(txn).await?;
    tracing::info!(user = %user.id, "account deleted");
    Ok(Ok(()))
}

/// Purges the records kept about accounts deleted [`RECORDS_KEPT`] ago; returns how many.
pub async fn purge_due(services: &Services, now: DateTime<Utc>) -> ServiceResult<u64> {
    let due = store::account_erasure::due_for_purge(&services.db, now - RECORDS_KEPT, 100).await?;
    for user in &due {
        let txn = store::begin(&services.db).await?;
        store::account_erasure::purge(&txn, *user, now).await?;
        store::commit(txn).await?;
        tracing::info!(%user, "records of a deleted account purged");
    }
    Ok(due.len() as u64)
}
