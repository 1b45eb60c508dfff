//! What the annual governance report counts: audit rows, reports, appeals, reveals and the
//! nameless refusal counters of one year.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set};

use super::StoreResult;
use super::entities::{appeals, audit_log, identity_reveals, refusal_counts, reports};
use crate::domain::audit::{AuditAction, AuditDetails};
use crate::domain::governance::{CountedRefusal, Durations, GovernanceFigures, GovernanceYear};

/// Counts one refusal of `kind` on `day`.
pub async fn count_refusal(conn: &impl ConnectionTrait, kind: CountedRefusal, day: NaiveDate) -> StoreResult<()> {
    refusal_counts::Entity::insert(refusal_counts::ActiveModel {
        day: Set(day),
        kind: Set(kind.as_str().to_owned()),
        refusals: Set(1),
    })
    .on_conflict(
        OnConflict::columns([refusal_counts::Column::Day, refusal_counts::Column::Kind])
            .value(
                refusal_counts::Column::Refusals,
                Expr::col((refusal_counts::Entity, refusal_counts::Column::Refusals)).add(1),
            )
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Review decisions the report counts.
const DECISIONS: [AuditAction; 8] = [
    AuditAction::IdentityApproved,
    AuditAction::IdentityRejected,
    AuditAction::IssuerApproved,
    AuditAction::IssuerRejected,
    AuditAction::CollectionApproved,
    AuditAction::CollectionChangesRequested,
    AuditAction::CollectionRejected,
    AuditAction::CollectionReconsidered,
];

/// Decisions that took something down or stopped someone.
const TAKEDOWNS: [AuditAction; 5] = [
    AuditAction::CollectionFrozen,
    AuditAction::TokenFrozen,
    AuditAction::TokenRevoked,
    AuditAction::IssuerSuspended,
    AuditAction::IssuerRevoked,
];

/// What became of issuers' filings.
const FILINGS: [AuditAction; 3] = [
    AuditAction::IssuerFilingsLapsed,
    AuditAction::IssuerFilingsRenewed,
    AuditAction::IssuerFilingsRenewalRefused,
];

/// A case counted by kind and outcome, with when it was filed and decided.
type Case = (String, String, DateTime<Utc>, Option<DateTime<Utc>>);

fn hours(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / 3600.0
}

fn add(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_default() += 1;
}

/// The figures of `year`.
pub async fn figures(conn: &impl ConnectionTrait, year: GovernanceYear) -> StoreResult<GovernanceFigures> {
    let (from, until) = (year.starts(), year.ends());
    let mut figures = GovernanceFigures::default();

    let actions: Vec<&str> = DECISIONS
        .iter()
        .chain(TAKEDOWNS.iter())
        .chain(FILINGS.iter())
        .chain([AuditAction::CollectionScreened].iter())
        .map(|a| a.as_str())
        .collect();
    let rows: Vec<(String, Option<String>, Option<String>)> = audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::Action)
        .column(audit_log::Column::AfterState)
        .column(audit_log::Column::Details)
        .filter(audit_log::Column::At.gte(from))
        .filter(audit_log::Column::At.lt(until))
        .filter(audit_log::Column::Action.is_in(actions))
        .into_tuple()
        .all(conn)
        .await?;
    for (action, after, details) in rows {
        if action == AuditAction::CollectionScreened.as_str() {
            if after.as_deref() == Some("auto_rejected") {
                figures.auto_rejected += 1;
            }
            continue;
        }
        if TAKEDOWNS.iter().any(|a| a.as_str() == action) {
            add(&mut figures.takedowns, &action);
        } else if FILINGS.iter().any(|a| a.as_str() == action) {
            add(&mut figures.filings, &action);
        } else {
            add(&mut figures.decisions, &action);
        }
        if let Some(AuditDetails::ReasonCode { code }) = details.as_deref().and_then(|d| serde_json::from_str(d).ok()) {
            add(&mut figures.decisions_by_code, &code);
        }
    }

    let filed: Vec<Case> = reports::Entity::find()
        .select_only()
        .column(reports::Column::Category)
        .column(reports::Column::Status)
        .column(reports::Column::CreatedAt)
        .column(reports::Column::DecidedAt)
        .filter(reports::Column::CreatedAt.gte(from))
        .filter(reports::Column::CreatedAt.lt(until))
        .into_tuple()
        .all(conn)
        .await?;
    let mut taken = Vec::new();
    for (category, status, filed_at, decided_at) in filed {
        add(&mut figures.reports_by_category, &category);
        add(&mut figures.reports_by_status, &status);
        taken.extend(decided_at.map(|at| hours(filed_at, at)));
    }
    figures.report_times = Durations::of(taken);

    let appealed: Vec<Case> = appeals::Entity::find()
        .select_only()
        .column(appeals::Column::Decision)
        .column(appeals::Column::Status)
        .column(appeals::Column::CreatedAt)
        .column(appeals::Column::ReviewedAt)
        .filter(appeals::Column::CreatedAt.gte(from))
        .filter(appeals::Column::CreatedAt.lt(until))
        .into_tuple()
        .all(conn)
        .await?;
    let mut taken = Vec::new();
    for (decision, status, filed_at, reviewed_at) in appealed {
        add(&mut figures.appeals_by_decision, &decision);
        add(&mut figures.appeals_by_status, &status);
        taken.extend(reviewed_at.map(|at| hours(filed_at, at)));
    }
    figures.appeal_times = Durations::of(taken);

    let refused: Vec<(String, i64)> = refusal_counts::Entity::find()
        .select_only()
        .column(refusal_counts::Column::Kind)
        .column(refusal_counts::Column::Refusals)
        .filter(refusal_counts::Column::Day.gte(year.first_day()))
        .filter(refusal_counts::Column::Day.lte(year.last_day()))
        .into_tuple()
        .all(conn)
        .await?;
    for (kind, count) in refused {
        *figures.minors_refused.entry(kind).or_default() += u64::try_from(count).unwrap_or(0);
    }

    figures.reveals = identity_reveals::Entity::find()
        .filter(identity_reveals::Column::CreatedAt.gte(from))
        .filter(identity_reveals::Column::CreatedAt.lt(until))
        .count(conn)
        .await?;
    Ok(figures)
}
