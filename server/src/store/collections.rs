//! Collections: content, artwork references, screening results and review state. Every status
//! change is a compare-and-set on the status and version, so two reviewers (or a reviewer and
//! an editing issuer) can never both win.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use moderation::PerceptualHash;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

use super::entities::{collections, issuers};
use super::review_lock::ReviewLock;
use super::{StoreResult, decoded, in_chunks, keyset};
use crate::domain::age::MinimumAge;
use crate::domain::blob_key::BlobKey;
use crate::domain::collection::{
    Artwork, ClaimMode, Collection, CollectionStatus, CollectionTerms, PublicFilter, PublicKey,
};
use crate::domain::ids::{CollectionId, IssuerId, UserId};
use crate::domain::review_queue::QueueView;
use crate::domain::screening::Screened;

const TABLE: &str = "collections";

const LOCK: ReviewLock<collections::Column> = ReviewLock {
    by: collections::Column::ClaimedBy,
    until: collections::Column::ClaimedUntil,
};

fn decode(m: collections::Model) -> StoreResult<Collection> {
    let id = m.id;
    let number = |value: i64, what| decoded(u64::try_from(value).ok(), TABLE, id, what);
    let small = |value: i32, what| decoded(u32::try_from(value).ok(), TABLE, id, what);
    let key = |raw: &str, what| decoded(BlobKey::parse(raw).ok(), TABLE, id, what);
    let first_approval = m.first_approved_by.map(UserId);
    Ok(Collection {
        id: CollectionId(m.id),
        issuer: IssuerId(m.issuer_id),
        status: decoded(
            CollectionStatus::from_parts(&m.status, m.status_reason.as_deref(), first_approval),
            TABLE,
            id,
            "status",
        )?,
        reason_code: m.reason_code,
        terms: CollectionTerms {
            edition_size: small(m.edition_size, "edition_size")?,
            per_person_limit: small(m.per_person_limit, "per_person_limit")?,
            claim_starts_at: m.claim_starts_at,
            claim_ends_at: m.claim_ends_at,
            claim_mode: decoded(ClaimMode::parse(&m.claim_mode), TABLE, id, "claim_mode")?,
            minimum_age: match m.minimum_age {
                None => None,
                Some(years) => Some(decoded(
                    u8::try_from(years).ok().and_then(|y| MinimumAge::new(y).ok()),
                    TABLE,
                    id,
                    "minimum_age",
                )?),
            },
            ai_declared: m.ai_declared,
            title: m.title,
            description: m.description,
        },
        artwork: Artwork {
            content_hash: decoded(m.content_hash.as_slice().try_into().ok(), TABLE, id, "content_hash")?,
            width: small(m.artwork_width, "artwork_width")?,
            height: small(m.artwork_height, "artwork_height")?,
            bytes: number(m.artwork_bytes, "artwork_bytes")?,
            original_key: key(&m.original_key, "original_key")?,
            full_key: key(&m.full_key, "full_key")?,
            large_key: key(&m.large_key, "large_key")?,
            small_key: key(&m.small_key, "small_key")?,
            // The hash's 64 bits are stored in a signed column.
            perceptual_hash: PerceptualHash(m.perceptual_hash as u64),
            media_type: m.artwork_type,
        },
        risk_score: decoded(u8::try_from(m.risk_score).ok(), TABLE, id, "risk_score")?,
        findings: decoded(serde_json::from_str(&m.findings).ok(), TABLE, id, "findings")?,
        list_versions: m.list_versions,
        ai_flagged: m.ai_flagged,
        claimed_by: m.claimed_by.map(UserId),
        claimed_until: m.claimed_until,
        claimed_count: number(m.claimed_count, "claimed_count")?,
        ledger_queue_id: m.ledger_queue_id,
        created_at: m.created_at,
        submitted_at: m.submitted_at,
        published_at: m.published_at,
        version: m.version,
    })
}

