//! Server-side sessions. Only the SHA3-256 of the cookie token is stored, so a leaked
//! database does not hand out live sessions.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, Query, QueryStatementBuilder};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::entities::{
    id_number_consents, identities, issuer_members, person_keys, policy_acceptances, second_factors, sessions,
    user_roles, users,
};
use super::{StoreResult, decoded};
use crate::domain::account::Email;
use crate::domain::identity::IdentityStatus;
use crate::domain::ids::UserId;
use crate::domain::policy::PolicyVersion;
use crate::domain::role::Role;

pub async fn create(
    conn: &impl ConnectionTrait,
    id_hash: String,
    user: UserId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    sessions::ActiveModel {
        id: Set(id_hash),
        user_id: Set(user.0),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The account behind a live session, with what every request needs to know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAccount {
    pub user: UserId,
    pub email: Email,
    pub roles: Vec<Role>,
    /// The account belongs to at least one issuer.
    pub issuer_member: bool,
    /// The account's identity, once verified.
    pub verified: Option<VerifiedIdentity>,
    /// The person accepted every policy document at its current version.
    pub policies_current: bool,
    /// The account has a confirmed second factor (so this session passed it, or enrolled it).
    pub second_factor: bool,
}

/// A verified identity as every request of its account carries it. Its `Debug` shows neither
/// field, so a session printed in a log names no one.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// What claims count by.
    pub blind_index: String,
    /// The ID number as sealed at rest; opened only where its date of birth is needed.
    pub sealed_id_number: String,
    /// The person's data key as stored, which the ID number is sealed under (none for an
    /// identity sealed before person keys).
    pub person_key: Option<String>,
    /// The person's consent to processing their ID number is in force; without it the number
    /// is used for nothing, claims included.
    pub consented: bool,
}

impl std::fmt::Debug for VerifiedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifiedIdentity([redacted])")
    }
}

