//! Refused transfer attempts in bounded form: each client address's allowance (one row per
//! address that has used some of it) and the count per (token, clock hour). The rule is in
//! [`crate::domain::transfer_limit`]; this module only persists what it decides.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::StoreResult;
use super::entities::{transfer_allowances, transfer_attempts};
use crate::domain::ids::TokenId;

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// When `client`'s allowance is full again (`None`: it is full, or was never used).
pub async fn full_at(conn: &impl ConnectionTrait, client: &str) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(transfer_allowances::Entity::find_by_id(client.to_owned())
        .one(conn)
        .await?
        .map(|row| from_ms(row.full_at_ms)))
}

/// Counts one attempt against `client`'s allowance at `now`, atomically (each of several
/// concurrent attempts takes its own share), and answers when the allowance is full again
/// after it: [`crate::domain::transfer_limit::next_full_at`] in SQL.
pub async fn take_share(
    conn: &impl ConnectionTrait,
    client: &str,
    spacing: Duration,
    now: DateTime<Utc>,
) -> StoreResult<DateTime<Utc>> {
    use transfer_allowances::{Column, Entity};
    let now_ms = now.timestamp_millis();
    let spacing_ms = spacing.num_milliseconds();
    let refilled = Expr::from(Func::greatest([
        Expr::col((Entity, Column::FullAtMs)),
        Expr::val(now_ms),
    ]));
    Entity::insert(transfer_allowances::ActiveModel {
        client: Set(client.to_owned()),
        full_at_ms: Set(now_ms + spacing_ms),
    })
    .on_conflict(
        OnConflict::column(Column::Client)
            .value(Column::FullAtMs, refilled.add(spacing_ms))
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    let row = Entity::find_by_id(client.to_owned())
        .one(conn)
        .await?
        .expect("the row was just written");
    Ok(from_ms(row.full_at_ms))
}

/// Counts one refused attempt on `token` in the period starting at `period_start`, and
/// answers how many there are in that period now (1: this was the first).
pub async fn count(
    conn: &impl ConnectionTrait,
    token: TokenId,
    period_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    use transfer_attempts::{Column, Entity};
    Entity::insert(transfer_attempts::ActiveModel {
        token_id: Set(token.0),
        period_start: Set(period_start),
        attempts: Set(1),
        last_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([Column::TokenId, Column::PeriodStart])
            .value(Column::Attempts, Expr::col((Entity, Column::Attempts)).add(1))
            .update_column(Column::LastAt)
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    let row = Entity::find_by_id((token.0, period_start))
        .one(conn)
        .await?
        .expect("the row was just written");
    Ok(row.attempts)
}

/// The counts of refused attempts in these (token, period start) pairs, where there are any.
pub async fn counts(
    conn: &impl ConnectionTrait,
    periods: &[(TokenId, DateTime<Utc>)],
) -> StoreResult<HashMap<(TokenId, DateTime<Utc>), i64>> {
    use transfer_attempts::Column;
    let mut found = HashMap::new();
    for chunk in periods.chunks(super::LOOKUP_CHUNK / 2) {
        let wanted = chunk.iter().fold(Condition::any(), |any, (token, start)| {
            any.add(Column::TokenId.eq(token.0).and(Column::PeriodStart.eq(*start)))
        });
        let rows = transfer_attempts::Entity::find().filter(wanted).all(conn).await?;
        found.extend(
            rows.into_iter()
                .map(|row| ((TokenId(row.token_id), row.period_start), row.attempts)),
        );
    }
    Ok(found)
}

/// Forgets the allowances that are full again: an address without a row has its full allowance.
pub async fn prune_allowances(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(transfer_allowances::Entity::delete_many()
        .filter(transfer_allowances::Column::FullAtMs.lte(now.timestamp_millis()))
        .exec(conn)
        .await?
        .rows_affected)
}