fn decode_all(rows: Vec<collections::Model>) -> StoreResult<Vec<Collection>> {
    rows.into_iter().map(decode).collect()
}

fn terms_columns(model: &mut collections::ActiveModel, terms: &CollectionTerms) {
    model.title = Set(terms.title.clone());
    model.description = Set(terms.description.clone());
    model.edition_size = Set(i32::try_from(terms.edition_size).unwrap_or(i32::MAX));
    model.per_person_limit = Set(i32::try_from(terms.per_person_limit).unwrap_or(i32::MAX));
    model.claim_starts_at = Set(terms.claim_starts_at);
    model.claim_ends_at = Set(terms.claim_ends_at);
    model.claim_mode = Set(terms.claim_mode.as_str().to_owned());
    model.minimum_age = Set(terms.minimum_age.map(|age| i16::from(age.years())));
    model.ai_declared = Set(terms.ai_declared);
}

fn artwork_columns(model: &mut collections::ActiveModel, artwork: &Artwork) {
    model.content_hash = Set(artwork.content_hash.to_vec());
    model.artwork_type = Set(artwork.media_type.clone());
    model.artwork_width = Set(i32::try_from(artwork.width).unwrap_or(i32::MAX));
    model.artwork_height = Set(i32::try_from(artwork.height).unwrap_or(i32::MAX));
    model.artwork_bytes = Set(i64::try_from(artwork.bytes).unwrap_or(i64::MAX));
    model.original_key = Set(artwork.original_key.as_str().to_owned());
    model.full_key = Set(artwork.full_key.as_str().to_owned());
    model.large_key = Set(artwork.large_key.as_str().to_owned());
    model.small_key = Set(artwork.small_key.as_str().to_owned());
    model.perceptual_hash = Set(artwork.perceptual_hash.0 as i64);
}

/// Records a new draft.
pub async fn create(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    terms: &CollectionTerms,
    artwork: &Artwork,
    author: UserId,
    now: DateTime<Utc>,
) -> StoreResult<CollectionId> {
    let mut model = collections::ActiveModel {
        issuer_id: Set(issuer.0),
        status: Set(CollectionStatus::Draft.as_str().to_owned()),
        status_reason: Set(None),
        reason_code: Set(None),
        risk_score: Set(0),
        findings: Set("[]".to_owned()),
        list_versions: Set(String::new()),
        first_approved_by: Set(None),
        claimed_by: Set(None),
        claimed_until: Set(None),
        claimed_count: Set(0),
        ledger_queue_id: Set(None),
        created_by: Set(author.0),
        created_at: Set(now),
        updated_at: Set(now),
        submitted_at: Set(None),
        decided_at: Set(None),
        published_at: Set(None),
        version: Set(0),
        ..Default::default()
    };
    terms_columns(&mut model, terms);
    artwork_columns(&mut model, artwork);
    Ok(CollectionId(model.insert(conn).await?.id))
}

