//! Form results, by (owner, form key): the answer a repeated submission gets instead of doing
//! the work twice, and a payload its owner may see again for a while.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::form_results;
use super::{StoreError, StoreResult};

/// A stored result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormResult {
    /// Where the result is shown.
    pub location: String,
    /// The sealed payload, while it may still be shown.
    pub payload: Option<String>,
    pub show_until: DateTime<Utc>,
}

/// A result to keep.
#[derive(Debug, Clone)]
pub struct NewResult<'a> {
    pub owner: &'a str,
    pub form_key: &'a str,
    pub location: &'a str,
    pub payload: Option<String>,
    pub show_until: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The result of `owner`'s form `form_key`, unless it expired. Its payload is left out once
/// its time to be shown is over.
pub async fn find(
    conn: &impl ConnectionTrait,
    owner: &str,
    form_key: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<FormResult>> {
    let row = form_results::Entity::find_by_id((owner.to_owned(), form_key.to_owned()))
        .filter(form_results::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?;
    Ok(row.map(|row| FormResult {
        payload: row.payload.filter(|_| row.show_until > now),
        location: row.location,
        show_until: row.show_until,
    }))
}

/// Keeps a result. A second result for the same form is a [`StoreError::Conflict`]: the
/// caller's transaction rolls back, and the first result stands.
pub async fn record(conn: &impl ConnectionTrait, result: NewResult<'_>, now: DateTime<Utc>) -> StoreResult<()> {
    form_results::ActiveModel {
        owner: Set(result.owner.to_owned()),
        form_key: Set(result.form_key.to_owned()),
        location: Set(result.location.to_owned()),
        payload: Set(result.payload),
        created_at: Set(now),
        show_until: Set(result.show_until),
        expires_at: Set(result.expires_at),
    }
    .insert(conn)
    .await
    .map_err(StoreError::unique("form result"))?;
    Ok(())
}

/// Removes expired results; returns how many.
pub async fn prune(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    let deleted = form_results::Entity::delete_many()
        .filter(form_results::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?;
    Ok(deleted.rows_affected)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::store;

    #[tokio::test]
    async fn a_form_has_one_result_whose_payload_is_shown_for_a_while() {
        let (_dir, db) = store::scratch_database().await;
        let now = Utc::now();
        let result = || NewResult {
            owner: "session-a",
            form_key: "form-1",
            location: "/console/1?result=form-1",
            payload: Some("sealed".to_owned()),
            show_until: now + Duration::minutes(15),
            expires_at: now + Duration::days(1),
        };
        record(&db, result(), now).await.unwrap();
        assert!(matches!(record(&db, result(), now).await, Err(StoreError::Conflict(_))));
        let found = find(&db, "session-a", "form-1", now).await.unwrap().unwrap();
        assert_eq!(found.payload.as_deref(), Some("sealed"));
        assert_eq!(
            find(&db, "session-b", "form-1", now).await.unwrap(),
            None,
            "owners are apart"
        );
        let later = find(&db, "session-a", "form-1", now + Duration::hours(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (later.location.as_str(), later.payload),
            ("/console/1?result=form-1", None)
        );
        assert_eq!(
            find(&db, "session-a", "form-1", now + Duration::days(2)).await.unwrap(),
            None
        );
        assert_eq!(prune(&db, now + Duration::days(2)).await.unwrap(), 1);
    }
}
