//! Real-name identities and the reviewer queue over them. Claims and decisions are
//! compare-and-set updates, so two reviewers can never decide the same submission.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set, UpdateMany,
};

use super::entities::identities;
use super::review_lock::ReviewLock;
use super::{StoreError, StoreResult, decoded, keyset};
use crate::domain::identity::IdentityStatus;
use crate::domain::ids::UserId;
use crate::domain::page::TimeKey;
use crate::domain::review_queue::QueueView;

const LOCK: ReviewLock<identities::Column> = ReviewLock {
    by: identities::Column::ClaimedBy,
    until: identities::Column::ClaimedUntil,
};

/// A stored identity. The sealed fields stay sealed until a reviewer's page opens them.
#[derive(Debug, Clone)]
pub struct IdentityRecord {
    pub user: UserId,
    pub status: IdentityStatus,
    pub sealed_name: String,
    pub sealed_id_number: String,
    pub masked: String,
    pub province_known: bool,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub claimed_by: Option<UserId>,
    pub claimed_until: Option<DateTime<Utc>>,
    pub version: i32,
    /// Keyed hash of the ID number while the identity is pending or verified: one person.
    pub blind_index: Option<String>,
    /// Where the person was going when they submitted (a claim page, say).
    pub return_path: Option<String>,
    /// For a pending correction, the masked number of the verified identity it would replace.
    pub previous_masked: Option<String>,
}

fn decode(m: identities::Model) -> StoreResult<IdentityRecord> {
    let status = match (m.status.as_str(), m.reject_reason) {
        ("pending", _) => IdentityStatus::Pending,
        ("verified", _) => IdentityStatus::Verified,
        ("rejected", Some(reason)) => IdentityStatus::Rejected { reason },
        _ => return decoded(None, "identities", m.user_id, "status"),
    };
    Ok(IdentityRecord {
        user: UserId(m.user_id),
        status,
        sealed_name: m.legal_name_enc,
        sealed_id_number: m.id_number_enc,
        masked: m.id_masked,
        province_known: m.province_known,
        submitted_at: m.submitted_at,
        decided_at: m.decided_at,
        claimed_by: m.claimed_by.map(UserId),
        claimed_until: m.claimed_until,
        version: m.version,
        blind_index: m.blind_index,
        return_path: m.return_path,
        previous_masked: m.previous_masked,
    })
}

/// A new or corrected submission, already sealed.
#[derive(Debug, Clone)]
pub struct Submission {
    pub sealed_name: String,
    pub sealed_id_number: String,
    pub masked: String,
    pub blind_index: String,
    pub province_known: bool,
    pub verifier: &'static str,
    /// Where to lead the person once the check is decided.
    pub return_path: Option<String>,
}

