//! The audit log. This module only ever inserts and reads: no update or delete exists.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::StoreResult;
use super::entities::audit_log;
use crate::domain::audit::AuditEntry;

pub use audit_log::Model as AuditRow;

pub async fn append(conn: &impl ConnectionTrait, entry: AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
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
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Which rows to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Matching rows, newest first, at most `limit` (all with `None`).
pub async fn list(conn: &impl ConnectionTrait, filter: &AuditFilter, limit: Option<u64>) -> StoreResult<Vec<AuditRow>> {
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
    Ok(query
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}
