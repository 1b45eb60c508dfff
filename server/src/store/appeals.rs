//! Appeals: one per decision (its audit row), claimed and decided like every review case.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, Set,
};

use super::entities::appeals;
use super::review_lock::ReviewLock;
use super::{StoreError, StoreResult, decoded};
use crate::domain::appeal::{AppealStatus, AppealableDecision, Parties};
use crate::domain::ids::UserId;
use crate::domain::review_queue::QueueView;

const TABLE: &str = "appeals";

const LOCK: ReviewLock<appeals::Column> = ReviewLock {
    by: appeals::Column::ClaimedBy,
    until: appeals::Column::ClaimedUntil,
};

/// A stored appeal.
#[derive(Debug, Clone)]
pub struct Appeal {
    pub id: i64,
    pub decision: AppealableDecision,
    pub subject_id: i64,
    pub decision_audit_id: i64,
    pub decided_by: Option<UserId>,
    pub appellant: UserId,
    pub statement: String,
    pub status: AppealStatus,
    pub reviewed_by: Option<UserId>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub claimed_by: Option<UserId>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub version: i32,
    pub filed_at: DateTime<Utc>,
}

impl Appeal {
    /// Who the appeal is between: the reviewer who decided and the appellant.
    pub fn parties(&self) -> Parties {
        Parties {
            decided_by: self.decided_by,
            appellant: self.appellant,
        }
    }
}

fn decode(m: appeals::Model) -> StoreResult<Appeal> {
    let id = m.id;
    Ok(Appeal {
        id,
        decision: decoded(AppealableDecision::parse(&m.decision), TABLE, id, "decision")?,
        subject_id: m.subject_id,
        decision_audit_id: m.decision_audit_id,
        decided_by: m.decided_by.map(UserId),
        appellant: UserId(m.appellant_user_id),
        statement: m.statement,
        status: decoded(
            AppealStatus::from_parts(&m.status, m.outcome_reason.as_deref()),
            TABLE,
            id,
            "status",
        )?,
        reviewed_by: m.reviewed_by.map(UserId),
        reviewed_at: m.reviewed_at,
        claimed_by: m.claimed_by.map(UserId),
        claimed_until: m.claimed_until,
        version: m.version,
        filed_at: m.created_at,
    })
}

/// An appeal as filed.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    pub decision: AppealableDecision,
    pub subject_id: i64,
    pub decision_audit_id: i64,
    pub decided_by: Option<UserId>,
    pub appellant: UserId,
    pub statement: String,
}

/// Files an appeal; a decision appealed before answers [`StoreError::Conflict`].
pub async fn file(conn: &impl ConnectionTrait, appeal: NewAppeal, now: DateTime<Utc>) -> StoreResult<Appeal> {
    let row = appeals::ActiveModel {
        subject_type: Set(appeal.decision.subject_kind().to_owned()),
        subject_id: Set(appeal.subject_id),
        decision: Set(appeal.decision.as_str().to_owned()),
        decision_audit_id: Set(appeal.decision_audit_id),
        decided_by: Set(appeal.decided_by.map(|u| u.0)),
        appellant_user_id: Set(appeal.appellant.0),
        statement: Set(appeal.statement),
        status: Set(AppealStatus::Open.as_str().to_owned()),
        version: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(StoreError::unique("appeal of this decision"))?;
    decode(row)
}

pub async fn find(conn: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Appeal>> {
    appeals::Entity::find_by_id(id).one(conn).await?.map(decode).transpose()
}

/// The appeal of the decision recorded by audit row `decision_audit_id`, if there is one.
pub async fn of_decision(conn: &impl ConnectionTrait, decision_audit_id: i64) -> StoreResult<Option<Appeal>> {
    appeals::Entity::find()
        .filter(appeals::Column::DecisionAuditId.eq(decision_audit_id))
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

/// Whether an appeal about the subject of `kind` and `id` is open.
pub async fn open_about(conn: &impl ConnectionTrait, kind: &str, id: i64) -> StoreResult<bool> {
    Ok(open()
        .filter(appeals::Column::SubjectType.eq(kind))
        .filter(appeals::Column::SubjectId.eq(id))
        .count(conn)
        .await?
        > 0)
}

fn open() -> Select<appeals::Entity> {
    appeals::Entity::find().filter(appeals::Column::Status.eq(AppealStatus::Open.as_str()))
}

/// Open appeals `view` shows, the longest waiting first; at most `limit`.
pub async fn queue(conn: &impl ConnectionTrait, view: &QueueView, limit: u64) -> StoreResult<Vec<Appeal>> {
    open()
        .filter(LOCK.shown(view))
        .order_by_asc(appeals::Column::CreatedAt)
        .order_by_asc(appeals::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// How many appeals wait for a decision.
pub async fn waiting(conn: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(open().count(conn).await?)
}

/// Takes the review lock on an open appeal (see `identities::claim`).
pub async fn claim(
    conn: &impl ConnectionTrait,
    id: i64,
    reviewer: UserId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = LOCK
        .take(appeals::Entity::update_many(), reviewer, now, until)
        .filter(appeals::Column::Id.eq(id))
        .filter(appeals::Column::Status.eq(AppealStatus::Open.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the outcome, only if the appeal is still open at `version` and `reviewer` holds a
/// live claim.
pub async fn decide(
    conn: &impl ConnectionTrait,
    id: i64,
    reviewer: UserId,
    version: i32,
    outcome: &AppealStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let update = LOCK
        .release(appeals::Entity::update_many())
        .col_expr(appeals::Column::Status, Expr::value(outcome.as_str()))
        .col_expr(
            appeals::Column::OutcomeReason,
            Expr::value(outcome.reason().map(str::to_owned)),
        )
        .col_expr(appeals::Column::ReviewedBy, Expr::value(reviewer.0))
        .col_expr(appeals::Column::ReviewedAt, Expr::value(now))
        .col_expr(appeals::Column::Version, Expr::col(appeals::Column::Version).add(1));
    let result = LOCK
        .held_by(update, reviewer, now)
        .filter(appeals::Column::Id.eq(id))
        .filter(appeals::Column::Status.eq(AppealStatus::Open.as_str()))
        .filter(appeals::Column::Version.eq(version))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
