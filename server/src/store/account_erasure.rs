//! Erasing what names a deleted account, across the tables that hold it, and purging the
//! records kept about it once their time is over. The audit log's one deletion is here: rows
//! about an account that was deleted and whose records are due (see
//! [`crate::domain::account_deletion`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::StoreResult;
use super::entities::{
    audit_log, data_exports, email_changes, email_tokens, id_number_consents, identities, outbox, person_keys,
    policy_acceptances, reports, sessions, tokens, user_roles, users,
};
use crate::domain::account::Email;
use crate::domain::data_export::ExportStatus;
use crate::domain::ids::UserId;

/// Erases in `conn` everything that names `user`: their identity and its key, sessions, links,
/// address changes, mail to `addresses`, the contact address of their reports, copies of their
/// data still being built, the link from their tokens to their identity; the account keeps `placeholder` as its address and no
/// password. False if the account was already deleted.
pub async fn erase(
    conn: &impl ConnectionTrait,
    user: UserId,
    addresses: &[Email],
    placeholder: &Email,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let marked = users::Entity::update_many()
        .col_expr(users::Column::Email, Expr::value(placeholder.as_str()))
        .col_expr(users::Column::PasswordHash, Expr::value(""))
        .col_expr(users::Column::DeletedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.0))
        .filter(users::Column::DeletedAt.is_null())
        .exec(conn)
        .await?;
    if marked.rows_affected == 0 {
        return Ok(false);
    }
    identities::Entity::delete_by_id(user.0).exec(conn).await?;
    person_keys::Entity::delete_by_id(user.0).exec(conn).await?;
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    super::second_factors::remove(conn, user).await?;
    let phone = super::phones::of(conn, user).await?;
    super::sms::erase(conn, user, phone.as_ref().map(|p| p.index.as_str())).await?;
    super::phones::clear(conn, user).await?;
    super::second_factors::close_challenges_of(conn, user).await?;
    email_tokens::Entity::delete_many()
        .filter(email_tokens::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    email_changes::Entity::delete_many()
        .filter(email_changes::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    user_roles::Entity::delete_many()
        .filter(user_roles::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    let addresses: Vec<&str> = addresses.iter().map(Email::as_str).collect();
    outbox::Entity::delete_many()
        .filter(outbox::Column::Recipient.is_in(addresses))
        .exec(conn)
        .await?;
    reports::Entity::update_many()
        .col_expr(reports::Column::ContactEmail, Expr::value(Option::<String>::None))
        .filter(reports::Column::ReporterUserId.eq(user.0))
        .exec(conn)
        .await?;
    // A copy being built now is never offered: its builder finds it no longer pending.
    data_exports::Entity::update_many()
        .col_expr(data_exports::Column::Status, Expr::value(ExportStatus::Failed.as_str()))
        .filter(data_exports::Column::UserId.eq(user.0))
        .filter(data_exports::Column::Status.eq(ExportStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    // The commitment stays on the ledger; what could open it (the blind index the opening is
    // derived from, and the salt) goes, so nobody can tie the token to a person again.
    tokens::Entity::update_many()
        .col_expr(tokens::Column::HolderIndex, Expr::value(""))
        .col_expr(tokens::Column::Salt, Expr::value(vec![0u8; 32]))
        .filter(tokens::Column::HolderUserId.eq(user.0))
        .exec(conn)
        .await?;
    Ok(true)
}

/// Accounts deleted at or before `before` whose records were not purged yet: at most `limit`.
pub async fn due_for_purge(conn: &impl ConnectionTrait, before: DateTime<Utc>, limit: u64) -> StoreResult<Vec<UserId>> {
    Ok(users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::DeletedAt.lte(before))
        .filter(users::Column::PurgedAt.is_null())
        .limit(limit)
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .map(UserId)
        .collect())
}

/// Purges the records kept about deleted account `user`: its audit rows, consents and the
/// record of its data copies.
pub async fn purge(conn: &impl ConnectionTrait, user: UserId, now: DateTime<Utc>) -> StoreResult<()> {
    audit_log::Entity::delete_many()
        .filter(super::audit::by_or_about(user))
        .exec(conn)
        .await?;
    id_number_consents::Entity::delete_many()
        .filter(id_number_consents::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    policy_acceptances::Entity::delete_many()
        .filter(policy_acceptances::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    data_exports::Entity::delete_many()
        .filter(data_exports::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    users::Entity::update_many()
        .col_expr(users::Column::PurgedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.0))
        .exec(conn)
        .await?;
    Ok(())
}