/// The account of a live session, or `None` if the session is unknown or expired: one query
/// (session, user, granted roles, issuer membership, verified identity and whether it accepted
/// the `current` policy versions), since every request asks.
pub async fn account(
    conn: &impl ConnectionTrait,
    id_hash: &str,
    current: &[PolicyVersion],
    now: DateTime<Utc>,
) -> StoreResult<Option<SessionAccount>> {
    let current_versions = current.iter().fold(Condition::any(), |any, at| {
        any.add(
            Condition::all()
                .add(
                    Expr::col((policy_acceptances::Entity, policy_acceptances::Column::Document))
                        .eq(at.document.slug()),
                )
                .add(
                    Expr::col((policy_acceptances::Entity, policy_acceptances::Column::Version))
                        .eq(i32::try_from(at.version).unwrap_or(i32::MAX)),
                ),
        )
    });
    let accepted = Query::select()
        .expr(Func::count(Expr::col((
            policy_acceptances::Entity,
            policy_acceptances::Column::UserId,
        ))))
        .from(policy_acceptances::Entity)
        .and_where(
            Expr::col((policy_acceptances::Entity, policy_acceptances::Column::UserId))
                .equals((users::Entity, users::Column::Id)),
        )
        .cond_where(current_versions)
        .to_owned();
    let memberships = Query::select()
        .expr(Func::count(Expr::col((
            issuer_members::Entity,
            issuer_members::Column::UserId,
        ))))
        .from(issuer_members::Entity)
        .and_where(
            Expr::col((issuer_members::Entity, issuer_members::Column::UserId))
                .equals((users::Entity, users::Column::Id)),
        )
        .to_owned();
    let consents = Query::select()
        .expr(Func::count(Expr::col((
            id_number_consents::Entity,
            id_number_consents::Column::Id,
        ))))
        .from(id_number_consents::Entity)
        .and_where(
            Expr::col((id_number_consents::Entity, id_number_consents::Column::UserId))
                .equals((users::Entity, users::Column::Id)),
        )
        .and_where(Expr::col((id_number_consents::Entity, id_number_consents::Column::WithdrawnAt)).is_null())
        .to_owned();
    let enrolled = Query::select()
        .expr(Func::count(Expr::col((
            second_factors::Entity,
            second_factors::Column::UserId,
        ))))
        .from(second_factors::Entity)
        .and_where(
            Expr::col((second_factors::Entity, second_factors::Column::UserId))
                .equals((users::Entity, users::Column::Id)),
        )
        .and_where(Expr::col((second_factors::Entity, second_factors::Column::EnrolledAt)).is_not_null())
        .to_owned();
    let query = Query::select()
        .column((users::Entity, users::Column::Id))
        .column((users::Entity, users::Column::Email))
        .column((sessions::Entity, sessions::Column::ExpiresAt))
        .column((user_roles::Entity, user_roles::Column::Role))
        .column((identities::Entity, identities::Column::Status))
        .column((identities::Entity, identities::Column::BlindIndex))
        .column((identities::Entity, identities::Column::IdNumberEnc))
        .column((person_keys::Entity, person_keys::Column::WrappedKey))
        .expr_as(
            Expr::SubQuery(None, Box::new(memberships.into_sub_query_statement())),
            "memberships",
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(consents.into_sub_query_statement())),
            "id_consents",
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(accepted.into_sub_query_statement())),
            "policies_accepted",
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(enrolled.into_sub_query_statement())),
            "second_factor",
        )
        .from(sessions::Entity)
        .inner_join(
            users::Entity,
            Expr::col((users::Entity, users::Column::Id)).equals((sessions::Entity, sessions::Column::UserId)),
        )
        .left_join(
            user_roles::Entity,
            Expr::col((user_roles::Entity, user_roles::Column::UserId)).equals((users::Entity, users::Column::Id)),
        )
        .left_join(
            identities::Entity,
            Expr::col((identities::Entity, identities::Column::UserId)).equals((users::Entity, users::Column::Id)),
        )
        .left_join(
            person_keys::Entity,
            Expr::col((person_keys::Entity, person_keys::Column::UserId)).equals((users::Entity, users::Column::Id)),
        )
        .and_where(Expr::col((sessions::Entity, sessions::Column::Id)).eq(id_hash))
        .to_owned();
    let rows = conn.query_all(&query).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let expires_at: DateTime<Utc> = first.try_get("", "expires_at")?;
    if expires_at <= now {
        return Ok(None);
    }
    let mut roles = Vec::new();
    for row in &rows {
        let role: Option<String> = row.try_get("", "role")?;
        roles.extend(role.and_then(|r| r.parse::<Role>().ok()));
    }
    let memberships: i64 = first.try_get("", "memberships")?;
    let id_consents: i64 = first.try_get("", "id_consents")?;
    let policies_accepted: i64 = first.try_get("", "policies_accepted")?;
    let second_factor: i64 = first.try_get("", "second_factor")?;
    let identity_status: Option<String> = first.try_get("", "status")?;
    let blind_index: Option<String> = first.try_get("", "blind_index")?;
    let sealed_id_number: Option<String> = first.try_get("", "id_number_enc")?;
    let person_key: Option<String> = first.try_get("", "wrapped_key")?;
    let user = UserId(first.try_get("", "id")?);
    let email: String = first.try_get("", "email")?;
    Ok(Some(SessionAccount {
        email: decoded(Email::parse(&email).ok(), "users", user, "email")?,
        user,
        roles,
        issuer_member: memberships > 0,
        policies_current: usize::try_from(policies_accepted).is_ok_and(|n| n == current.len()),
        second_factor: second_factor > 0,
        verified: blind_index
            .zip(sealed_id_number)
            .filter(|_| identity_status.as_deref() == Some(IdentityStatus::Verified.as_str()))
            .map(|(blind_index, sealed_id_number)| VerifiedIdentity {
                blind_index,
                sealed_id_number,
                person_key,
                consented: id_consents > 0,
            }),
    }))
}

pub async fn delete(conn: &impl ConnectionTrait, id_hash: &str) -> StoreResult<()> {
    sessions::Entity::delete_by_id(id_hash.to_owned()).exec(conn).await?;
    Ok(())
}

