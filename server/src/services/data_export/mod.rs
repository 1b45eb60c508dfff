//! A person's copy of their own data (see [`crate::domain::data_export`]): asked for with the
//! password, built by a background worker into a zip of JSON and readable HTML, stored sealed,
//! announced by mail and downloaded by its owner until it expires.

mod archive;

use chrono::{DateTime, Utc};

use super::accounts::confirm_password;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::blobs::Blob;
use crate::domain::audit::{AuditAction, AuditSubject};
use crate::domain::blob_key::BlobKey;
use crate::domain::data_export::{
    ARCHIVE_LIFETIME, BUILD_LEASE, DataExport, ExportStatus, RequestRefused, may_request,
};
use crate::domain::ids::UserId;
use crate::kyc::Field;
use crate::mail::Mail;
use crate::paths;
use crate::store;

/// How many of a person's archives their page lists.
const LISTED: u64 = 10;

/// Why no archive was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveRefused {
    WrongPassword,
    Refused(RequestRefused),
}

/// Asks for a copy of the actor's data: with the right `password` (wrong ones count towards
/// the log-in throttle under `client`), records it for the builder and wakes it.
pub async fn request(
    services: &Services,
    actor: &Actor,
    password: String,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), ArchiveRefused>> {
    let user = store::users::find(&services.db, actor.user)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !confirm_password(services, &user, password, client, now).await? {
        return Ok(Err(ArchiveRefused::WrongPassword));
    }
    let txn = store::begin(&services.db).await?;
    let recent = store::data_exports::of_user(&txn, user.id, LISTED).await?;
    if let Err(refused) = may_request(&recent, now) {
        return Ok(Err(ArchiveRefused::Refused(refused)));
    }
    store::data_exports::request(&txn, user.id, now).await?;
    store::audit::append(
        &txn,
        actor.audit(AuditAction::DataRequested, AuditSubject::User(user.id)),
        now,
    )
    .await?;
    store::commit(txn).await?;
    services.archive_wakeup.notify_one();
    tracing::info!(user = %user.id, "copy of personal data requested");
    Ok(Ok(()))
}

/// `user`'s latest archives, newest first.
pub async fn archives(services: &Services, user: UserId) -> ServiceResult<Vec<DataExport>> {
    Ok(store::data_exports::of_user(&services.db, user, LISTED).await?)
}

/// The zip of `user`'s archive `id`, or where it stands if it cannot be downloaded now.
pub async fn download(
    services: &Services,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<Result<Vec<u8>, ExportStatus>> {
    let (export, key) = store::data_exports::find_of(&services.db, actor.user, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let standing = export.standing(now);
    let Some(key) = key.filter(|_| standing == ExportStatus::Ready) else {
        return Ok(Err(standing));
    };
    let blob = services.blobs.get(&key).await.map_err(ServiceError::internal)?;
    let sealed = std::str::from_utf8(&blob.bytes).map_err(ServiceError::internal)?;
    let key = super::person_keys::existing(services, &services.db, actor.user)
        .await?
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("archive {id} has no key")))?;
    let zip = key
        .open_bytes(Field::DataArchive, actor.user, sealed)
        .map_err(|_| ServiceError::internal(anyhow::anyhow!("archive {id} does not open")))?;
    let entry = actor.audit(AuditAction::DataDownloaded, AuditSubject::User(actor.user));
    store::audit::append(&services.db, entry, now).await?;
    Ok(Ok(zip))
}

/// Builds the oldest archive waiting, if any: true if there was one (built or failed).
pub async fn build_next(services: &Services, now: DateTime<Utc>) -> ServiceResult<bool> {
    let Some((id, user)) = store::data_exports::take_pending(&services.db, now, now + BUILD_LEASE).await? else {
        return Ok(false);
    };
    if let Err(err) = build(services, id, user, now).await {
        tracing::error!(archive = id, %user, error = %err, "building a copy of personal data failed");
        store::data_exports::mark_failed(&services.db, id).await?;
    }
    Ok(true)
}

async fn build(services: &Services, id: i64, user: UserId, now: DateTime<Utc>) -> ServiceResult<()> {
    let account = store::users::find(&services.db, user)
        .await?
        .filter(|account| account.deleted_at.is_none())
        .ok_or(ServiceError::NotFound)?;
    let zip = archive::build(services, &account, now).await?;
    // Sealed under the person's own key, so that deleting their account shreds it too.
    let key = super::person_keys::key_for(services, &services.db, user, now).await?;
    let sealed = key.seal(Field::DataArchive, user, &zip);
    let blob = Blob {
        bytes: sealed.into_bytes().into(),
        content_type: "application/octet-stream".to_owned(),
    };
    let key = services
        .blobs
        .put("data-archives", blob)
        .await
        .map_err(ServiceError::internal)?;
    let txn = store::begin(&services.db).await?;
    let ready = store::data_exports::mark_ready(&txn, id, &key, zip.len() as u64, now, now + ARCHIVE_LIFETIME).await?;
    if ready {
        let link = services.absolute_url(paths::ACCOUNT_DATA);
        let mail = Mail::DataArchiveReady { link: &link };
        services
            .queue_mail(&txn, &account.email, account.locale, mail, now)
            .await?;
    }
    store::commit(txn).await?;
    if !ready {
        // Another server finished it after this one's lease ran out (its bytes are the ones
        // kept), or the account was deleted meanwhile (and with it any key made here).
        services.blobs.delete(&key).await.map_err(ServiceError::internal)?;
        if store::users::find(&services.db, user)
            .await?
            .is_none_or(|account| account.deleted_at.is_some())
        {
            store::person_keys::delete(&services.db, user).await?;
        }
        return Ok(());
    }
    services.mail_queued();
    tracing::info!(archive = id, %user, bytes = zip.len(), "copy of personal data ready");
    Ok(())
}

/// Deletes the bytes of archives whose time ran out; each is then shown as expired.
pub async fn expire(services: &Services, now: DateTime<Utc>) -> ServiceResult<u64> {
    let expiring = store::data_exports::expiring(&services.db, now, 100).await?;
    forget(services, expiring).await
}

/// Deletes the bytes of every archive of `user`, whose account is being deleted.
pub(crate) async fn forget_all(services: &Services, user: UserId) -> ServiceResult<u64> {
    let archives = store::data_exports::stored_of(&services.db, user).await?;
    forget(services, archives).await
}

async fn forget(services: &Services, archives: Vec<(i64, Option<BlobKey>)>) -> ServiceResult<u64> {
    let mut forgotten = 0;
    for (id, key) in archives {
        if let Some(key) = key {
            services.blobs.delete(&key).await.map_err(ServiceError::internal)?;
        }
        store::data_exports::mark_expired(&services.db, id).await?;
        forgotten += 1;
    }
    Ok(forgotten)
}
