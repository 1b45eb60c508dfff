//! The audit log. This module only ever inserts and reads: no update or delete exists (the
//! records of a deleted account are purged, once their time is over, by
//! [`super::account_erasure::purge`]).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

use super::entities::audit_log;
use super::{StoreResult, insert_in_chunks, keyset};
use crate::domain::audit::{AuditAction, AuditEntry, AuditFilter, AuditSubject};
use crate::domain::ids::UserId;
use crate::domain::page::TimeKey;

/// An audit row as stored: the stable machine values, for the views to translate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before_state: Option<String>,
    pub after_state: Option<String>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    /// The platform's recorded details, as JSON.
    pub details: Option<String>,
}

impl From<audit_log::Model> for AuditRow {
    fn from(m: audit_log::Model) -> Self {
        AuditRow {
            id: m.id,
            at: m.at,
            actor_user_id: m.actor_user_id,
            action: m.action,
            subject_type: m.subject_type,
            subject_id: m.subject_id,
            before_state: m.before_state,
            after_state: m.after_state,
            reason: m.reason,
            request_id: m.request_id,
            details: m.details,
        }
    }
}

/// The rows `user` made, or that are about their account or identity.
pub(super) fn by_or_about(user: UserId) -> Condition {
    let about = Condition::all()
        .add(audit_log::Column::SubjectType.is_in(["user", "identity"]))
        .add(audit_log::Column::SubjectId.eq(user.0.to_string()));
    Condition::any()
        .add(audit_log::Column::ActorUserId.eq(user.0))
        .add(about)
}

fn row(entry: AuditEntry, now: DateTime<Utc>) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        at: Set(now),
        actor_user_id: Set(entry.actor.map(|u| u.0)),
        action: Set(entry.action.as_str().to_owned()),
        subject_type: Set(entry.subject.kind().to_owned()),
        subject_id: Set(entry.subject.id()),
        before_state: Set(entry.before.map(str::to_owned)),
        after_state: Set(entry.after.map(str::to_owned)),
        reason: Set(entry.reason),
        request_id: Set(entry.request_id),
        details: Set(entry
            .details
            .map(|d| serde_json::to_string(&d).expect("audit details serialise"))),
        ..Default::default()
    }
}

pub async fn append(conn: &impl ConnectionTrait, entry: AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
    row(entry, now).insert(conn).await?;
    Ok(())
}

/// Appends several rows with one statement per thousand.
pub async fn append_many(conn: &impl ConnectionTrait, entries: Vec<AuditEntry>, now: DateTime<Utc>) -> StoreResult<()> {
    insert_in_chunks(conn, entries.into_iter().map(|entry| row(entry, now)).collect()).await
}

/// The rows `filter` matches.
fn matching(filter: &AuditFilter) -> Select<audit_log::Entity> {
    let mut query = audit_log::Entity::find();
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(kind) = &filter.subject_type {
        query = query.filter(audit_log::Column::SubjectType.eq(kind.as_str()));
    }
    if let Some(id) = &filter.subject_id {
        query = query.filter(audit_log::Column::SubjectId.eq(id.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::Column::At.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_log::Column::At.lt(until));
    }
    query
}

/// Matching rows newest first, before `before` if given: at most `limit` (all with `None`).
pub async fn newest_first(
    conn: &impl ConnectionTrait,
    filter: &AuditFilter,
    before: Option<TimeKey>,
    limit: Option<u64>,
) -> StoreResult<Vec<AuditRow>> {
    // Past the first page the cursor bounds the time (see `keyset`); one bound per side keeps
    // the index range as narrow as the page.
    let filter = AuditFilter {
        until: filter.until.filter(|until| before.is_none_or(|last| *until <= last.at)),
        ..filter.clone()
    };
    let mut query = matching(&filter);
    if let Some(last) = before {
        query = query.filter(keyset::before(audit_log::Column::At, audit_log::Column::Id, last));
    }
    let rows = query
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(AuditRow::from).collect())
}

