//! The operator's moderation policy: extra term lists, the image blocklist and the thresholds.

use chrono::{DateTime, Utc};
use moderation::PerceptualHash;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entities::{image_blocklist, moderation_settings, moderation_terms};
use super::{StoreResult, decoded};
use crate::domain::ids::UserId;
use crate::domain::screening::{BlockedImage, PolicyTerm, ReviewPolicy, TermKind, parse_category};

/// The id of the single settings row.
const SETTINGS_ROW: i32 = 1;

fn policy_term(m: moderation_terms::Model) -> Option<PolicyTerm> {
    Some(PolicyTerm {
        id: m.id,
        category: parse_category(&m.category)?,
        kind: TermKind::parse(&m.severity)?,
        term: m.term,
    })
}

/// Every operator term, in the order they were added.
pub async fn terms(conn: &impl ConnectionTrait) -> StoreResult<Vec<PolicyTerm>> {
    Ok(moderation_terms::Entity::find()
        .order_by_asc(moderation_terms::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .filter_map(policy_term)
        .collect())
}

/// Adds the terms not yet on the list; returns how many were new.
pub async fn add_terms(
    conn: &impl ConnectionTrait,
    category: moderation::Category,
    kind: TermKind,
    new_terms: &[String],
    by: UserId,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let existing: Vec<String> = moderation_terms::Entity::find()
        .filter(moderation_terms::Column::Category.eq(category.as_str()))
        .filter(moderation_terms::Column::Severity.eq(kind.as_str()))
        .filter(moderation_terms::Column::Term.is_in(new_terms.iter().cloned()))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.term)
        .collect();
    let mut added = 0;
    for term in new_terms.iter().filter(|t| !existing.contains(t)) {
        moderation_terms::ActiveModel {
            category: Set(category.as_str().to_owned()),
            severity: Set(kind.as_str().to_owned()),
            term: Set(term.clone()),
            added_by: Set(by.0),
            added_at: Set(now),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        added += 1;
    }
    Ok(added)
}

/// Removes a term; returns it if it existed.
pub async fn delete_term(conn: &impl ConnectionTrait, id: i64) -> StoreResult<Option<PolicyTerm>> {
    let Some(row) = moderation_terms::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    moderation_terms::Entity::delete_by_id(id).exec(conn).await?;
    Ok(policy_term(row))
}

fn blocked_image(m: image_blocklist::Model) -> BlockedImage {
    BlockedImage {
        entry: m.id,
        label: m.label,
        hash: PerceptualHash(m.perceptual_hash as u64),
    }
}

/// The image blocklist, oldest first.
pub async fn blocklist(conn: &impl ConnectionTrait) -> StoreResult<Vec<BlockedImage>> {
    Ok(image_blocklist::Entity::find()
        .order_by_asc(image_blocklist::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(blocked_image)
        .collect())
}

pub async fn block_image(
    conn: &impl ConnectionTrait,
    hash: PerceptualHash,
    label: &str,
    by: UserId,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    Ok(image_blocklist::ActiveModel {
        perceptual_hash: Set(hash.0 as i64),
        label: Set(label.to_owned()),
        added_by: Set(by.0),
        added_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?
    .id)
}

/// Removes a blocklist entry; returns it if it existed.
pub async fn unblock_image(conn: &impl ConnectionTrait, id: i64) -> StoreResult<Option<BlockedImage>> {
    let Some(row) = image_blocklist::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    image_blocklist::Entity::delete_by_id(id).exec(conn).await?;
    Ok(Some(blocked_image(row)))
}

/// The thresholds in force: the defaults until an admin sets them.
pub async fn review_policy(conn: &impl ConnectionTrait) -> StoreResult<ReviewPolicy> {
    let Some(m) = moderation_settings::Entity::find_by_id(SETTINGS_ROW).one(conn).await? else {
        return Ok(ReviewPolicy::default());
    };
    let number = |value: i32, what| decoded(u32::try_from(value).ok(), "moderation_settings", m.id, what);
    Ok(ReviewPolicy {
        four_eyes_score: decoded(
            u8::try_from(m.four_eyes_score).ok(),
            "moderation_settings",
            m.id,
            "four_eyes_score",
        )?,
        max_distance: number(m.max_distance, "max_distance")?,
    })
}

pub async fn set_review_policy(
    conn: &impl ConnectionTrait,
    policy: ReviewPolicy,
    by: UserId,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let model = moderation_settings::ActiveModel {
        id: Set(SETTINGS_ROW),
        four_eyes_score: Set(i32::from(policy.four_eyes_score)),
        max_distance: Set(i32::try_from(policy.max_distance).unwrap_or(i32::MAX)),
        updated_by: Set(Some(by.0)),
        updated_at: Set(Some(now)),
    };
    if moderation_settings::Entity::find_by_id(SETTINGS_ROW)
        .one(conn)
        .await?
        .is_some()
    {
        model.update(conn).await?;
    } else {
        model.insert(conn).await?;
    }
    Ok(())
}
