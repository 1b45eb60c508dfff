//! Issuers' filing dates: accepted on approval and renewal, renewals waiting for a reviewer,
//! lapses, and the latest reminder sent to each organisation. Every change is a
//! compare-and-set on the issuer's version, like review decisions.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, UpdateMany};

use super::StoreResult;
use super::entities::{filing_reminders, issuers};
use super::issuers::decode;
use crate::domain::filing_dates::{FilingDates, SentReminder};
use crate::domain::ids::IssuerId;
use crate::domain::issuer::Issuer;

/// The statuses of issuers that keep filings: approved, or suspended for a while.
const KEEPING: [&str; 2] = ["approved", "suspended"];

fn at_version(id: IssuerId, version: i32) -> UpdateMany<issuers::Entity> {
    issuers::Entity::update_many()
        .col_expr(issuers::Column::Version, Expr::col(issuers::Column::Version).add(1))
        .filter(issuers::Column::Id.eq(id.0))
        .filter(issuers::Column::Version.eq(version))
}

fn set_dates(update: UpdateMany<issuers::Entity>, dates: &FilingDates) -> UpdateMany<issuers::Entity> {
    update
        .col_expr(issuers::Column::LicenceValidUntil, Expr::value(dates.licence))
        .col_expr(issuers::Column::IcpValidUntil, Expr::value(dates.icp))
        .col_expr(issuers::Column::BlockchainValidUntil, Expr::value(dates.blockchain))
}

fn clear_renewal(update: UpdateMany<issuers::Entity>) -> UpdateMany<issuers::Entity> {
    let none = Option::<NaiveDate>::None;
    update
        .col_expr(issuers::Column::RenewalLicenceUntil, Expr::value(none))
        .col_expr(issuers::Column::RenewalIcpUntil, Expr::value(none))
        .col_expr(issuers::Column::RenewalBlockchainUntil, Expr::value(none))
        .col_expr(
            issuers::Column::RenewalSubmittedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}

/// Records that a reviewer accepted the issuer's filings on `today` (its approval).
pub async fn checked(conn: &impl ConnectionTrait, id: IssuerId, today: NaiveDate) -> StoreResult<()> {
    issuers::Entity::update_many()
        .col_expr(issuers::Column::FilingsCheckedOn, Expr::value(today))
        .filter(issuers::Column::Id.eq(id.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Puts new validity dates before the reviewers, replacing a renewal not yet decided.
pub async fn send_renewal(
    conn: &impl ConnectionTrait,
    id: IssuerId,
    version: i32,
    dates: &FilingDates,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = at_version(id, version)
        .col_expr(issuers::Column::RenewalLicenceUntil, Expr::value(dates.licence))
        .col_expr(issuers::Column::RenewalIcpUntil, Expr::value(dates.icp))
        .col_expr(issuers::Column::RenewalBlockchainUntil, Expr::value(dates.blockchain))
        .col_expr(issuers::Column::RenewalSubmittedAt, Expr::value(now))
        .filter(issuers::Column::Status.is_in(KEEPING))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Makes the renewal's dates the issuer's, checked on `today`, and lifts a lapse.
pub async fn accept_renewal(
    conn: &impl ConnectionTrait,
    id: IssuerId,
    version: i32,
    dates: &FilingDates,
    today: NaiveDate,
) -> StoreResult<bool> {
    let update = clear_renewal(set_dates(at_version(id, version), dates))
        .col_expr(issuers::Column::FilingsCheckedOn, Expr::value(today))
        .col_expr(
            issuers::Column::FilingsLapsedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(issuers::Column::RenewalSubmittedAt.is_not_null());
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Drops the renewal waiting for a reviewer.
pub async fn refuse_renewal(conn: &impl ConnectionTrait, id: IssuerId, version: i32) -> StoreResult<bool> {
    let update = clear_renewal(at_version(id, version)).filter(issuers::Column::RenewalSubmittedAt.is_not_null());
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Pauses the issuer's claims: a filing ran out.
pub async fn lapse(conn: &impl ConnectionTrait, id: IssuerId, version: i32, now: DateTime<Utc>) -> StoreResult<bool> {
    let update = at_version(id, version)
        .col_expr(issuers::Column::FilingsLapsedAt, Expr::value(now))
        .filter(issuers::Column::FilingsLapsedAt.is_null());
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Issuers whose filings a reviewer accepted and who keep them (approved or suspended).
pub async fn kept(conn: &impl ConnectionTrait) -> StoreResult<Vec<Issuer>> {
    issuers::Entity::find()
        .filter(issuers::Column::Status.is_in(KEEPING))
        .filter(issuers::Column::FilingsCheckedOn.is_not_null())
        .order_by_asc(issuers::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// Issuers with a renewal waiting for a reviewer, oldest first.
pub async fn renewals(conn: &impl ConnectionTrait) -> StoreResult<Vec<Issuer>> {
    issuers::Entity::find()
        .filter(issuers::Column::Status.is_in(KEEPING))
        .filter(issuers::Column::RenewalSubmittedAt.is_not_null())
        .order_by_asc(issuers::Column::RenewalSubmittedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// The latest reminder sent to `subject` (`issuer:<id>` or `operator`).
pub async fn reminder(conn: &impl ConnectionTrait, subject: &str) -> StoreResult<Option<SentReminder>> {
    Ok(filing_reminders::Entity::find_by_id(subject.to_owned())
        .one(conn)
        .await?
        .map(|row| SentReminder {
            last_day: row.last_day,
            days_before: u32::try_from(row.days_before).unwrap_or(0),
        }))
}

/// Records the reminder about to be sent to `subject`, unless it (or a nearer one) was
/// recorded for the same last day already: answers whether this call recorded it, so that of
/// two servers sweeping at once only one sends it.
pub async fn remember(
    conn: &impl ConnectionTrait,
    subject: &str,
    sent: SentReminder,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let row = filing_reminders::ActiveModel {
        subject: sea_orm::Set(subject.to_owned()),
        last_day: sea_orm::Set(sent.last_day),
        days_before: sea_orm::Set(i32::try_from(sent.days_before).unwrap_or(i32::MAX)),
        sent_at: sea_orm::Set(now),
    };
    let newer = Expr::cust(
        "filing_reminders.last_day <> excluded.last_day OR filing_reminders.days_before > excluded.days_before",
    );
    let recorded = filing_reminders::Entity::insert(row)
        .on_conflict(
            OnConflict::column(filing_reminders::Column::Subject)
                .update_columns([
                    filing_reminders::Column::LastDay,
                    filing_reminders::Column::DaysBefore,
                    filing_reminders::Column::SentAt,
                ])
                .action_and_where(newer)
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(recorded == 1)
}