pub async fn find(conn: &impl ConnectionTrait, id: CollectionId) -> StoreResult<Option<Collection>> {
    collections::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

/// These collections by id (absent: no such collection).
pub async fn find_many(
    conn: &impl ConnectionTrait,
    ids: &[CollectionId],
) -> StoreResult<HashMap<CollectionId, Collection>> {
    let rows = in_chunks(ids, |chunk| {
        collections::Entity::find()
            .filter(collections::Column::Id.is_in(chunk.iter().map(|id| id.0)))
            .all(conn)
    })
    .await?;
    rows.into_iter().map(|m| Ok((CollectionId(m.id), decode(m)?))).collect()
}

/// Up to `limit` of the issuer's collections, newest first, older than `before` if given.
pub async fn of_issuer(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    before: Option<CollectionId>,
    limit: u64,
) -> StoreResult<Vec<Collection>> {
    let mut query = collections::Entity::find().filter(collections::Column::IssuerId.eq(issuer.0));
    if let Some(before) = before {
        query = query.filter(collections::Column::Id.lt(before.0));
    }
    decode_all(
        query
            .order_by_desc(collections::Column::Id)
            .limit(limit)
            .all(conn)
            .await?,
    )
}

/// Collections created before `until`, of `issuer` or of every issuer, in the order they were
/// created: at most `limit`.
pub async fn created_before(
    conn: &impl ConnectionTrait,
    issuer: Option<IssuerId>,
    until: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<Collection>> {
    let mut query = collections::Entity::find().filter(collections::Column::CreatedAt.lt(until));
    if let Some(issuer) = issuer {
        query = query.filter(collections::Column::IssuerId.eq(issuer.0));
    }
    decode_all(
        query
            .order_by_asc(collections::Column::Id)
            .limit(limit)
            .all(conn)
            .await?,
    )
}

/// How many collections were created before `until`, of `issuer` or of every issuer.
pub async fn count_created_before(
    conn: &impl ConnectionTrait,
    issuer: Option<IssuerId>,
    until: DateTime<Utc>,
) -> StoreResult<u64> {
    let mut query = collections::Entity::find().filter(collections::Column::CreatedAt.lt(until));
    if let Some(issuer) = issuer {
        query = query.filter(collections::Column::IssuerId.eq(issuer.0));
    }
    Ok(query.count(conn).await?)
}

/// Cases waiting for a reviewer that `view` shows, of `issuer` if given: highest risk first,
/// then the longest waiting; at most `limit`.
pub async fn queue(
    conn: &impl ConnectionTrait,
    view: &QueueView,
    issuer: Option<IssuerId>,
    limit: u64,
) -> StoreResult<Vec<Collection>> {
    let mut query = in_review().filter(LOCK.shown(view));
    if let Some(issuer) = issuer {
        query = query.filter(collections::Column::IssuerId.eq(issuer.0));
    }
    decode_all(
        query
            .order_by_desc(collections::Column::RiskScore)
            .order_by_asc(collections::Column::SubmittedAt)
            .limit(limit)
            .all(conn)
            .await?,
    )
}

/// How many collections wait for review.
pub async fn waiting(conn: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(in_review().count(conn).await?)
}

fn in_review() -> Select<collections::Entity> {
    collections::Entity::find().filter(collections::Column::Status.eq("in_review"))
}

/// Public collections of active issuers, those open for claims at `now` first, then the
/// others, each part newest published first: up to `limit` of them after `after`, each with
/// whether it is open. Two keyset reads, the open part and the rest, never one skipped into.
pub async fn public(
    conn: &impl ConnectionTrait,
    filter: &PublicFilter,
    now: DateTime<Utc>,
    after: Option<PublicKey>,
    limit: u64,
) -> StoreResult<Vec<(bool, Collection)>> {
    let mut rows = Vec::new();
    if after.is_none_or(|key| key.open) {
        let open = public_part(conn, filter, now, true, after, limit).await?;
        rows.extend(open.into_iter().map(|c| (true, c)));
    }
    let left = limit.saturating_sub(rows.len() as u64);
    if left > 0 {
        let after = after.filter(|key| !key.open);
        let more = public_part(conn, filter, now, false, after, left).await?;
        rows.extend(more.into_iter().map(|c| (false, c)));
    }
    Ok(rows)
}

/// The open (or the other) public collections, newest published first, after `after`.
async fn public_part(
    conn: &impl ConnectionTrait,
    filter: &PublicFilter,
    now: DateTime<Utc>,
    open: bool,
    after: Option<PublicKey>,
    limit: u64,
) -> StoreResult<Vec<Collection>> {
    let active_issuers = Query::select()
        .column(issuers::Column::Id)
        .from(issuers::Entity)
        .and_where(Expr::col(issuers::Column::Status).eq("approved"))
        .to_owned();
    let claimable = Condition::all()
        .add(collections::Column::Status.eq("published"))
        .add(collections::Column::ClaimStartsAt.lte(now))
        .add(collections::Column::ClaimEndsAt.gt(now))
        .add(Expr::col(collections::Column::ClaimedCount).lt(Expr::col(collections::Column::EditionSize)));
    let mut query = collections::Entity::find()
        .filter(collections::Column::Status.is_in(["published", "frozen", "closed"]))
        .filter(collections::Column::PublishedAt.is_not_null())
        .filter(Expr::col(collections::Column::IssuerId).in_subquery(active_issuers))
        .filter(if open { claimable } else { claimable.not() });
    if let Some(key) = after {
        query = query.filter(keyset::before(
            collections::Column::PublishedAt,
            collections::Column::Id,
            key.published,
        ));
    }
    if let Some(issuer) = filter.issuer {
        query = query.filter(collections::Column::IssuerId.eq(issuer.0));
    }
    if let Some(title) = filter.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped: String = title
            .to_lowercase()
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        query = query.filter(
            Expr::expr(Func::lower(Expr::col(collections::Column::Title)))
                .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
        );
    }
    decode_all(
        query
            .order_by_desc(collections::Column::PublishedAt)
            .order_by_desc(collections::Column::Id)
            .limit(limit)
            .all(conn)
            .await?,
    )
}

/// Published and frozen collections, newest first, for reviewers to watch.
pub async fn live(conn: &impl ConnectionTrait, limit: u64) -> StoreResult<Vec<Collection>> {
    decode_all(
        collections::Entity::find()
            .filter(collections::Column::Status.is_in(["published", "frozen"]))
            .order_by_desc(collections::Column::PublishedAt)
            .limit(limit)
            .all(conn)
            .await?,
    )
}

/// Perceptual hashes of every artwork other issuers have submitted (drafts are private).
pub async fn artworks_of_others(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
) -> StoreResult<Vec<(CollectionId, PerceptualHash)>> {
    let rows: Vec<(i64, i64)> = collections::Entity::find()
        .select_only()
        .column(collections::Column::Id)
        .column(collections::Column::PerceptualHash)
        .filter(collections::Column::IssuerId.ne(issuer.0))
        .filter(collections::Column::Status.ne(CollectionStatus::Draft.as_str()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, hash)| (CollectionId(id), PerceptualHash(hash as u64)))
        .collect())
}

