//! Policy acceptances: recorded once per person, document and version.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::StoreResult;
use super::entities::policy_acceptances;
use crate::domain::ids::UserId;
use crate::domain::policy::{PolicyDocument, PolicyVersion};

/// Records that `user` accepted `versions` at `now`; a version accepted before keeps its time.
pub async fn accept(
    conn: &impl ConnectionTrait,
    user: UserId,
    versions: &[PolicyVersion],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let rows = versions.iter().map(|at| policy_acceptances::ActiveModel {
        user_id: Set(user.0),
        document: Set(at.document.slug().to_owned()),
        version: Set(i32::try_from(at.version).unwrap_or(i32::MAX)),
        accepted_at: Set(now),
    });
    policy_acceptances::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                policy_acceptances::Column::UserId,
                policy_acceptances::Column::Document,
                policy_acceptances::Column::Version,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Every version `user` accepted. Rows naming a document this server does not know are
/// skipped: they cannot be current.
pub async fn accepted(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<PolicyVersion>> {
    let rows = policy_acceptances::Entity::find()
        .filter(policy_acceptances::Column::UserId.eq(user.0))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(PolicyVersion {
                document: PolicyDocument::parse(&row.document)?,
                version: u32::try_from(row.version).ok()?,
            })
        })
        .collect())
}
