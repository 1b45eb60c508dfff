//! Issuers, their documents, members and invitations. Reviewer claims and decisions are
//! compare-and-set updates on the status and version, like identity checks.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select, Set,
};

use super::entities::{issuer_documents, issuer_invitations, issuer_members, issuers};
use super::review_lock::ReviewLock;
use super::{StoreResult, decoded, in_chunks, keyset};
use crate::domain::account::Email;
use crate::domain::blob_key::BlobKey;
use crate::domain::documents::DocumentKind;
use crate::domain::filing_dates::FilingDates;
use crate::domain::ids::{DocumentId, IssuerId, UserId};
use crate::domain::issuer::{FilingRenewal, Issuer, IssuerApplication, IssuerDocument, IssuerFilings, IssuerStatus};
use crate::domain::page::TimeKey;
use crate::domain::review_queue::QueueView;

const TABLE: &str = "issuers";

const LOCK: ReviewLock<issuers::Column> = ReviewLock {
    by: issuers::Column::ClaimedBy,
    until: issuers::Column::ClaimedUntil,
};

pub(super) fn decode(m: issuers::Model) -> StoreResult<Issuer> {
    let id = m.id;
    let filings = IssuerFilings {
        dates: FilingDates {
            licence: m.licence_valid_until,
            icp: m.icp_valid_until,
            blockchain: m.blockchain_valid_until,
        },
        checked_on: m.filings_checked_on,
        lapsed_at: m.filings_lapsed_at,
        renewal: m.renewal_submitted_at.map(|submitted_at| FilingRenewal {
            dates: FilingDates {
                licence: m.renewal_licence_until,
                icp: m.renewal_icp_until,
                blockchain: m.renewal_blockchain_until,
            },
            submitted_at,
        }),
    };
    Ok(Issuer {
        filings,
        id: IssuerId(m.id),
        status: decoded(
            IssuerStatus::from_parts(&m.status, m.status_reason.as_deref()),
            TABLE,
            id,
            "status",
        )?,
        contact_email: decoded(Email::parse(&m.contact_email).ok(), TABLE, id, "contact_email")?,
        legal_name: m.legal_name,
        credit_code: m.credit_code,
        icp_filing: m.icp_filing,
        blockchain_filing: m.blockchain_filing,
        contact_name: m.contact_name,
        contact_phone: m.contact_phone,
        org_code_warning: m.org_code_warning,
        created_by: UserId(m.created_by),
        submitted_at: m.submitted_at,
        claimed_by: m.claimed_by.map(UserId),
        claimed_until: m.claimed_until,
        version: m.version,
    })
}

fn decode_document(m: issuer_documents::Model) -> StoreResult<IssuerDocument> {
    const DOCUMENTS: &str = "issuer_documents";
    let id = m.id;
    Ok(IssuerDocument {
        id: DocumentId(m.id),
        kind: decoded(DocumentKind::from_field(&m.kind), DOCUMENTS, id, "kind")?,
        blob_key: decoded(BlobKey::parse(&m.blob_key).ok(), DOCUMENTS, id, "blob_key")?,
        size: decoded(u64::try_from(m.size).ok(), DOCUMENTS, id, "size")?,
        content_type: m.content_type,
        uploaded_at: m.uploaded_at,
    })
}

fn application_columns(model: &mut issuers::ActiveModel, application: &IssuerApplication) {
    model.legal_name = Set(application.legal_name.clone());
    model.credit_code = Set(application.credit_code.as_str().to_owned());
    model.icp_filing = Set(application.icp_filing.as_str().to_owned());
    model.blockchain_filing = Set(application.blockchain_filing.as_str().to_owned());
    model.contact_name = Set(application.contact_name.clone());
    model.contact_email = Set(application.contact_email.as_str().to_owned());
    model.contact_phone = Set(application.contact_phone.clone());
    model.licence_valid_until = Set(application.filing_dates.licence);
    model.icp_valid_until = Set(application.filing_dates.icp);
    model.blockchain_valid_until = Set(application.filing_dates.blockchain);
    model.org_code_warning = Set(!application.credit_code.organisation_code_valid());
}

/// Records a submitted application; its author becomes the issuer's first admin member.
pub async fn create(
    conn: &impl ConnectionTrait,
    application: &IssuerApplication,
    status: &IssuerStatus,
    author: UserId,
    now: DateTime<Utc>,
) -> StoreResult<IssuerId> {
    let mut model = issuers::ActiveModel {
        status: Set(status.as_str().to_owned()),
        status_reason: Set(None),
        created_by: Set(author.0),
        created_at: Set(now),
        submitted_at: Set(Some(now)),
        decided_at: Set(None),
        claimed_by: Set(None),
        claimed_until: Set(None),
        version: Set(0),
        filings_checked_on: Set(None),
        filings_lapsed_at: Set(None),
        renewal_licence_until: Set(None),
        renewal_icp_until: Set(None),
        renewal_blockchain_until: Set(None),
        renewal_submitted_at: Set(None),
        ..Default::default()
    };
    application_columns(&mut model, application);
    let id = IssuerId(model.insert(conn).await?.id);
    add_member(conn, id, author, true, now).await?;
    Ok(id)
}

