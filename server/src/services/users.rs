//! Accounts as an administrator manages them: the list with their roles, and granting or
//! revoking the roles that are granted by hand (reviewer, admin), audited.

use chrono::{DateTime, Utc};

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::audit::{AuditAction, AuditSubject};
use crate::domain::ids::UserId;
use crate::domain::page::{Page, PageSize};
use crate::domain::role::{Role, RoleChangeError, check_role_change};
use crate::store;
use crate::store::users::User;

/// A page of accounts, newest first, older than `before` if given, each with its granted roles.
pub async fn list(
    services: &Services,
    before: Option<UserId>,
    size: PageSize,
) -> ServiceResult<Page<ListedUser, UserId>> {
    let rows = store::users::list_with_roles(&services.db, before, size.fetch()).await?;
    let ids: Vec<UserId> = rows.iter().map(|(user, _)| user.id).collect();
    let enrolled = store::second_factors::enrolled_among(&services.db, &ids).await?;
    let rows = rows
        .into_iter()
        .map(|(user, roles)| ListedUser {
            second_factor: enrolled.contains(&user.id),
            user,
            roles,
        })
        .collect();
    Ok(Page::from_rows(rows, size, |listed: &ListedUser| listed.user.id))
}

/// An account as the administrators' list shows it.
#[derive(Debug)]
pub struct ListedUser {
    pub user: User,
    pub roles: Vec<Role>,
    /// The account has two-step verification.
    pub second_factor: bool,
}

/// Grants (or revokes) `role` to `target`, unless the rule refuses the change.
pub async fn change_role(
    services: &Services,
    admin: &Actor,
    target: UserId,
    role: Role,
    grant: bool,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), RoleChangeError>> {
    let target = store::users::find(&services.db, target)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let held = store::users::granted_roles(&services.db, target.id).await?;
    if let Err(refusal) = check_role_change(admin.user.0, target.id.0, role, grant, &held) {
        return Ok(Err(refusal));
    }
    let txn = store::begin(&services.db).await?;
    if grant {
        store::users::grant_role(&txn, target.id, role, Some(admin.user), now).await?;
    } else {
        store::users::revoke_role(&txn, target.id, role).await?;
    }
    let action = if grant {
        AuditAction::RoleGranted
    } else {
        AuditAction::RoleRevoked
    };
    let mut entry = admin.audit(action, AuditSubject::User(target.id));
    entry.after = Some(role.as_str());
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    tracing::info!(admin = %admin.user, target = %target.id, %role, grant, "role changed");
    Ok(Ok(()))
}
