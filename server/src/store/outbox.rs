//! The mail outbox table. Messages are inserted in the caller's transaction and claimed by
//! delivery workers with a compare-and-set update, so that on SQLite and on PostgreSQL with
//! several servers each message has exactly one worker.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use super::entities::outbox;
use super::{StoreResult, insert_in_chunks};
use crate::domain::outbox::{LEASE, OutboxStatus};

/// A rendered message ready to queue.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
}

/// A message claimed for delivery.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: i64,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub mail: NewMail,
}

pub async fn enqueue(conn: &impl ConnectionTrait, mail: NewMail, now: DateTime<Utc>) -> StoreResult<i64> {
    Ok(pending(mail, now).insert(conn).await?.id)
}

/// Queues several messages with one statement per thousand.
pub async fn enqueue_many(conn: &impl ConnectionTrait, mails: Vec<NewMail>, now: DateTime<Utc>) -> StoreResult<()> {
    insert_in_chunks(conn, mails.into_iter().map(|mail| pending(mail, now)).collect()).await
}

fn pending(mail: NewMail, now: DateTime<Utc>) -> outbox::ActiveModel {
    outbox::ActiveModel {
        recipient: Set(mail.recipient),
        subject: Set(mail.subject),
        text_body: Set(mail.text_body),
        html_body: Set(mail.html_body),
        status: Set(OutboxStatus::Pending.as_str().to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_at: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
}

/// Claims up to `limit` due messages for this worker: each moves `pending -> sending` only if
/// no other worker moved it first.
pub async fn claim_due(conn: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> StoreResult<Vec<QueuedMail>> {
    let candidates = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for row in candidates {
        let result = outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Sending.as_str()))
            .col_expr(outbox::Column::ClaimedAt, Expr::value(now))
            .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(conn)
            .await?;
        if result.rows_affected == 1 {
            claimed.push(QueuedMail {
                id: row.id,
                attempts: row.attempts + 1,
                created_at: row.created_at,
                mail: NewMail {
                    recipient: row.recipient,
                    subject: row.subject,
                    text_body: row.text_body,
                    html_body: row.html_body,
                },
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
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status.as_str()))
        .col_expr(outbox::Column::ClaimedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::LastError, Expr::value(error));
    if let Some(at) = next_attempt_at {
        update = update.col_expr(outbox::Column::NextAttemptAt, Expr::value(at));
    }
    if let Some(at) = sent_at {
        update = update.col_expr(outbox::Column::SentAt, Expr::value(at));
    }
    update
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Sending.as_str()))
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

/// Moves messages whose worker died mid-delivery (still `sending` after the lease) to
/// `uncertain`, so they are never sent a second time. Returns how many there were.
pub async fn park_abandoned(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Uncertain.as_str()))
        .col_expr(
            outbox::Column::LastError,
            Expr::value("delivery interrupted; not retried to avoid a duplicate"),
        )
        .filter(outbox::Column::Status.eq(OutboxStatus::Sending.as_str()))
        .filter(outbox::Column::ClaimedAt.lte(now - LEASE))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Number of messages in a status (for readiness reports and tests).
pub async fn count_with_status(conn: &impl ConnectionTrait, status: OutboxStatus) -> StoreResult<u64> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::Status.eq(status.as_str()))
        .count(conn)
        .await?)
}

/// Current status of one message.
pub async fn status_of(conn: &impl ConnectionTrait, id: i64) -> StoreResult<Option<OutboxStatus>> {
    Ok(outbox::Entity::find_by_id(id)
        .one(conn)
        .await?
        .and_then(|row| row.status.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{self, INSERT_CHUNK};

    #[tokio::test]
    async fn many_messages_are_queued_over_several_statements() {
        let (_dir, db) = store::scratch_database().await;
        let now = Utc::now();
        let count = INSERT_CHUNK * 2 + 7;
        let mails = (0..count)
            .map(|n| NewMail {
                recipient: format!("holder{n}@example.com"),
                subject: "frozen".into(),
                text_body: format!("token #{n}"),
                html_body: format!("<p>token #{n}</p>"),
            })
            .collect();
        enqueue_many(&db, mails, now).await.unwrap();

        let due = claim_due(&db, now, count as u64 + 10).await.unwrap();
        let recipients: Vec<String> = due.into_iter().map(|q| q.mail.recipient).collect();
        let expected: Vec<String> = (0..count).map(|n| format!("holder{n}@example.com")).collect();
        assert_eq!(recipients, expected, "each once, all due at once");
    }
}