/// How many of the issuer's collections reviewers rejected.
pub async fn rejections_of(conn: &impl ConnectionTrait, issuer: IssuerId) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(collections::Entity::find()
        .filter(collections::Column::IssuerId.eq(issuer.0))
        .filter(collections::Column::Status.is_in(["rejected", "auto_rejected"]))
        .count(conn)
        .await?)
}

fn update_at(id: CollectionId, version: i32, from: &CollectionStatus) -> sea_orm::UpdateMany<collections::Entity> {
    collections::Entity::update_many()
        .col_expr(
            collections::Column::Version,
            Expr::col(collections::Column::Version).add(1),
        )
        .filter(collections::Column::Id.eq(id.0))
        .filter(collections::Column::Status.eq(from.as_str()))
        .filter(collections::Column::Version.eq(version))
}

/// Replaces the content (and the artwork, if a new one was uploaded); the status is left to
/// the caller, which re-screens anything that was already submitted.
pub async fn edit(
    conn: &impl ConnectionTrait,
    id: CollectionId,
    version: i32,
    from: &CollectionStatus,
    terms: &CollectionTerms,
    artwork: Option<&Artwork>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut model = <collections::ActiveModel as Default>::default();
    terms_columns(&mut model, terms);
    if let Some(artwork) = artwork {
        artwork_columns(&mut model, artwork);
    }
    model.updated_at = Set(now);
    let result = update_at(id, version, from).set(model).exec(conn).await?;
    Ok(result.rows_affected == 1)
}

