//! Collections: an issuer's members create one with its artwork, edit it, submit it to
//! screening ([`screening`]) and review ([`review`]), publish it on the ledger and close it;
//! the public sees it once published. Every change is a compare-and-set on its version, with
//! its audit row, its mail and its ledger entry in the same transaction.

pub mod artwork;
pub mod claims;
pub mod review;
pub mod screening;

use chrono::{DateTime, Utc};

use super::forms::{self, Submission};
use super::ledger::log;
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::audit::{AuditAction, AuditDetails, AuditSubject};
use crate::domain::collection::{Collection, CollectionStatus, CollectionTerms, PublicFilter, PublicKey};
use crate::domain::ids::{CollectionId, IssuerId, UserId};
use crate::domain::issuer::Issuer;
use crate::domain::page::{Page, PageSize, TimeKey};
use crate::ledger::entry::EntryBody;
use crate::mail::{CollectionNotice, Mail};
use crate::paths;
use crate::store::{self, Connection};

/// A collection by id.
pub async fn find(services: &Services, id: CollectionId) -> ServiceResult<Collection> {
    store::collections::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// The collection `id`, only if it belongs to `issuer` (outsiders learn nothing: not found).
pub async fn of_issuer(services: &Services, issuer: IssuerId, id: CollectionId) -> ServiceResult<Collection> {
    let collection = store::collections::find(&services.db, id).await?;
    collection.filter(|c| c.issuer == issuer).ok_or(ServiceError::NotFound)
}

/// The newest `limit` collections of `issuer`, whatever their status.
pub async fn of_issuer_newest(services: &Services, issuer: IssuerId, limit: u64) -> ServiceResult<Vec<Collection>> {
    Ok(store::collections::of_issuer(&services.db, issuer, None, limit).await?)
}

/// The issuer of `collection`.
pub async fn issuer(services: &Services, collection: &Collection) -> ServiceResult<Issuer> {
    store::issuers::find(&services.db, collection.issuer)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Who looks at a collection: the signed-in person, if any, and whether they review or oversee
/// the platform (reviewers and regulators).
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub user: Option<UserId>,
    pub staff: bool,
}

/// Whether the viewer is a reviewer, a regulator or a member of the collection's issuer: the people who may
/// see a collection before it is public, and its original upload at any time.
pub async fn insider(services: &Services, collection: &Collection, viewer: Viewer) -> ServiceResult<bool> {
    let Some(user) = viewer.user else {
        return Ok(false);
    };
    Ok(viewer.staff
        || store::issuers::membership(&services.db, collection.issuer, user)
            .await?
            .is_some())
}

/// A collection the viewer may see, and whether it is an insider's preview (not public yet).
pub async fn for_viewer(services: &Services, id: CollectionId, viewer: Viewer) -> ServiceResult<(Collection, bool)> {
    let collection = find(services, id).await?;
    let preview = !collection.status.is_public();
    if preview && !insider(services, &collection, viewer).await? {
        return Err(ServiceError::NotFound);
    }
    Ok((collection, preview))
}

fn audited(actor: &Actor, action: AuditAction, id: CollectionId) -> crate::domain::audit::AuditEntry {
    actor.audit(action, AuditSubject::Collection(id))
}

/// Records a new draft with its (already stored) artwork; answers where it is shown.
pub async fn create(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    submission: &Submission,
    terms: &CollectionTerms,
    artwork: &crate::domain::collection::Artwork,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    if !issuer.status.is_active() {
        return Err(ServiceError::IssuerInactive);
    }
    let txn = store::begin(&services.db).await?;
    let id = store::collections::create(&txn, issuer.id, terms, artwork, actor.user, now).await?;
    let mut entry = audited(actor, AuditAction::CollectionCreated, id);
    entry.after = Some(CollectionStatus::Draft.as_str());
    store::audit::append(&txn, entry, now).await?;
    let location = paths::console_collection(issuer.id, id);
    let location = forms::finish::<()>(services, txn, submission, &location, None, now).await?;
    tracing::info!(collection = %id, issuer = %issuer.id, "collection created");
    Ok(location)
}

/// Refuses the edit form of a collection whose content is final (published or rejected).
pub fn editable(collection: &Collection) -> ServiceResult<()> {
    collection.status.edit()?;
    Ok(())
}

/// Whether `collection` may be edited now, and whether the edit sends it back through
/// screening and review (anything but a draft): an inactive issuer edits only drafts.
pub fn editing(issuer: &Issuer, collection: &Collection) -> ServiceResult<bool> {
    let back_to_review = collection.status.edit()? != CollectionStatus::Draft;
    if back_to_review && !issuer.status.is_active() {
        return Err(ServiceError::IssuerInactive);
    }
    Ok(back_to_review)
}

/// Replaces the content (and the artwork, if a new one was sent); anything already submitted
/// is screened again in the same transaction.
pub async fn edit(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    collection: &Collection,
    terms: CollectionTerms,
    artwork: Option<crate::domain::collection::Artwork>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let back_to_review = editing(issuer, collection)?;
    let txn = store::begin(&services.db).await?;
    let edited = store::collections::edit(
        &txn,
        collection.id,
        collection.version,
        &collection.status,
        &terms,
        artwork.as_ref(),
        now,
    )
    .await?;
    if !edited {
        return Err(ServiceError::ReviewConflict);
    }
    let mut entry = audited(actor, AuditAction::CollectionEdited, collection.id);
    entry.details = artwork.is_some().then_some(AuditDetails::ArtworkReplaced);
    store::audit::append(&txn, entry, now).await?;
    if back_to_review {
        let edited = Collection {
            version: collection.version + 1,
            artwork: artwork.unwrap_or_else(|| collection.artwork.clone()),
            terms,
            ..collection.clone()
        };
        screening::submit_for_screening(services, &txn, actor, &edited, now).await?;
    }
    store::commit(txn).await?;
    services.mail_queued();
    Ok(())
}

/// Submits a draft (or a collection sent back for changes) to screening; answers where
/// screening put it.
pub async fn submit(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    collection: &Collection,
    now: DateTime<Utc>,
) -> ServiceResult<CollectionStatus> {
    collection.status.submit(issuer.status.is_active())?;
    let txn = store::begin(&services.db).await?;
    let outcome = screening::submit_for_screening(services, &txn, actor, collection, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(collection = %collection.id, outcome = outcome.as_str(), "collection screened");
    Ok(outcome)
}

/// Publishes an approved collection: its `collection_published` entry goes on the ledger.
pub async fn publish(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    collection: &Collection,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let next = collection.status.publish(issuer.status.is_active())?;
    let published = EntryBody::CollectionPublished {
        issuer_id: collection.issuer.0 as u64,
        collection_id: collection.id.0 as u64,
        content_hash: collection.artwork.content_hash,
        edition_size: collection.terms.edition_size,
    };
    let txn = store::begin(&services.db).await?;
    let queue_id = log::queue_entry(&txn, published, now).await?;
    if !store::collections::publish(&txn, collection.id, collection.version, queue_id, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let mut entry = audited(actor, AuditAction::CollectionPublished, collection.id);
    entry.before = Some(collection.status.as_str());
    entry.after = Some(next.as_str());
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    services.entries_queued();
    tracing::info!(collection = %collection.id, "collection published");
    Ok(())
}

/// Closes a published collection for good: no more claims.
pub async fn close(
    services: &Services,
    actor: &Actor,
    collection: &Collection,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let next = collection.status.close()?;
    let txn = store::begin(&services.db).await?;
    let moved = store::collections::transition(
        &txn,
        collection.id,
        collection.version,
        &collection.status,
        &next,
        None,
        None,
        now,
    )
    .await?;
    if !moved {
        return Err(ServiceError::ReviewConflict);
    }
    let mut entry = audited(actor, AuditAction::CollectionClosed, collection.id);
    entry.before = Some(collection.status.as_str());
    entry.after = Some(next.as_str());
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Mails every member of the issuer about a decision on one of its collections, each in the
/// member's language, in the caller's transaction.
pub(crate) async fn notify_issuer(
    services: &Services,
    conn: &impl Connection,
    collection: &Collection,
    notice: CollectionNotice,
    reason: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let link = services.absolute_url(&paths::console_collection(collection.issuer, collection.id));
    for (member, _) in store::issuers::members(conn, collection.issuer).await? {
        let Some(user) = store::users::find(conn, member).await? else {
            continue;
        };
        let mail = Mail::CollectionStatus {
            link: &link,
            collection: &collection.terms.title,
            status: notice,
            reason,
        };
        services.queue_mail(conn, &user.email, user.locale, mail, now).await?;
    }
    Ok(())
}

/// The ledger index of the collection's publication, once sequenced.
pub async fn ledger_index(services: &Services, collection: &Collection) -> ServiceResult<Option<i64>> {
    match collection.ledger_queue_id {
        Some(queued) => log::index_of(services, queued).await,
        None => Ok(None),
    }
}

/// A public collection in a list, with its issuer's name.
#[derive(Debug, Clone)]
pub struct Listed {
    pub collection: Collection,
    pub issuer: String,
}

/// A page of the public collections of active issuers, those open for claims now first, then
/// the others, each part newest published first; after `after` if given.
pub async fn public(
    services: &Services,
    filter: &PublicFilter,
    now: DateTime<Utc>,
    after: Option<PublicKey>,
    size: PageSize,
) -> ServiceResult<Page<Listed, PublicKey>> {
    let rows = store::collections::public(&services.db, filter, now, after, size.fetch()).await?;
    let page = Page::from_rows(rows, size, |(open, collection)| PublicKey {
        open: *open,
        published: TimeKey {
            at: collection.published_at.unwrap_or_default(),
            id: collection.id.0,
        },
    });
    let issuer_ids: Vec<IssuerId> = page.items.iter().map(|(_, c)| c.issuer).collect();
    let names = store::issuers::legal_names(&services.db, &issuer_ids).await?;
    Ok(page.map(|(_, collection)| Listed {
        issuer: names.get(&collection.issuer).cloned().unwrap_or_default(),
        collection,
    }))
}

/// A page of the issuer's collections, newest first, older than `before` if given.
pub async fn issuer_list(
    services: &Services,
    issuer: IssuerId,
    before: Option<CollectionId>,
    size: PageSize,
) -> ServiceResult<Page<Collection, CollectionId>> {
    let rows = store::collections::of_issuer(&services.db, issuer, before, size.fetch()).await?;
    Ok(Page::from_rows(rows, size, |collection| collection.id))
}
