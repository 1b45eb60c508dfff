//! For the benches: rows in the shape the application writes, put straight into the database a
//! multi-row insert at a time (signing thousands of people up through Argon2 and a reviewer
//! would take hours and measure nothing of interest), and the benches' small helpers.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use keepsake::crypto;
use keepsake::domain::ids::UserId;
use keepsake::kyc::{Field, PiiVault};
use keepsake::store::entities::{id_number_consents, identities, policy_acceptances, sessions, users};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

const ROWS_PER_INSERT: usize = 1_000;
/// The standard's example number: born 1949, an adult. Seeded people share it; what makes
/// each one a person of their own is the blind index.
const ADULT_ID_NUMBER: &str = "11010519491231002X";

/// The number in the environment variable `name`, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} must be a number")))
        .unwrap_or(default)
}

/// The `p` quantile (0 to 1) of `sorted` latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Inserts `rows` in multi-row statements.
pub async fn insert_all<A, E>(db: &DatabaseConnection, rows: impl IntoIterator<Item = A>)
where
    A: ActiveModelTrait<Entity = E> + Send,
    E: EntityTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        E::insert_many(rows.by_ref().take(ROWS_PER_INSERT))
            .exec_without_returning(db)
            .await
            .expect("seed rows go in");
    }
}

/// `count` people addressed `{prefix}{n}@example.com` with verified addresses and a real-name
/// identity, verified (`verified`) or waiting for a reviewer, each with the blind index
/// `{prefix}-person-{id}` and an adult's ID number sealed with `vault`, as claims open it;
/// returns their ids in order.
pub async fn people(
    db: &DatabaseConnection,
    vault: &PiiVault,
    prefix: &str,
    count: u64,
    verified: bool,
    now: DateTime<Utc>,
) -> Vec<i64> {
    insert_all(
        db,
        (0..count).map(|n| users::ActiveModel {
            email: Set(format!("{prefix}{n}@example.com")),
            password_hash: Set(crypto::dummy_password_hash().to_owned()),
            email_verified_at: Set(Some(now)),
            locale: Set("zh-CN".to_owned()),
            created_at: Set(now),
            ..Default::default()
        }),
    )
    .await;
    let ids: Vec<i64> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Email.like(format!("{prefix}%@example.com")))
        .order_by_asc(users::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    assert_eq!(ids.len() as u64, count);
    insert_all(
        db,
        ids.iter().enumerate().map(|(n, id)| identities::ActiveModel {
            user_id: Set(*id),
            status: Set(if verified { "verified" } else { "pending" }.to_owned()),
            legal_name_enc: Set(vault.seal(Field::LegalName, UserId(*id), "测试用户")),
            id_number_enc: Set(vault.seal(Field::IdNumber, UserId(*id), ADULT_ID_NUMBER)),
            id_masked: Set("1101**********000X".to_owned()),
            blind_index: Set(Some(format!("{prefix}-person-{id}"))),
            province_known: Set(true),
            verifier: Set("reviewer".to_owned()),
            provider_reference: Set(None),
            reject_reason: Set(None),
            submitted_at: Set(now - TimeDelta::seconds(n as i64)),
            decided_at: Set(verified.then_some(now)),
            decided_by: Set(None),
            claimed_by: Set(None),
            claimed_until: Set(None),
            version: Set(1),
            return_path: Set(None),
            previous_name_enc: Set(None),
            previous_id_number_enc: Set(None),
            previous_masked: Set(None),
            previous_blind_index: Set(None),
        }),
    )
    .await;
    // They signed up, so they accepted the policies as they stand.
    insert_all(
        db,
        ids.iter().flat_map(|id| {
            keepsake::policies::current_versions()
                .into_iter()
                .map(|at| policy_acceptances::ActiveModel {
                    user_id: Set(*id),
                    document: Set(at.document.slug().to_owned()),
                    version: Set(at.version as i32),
                    accepted_at: Set(now),
                })
        }),
    )
    .await;
    // And gave their separate consent to the processing of their ID number with it.
    let privacy = keepsake::policies::current(keepsake::domain::policy::PolicyDocument::Privacy);
    insert_all(
        db,
        ids.iter().map(|id| id_number_consents::ActiveModel {
            user_id: Set(*id),
            policy_version: Set(privacy.at.version as i32),
            given_at: Set(now),
            withdrawn_at: Set(None),
            ..Default::default()
        }),
    )
    .await;
    ids
}

/// A live session for each of `users`; returns their cookie values in the same order.
pub async fn sessions(db: &DatabaseConnection, users: &[i64], now: DateTime<Utc>) -> Vec<String> {
    let tokens: Vec<(i64, String)> = users.iter().map(|id| (*id, crypto::random_token())).collect();
    insert_all(
        db,
        tokens.iter().map(|(id, token)| sessions::ActiveModel {
            id: Set(crypto::sha3_hex(token.as_bytes())),
            user_id: Set(*id),
            created_at: Set(now),
            expires_at: Set(now + TimeDelta::days(1)),
        }),
    )
    .await;
    tokens.into_iter().map(|(_, token)| token).collect()
}
