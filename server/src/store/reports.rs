//! Reports: filed with a ticket, claimed and decided like every review case.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, Set,
};

use super::entities::reports;
use super::review_lock::ReviewLock;
use super::{StoreResult, decoded};
use crate::domain::account::Email;
use crate::domain::ids::UserId;
use crate::domain::report::{ReportCategory, ReportStatus, ReportTarget, Ticket};
use crate::domain::review_queue::QueueView;
use crate::i18n::Locale;

const TABLE: &str = "reports";

const LOCK: ReviewLock<reports::Column> = ReviewLock {
    by: reports::Column::ClaimedBy,
    until: reports::Column::ClaimedUntil,
};

/// A stored report.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: i64,
    pub ticket: Ticket,
    pub target: ReportTarget,
    pub category: ReportCategory,
    pub description: String,
    pub contact: Option<Email>,
    pub reporter: Option<UserId>,
    /// The language the reporter wrote in, which the decision mail uses.
    pub locale: Locale,
    pub status: ReportStatus,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub claimed_by: Option<UserId>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub version: i32,
    pub filed_at: DateTime<Utc>,
}

fn decode(m: reports::Model) -> StoreResult<Report> {
    let id = m.id;
    Ok(Report {
        id,
        ticket: decoded(Ticket::parse(&m.ticket), TABLE, id, "ticket")?,
        target: decoded(
            ReportTarget::from_parts(&m.target_type, m.target_id),
            TABLE,
            id,
            "target",
        )?,
        category: decoded(ReportCategory::parse(&m.category), TABLE, id, "category")?,
        description: m.description,
        contact: m.contact_email.as_deref().and_then(|e| Email::parse(e).ok()),
        reporter: m.reporter_user_id.map(UserId),
        locale: decoded(Locale::from_tag(&m.locale), TABLE, id, "locale")?,
        status: decoded(
            ReportStatus::from_parts(&m.status, m.reason_code.as_deref(), m.decision_reason.as_deref()),
            TABLE,
            id,
            "status",
        )?,
        decided_by: m.decided_by.map(UserId),
        decided_at: m.decided_at,
        claimed_by: m.claimed_by.map(UserId),
        claimed_until: m.claimed_until,
        version: m.version,
        filed_at: m.created_at,
    })
}

/// A report as filed.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub ticket: Ticket,
    pub target: ReportTarget,
    pub category: ReportCategory,
    pub description: String,
    pub contact: Option<Email>,
    pub reporter: Option<UserId>,
    pub locale: Locale,
}

pub async fn file(conn: &impl ConnectionTrait, report: NewReport, now: DateTime<Utc>) -> StoreResult<Report> {
    let row = reports::ActiveModel {
        ticket: Set(report.ticket.as_str().to_owned()),
        target_type: Set(report.target.kind().to_owned()),
        target_id: Set(report.target.id()),
        category: Set(report.category.as_str().to_owned()),
        description: Set(report.description),
        contact_email: Set(report.contact.map(|e| e.as_str().to_owned())),
        reporter_user_id: Set(report.reporter.map(|u| u.0)),
        locale: Set(report.locale.tag().to_owned()),
        status: Set(ReportStatus::Open.as_str().to_owned()),
        version: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    decode(row)
}

pub async fn find(conn: &impl ConnectionTrait, id: i64) -> StoreResult<Option<Report>> {
    reports::Entity::find_by_id(id).one(conn).await?.map(decode).transpose()
}

pub async fn by_ticket(conn: &impl ConnectionTrait, ticket: &Ticket) -> StoreResult<Option<Report>> {
    reports::Entity::find()
        .filter(reports::Column::Ticket.eq(ticket.as_str()))
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

fn open() -> Select<reports::Entity> {
    reports::Entity::find().filter(reports::Column::Status.eq(ReportStatus::Open.as_str()))
}

/// Open reports `view` shows: illegal content first, then the longest waiting; at most `limit`.
pub async fn queue(conn: &impl ConnectionTrait, view: &QueueView, limit: u64) -> StoreResult<Vec<Report>> {
    // `ReportCategory::urgent` in SQL: illegal content is the one urgent category.
    let urgent = Expr::col(reports::Column::Category).eq(ReportCategory::IllegalContent.as_str());
    open()
        .filter(LOCK.shown(view))
        .order_by_desc(urgent)
        .order_by_asc(reports::Column::CreatedAt)
        .order_by_asc(reports::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// How many reports wait for a decision.
pub async fn waiting(conn: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(open().count(conn).await?)
}

/// Takes the review lock on an open report (see `identities::claim`).
pub async fn claim(
    conn: &impl ConnectionTrait,
    id: i64,
    reviewer: UserId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = LOCK
        .take(reports::Entity::update_many(), reviewer, now, until)
        .filter(reports::Column::Id.eq(id))
        .filter(reports::Column::Status.eq(ReportStatus::Open.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records a decision, only if the report is still open at `version` and `reviewer` holds a
/// live claim.
pub async fn decide(
    conn: &impl ConnectionTrait,
    id: i64,
    reviewer: UserId,
    version: i32,
    decision: &ReportStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let update = LOCK
        .release(reports::Entity::update_many())
        .col_expr(reports::Column::Status, Expr::value(decision.as_str()))
        .col_expr(
            reports::Column::ReasonCode,
            Expr::value(decision.code().map(|c| c.as_str().to_owned())),
        )
        .col_expr(
            reports::Column::DecisionReason,
            Expr::value(decision.reason().map(str::to_owned)),
        )
        .col_expr(reports::Column::DecidedBy, Expr::value(reviewer.0))
        .col_expr(reports::Column::DecidedAt, Expr::value(now))
        .col_expr(reports::Column::Version, Expr::col(reports::Column::Version).add(1));
    let result = LOCK
        .held_by(update, reviewer, now)
        .filter(reports::Column::Id.eq(id))
        .filter(reports::Column::Status.eq(ReportStatus::Open.as_str()))
        .filter(reports::Column::Version.eq(version))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
