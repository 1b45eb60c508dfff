//! Tokens. Minting inserts a batch of rows and sets the collection's count in the claims'
//! transaction, after [`lock_collection`] has serialised claims on that collection. Nothing
//! here updates a token's holder: there is deliberately no such query.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entities::{collections, tokens};
use super::{INSERT_CHUNK, LOOKUP_CHUNK, StoreError, StoreResult, decoded, in_chunks};
use crate::domain::ids::{CollectionId, IssuerId, TokenId, UserId};
use crate::domain::token::{Token, TokenStatus};

const TABLE: &str = "tokens";

fn decode(m: tokens::Model) -> StoreResult<Token> {
    let id = m.id;
    Ok(Token {
        id: TokenId(m.id),
        collection: CollectionId(m.collection_id),
        serial: decoded(u32::try_from(m.serial).ok(), TABLE, id, "serial")?,
        holder: UserId(m.holder_user_id),
        status: decoded(
            TokenStatus::from_parts(&m.status, m.status_reason.as_deref()),
            TABLE,
            id,
            "status",
        )?,
        salt: decoded(m.salt.as_slice().try_into().ok(), TABLE, id, "salt")?,
        commitment: decoded(m.commitment.as_slice().try_into().ok(), TABLE, id, "commitment")?,
        holder_index: m.holder_index,
        ledger_queue_id: m.ledger_queue_id,
        claimed_at: m.claimed_at,
    })
}

/// A token about to be minted.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub collection: CollectionId,
    pub serial: u32,
    pub holder: UserId,
    pub holder_index: &'a str,
    pub salt: [u8; 32],
    pub commitment: [u8; 32],
    /// The claimant's idempotency key: a retried claim finds its token by it.
    pub claim_key: &'a str,
    pub ledger_queue_id: i64,
}

