//! Second factors: the sealed TOTP secret (pending until its first code confirms it), the last
//! step accepted (moved forward by compare-and-set, so a code is good once even with two
//! servers), recovery code hashes, and the log-ins waiting for the second factor.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use super::StoreResult;
use super::entities::{login_challenges, recovery_codes, second_factors};
use crate::domain::ids::UserId;

/// A person's second factor as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredFactor {
    pub secret_enc: String,
    /// When its first code confirmed it; `None` while enrolment is under way.
    pub enrolled_at: Option<DateTime<Utc>>,
    pub last_step: Option<u64>,
}

impl std::fmt::Debug for StoredFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredFactor")
            .field("enrolled_at", &self.enrolled_at)
            .field("last_step", &self.last_step)
            .finish_non_exhaustive()
    }
}

fn step_value(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

/// `user`'s second factor, pending or enrolled.
pub async fn find(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Option<StoredFactor>> {
    Ok(second_factors::Entity::find_by_id(user.0)
        .one(conn)
        .await?
        .map(|m| StoredFactor {
            secret_enc: m.secret_enc,
            enrolled_at: m.enrolled_at,
            last_step: m.last_step.and_then(|s| u64::try_from(s).ok()),
        }))
}

/// Whether `user` has a confirmed second factor.
pub async fn enrolled(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<bool> {
    Ok(find(conn, user)
        .await?
        .is_some_and(|factor| factor.enrolled_at.is_some()))
}

/// Which of `users` have a confirmed second factor.
pub async fn enrolled_among(conn: &impl ConnectionTrait, users: &[UserId]) -> StoreResult<HashSet<UserId>> {
    Ok(second_factors::Entity::find()
        .filter(second_factors::Column::UserId.is_in(users.iter().map(|u| u.0)))
        .filter(second_factors::Column::EnrolledAt.is_not_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|m| UserId(m.user_id))
        .collect())
}

/// Starts enrolling `user` with a sealed secret, replacing an enrolment under way but never a
/// confirmed one: false if `user` is enrolled already.
pub async fn start(
    conn: &impl ConnectionTrait,
    user: UserId,
    secret_enc: String,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    second_factors::Entity::delete_many()
        .filter(second_factors::Column::UserId.eq(user.0))
        .filter(second_factors::Column::EnrolledAt.is_null())
        .exec(conn)
        .await?;
    let inserted = second_factors::Entity::insert(second_factors::ActiveModel {
        user_id: Set(user.0),
        secret_enc: Set(secret_enc),
        enrolled_at: Set(None),
        last_step: Set(None),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(second_factors::Column::UserId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(inserted > 0)
}

/// Accepts a code of `step` for `user`, whose factor must be in the state `enrolled` says:
/// confirms a pending enrolment, or moves an enrolled one's last step forward. False if another
/// request used this step (or a later one) first, or the factor changed meanwhile.
pub async fn accept_step(
    conn: &impl ConnectionTrait,
    user: UserId,
    step: u64,
    enrolled: bool,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let step = step_value(step);
    let mut update = second_factors::Entity::update_many()
        .col_expr(second_factors::Column::LastStep, Expr::value(step))
        .filter(second_factors::Column::UserId.eq(user.0))
        .filter(
            Condition::any()
                .add(second_factors::Column::LastStep.is_null())
                .add(second_factors::Column::LastStep.lt(step)),
        );
    update = if enrolled {
        update.filter(second_factors::Column::EnrolledAt.is_not_null())
    } else {
        update
            .col_expr(second_factors::Column::EnrolledAt, Expr::value(now))
            .filter(second_factors::Column::EnrolledAt.is_null())
    };
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Removes `user`'s second factor and recovery codes (turned off, or reset by an admin); false
/// if there was none.
pub async fn remove(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<bool> {
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    let removed = second_factors::Entity::delete_many()
        .filter(second_factors::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    Ok(removed.rows_affected > 0)
}

/// Replaces `user`'s recovery codes with the ones whose hashes are given.
pub async fn replace_recovery_codes(conn: &impl ConnectionTrait, user: UserId, hashes: Vec<String>) -> StoreResult<()> {
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    let rows = hashes.into_iter().map(|hash| recovery_codes::ActiveModel {
        user_id: Set(user.0),
        code_hash: Set(hash),
        used_at: Set(None),
        ..Default::default()
    });
    recovery_codes::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Uses up `user`'s unused recovery code with this hash; false if there is none.
pub async fn use_recovery_code(
    conn: &impl ConnectionTrait,
    user: UserId,
    hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let used = recovery_codes::Entity::update_many()
        .col_expr(recovery_codes::Column::UsedAt, Expr::value(now))
        .filter(recovery_codes::Column::UserId.eq(user.0))
        .filter(recovery_codes::Column::CodeHash.eq(hash))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(used.rows_affected > 0)
}

/// How many of `user`'s recovery codes are still unused.
pub async fn recovery_codes_left(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<u64> {
    Ok(recovery_codes::Entity::find()
        .filter(recovery_codes::Column::UserId.eq(user.0))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .count(conn)
        .await?)
}

/// A log-in waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub user: UserId,
    /// Where the person was going.
    pub next: String,
}

/// Keeps a log-in that passed its first factor until `expires_at`, under the hash of the
/// token its cookie holds.
pub async fn open_challenge(
    conn: &impl ConnectionTrait,
    id_hash: String,
    user: UserId,
    next: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    login_challenges::ActiveModel {
        id: Set(id_hash),
        user_id: Set(user.0),
        next_path: Set(next.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The live log-in waiting under this hash.
pub async fn challenge(
    conn: &impl ConnectionTrait,
    id_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Challenge>> {
    Ok(login_challenges::Entity::find_by_id(id_hash.to_owned())
        .filter(login_challenges::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?
        .map(|m| Challenge {
            user: UserId(m.user_id),
            next: m.next_path,
        }))
}

/// Ends a waiting log-in (answered); false if it was gone already.
pub async fn close_challenge(conn: &impl ConnectionTrait, id_hash: &str) -> StoreResult<bool> {
    let closed = login_challenges::Entity::delete_by_id(id_hash.to_owned())
        .exec(conn)
        .await?;
    Ok(closed.rows_affected > 0)
}

/// Ends every log-in of `user` waiting for its second factor (its factor was reset).
pub async fn close_challenges_of(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<()> {
    login_challenges::Entity::delete_many()
        .filter(login_challenges::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes log-ins that waited too long.
pub async fn prune_challenges(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(login_challenges::Entity::delete_many()
        .filter(login_challenges::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?
        .rows_affected)
}
