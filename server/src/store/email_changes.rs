//! Changes of an account's address, and the address itself as a change moves it. Status moves
//! are compare-and-set on the status, so a link used twice at once changes it once.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{email_changes, users};
use super::{StoreError, StoreResult, decoded};
use crate::domain::account::Email;
use crate::domain::email_change::{EmailChange, EmailChangeStatus};
use crate::domain::ids::UserId;

const TABLE: &str = "email_changes";

fn decode(m: email_changes::Model) -> StoreResult<EmailChange> {
    let id = m.id;
    Ok(EmailChange {
        id,
        user: UserId(m.user_id),
        old_email: decoded(Email::parse(&m.old_email).ok(), TABLE, id, "old_email")?,
        new_email: decoded(Email::parse(&m.new_email).ok(), TABLE, id, "new_email")?,
        status: decoded(EmailChangeStatus::parse(&m.status), TABLE, id, "status")?,
        confirmed_at: m.confirmed_at,
    })
}

/// Records a requested change, replacing the user's change still pending.
pub async fn request(
    conn: &impl ConnectionTrait,
    user: UserId,
    old: &Email,
    new: &Email,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    email_changes::Entity::update_many()
        .col_expr(
            email_changes::Column::Status,
            Expr::value(EmailChangeStatus::Superseded.as_str()),
        )
        .filter(email_changes::Column::UserId.eq(user.0))
        .filter(email_changes::Column::Status.eq(EmailChangeStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    let row = email_changes::ActiveModel {
        user_id: Set(user.0),
        old_email: Set(old.as_str().to_owned()),
        new_email: Set(new.as_str().to_owned()),
        status: Set(EmailChangeStatus::Pending.as_str().to_owned()),
        requested_at: Set(now),
        confirmed_at: Set(None),
        undone_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// The user's latest change in `status`.
pub async fn latest(
    conn: &impl ConnectionTrait,
    user: UserId,
    status: EmailChangeStatus,
) -> StoreResult<Option<EmailChange>> {
    email_changes::Entity::find()
        .filter(email_changes::Column::UserId.eq(user.0))
        .filter(email_changes::Column::Status.eq(status.as_str()))
        .order_by_desc(email_changes::Column::Id)
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

/// Moves a change from `from` to `to` at `now`; false when it had moved already.
pub async fn moved(
    conn: &impl ConnectionTrait,
    change: &EmailChange,
    to: EmailChangeStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let stamp = match to {
        EmailChangeStatus::Undone => email_changes::Column::UndoneAt,
        _ => email_changes::Column::ConfirmedAt,
    };
    let result = email_changes::Entity::update_many()
        .col_expr(email_changes::Column::Status, Expr::value(to.as_str()))
        .col_expr(stamp, Expr::value(now))
        .filter(email_changes::Column::Id.eq(change.id))
        .filter(email_changes::Column::Status.eq(change.status.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives the account `to` as its address, verified at `now` (a link sent there was used),
/// if it still has `from`; another account's address answers [`StoreError::Conflict`].
pub async fn readdress(
    conn: &impl ConnectionTrait,
    user: UserId,
    from: &Email,
    to: &Email,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = users::Entity::update_many()
        .col_expr(users::Column::Email, Expr::value(to.as_str()))
        .col_expr(users::Column::EmailVerifiedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.0))
        .filter(users::Column::Email.eq(from.as_str()))
        .exec(conn)
        .await
        .map_err(StoreError::unique("email"))?;
    Ok(result.rows_affected == 1)
}