/// Takes the collection's row lock (PostgreSQL) or the database write lock (SQLite) for the
/// rest of the transaction, so that claims on one collection are decided one at a time.
pub async fn lock_collection(conn: &impl ConnectionTrait, collection: CollectionId) -> StoreResult<bool> {
    let result = collections::Entity::update_many()
        .col_expr(
            collections::Column::ClaimedCount,
            Expr::col(collections::Column::ClaimedCount),
        )
        .filter(collections::Column::Id.eq(collection.0))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// How many tokens of the collection each of these verified identities holds (absent: none).
pub async fn held_by_many(
    conn: &impl ConnectionTrait,
    collection: CollectionId,
    holder_indexes: &[&str],
) -> StoreResult<HashMap<String, u64>> {
    let counts: Vec<(String, i64)> = in_chunks(holder_indexes, |chunk| {
        tokens::Entity::find()
            .select_only()
            .column(tokens::Column::HolderIndex)
            .column_as(tokens::Column::Id.count(), "held")
            .filter(tokens::Column::CollectionId.eq(collection.0))
            .filter(tokens::Column::HolderIndex.is_in(chunk.iter().copied()))
            .group_by(tokens::Column::HolderIndex)
            .into_tuple()
            .all(conn)
    })
    .await?;
    Ok(counts
        .into_iter()
        .map(|(index, n)| (index, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// The tokens earlier claims with these (claimant, key) pairs minted.
pub async fn by_claim_keys(
    conn: &impl ConnectionTrait,
    keys: &[(UserId, &str)],
) -> StoreResult<HashMap<(UserId, String), Token>> {
    // Each chunk's query matches its claimants and keys crosswise; only asked pairs are kept.
    let rows = in_chunks(keys, |chunk| {
        tokens::Entity::find()
            .filter(tokens::Column::HolderUserId.is_in(chunk.iter().map(|(user, _)| user.0)))
            .filter(tokens::Column::ClaimKey.is_in(chunk.iter().map(|(_, key)| *key)))
            .all(conn)
    })
    .await?;
    let wanted: HashSet<(UserId, &str)> = keys.iter().copied().collect();
    rows.into_iter()
        .filter(|row| wanted.contains(&(UserId(row.holder_user_id), row.claim_key.as_str())))
        .map(|row| Ok(((UserId(row.holder_user_id), row.claim_key.clone()), decode(row)?)))
        .collect()
}

/// The token an earlier claim with this key minted, if any.
pub async fn by_claim_key(conn: &impl ConnectionTrait, holder: UserId, claim_key: &str) -> StoreResult<Option<Token>> {
    tokens::Entity::find()
        .filter(tokens::Column::HolderUserId.eq(holder.0))
        .filter(tokens::Column::ClaimKey.eq(claim_key))
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

/// Writes the tokens; returns their ids in the order given. The caller counts them against the
/// supply with [`set_claimed_count`]. Rows are matched back by collection and serial, which
/// are unique, since neither database promises the order of `RETURNING` rows.
pub async fn mint_many(
    conn: &impl ConnectionTrait,
    new: &[NewToken<'_>],
    now: DateTime<Utc>,
) -> StoreResult<Vec<TokenId>> {
    let mut minted = HashMap::with_capacity(new.len());
    for chunk in new.chunks(INSERT_CHUNK) {
        let rows = tokens::Entity::insert_many(chunk.iter().map(|token| tokens::ActiveModel {
            collection_id: Set(token.collection.0),
            serial: Set(i32::try_from(token.serial).unwrap_or(i32::MAX)),
            holder_user_id: Set(token.holder.0),
            holder_index: Set(token.holder_index.to_owned()),
            salt: Set(token.salt.to_vec()),
            commitment: Set(token.commitment.to_vec()),
            status: Set(TokenStatus::Active.as_str().to_owned()),
            status_reason: Set(None),
            claim_key: Set(token.claim_key.to_owned()),
            ledger_queue_id: Set(token.ledger_queue_id),
            claimed_at: Set(now),
            ..Default::default()
        }))
        .exec_with_returning(conn)
        .await
        .map_err(StoreError::unique("claim"))?;
        minted.extend(
            rows.into_iter()
                .map(|row| ((row.collection_id, row.serial), TokenId(row.id))),
        );
    }
    new.iter()
        .map(|token| {
            let serial = i32::try_from(token.serial).unwrap_or(i32::MAX);
            minted
                .get(&(token.collection.0, serial))
                .copied()
                .ok_or(StoreError::Db(DbErr::RecordNotInserted))
        })
        .collect()
}

/// Records how many tokens of the collection are minted.
pub async fn set_claimed_count(conn: &impl ConnectionTrait, collection: CollectionId, count: u64) -> StoreResult<()> {
    collections::Entity::update_many()
        .col_expr(
            collections::Column::ClaimedCount,
            Expr::value(i64::try_from(count).unwrap_or(i64::MAX)),
        )
        .filter(collections::Column::Id.eq(collection.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Changes these tokens' status (never their holder), each only from the status it was read
/// with; false if any of them changed meanwhile (the caller then rolls back).
pub async fn set_status_many(conn: &impl ConnectionTrait, read: &[&Token], to: &TokenStatus) -> StoreResult<bool> {
    let mut by_status: HashMap<&str, Vec<i64>> = HashMap::new();
    for token in read {
        by_status.entry(token.status.as_str()).or_default().push(token.id.0);
    }
    let mut changed = 0;
    for (from, ids) in by_status {
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let result = tokens::Entity::update_many()
                .col_expr(tokens::Column::Status, Expr::value(to.as_str()))
                .col_expr(
                    tokens::Column::StatusReason,
                    Expr::value(to.reason().map(str::to_owned)),
                )
                .filter(tokens::Column::Id.is_in(chunk.iter().copied()))
                .filter(tokens::Column::Status.eq(from))
                .exec(conn)
                .await?;
            changed += result.rows_affected;
        }
    }
    Ok(changed == read.len() as u64)
}

/// The token of `collection` with `serial`, if minted.
pub async fn by_serial(
    conn: &impl ConnectionTrait,
    collection: CollectionId,
    serial: u32,
) -> StoreResult<Option<Token>> {
    tokens::Entity::find()
        .filter(tokens::Column::CollectionId.eq(collection.0))
        .filter(tokens::Column::Serial.eq(i32::try_from(serial).unwrap_or(i32::MAX)))
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

pub async fn find(conn: &impl ConnectionTrait, id: TokenId) -> StoreResult<Option<Token>> {
    tokens::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

/// A collection's tokens in serial order after serial `after`: `limit` of them, or all.
pub async fn of_collection(
    conn: &impl ConnectionTrait,
    collection: CollectionId,
    after: Option<u32>,
    limit: Option<u64>,
) -> StoreResult<Vec<Token>> {
    let mut query = tokens::Entity::find().filter(tokens::Column::CollectionId.eq(collection.0));
    if let Some(serial) = after {
        query = query.filter(tokens::Column::Serial.gt(i64::from(serial)));
    }
    query
        .order_by_asc(tokens::Column::Serial)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// A collection's tokens that are frozen or revoked, in serial order: at most `limit`.
pub async fn decided_in(conn: &impl ConnectionTrait, collection: CollectionId, limit: u64) -> StoreResult<Vec<Token>> {
    tokens::Entity::find()
        .filter(tokens::Column::CollectionId.eq(collection.0))
        .filter(tokens::Column::Status.ne(TokenStatus::Active.as_str()))
        .order_by_asc(tokens::Column::Serial)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// Tokens claimed from `from` until before `until`, in these collections or in any: at most
/// `limit`, in the order they were minted.
pub async fn claimed_between(
    conn: &impl ConnectionTrait,
    collections: Option<&[CollectionId]>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<Token>> {
    let in_span = |query: sea_orm::Select<tokens::Entity>| {
        query
            .filter(tokens::Column::ClaimedAt.gte(from))
            .filter(tokens::Column::ClaimedAt.lt(until))
            .order_by_asc(tokens::Column::Id)
            .limit(limit)
    };
    let mut rows = match collections {
        None => in_span(tokens::Entity::find()).all(conn).await?,
        Some(collections) => {
            in_chunks(collections, |chunk| {
                in_span(tokens::Entity::find().filter(tokens::Column::CollectionId.is_in(chunk.iter().map(|c| c.0))))
                    .all(conn)
            })
            .await?
        }
    };
    rows.sort_unstable_by_key(|row| row.id);
    rows.into_iter().map(decode).collect()
}

/// How many tokens were claimed from `from` until before `until`, in the collections of
/// `issuer` or in any.
pub async fn count_claimed_between(
    conn: &impl ConnectionTrait,
    issuer: Option<IssuerId>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut query = tokens::Entity::find()
        .filter(tokens::Column::ClaimedAt.gte(from))
        .filter(tokens::Column::ClaimedAt.lt(until));
    if let Some(issuer) = issuer {
        query = query.filter(
            tokens::Column::CollectionId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(collections::Column::Id)
                    .from(collections::Entity)
                    .and_where(collections::Column::IssuerId.eq(issuer.0))
                    .to_owned(),
            ),
        );
    }
    Ok(query.count(conn).await?)
}

/// These tokens, by id (absent: no such token).
pub async fn find_many(conn: &impl ConnectionTrait, ids: &[TokenId]) -> StoreResult<Vec<Token>> {
    in_chunks(ids, |chunk| {
        tokens::Entity::find()
            .filter(tokens::Column::Id.is_in(chunk.iter().map(|id| id.0)))
            .all(conn)
    })
    .await?
    .into_iter()
    .map(decode)
    .collect()
}

/// The first token of `collection` that `holder` holds, if any.
pub async fn first_held_in(
    conn: &impl ConnectionTrait,
    holder: UserId,
    collection: CollectionId,
) -> StoreResult<Option<Token>> {
    tokens::Entity::find()
        .filter(tokens::Column::HolderUserId.eq(holder.0))
        .filter(tokens::Column::CollectionId.eq(collection.0))
        .order_by_asc(tokens::Column::Serial)
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

/// Up to `limit` of a person's tokens, newest first, older than token `before` if given.
pub async fn of_holder(
    conn: &impl ConnectionTrait,
    holder: UserId,
    before: Option<TokenId>,
    limit: u64,
) -> StoreResult<Vec<Token>> {
    let mut query = tokens::Entity::find().filter(tokens::Column::HolderUserId.eq(holder.0));
    if let Some(before) = before {
        query = query.filter(tokens::Column::Id.lt(before.0));
    }
    query
        .order_by_desc(tokens::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}
