//! Texted codes: each row is the code's outbox entry (claimed by a worker with compare-and-set,
//! as mail is) and its record of use. The code is kept sealed only until it is sent; its hash
//! is what a typed code is checked against.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use super::StoreResult;
use super::entities::sms_messages;
use crate::domain::ids::UserId;
use crate::domain::outbox::{LEASE, OutboxStatus};
use crate::domain::phone::{CodePurpose, RecentCodes};

/// A code to text, as the transaction that asked for it queues it.
#[derive(Clone)]
pub struct NewCode<'a> {
    pub purpose: CodePurpose,
    pub phone_index: &'a str,
    /// The number, sealed, for the worker to send to.
    pub phone_enc: String,
    pub user: Option<UserId>,
    /// The pseudonym of the client that asked.
    pub client: &'a str,
    pub code_hash: String,
    /// The code, sealed until sent; `None` for a request that is recorded but not sent (no
    /// account has the number).
    pub code_enc: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// Queues a code; answers its id.
pub async fn queue(conn: &impl ConnectionTrait, code: NewCode<'_>, now: DateTime<Utc>) -> StoreResult<i64> {
    let status = if code.code_enc.is_some() {
        OutboxStatus::Pending
    } else {
        OutboxStatus::Failed
    };
    let row = sms_messages::ActiveModel {
        purpose: Set(code.purpose.as_str().to_owned()),
        phone_index: Set(code.phone_index.to_owned()),
        phone_enc: Set(code.phone_enc),
        user_id: Set(code.user.map(|u| u.0)),
        client: Set(code.client.to_owned()),
        code_hash: Set(code.code_hash),
        last_error: Set(code
            .code_enc
            .is_none()
            .then(|| "not sent: no account has this number".to_owned())),
        code_enc: Set(code.code_enc),
        guesses: Set(0),
        status: Set(status.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_at: Set(None),
        created_at: Set(now),
        expires_at: Set(code.expires_at),
        sent_at: Set(None),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// The codes asked for lately to `phone_index` and by `client`, as the limits count them.
pub async fn recent(
    conn: &impl ConnectionTrait,
    phone_index: &str,
    client: &str,
    now: DateTime<Utc>,
) -> StoreResult<RecentCodes> {
    let by_number = || sms_messages::Entity::find().filter(sms_messages::Column::PhoneIndex.eq(phone_index));
    let number_last = by_number()
        .order_by_desc(sms_messages::Column::Id)
        .one(conn)
        .await?
        .map(|m| m.created_at);
    let number_hour = by_number()
        .filter(sms_messages::Column::CreatedAt.gt(now - Duration::hours(1)))
        .count(conn)
        .await?;
    let number_day = by_number()
        .filter(sms_messages::Column::CreatedAt.gt(now - Duration::days(1)))
        .count(conn)
        .await?;
    let client_hour = sms_messages::Entity::find()
        .filter(sms_messages::Column::Client.eq(client))
        .filter(sms_messages::Column::CreatedAt.gt(now - Duration::hours(1)))
        .count(conn)
        .await?;
    Ok(RecentCodes {
        number_last,
        number_hour,
        number_day,
        client_hour,
    })
}

/// A code claimed for sending.
pub struct QueuedCode {
    pub id: i64,
    pub attempts: i32,
    pub purpose: String,
    pub phone_enc: String,
    pub code_enc: String,
    pub user: Option<UserId>,
    pub expires_at: DateTime<Utc>,
}

/// Claims up to `limit` codes due to be sent: each moves `pending -> sending` only if no other
/// worker moved it first.
pub async fn claim_due(conn: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> StoreResult<Vec<QueuedCode>> {
    let candidates = sms_messages::Entity::find()
        .filter(sms_messages::Column::Status.eq(OutboxStatus::Pending.as_str()))
        .filter(sms_messages::Column::NextAttemptAt.lte(now))
        .order_by_asc(sms_messages::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for row in candidates {
        let result = sms_messages::Entity::update_many()
            .col_expr(
                sms_messages::Column::Status,
                Expr::value(OutboxStatus::Sending.as_str()),
            )
            .col_expr(sms_messages::Column::ClaimedAt, Expr::value(now))
            .col_expr(
                sms_messages::Column::Attempts,
                Expr::col(sms_messages::Column::Attempts).add(1),
            )
            .filter(sms_messages::Column::Id.eq(row.id))
            .filter(sms_messages::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(conn)
            .await?;
        if let (1, Some(code_enc)) = (result.rows_affected, row.code_enc) {
            claimed.push(QueuedCode {
                id: row.id,
                attempts: row.attempts + 1,
                purpose: row.purpose,
                phone_enc: row.phone_enc,
                code_enc,
                user: row.user_id.map(UserId),
                expires_at: row.expires_at,
            });
        }
    }
    Ok(claimed)
}

async fn finish(
    conn: &impl ConnectionTrait,
    id: i64,
    status: OutboxStatus,
    next_attempt_at: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
    error: Option<String>,
) -> StoreResult<()> {
    let mut update = sms_messages::Entity::update_many()
        .col_expr(sms_messages::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            sms_messages::Column::ClaimedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(sms_messages::Column::LastError, Expr::value(error));
    if status != OutboxStatus::Pending {
        // Sent or given up: the code is needed no more in a form that can be read.
        update = update.col_expr(sms_messages::Column::CodeEnc, Expr::value(Option::<String>::None));
    }
    if let Some(at) = next_attempt_at {
        update = update.col_expr(sms_messages::Column::NextAttemptAt, Expr::value(at));
    }
    if let Some(at) = sent_at {
        update = update.col_expr(sms_messages::Column::SentAt, Expr::value(at));
    }
    update
        .filter(sms_messages::Column::Id.eq(id))
        .filter(sms_messages::Column::Status.eq(OutboxStatus::Sending.as_str()))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn mark_sent(conn: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    finish(conn, id, OutboxStatus::Sent, None, Some(now), None).await
}

pub async fn mark_retry(conn: &impl ConnectionTrait, id: i64, at: DateTime<Utc>, error: String) -> StoreResult<()> {
    finish(conn, id, OutboxStatus::Pending, Some(at), None, Some(error)).await
}

pub async fn mark_failed(conn: &impl ConnectionTrait, id: i64, error: String) -> StoreResult<()> {
    finish(conn, id, OutboxStatus::Failed, None, None, Some(error)).await
}

/// Parks codes whose worker died mid-send as `uncertain` (never sent twice), their code
/// forgotten; answers how many.
pub async fn park_abandoned(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(sms_messages::Entity::update_many()
        .col_expr(
            sms_messages::Column::Status,
            Expr::value(OutboxStatus::Uncertain.as_str()),
        )
        .col_expr(sms_messages::Column::CodeEnc, Expr::value(Option::<String>::None))
        .col_expr(
            sms_messages::Column::LastError,
            Expr::value("sending interrupted; not retried to avoid a duplicate"),
        )
        .filter(sms_messages::Column::Status.eq(OutboxStatus::Sending.as_str()))
        .filter(sms_messages::Column::ClaimedAt.lte(now - LEASE))
        .exec(conn)
        .await?
        .rows_affected)
}

/// A code that may still be typed.
#[derive(Debug, Clone)]
pub struct LiveCode {
    pub id: i64,
    pub user: Option<UserId>,
    pub phone_index: String,
    pub phone_enc: String,
    pub code_hash: String,
}

/// The newest code of `purpose` to `phone_index` (or, with `user`, for that account) that is
/// unused, unexpired and not guessed to death.
pub async fn live(
    conn: &impl ConnectionTrait,
    purpose: CodePurpose,
    phone_index: Option<&str>,
    user: Option<UserId>,
    max_guesses: i32,
    now: DateTime<Utc>,
) -> StoreResult<Option<LiveCode>> {
    let mut query = sms_messages::Entity::find()
        .filter(sms_messages::Column::Purpose.eq(purpose.as_str()))
        .filter(sms_messages::Column::UsedAt.is_null())
        .filter(sms_messages::Column::ExpiresAt.gt(now))
        .filter(sms_messages::Column::Guesses.lt(max_guesses))
        .filter(sms_messages::Column::Status.is_in([
            OutboxStatus::Pending.as_str(),
            OutboxStatus::Sending.as_str(),
            OutboxStatus::Sent.as_str(),
        ]));
    if let Some(index) = phone_index {
        query = query.filter(sms_messages::Column::PhoneIndex.eq(index));
    }
    if let Some(user) = user {
        query = query.filter(sms_messages::Column::UserId.eq(user.0));
    }
    Ok(query
        .order_by_desc(sms_messages::Column::Id)
        .one(conn)
        .await?
        .map(|m| LiveCode {
            id: m.id,
            user: m.user_id.map(UserId),
            phone_index: m.phone_index,
            phone_enc: m.phone_enc,
            code_hash: m.code_hash,
        }))
}

/// Counts a wrong guess at a code.
pub async fn guessed_wrong(conn: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
    sms_messages::Entity::update_many()
        .col_expr(
            sms_messages::Column::Guesses,
            Expr::col(sms_messages::Column::Guesses).add(1),
        )
        .filter(sms_messages::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Uses a code up; false if another request used it first.
pub async fn use_up(conn: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    let used = sms_messages::Entity::update_many()
        .col_expr(sms_messages::Column::UsedAt, Expr::value(now))
        .filter(sms_messages::Column::Id.eq(id))
        .filter(sms_messages::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(used.rows_affected == 1)
}

/// Forgets every code of `user` and to `phone_index` (the account is deleted).
pub async fn erase(conn: &impl ConnectionTrait, user: UserId, phone_index: Option<&str>) -> StoreResult<()> {
    sms_messages::Entity::delete_many()
        .filter(sms_messages::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    if let Some(index) = phone_index {
        sms_messages::Entity::delete_many()
            .filter(sms_messages::Column::PhoneIndex.eq(index))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Removes codes older than a day: past every limit's window and long expired.
pub async fn prune(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(sms_messages::Entity::delete_many()
        .filter(sms_messages::Column::CreatedAt.lt(now - Duration::days(1)))
        .filter(sms_messages::Column::Status.ne(OutboxStatus::Sending.as_str()))
        .exec(conn)
        .await?
        .rows_affected)
}
