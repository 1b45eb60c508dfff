//! What the platform holds about one person, read for their archive: the rows of other tables
//! that name them, each as plain data ready to be written out.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::StoreResult;
use super::entities::{
    audit_log, collections, email_changes, issuer_members, issuers, outbox, policy_acceptances, reports, sessions,
};
use crate::domain::ids::UserId;

/// Most rows of one kind an archive holds; an account with more is an operator's matter.
pub const MAX_ROWS: u64 = 10_000;

#[derive(Debug, Clone, Serialize)]
pub struct Acceptance {
    pub document: String,
    pub version: i32,
    pub accepted_at: DateTime<Utc>,
}

pub async fn acceptances(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<Acceptance>> {
    Ok(policy_acceptances::Entity::find()
        .filter(policy_acceptances::Column::UserId.eq(user.0))
        .order_by_asc(policy_acceptances::Column::AcceptedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| Acceptance {
            document: row.document,
            version: row.version,
            accepted_at: row.accepted_at,
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct Membership {
    pub issuer: i64,
    pub issuer_name: String,
    pub admin: bool,
    pub added_at: DateTime<Utc>,
}

pub async fn memberships(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<Membership>> {
    let rows = issuer_members::Entity::find()
        .filter(issuer_members::Column::UserId.eq(user.0))
        .all(conn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|row| row.issuer_id).collect();
    let names: std::collections::HashMap<i64, String> = issuers::Entity::find()
        .filter(issuers::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|issuer| (issuer.id, issuer.legal_name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| Membership {
            issuer: row.issuer_id,
            issuer_name: names.get(&row.issuer_id).cloned().unwrap_or_default(),
            admin: row.is_admin,
            added_at: row.added_at,
        })
        .collect())
}

/// The titles of `collections`, by id.
pub async fn collection_titles(
    conn: &impl ConnectionTrait,
    ids: Vec<i64>,
) -> StoreResult<std::collections::HashMap<i64, String>> {
    Ok(collections::Entity::find()
        .select_only()
        .column(collections::Column::Id)
        .column(collections::Column::Title)
        .filter(collections::Column::Id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct FiledReport {
    pub ticket: String,
    pub target_type: String,
    pub target_id: i64,
    pub category: String,
    pub description: String,
    pub status: String,
    pub decision_reason: Option<String>,
    pub filed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub async fn reports_filed(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<FiledReport>> {
    Ok(reports::Entity::find()
        .filter(reports::Column::ReporterUserId.eq(user.0))
        .order_by_asc(reports::Column::Id)
        .limit(MAX_ROWS)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| FiledReport {
            ticket: row.ticket,
            target_type: row.target_type,
            target_id: row.target_id,
            category: row.category,
            description: row.description,
            status: row.status,
            decision_reason: row.decision_reason,
            filed_at: row.created_at,
            decided_at: row.decided_at,
        })
        .collect())
}

/// A mail sent (or to be sent) to the person: what it was about and when, not its body, whose
/// links may still work.
#[derive(Debug, Clone, Serialize)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub status: String,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub async fn mails_to(conn: &impl ConnectionTrait, addresses: Vec<String>) -> StoreResult<Vec<SentMail>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::Recipient.is_in(addresses))
        .order_by_asc(outbox::Column::Id)
        .limit(MAX_ROWS)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| SentMail {
            to: row.recipient,
            subject: row.subject,
            status: row.status,
            queued_at: row.created_at,
            sent_at: row.sent_at,
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct AddressChange {
    pub from: String,
    pub to: String,
    pub status: String,
    pub requested_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub undone_at: Option<DateTime<Utc>>,
}

pub async fn address_changes(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<AddressChange>> {
    Ok(email_changes::Entity::find()
        .filter(email_changes::Column::UserId.eq(user.0))
        .order_by_asc(email_changes::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| AddressChange {
            from: row.old_email,
            to: row.new_email,
            status: row.status,
            requested_at: row.requested_at,
            confirmed_at: row.confirmed_at,
            undone_at: row.undone_at,
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn sessions(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<Session>> {
    Ok(sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user.0))
        .order_by_asc(sessions::Column::CreatedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| Session {
            started_at: row.created_at,
            expires_at: row.expires_at,
        })
        .collect())
}

/// An audit row the person made or that is about their account or identity.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    pub action: String,
    pub by_me: bool,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: Option<String>,
}

pub async fn audit_rows(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<AuditRow>> {
    Ok(audit_log::Entity::find()
        .filter(super::audit::by_or_about(user))
        .order_by_asc(audit_log::Column::Id)
        .limit(MAX_ROWS)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| AuditRow {
            at: row.at,
            by_me: row.actor_user_id == Some(user.0),
            subject: format!("{}:{}", row.subject_type, row.subject_id),
            action: row.action,
            before: row.before_state,
            after: row.after_state,
            reason: row.reason,
        })
        .collect())
}
