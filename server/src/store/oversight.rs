//! The regulator's records: reveals of identities and export bundles, each kept for good.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::StoreResult;
use super::entities::{identity_reveals, oversight_exports};
use crate::domain::ids::{IssuerId, UserId};
use crate::domain::oversight::{ExportScope, RevealGrounds};

/// A reveal as recorded.
#[derive(Debug, Clone)]
pub struct Reveal {
    pub id: i64,
    pub regulator: UserId,
    pub subject: UserId,
    pub reference: String,
    pub reason: String,
    pub made_at: DateTime<Utc>,
}

impl From<identity_reveals::Model> for Reveal {
    fn from(m: identity_reveals::Model) -> Self {
        Self {
            id: m.id,
            regulator: UserId(m.regulator_user_id),
            subject: UserId(m.subject_user_id),
            reference: m.reference,
            reason: m.reason,
            made_at: m.created_at,
        }
    }
}

/// An export as recorded.
#[derive(Debug, Clone)]
pub struct Export {
    pub id: i64,
    pub regulator: UserId,
    pub scope: ExportScope,
    pub made_at: DateTime<Utc>,
}

impl From<oversight_exports::Model> for Export {
    fn from(m: oversight_exports::Model) -> Self {
        Self {
            id: m.id,
            regulator: UserId(m.regulator_user_id),
            scope: ExportScope::recorded(m.from_day, m.to_day, m.issuer_id.map(IssuerId)),
            made_at: m.created_at,
        }
    }
}

pub async fn record_reveal(
    conn: &impl ConnectionTrait,
    regulator: UserId,
    subject: UserId,
    grounds: &RevealGrounds,
    now: DateTime<Utc>,
) -> StoreResult<Reveal> {
    let row = identity_reveals::ActiveModel {
        regulator_user_id: Set(regulator.0),
        subject_user_id: Set(subject.0),
        reference: Set(grounds.reference().to_owned()),
        reason: Set(grounds.reason().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.into())
}

pub async fn reveal(conn: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Reveal>> {
    Ok(identity_reveals::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Reveal::from))
}

/// The latest `limit` reveals `regulator` made, newest first.
pub async fn reveals_by(conn: &impl ConnectionTrait, regulator: UserId, limit: u64) -> StoreResult<Vec<Reveal>> {
    Ok(identity_reveals::Entity::find()
        .filter(identity_reveals::Column::RegulatorUserId.eq(regulator.0))
        .order_by_desc(identity_reveals::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(Reveal::from)
        .collect())
}

pub async fn record_export(
    conn: &impl ConnectionTrait,
    regulator: UserId,
    scope: &ExportScope,
    now: DateTime<Utc>,
) -> StoreResult<Export> {
    let row = oversight_exports::ActiveModel {
        regulator_user_id: Set(regulator.0),
        from_day: Set(scope.from()),
        to_day: Set(scope.to()),
        issuer_id: Set(scope.issuer().map(|id| id.0)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.into())
}

pub async fn export(conn: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Export>> {
    Ok(oversight_exports::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Export::from))
}

/// The latest `limit` exports `regulator` made, newest first.
pub async fn exports_by(conn: &impl ConnectionTrait, regulator: UserId, limit: u64) -> StoreResult<Vec<Export>> {
    Ok(oversight_exports::Entity::find()
        .filter(oversight_exports::Column::RegulatorUserId.eq(regulator.0))
        .order_by_desc(oversight_exports::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(Export::from)
        .collect())
}