/// Ends every session of a user (after a password reset).
pub async fn delete_all_for(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<()> {
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes sessions that have expired.
pub async fn prune_expired(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use crate::domain::policy::PolicyDocument;
    use chrono::TimeDelta;

    use super::*;
    use crate::domain::account::Email;
    use crate::i18n::Locale;
    use crate::store;

    #[tokio::test]
    async fn a_session_brings_its_account_and_every_granted_role_in_one_query() {
        let (_dir, db) = store::scratch_database().await;
        let now = Utc::now();
        let email = Email::parse("reviewer@example.com").unwrap();
        let user = store::users::create(&db, &email, "hash".into(), Locale::default(), now)
            .await
            .unwrap();
        let day = TimeDelta::days(1);
        create(&db, "live".into(), user, now, now + day).await.unwrap();
        create(&db, "stale".into(), user, now - day - day, now - day)
            .await
            .unwrap();

        let current = [PolicyVersion {
            document: PolicyDocument::Terms,
            version: 2,
        }];
        let plain = account(&db, "live", &current, now)
            .await
            .unwrap()
            .expect("a live session");
        assert!(!plain.policies_current, "nothing accepted yet");
        let older = PolicyVersion {
            version: 1,
            ..current[0]
        };
        store::policies::accept(&db, user, &[older], now).await.unwrap();
        let stale = account(&db, "live", &current, now).await.unwrap().unwrap();
        assert!(!stale.policies_current, "an older version does not count");
        store::policies::accept(&db, user, &current, now).await.unwrap();
        let accepted = account(&db, "live", &current, now).await.unwrap().unwrap();
        assert!(accepted.policies_current);
        assert_eq!((plain.user, plain.email.as_str()), (user, "reviewer@example.com"));
        assert!(plain.roles.is_empty() && !plain.issuer_member);
        assert_eq!(plain.verified, None, "no identity yet");

        for role in [Role::Reviewer, Role::Admin] {
            store::users::grant_role(&db, user, role, None, now).await.unwrap();
        }
        let mut roles = account(&db, "live", &current, now).await.unwrap().unwrap().roles;
        roles.sort_by_key(|r| format!("{r:?}"));
        assert_eq!(roles, [Role::Admin, Role::Reviewer]);

        let identity = |status: &str| identities::ActiveModel {
            user_id: Set(user.0),
            status: Set(status.to_owned()),
            legal_name_enc: Set("sealed".into()),
            id_number_enc: Set("sealed".into()),
            id_masked: Set("1101**********0012".into()),
            blind_index: Set(Some("blind".into())),
            province_known: Set(true),
            verifier: Set("manual".into()),
            submitted_at: Set(now),
            version: Set(0),
            ..Default::default()
        };
        identity("pending").insert(&db).await.unwrap();
        let pending = account(&db, "live", &current, now).await.unwrap().unwrap();
        assert_eq!(pending.verified, None, "claims wait for verification");
        identity("verified").update(&db).await.unwrap();
        let verified = account(&db, "live", &current, now).await.unwrap().unwrap();
        assert_eq!(
            verified.verified,
            Some(VerifiedIdentity {
                blind_index: "blind".into(),
                sealed_id_number: "sealed".into(),
                person_key: None,
                consented: false,
            }),
            "verified before consents were kept"
        );
        store::id_consents::give(&db, user, 1, now).await.unwrap();
        let consented = account(&db, "live", &current, now).await.unwrap().unwrap();
        assert!(consented.verified.as_ref().is_some_and(|v| v.consented));
        assert!(store::id_consents::withdraw(&db, user, now).await.unwrap());
        assert!(
            !store::id_consents::withdraw(&db, user, now).await.unwrap(),
            "withdrawn once"
        );
        let withdrawn = account(&db, "live", &current, now).await.unwrap().unwrap();
        assert!(withdrawn.verified.is_some_and(|v| !v.consented));
        let printed = format!("{verified:?}");
        assert!(!printed.contains("blind") && !printed.contains("sealed\""), "{printed}");

        assert_eq!(account(&db, "stale", &current, now).await.unwrap(), None, "expired");
        assert_eq!(account(&db, "unknown", &current, now).await.unwrap(), None);
    }
}
