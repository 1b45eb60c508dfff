//! Issuers: a verified person applies for a business (KYB) with its filings and documents,
//! corrects a rejected application, and, once approved, gets a public page, members
//! ([`members`]) and API keys ([`api_keys`]); reviewers decide applications and sanctions
//! ([`review`]).

pub mod api_keys;
pub mod filings;
pub mod members;
pub mod review;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::forms::{self, Submission};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::blobs::Blob;
use crate::domain::audit::{AuditAction, AuditSubject};
use crate::domain::blob_key::BlobKey;
use crate::domain::documents::{DocumentError, DocumentKind, check_document};
use crate::domain::ids::{DocumentId, IssuerId, UserId};
use crate::domain::issuer::{Issuer, IssuerApplication, IssuerDocument, IssuerStatus};
use crate::paths;
use crate::store::{self, Connection};

/// Namespace of issuer documents in the blob store.
const DOCUMENTS: &str = "issuer-documents";

/// A document that passed its checks and is in the blob store, not yet filed with an issuer
/// (a form shown again for another field's error holds it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDocument {
    pub kind: String,
    pub blob_key: String,
    pub media_type: String,
    pub size: usize,
}

/// An issuer by id.
pub async fn find(services: &Services, id: IssuerId) -> ServiceResult<Issuer> {
    store::issuers::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Every issuer whatever its status, in the order they applied, after `after`: at most `limit`.
pub async fn all(services: &Services, after: Option<IssuerId>, limit: u64) -> ServiceResult<Vec<Issuer>> {
    Ok(store::issuers::all(&services.db, after, Some(limit)).await?)
}

/// An active issuer, which the public may see; `None` for any other.
pub async fn public(services: &Services, id: IssuerId) -> ServiceResult<Option<Issuer>> {
    let issuer = store::issuers::find(&services.db, id).await?;
    Ok(issuer.filter(|i| i.status.is_active()))
}

/// Whether `user` belongs to `issuer`, and if so whether they administer it.
pub async fn membership(services: &Services, issuer: IssuerId, user: UserId) -> ServiceResult<Option<bool>> {
    Ok(store::issuers::membership(&services.db, issuer, user).await?)
}

/// The issuers `user` belongs to, with whether they administer each.
pub async fn memberships_of(services: &Services, user: UserId) -> ServiceResult<Vec<(Issuer, bool)>> {
    Ok(store::issuers::memberships_of(&services.db, user).await?)
}

/// Checks an uploaded document and stores it (at once, so that a form shown again for another
/// field keeps it); the document's problem if it is refused.
pub async fn accept_document(
    services: &Services,
    kind: DocumentKind,
    bytes: Bytes,
) -> ServiceResult<Result<StoredDocument, DocumentError>> {
    let format = match check_document(&bytes) {
        Ok(format) => format,
        Err(err) => return Ok(Err(err)),
    };
    let size = bytes.len();
    let blob = Blob {
        bytes,
        content_type: format.media_type().to_owned(),
    };
    let key = services
        .blobs
        .put(DOCUMENTS, blob)
        .await
        .map_err(ServiceError::internal)?;
    Ok(Ok(StoredDocument {
        kind: kind.as_str().to_owned(),
        blob_key: key.as_str().to_owned(),
        media_type: format.media_type().to_owned(),
        size,
    }))
}

async fn file_documents(
    conn: &impl Connection,
    issuer: IssuerId,
    documents: &[StoredDocument],
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    for document in documents {
        let kind = DocumentKind::from_field(&document.kind).ok_or(ServiceError::BadInput)?;
        let key = BlobKey::parse(&document.blob_key).map_err(|_| ServiceError::BadInput)?;
        store::issuers::add_document(conn, issuer, kind, &key, &document.media_type, document.size, now).await?;
    }
    Ok(())
}

/// Records an application with its documents; its author becomes the issuer's first
/// administrator. Answers where it is shown.
pub async fn apply(
    services: &Services,
    actor: &Actor,
    submission: &Submission,
    application: &IssuerApplication,
    documents: &[StoredDocument],
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let status = IssuerStatus::Draft.submit()?;
    let txn = store::begin(&services.db).await?;
    let id = store::issuers::create(&txn, application, &status, actor.user, now).await?;
    file_documents(&txn, id, documents, now).await?;
    let mut entry = actor.audit(AuditAction::IssuerSubmitted, AuditSubject::Issuer(id));
    entry.before = Some(IssuerStatus::Draft.as_str());
    entry.after = Some(status.as_str());
    store::audit::append(&txn, entry, now).await?;
    let location = forms::finish::<()>(services, txn, submission, &paths::console(id), None, now).await?;
    tracing::info!(issuer = %id, user = %actor.user, "issuer application submitted");
    Ok(location)
}

/// Whether the issuer's application can be corrected and sent again (it was rejected).
pub fn resubmittable(issuer: &Issuer) -> bool {
    issuer.status.submit().is_ok()
}

/// A rejected issuer's corrected application; documents sent now are filed beside the earlier
/// ones.
pub async fn resubmit(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    application: &IssuerApplication,
    documents: &[StoredDocument],
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let next = issuer.status.submit()?;
    let txn = store::begin(&services.db).await?;
    if !store::issuers::resubmit(&txn, issuer.id, issuer.version, application, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    file_documents(&txn, issuer.id, documents, now).await?;
    let mut entry = actor.audit(AuditAction::IssuerSubmitted, AuditSubject::Issuer(issuer.id));
    entry.before = Some(issuer.status.as_str());
    entry.after = Some(next.as_str());
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// The issuer's documents, newest first.
pub async fn documents(services: &Services, issuer: IssuerId) -> ServiceResult<Vec<IssuerDocument>> {
    Ok(store::issuers::documents(&services.db, issuer).await?)
}

/// A document of `issuer` with its bytes, for the issuer's members, reviewers and regulators
/// only (the caller says whether the viewer is staff).
pub async fn document(
    services: &Services,
    issuer: IssuerId,
    id: DocumentId,
    viewer: UserId,
    staff: bool,
) -> ServiceResult<(IssuerDocument, Blob)> {
    if !staff && membership(services, issuer, viewer).await?.is_none() {
        return Err(ServiceError::NotFound);
    }
    let document = store::issuers::document(&services.db, issuer, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let blob = services
        .blobs
        .get(&document.blob_key)
        .await
        .map_err(ServiceError::internal)?;
    Ok((document, blob))
}