/// Sets or clears the reviewer's AI flag on version `version`; `false` if the collection
/// changed since the reviewer saw it.
pub async fn set_ai_flag(
    conn: &impl ConnectionTrait,
    id: CollectionId,
    version: i32,
    from: &CollectionStatus,
    flagged: bool,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = update_at(id, version, from)
        .col_expr(collections::Column::AiFlagged, Expr::value(flagged))
        .col_expr(collections::Column::UpdatedAt, Expr::value(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records screening of a submission and its outcome (`to`: auto-rejected or in review).
/// Any earlier approval or claim is void.
pub async fn record_screening(
    conn: &impl ConnectionTrait,
    id: CollectionId,
    version: i32,
    from: &CollectionStatus,
    to: &CollectionStatus,
    screened: &Screened,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let findings = serde_json::to_string(&screened.findings).expect("findings serialise");
    let result = LOCK
        .release(update_at(id, version, from))
        .col_expr(collections::Column::Status, Expr::value(to.as_str()))
        .col_expr(collections::Column::StatusReason, Expr::value(Option::<String>::None))
        .col_expr(collections::Column::ReasonCode, Expr::value(Option::<String>::None))
        .col_expr(collections::Column::Findings, Expr::value(findings))
        .col_expr(
            collections::Column::RiskScore,
            Expr::value(i32::from(screened.assessment.score)),
        )
        .col_expr(
            collections::Column::ListVersions,
            Expr::value(screened.list_versions.clone()),
        )
        .col_expr(collections::Column::FirstApprovedBy, Expr::value(Option::<i64>::None))
        .col_expr(collections::Column::SubmittedAt, Expr::value(now))
        .col_expr(collections::Column::UpdatedAt, Expr::value(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Takes the review lock on a case in review (see `identities::claim`).
pub async fn claim(
    conn: &impl ConnectionTrait,
    id: CollectionId,
    reviewer: UserId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    // The first approver of a four-eyes case never holds its lock again, even in a race with
    // their own approval.
    let not_first_approver = Condition::any()
        .add(collections::Column::FirstApprovedBy.is_null())
        .add(collections::Column::FirstApprovedBy.ne(reviewer.0));
    let result = LOCK
        .take(collections::Entity::update_many(), reviewer, now, until)
        .filter(collections::Column::Id.eq(id.0))
        .filter(collections::Column::Status.eq("in_review"))
        .filter(not_first_approver)
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A reviewer's or the issuer's move from `from` to `to`. Deciding a case in review requires
/// `reviewer`'s live claim; the claim is released either way.
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    conn: &impl ConnectionTrait,
    id: CollectionId,
    version: i32,
    from: &CollectionStatus,
    to: &CollectionStatus,
    reviewer: Option<UserId>,
    reason_code: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut update = LOCK
        .release(update_at(id, version, from))
        .col_expr(collections::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            collections::Column::StatusReason,
            Expr::value(to.reason().map(str::to_owned)),
        )
        .col_expr(
            collections::Column::FirstApprovedBy,
            Expr::value(to.first_approval().map(|u| u.0)),
        )
        .col_expr(collections::Column::UpdatedAt, Expr::value(now));
    if let Some(code) = reason_code {
        update = update.col_expr(collections::Column::ReasonCode, Expr::value(code));
    }
    if let Some(reviewer) = reviewer {
        update = update.col_expr(collections::Column::DecidedAt, Expr::value(now));
        if matches!(from, CollectionStatus::InReview { .. }) {
            update = LOCK.held_by(update, reviewer, now);
        }
    }
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Marks an approved collection published, with the ledger queue row of its entry.
pub async fn publish(
    conn: &impl ConnectionTrait,
    id: CollectionId,
    version: i32,
    ledger_queue_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = update_at(id, version, &CollectionStatus::Approved)
        .col_expr(
            collections::Column::Status,
            Expr::value(CollectionStatus::Published.as_str()),
        )
        .col_expr(collections::Column::LedgerQueueId, Expr::value(ledger_queue_id))
        .col_expr(collections::Column::PublishedAt, Expr::value(now))
        .col_expr(collections::Column::UpdatedAt, Expr::value(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