/// Replaces a rejected application's details and sends it back to review.
pub async fn resubmit(
    conn: &impl ConnectionTrait,
    id: IssuerId,
    version: i32,
    application: &IssuerApplication,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut model = <issuers::ActiveModel as Default>::default();
    application_columns(&mut model, application);
    let result = issuers::Entity::update_many()
        .set(model)
        .col_expr(issuers::Column::Status, Expr::value(IssuerStatus::Submitted.as_str()))
        .col_expr(issuers::Column::StatusReason, Expr::value(Option::<String>::None))
        .col_expr(issuers::Column::SubmittedAt, Expr::value(now))
        .col_expr(issuers::Column::Version, Expr::col(issuers::Column::Version).add(1))
        .filter(issuers::Column::Id.eq(id.0))
        .filter(issuers::Column::Status.eq("rejected"))
        .filter(issuers::Column::Version.eq(version))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn find(conn: &impl ConnectionTrait, id: IssuerId) -> StoreResult<Option<Issuer>> {
    issuers::Entity::find_by_id(id.0)
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

/// The legal names of these issuers (absent: no such issuer).
pub async fn legal_names(conn: &impl ConnectionTrait, ids: &[IssuerId]) -> StoreResult<HashMap<IssuerId, String>> {
    let rows: Vec<(i64, String)> = in_chunks(ids, |chunk| {
        issuers::Entity::find()
            .select_only()
            .column(issuers::Column::Id)
            .column(issuers::Column::LegalName)
            .filter(issuers::Column::Id.is_in(chunk.iter().map(|id| id.0)))
            .into_tuple()
            .all(conn)
    })
    .await?;
    Ok(rows.into_iter().map(|(id, name)| (IssuerId(id), name)).collect())
}

/// Submitted applications `view` shows, oldest first, after `after` if given: at most `limit`.
pub async fn queue(
    conn: &impl ConnectionTrait,
    view: &QueueView,
    after: Option<TimeKey>,
    limit: u64,
) -> StoreResult<Vec<Issuer>> {
    let mut query = submitted().filter(LOCK.shown(view));
    if let Some(last) = after {
        query = query.filter(keyset::after(issuers::Column::SubmittedAt, issuers::Column::Id, last));
    }
    query
        .order_by_asc(issuers::Column::SubmittedAt)
        .order_by_asc(issuers::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// How many applications wait for a decision.
pub async fn waiting(conn: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(submitted().count(conn).await?)
}

fn submitted() -> Select<issuers::Entity> {
    issuers::Entity::find().filter(issuers::Column::Status.eq(IssuerStatus::Submitted.as_str()))
}

/// Issuers that have been decided (approved, suspended, revoked, rejected), newest first,
/// older than `before` if given: at most `limit`.
pub async fn decided(conn: &impl ConnectionTrait, before: Option<IssuerId>, limit: u64) -> StoreResult<Vec<Issuer>> {
    let mut query =
        issuers::Entity::find().filter(issuers::Column::Status.is_in(["approved", "suspended", "revoked", "rejected"]));
    if let Some(before) = before {
        query = query.filter(issuers::Column::Id.lt(before.0));
    }
    query
        .order_by_desc(issuers::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// Every issuer whatever its status, in the order they applied, after `after` if given: at
/// most `limit` (all with `None`).
pub async fn all(conn: &impl ConnectionTrait, after: Option<IssuerId>, limit: Option<u64>) -> StoreResult<Vec<Issuer>> {
    let mut query = issuers::Entity::find();
    if let Some(after) = after {
        query = query.filter(issuers::Column::Id.gt(after.0));
    }
    query
        .order_by_asc(issuers::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// Takes the review lock on a submitted application (see `identities::claim`).
pub async fn claim(
    conn: &impl ConnectionTrait,
    id: IssuerId,
    reviewer: UserId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = LOCK
        .take(issuers::Entity::update_many(), reviewer, now, until)
        .filter(issuers::Column::Id.eq(id.0))
        .filter(issuers::Column::Status.eq(IssuerStatus::Submitted.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Moves an issuer from `from` (at `version`) to `to`. Deciding an application also requires
/// the reviewer's live claim; later moves (suspend, reinstate, revoke) do not.
pub async fn transition(
    conn: &impl ConnectionTrait,
    id: IssuerId,
    version: i32,
    from: &IssuerStatus,
    to: &IssuerStatus,
    reviewer: UserId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let mut update = LOCK
        .release(issuers::Entity::update_many())
        .col_expr(issuers::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            issuers::Column::StatusReason,
            Expr::value(to.reason().map(str::to_owned)),
        )
        .col_expr(issuers::Column::DecidedAt, Expr::value(now))
        .col_expr(issuers::Column::Version, Expr::col(issuers::Column::Version).add(1))
        .filter(issuers::Column::Id.eq(id.0))
        .filter(issuers::Column::Status.eq(from.as_str()))
        .filter(issuers::Column::Version.eq(version));
    if *from == IssuerStatus::Submitted {
        update = LOCK.held_by(update, reviewer, now);
    }
    Ok(update.exec(conn).await?.rows_affected == 1)
}

pub async fn add_document(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    kind: DocumentKind,
    blob_key: &BlobKey,
    content_type: &str,
    size: usize,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    issuer_documents::ActiveModel {
        issuer_id: Set(issuer.0),
        kind: Set(kind.as_str().to_owned()),
        blob_key: Set(blob_key.as_str().to_owned()),
        content_type: Set(content_type.to_owned()),
        size: Set(i64::try_from(size).unwrap_or(i64::MAX)),
        uploaded_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The issuer's documents, newest first.
pub async fn documents(conn: &impl ConnectionTrait, issuer: IssuerId) -> StoreResult<Vec<IssuerDocument>> {
    issuer_documents::Entity::find()
        .filter(issuer_documents::Column::IssuerId.eq(issuer.0))
        .order_by_desc(issuer_documents::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(decode_document)
        .collect()
}

/// One document, only if it belongs to `issuer`.
pub async fn document(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    id: DocumentId,
) -> StoreResult<Option<IssuerDocument>> {
    issuer_documents::Entity::find_by_id(id.0)
        .filter(issuer_documents::Column::IssuerId.eq(issuer.0))
        .one(conn)
        .await?
        .map(decode_document)
        .transpose()
}

/// Adds a member; adding an existing member changes nothing.
pub async fn add_member(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    user: UserId,
    is_admin: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if membership(conn, issuer, user).await?.is_some() {
        return Ok(());
    }
    issuer_members::ActiveModel {
        issuer_id: Set(issuer.0),
        user_id: Set(user.0),
        is_admin: Set(is_admin),
        added_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// `Some(is_admin)` if `user` is a member of `issuer`.
pub async fn membership(conn: &impl ConnectionTrait, issuer: IssuerId, user: UserId) -> StoreResult<Option<bool>> {
    Ok(issuer_members::Entity::find_by_id((issuer.0, user.0))
        .one(conn)
        .await?
        .map(|m| m.is_admin))
}

pub async fn members(conn: &impl ConnectionTrait, issuer: IssuerId) -> StoreResult<Vec<(UserId, bool)>> {
    Ok(issuer_members::Entity::find()
        .filter(issuer_members::Column::IssuerId.eq(issuer.0))
        .order_by_asc(issuer_members::Column::AddedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (UserId(m.user_id), m.is_admin))
        .collect())
}

/// The issuers a user belongs to, with whether they administer each.
pub async fn memberships_of(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<(Issuer, bool)>> {
    let rows = issuer_members::Entity::find()
        .filter(issuer_members::Column::UserId.eq(user.0))
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(issuer) = find(conn, IssuerId(row.issuer_id)).await? {
            out.push((issuer, row.is_admin));
        }
    }
    Ok(out)
}

pub async fn invite(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    email: &Email,
    token_hash: String,
    invited_by: UserId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    issuer_invitations::ActiveModel {
        issuer_id: Set(issuer.0),
        email: Set(email.as_str().to_owned()),
        token_hash: Set(token_hash),
        invited_by: Set(invited_by.0),
        created_at: Set(now),
        expires_at: Set(expires_at),
        accepted_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// An open invitation: the issuer and the invited address.
pub async fn open_invitation(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<(IssuerId, Email)>> {
    let invitation = issuer_invitations::Entity::find()
        .filter(issuer_invitations::Column::TokenHash.eq(token_hash))
        .filter(issuer_invitations::Column::AcceptedAt.is_null())
        .filter(issuer_invitations::Column::ExpiresAt.gt(now))
        .one(conn)
        .await?;
    invitation
        .map(|i| {
            let email = decoded(Email::parse(&i.email).ok(), "issuer_invitations", i.id, "email")?;
            Ok((IssuerId(i.issuer_id), email))
        })
        .transpose()
}

/// Uses an invitation up; false if it was already used.
pub async fn accept_invitation(conn: &impl ConnectionTrait, token_hash: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    let result = issuer_invitations::Entity::update_many()
        .col_expr(issuer_invitations::Column::AcceptedAt, Expr::value(now))
        .filter(issuer_invitations::Column::TokenHash.eq(token_hash))
        .filter(issuer_invitations::Column::AcceptedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