/// Matching rows oldest first, after `after` if given: at most `limit`.
pub async fn oldest_first(
    conn: &impl ConnectionTrait,
    filter: &AuditFilter,
    after: Option<TimeKey>,
    limit: u64,
) -> StoreResult<Vec<AuditRow>> {
    let filter = AuditFilter {
        from: filter.from.filter(|from| after.is_none_or(|last| *from > last.at)),
        ..filter.clone()
    };
    let mut query = matching(&filter);
    if let Some(last) = after {
        query = query.filter(keyset::after(audit_log::Column::At, audit_log::Column::Id, last));
    }
    let rows = query
        .order_by_asc(audit_log::Column::At)
        .order_by_asc(audit_log::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(AuditRow::from).collect())
}

/// How many rows `filter` matches.
pub async fn count(conn: &impl ConnectionTrait, filter: &AuditFilter) -> StoreResult<u64> {
    Ok(matching(filter).count(conn).await?)
}

/// When the latest of these actions was done to a subject.
pub async fn latest_at(
    conn: &impl ConnectionTrait,
    subject: &AuditSubject,
    actions: &[AuditAction],
) -> StoreResult<Option<DateTime<Utc>>> {
    Ok(audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::At)
        .filter(audit_log::Column::SubjectType.eq(subject.kind()))
        .filter(audit_log::Column::SubjectId.eq(subject.id()))
        .filter(audit_log::Column::Action.is_in(actions.iter().map(|a| a.as_str())))
        .order_by_desc(audit_log::Column::Id)
        .into_tuple()
        .one(conn)
        .await?)
}

/// The latest row of these actions done to a subject.
pub async fn latest_of(
    conn: &impl ConnectionTrait,
    subject: &AuditSubject,
    actions: &[AuditAction],
) -> StoreResult<Option<AuditRow>> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::SubjectType.eq(subject.kind()))
        .filter(audit_log::Column::SubjectId.eq(subject.id()))
        .filter(audit_log::Column::Action.is_in(actions.iter().map(|a| a.as_str())))
        .order_by_desc(audit_log::Column::Id)
        .one(conn)
        .await?
        .map(AuditRow::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::TokenId;
    use crate::store::{self, INSERT_CHUNK};

    #[tokio::test]
    async fn many_rows_go_in_over_several_statements_and_keep_their_order() {
        let (_dir, db) = store::scratch_database().await;
        let count = INSERT_CHUNK * 2 + 345;
        let entries = (0..count as i64)
            .map(|n| AuditEntry::new(None, AuditAction::TokenFrozen, AuditSubject::Token(TokenId(n)), None))
            .collect();
        append_many(&db, entries, Utc::now()).await.unwrap();

        let oldest_first: Vec<String> = newest_first(&db, &AuditFilter::default(), None, None)
            .await
            .unwrap()
            .into_iter()
            .rev()
            .map(|row| row.subject_id)
            .collect();
        let expected: Vec<String> = (0..count).map(|n| n.to_string()).collect();
        assert_eq!(oldest_first, expected);
    }

    /// Pages continue exactly after the row before, also among rows written at the same time.
    #[tokio::test]
    async fn pages_continue_after_their_last_row_through_equal_times() {
        let (_dir, db) = store::scratch_database().await;
        let start = Utc::now();
        for second in 0..3 {
            let entries = (0..7)
                .map(|n| AuditEntry::new(None, AuditAction::TokenFrozen, AuditSubject::Token(TokenId(n)), None))
                .collect();
            append_many(&db, entries, start + chrono::Duration::seconds(second))
                .await
                .unwrap();
        }
        let all = newest_first(&db, &AuditFilter::default(), None, None).await.unwrap();
        assert_eq!(all.len(), 21);
        let key = |row: &AuditRow| TimeKey { at: row.at, id: row.id };
        let (mut newest, mut before) = (Vec::new(), None);
        loop {
            let page = newest_first(&db, &AuditFilter::default(), before, Some(4))
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            before = Some(key(last));
            newest.extend(page);
        }
        assert_eq!(newest, all);
        let (mut oldest, mut after) = (Vec::new(), None);
        loop {
            let page = oldest_first(&db, &AuditFilter::default(), after, 4).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(key(last));
            oldest.extend(page);
        }
        oldest.reverse();
        assert_eq!(oldest, all);
    }
}