pub async fn find(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Option<IdentityRecord>> {
    identities::Entity::find_by_id(user.0)
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

/// Stores a submission as pending (replacing a rejected one). An ID number already held by
/// another account answers [`StoreError::Conflict`].
pub async fn submit(
    conn: &impl ConnectionTrait,
    user: UserId,
    submission: Submission,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let existing = identities::Entity::find_by_id(user.0).one(conn).await?;
    let version = existing.as_ref().map_or(0, |m| m.version + 1);
    let model = identities::ActiveModel {
        user_id: Set(user.0),
        status: Set(IdentityStatus::Pending.as_str().to_owned()),
        legal_name_enc: Set(submission.sealed_name),
        id_number_enc: Set(submission.sealed_id_number),
        id_masked: Set(submission.masked),
        blind_index: Set(Some(submission.blind_index)),
        province_known: Set(submission.province_known),
        verifier: Set(submission.verifier.to_owned()),
        provider_reference: Set(None),
        reject_reason: Set(None),
        submitted_at: Set(now),
        decided_at: Set(None),
        decided_by: Set(None),
        claimed_by: Set(None),
        claimed_until: Set(None),
        version: Set(version),
        return_path: Set(submission.return_path),
        previous_name_enc: Set(None),
        previous_id_number_enc: Set(None),
        previous_masked: Set(None),
        previous_blind_index: Set(None),
    };
    let result = if existing.is_some() {
        model.update(conn).await.map(drop)
    } else {
        model.insert(conn).await.map(drop)
    };
    result.map_err(StoreError::unique("identity"))
}

/// Replaces `user`'s verified identity with `submission`, a correction to be checked, keeping
/// the verified one beside it; false if the identity was not verified. Another account's ID
/// number answers [`StoreError::Conflict`].
pub async fn submit_correction(
    conn: &impl ConnectionTrait,
    user: UserId,
    submission: Submission,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    use identities::Column as C;
    let result = identities::Entity::update_many()
        // Every SET reads the row as it was, so the verified values move aside first.
        .col_expr(C::PreviousNameEnc, Expr::col(C::LegalNameEnc))
        .col_expr(C::PreviousIdNumberEnc, Expr::col(C::IdNumberEnc))
        .col_expr(C::PreviousMasked, Expr::col(C::IdMasked))
        .col_expr(C::PreviousBlindIndex, Expr::col(C::BlindIndex))
        .col_expr(C::Status, Expr::value(IdentityStatus::Pending.as_str()))
        .col_expr(C::LegalNameEnc, Expr::value(submission.sealed_name))
        .col_expr(C::IdNumberEnc, Expr::value(submission.sealed_id_number))
        .col_expr(C::IdMasked, Expr::value(submission.masked))
        .col_expr(C::BlindIndex, Expr::value(submission.blind_index))
        .col_expr(C::ProvinceKnown, Expr::value(submission.province_known))
        .col_expr(C::Verifier, Expr::value(submission.verifier))
        .col_expr(C::ProviderReference, Expr::value(Option::<String>::None))
        .col_expr(C::RejectReason, Expr::value(Option::<String>::None))
        .col_expr(C::SubmittedAt, Expr::value(now))
        .col_expr(C::DecidedAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(C::DecidedBy, Expr::value(Option::<i64>::None))
        .col_expr(C::ClaimedBy, Expr::value(Option::<i64>::None))
        .col_expr(C::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(C::Version, Expr::col(C::Version).add(1))
        .col_expr(C::ReturnPath, Expr::value(submission.return_path))
        .filter(C::UserId.eq(user.0))
        .filter(C::Status.eq(IdentityStatus::Verified.as_str()))
        .exec(conn)
        .await
        .map_err(StoreError::unique("identity"))?;
    Ok(result.rows_affected == 1)
}

/// Settles `user`'s decided correction, if the check was one: an accepted correction forgets
/// the identity it replaced; a refused one puts it back, verified, unless another account
/// verified that ID number meanwhile (then the person checks again). True if it was put back.
pub async fn settle_correction(conn: &impl ConnectionTrait, user: UserId, accepted: bool) -> StoreResult<bool> {
    use identities::Column as C;
    let Some(previous_index) = identities::Entity::find_by_id(user.0)
        .one(conn)
        .await?
        .filter(|row| row.previous_masked.is_some())
        .map(|row| row.previous_blind_index)
    else {
        return Ok(false);
    };
    let taken = match &previous_index {
        Some(index) => {
            identities::Entity::find()
                .filter(C::BlindIndex.eq(index.as_str()))
                .filter(C::UserId.ne(user.0))
                .count(conn)
                .await?
                > 0
        }
        None => false,
    };
    let restore = !accepted && !taken;
    let mut update = identities::Entity::update_many();
    if restore {
        update = update
            .col_expr(C::Status, Expr::value(IdentityStatus::Verified.as_str()))
            .col_expr(C::LegalNameEnc, Expr::col(C::PreviousNameEnc))
            .col_expr(C::IdNumberEnc, Expr::col(C::PreviousIdNumberEnc))
            .col_expr(C::IdMasked, Expr::col(C::PreviousMasked))
            .col_expr(C::BlindIndex, Expr::col(C::PreviousBlindIndex));
    }
    update
        .col_expr(C::PreviousNameEnc, Expr::value(Option::<String>::None))
        .col_expr(C::PreviousIdNumberEnc, Expr::value(Option::<String>::None))
        .col_expr(C::PreviousMasked, Expr::value(Option::<String>::None))
        .col_expr(C::PreviousBlindIndex, Expr::value(Option::<String>::None))
        .filter(C::UserId.eq(user.0))
        .filter(C::PreviousMasked.is_not_null())
        .exec(conn)
        .await?;
    Ok(restore)
}

/// An identity's sealed values, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValues {
    pub name: String,
    pub id_number: String,
    pub previous_name: Option<String>,
    pub previous_id_number: Option<String>,
}

/// Identities with a value sealed under the installation's key rather than a person's
/// (`v1:`, from before person keys): at most `limit`.
pub async fn legacy_sealed(conn: &impl ConnectionTrait, limit: u64) -> StoreResult<Vec<(UserId, SealedValues)>> {
    use identities::Column as C;
    let legacy = |column: C| column.like(format!("{LEGACY_PREFIX}%"));
    Ok(identities::Entity::find()
        .filter(
            Condition::any()
                .add(legacy(C::LegalNameEnc))
                .add(legacy(C::IdNumberEnc))
                .add(legacy(C::PreviousNameEnc))
                .add(legacy(C::PreviousIdNumberEnc)),
        )
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            let values = SealedValues {
                name: m.legal_name_enc,
                id_number: m.id_number_enc,
                previous_name: m.previous_name_enc,
                previous_id_number: m.previous_id_number_enc,
            };
            (UserId(m.user_id), values)
        })
        .collect())
}

/// What [`legacy_sealed`] looks for.
const LEGACY_PREFIX: &str = "v1:";

/// Replaces `user`'s sealed values `old` with `new`, only if they are still `old`.
pub async fn reseal(
    conn: &impl ConnectionTrait,
    user: UserId,
    old: &SealedValues,
    new: SealedValues,
) -> StoreResult<bool> {
    use identities::Column as C;
    let mut update = identities::Entity::update_many()
        .col_expr(C::LegalNameEnc, Expr::value(new.name))
        .col_expr(C::IdNumberEnc, Expr::value(new.id_number))
        .col_expr(C::PreviousNameEnc, Expr::value(new.previous_name))
        .col_expr(C::PreviousIdNumberEnc, Expr::value(new.previous_id_number))
        .filter(C::UserId.eq(user.0))
        .filter(C::LegalNameEnc.eq(old.name.as_str()))
        .filter(C::IdNumberEnc.eq(old.id_number.as_str()));
    update = match &old.previous_name {
        Some(previous) => update.filter(C::PreviousNameEnc.eq(previous.as_str())),
        None => update.filter(C::PreviousNameEnc.is_null()),
    };
    update = match &old.previous_id_number {
        Some(previous) => update.filter(C::PreviousIdNumberEnc.eq(previous.as_str())),
        None => update.filter(C::PreviousIdNumberEnc.is_null()),
    };
    Ok(update.exec(conn).await?.rows_affected == 1)
}

/// Pending submissions `view` shows, oldest first, after `after` if given: at most `limit`.
pub async fn queue(
    conn: &impl ConnectionTrait,
    view: &QueueView,
    after: Option<TimeKey>,
    limit: u64,
) -> StoreResult<Vec<IdentityRecord>> {
    let mut query = pending().filter(LOCK.shown(view));
    if let Some(last) = after {
        query = query.filter(keyset::after(
            identities::Column::SubmittedAt,
            identities::Column::UserId,
            last,
        ));
    }
    query
        .order_by_asc(identities::Column::SubmittedAt)
        .order_by_asc(identities::Column::UserId)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// How many checks wait for a decision.
pub async fn waiting(conn: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(pending().count(conn).await?)
}

fn pending() -> Select<identities::Entity> {
    identities::Entity::find().filter(identities::Column::Status.eq(IdentityStatus::Pending.as_str()))
}

/// Takes the review lock on a pending submission until `until`, unless another reviewer
/// holds a live lock. Returns whether this reviewer now holds it.
pub async fn claim(
    conn: &impl ConnectionTrait,
    user: UserId,
    reviewer: UserId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = LOCK
        .take(identities::Entity::update_many(), reviewer, now, until)
        .filter(identities::Column::UserId.eq(user.0))
        .filter(identities::Column::Status.eq(IdentityStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The columns every decision sets. A rejected identity releases its blind index, so the
/// number's real owner is not locked out by someone else's failed attempt.
fn decided_update(decision: &IdentityStatus, now: DateTime<Utc>) -> UpdateMany<identities::Entity> {
    let update = LOCK
        .release(identities::Entity::update_many())
        .col_expr(identities::Column::Status, Expr::value(decision.as_str()))
        .col_expr(identities::Column::DecidedAt, Expr::value(now))
        .col_expr(
            identities::Column::Version,
            Expr::col(identities::Column::Version).add(1),
        );
    match decision {
        IdentityStatus::Rejected { reason } => update
            .col_expr(identities::Column::RejectReason, Expr::value(reason.clone()))
            .col_expr(identities::Column::BlindIndex, Expr::value(Option::<String>::None)),
        _ => update,
    }
}

/// Records a decision, only if the submission is still pending at `version` and `reviewer`
/// holds a live claim.
pub async fn decide(
    conn: &impl ConnectionTrait,
    user: UserId,
    reviewer: UserId,
    version: i32,
    decision: &IdentityStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let update = decided_update(decision, now).col_expr(identities::Column::DecidedBy, Expr::value(reviewer.0));
    let result = LOCK
        .held_by(update, reviewer, now)
        .filter(identities::Column::UserId.eq(user.0))
        .filter(identities::Column::Status.eq(IdentityStatus::Pending.as_str()))
        .filter(identities::Column::Version.eq(version))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the provider's id for the pending submission at `version`.
pub async fn set_provider_reference(
    conn: &impl ConnectionTrait,
    user: UserId,
    version: i32,
    provider_id: &str,
) -> StoreResult<bool> {
    let result = identities::Entity::update_many()
        .col_expr(identities::Column::ProviderReference, Expr::value(provider_id))
        .filter(identities::Column::UserId.eq(user.0))
        .filter(identities::Column::Version.eq(version))
        .filter(identities::Column::Status.eq(IdentityStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The verifier name and provider id of a submission.
pub async fn provider_state(
    conn: &impl ConnectionTrait,
    user: UserId,
) -> StoreResult<Option<(String, Option<String>)>> {
    Ok(identities::Entity::find_by_id(user.0)
        .one(conn)
        .await?
        .map(|m| (m.verifier, m.provider_reference)))
}

/// Records the provider's decision, only for the pending submission at `version` that it was
/// asked about. A quick provider may answer before its id for the request is stored; the
/// submission's version, which the request named, then identifies it.
pub async fn decide_by_provider(
    conn: &impl ConnectionTrait,
    user: UserId,
    version: i32,
    provider_id: &str,
    decision: &IdentityStatus,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let update = decided_update(decision, now);
    let result = update
        .filter(identities::Column::UserId.eq(user.0))
        .filter(identities::Column::Version.eq(version))
        .filter(identities::Column::Status.eq(IdentityStatus::Pending.as_str()))
        .filter(
            Condition::any()
                .add(identities::Column::ProviderReference.is_null())
                .add(identities::Column::ProviderReference.eq(provider_id)),
        )
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
