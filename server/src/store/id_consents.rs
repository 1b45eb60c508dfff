//! Consents to processing the ID number: given with a policy version, withdrawn by setting the
//! time (compare-and-set on it being unset, so two withdrawals at once record one).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::StoreResult;
use super::entities::id_number_consents;
use crate::domain::id_consent::IdNumberConsent;
use crate::domain::ids::UserId;

fn decode(m: id_number_consents::Model) -> IdNumberConsent {
    IdNumberConsent {
        policy_version: u32::try_from(m.policy_version).unwrap_or(0),
        given_at: m.given_at,
        withdrawn_at: m.withdrawn_at,
    }
}

/// Records that `user` consented under privacy policy `policy_version`.
pub async fn give(
    conn: &impl ConnectionTrait,
    user: UserId,
    policy_version: u32,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    id_number_consents::ActiveModel {
        user_id: Set(user.0),
        policy_version: Set(i32::try_from(policy_version).unwrap_or(i32::MAX)),
        given_at: Set(now),
        withdrawn_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Withdraws `user`'s consent in force; false if none was.
pub async fn withdraw(conn: &impl ConnectionTrait, user: UserId, now: DateTime<Utc>) -> StoreResult<bool> {
    let result = id_number_consents::Entity::update_many()
        .col_expr(id_number_consents::Column::WithdrawnAt, Expr::value(now))
        .filter(id_number_consents::Column::UserId.eq(user.0))
        .filter(id_number_consents::Column::WithdrawnAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Every consent `user` gave, latest first.
pub async fn history(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<IdNumberConsent>> {
    Ok(id_number_consents::Entity::find()
        .filter(id_number_consents::Column::UserId.eq(user.0))
        .order_by_desc(id_number_consents::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect())
}

/// `user`'s latest consent, if they ever gave one.
pub async fn latest(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Option<IdNumberConsent>> {
    Ok(id_number_consents::Entity::find()
        .filter(id_number_consents::Column::UserId.eq(user.0))
        .order_by_desc(id_number_consents::Column::Id)
        .one(conn)
        .await?
        .map(decode))
}
