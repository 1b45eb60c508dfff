//! Collections on the issuer's side (create with artwork, edit, submit to screening, publish,
//! close) and on the public side (the collection page and its artwork).
//!
//! Screening runs when a collection is submitted, in the same transaction as the status change,
//! so a submission is never acknowledged without its findings.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use moderation::image::{ImageError, ImageLimits, decode};
use sea_orm::ConnectionTrait;
use sha3::{Digest, Sha3_256};

use super::auth::ActingFor;
use super::claim_box::{self, ClaimBox};
use super::context::RequestContext;
use super::csv_export::CsvFile;
use super::error::{AppError, AppResult};
use super::form_result::{self, FormKey};
use super::ledger::queue_entry;
use super::share::Share;
use super::{confirmed, render, render_with};
use crate::blobs::Blob;
use crate::crypto;
use crate::domain::allowlist::{MAX_ALLOWLIST_ROWS, parse_allowlist};
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::blob_key::BlobKey;
use crate::domain::claim_stats::{bucket_counts, cumulative, mask_email};
use crate::domain::collection::{Artwork, Collection};
use crate::domain::collection::{
    ClaimMode, CollectionForm, CollectionStatus, CollectionTerms, CollectionTransitionError, TermsError,
    local_time_input, parse_local_time,
};
use crate::domain::ids::CollectionId;
use crate::domain::ids::IssuerId;
use crate::domain::ids::UserId;
use crate::domain::issuer::Issuer;
use crate::domain::screening::{Finding, Screened, Segment, TextField, build_screener, highlight, screen};
use crate::ledger::entry::EntryBody;
use crate::mail::{self, CollectionNotice, Mail};
use crate::state::AppState;
use crate::store;

/// Namespace of artwork in the blob store.
const ARTWORK: &str = "collection-artwork";

/// Largest artwork upload; the route's body limit allows this plus the form fields.
pub const MAX_ARTWORK_BYTES: usize = 32 * 1024 * 1024;

// ---- the form ----

/// The form as typed, kept to show it again with its errors.
#[derive(Debug, Clone, Default)]
pub struct FormValues {
    pub title: String,
    pub description: String,
    pub edition_size: String,
    pub per_person_limit: String,
    pub claim_starts_at: String,
    pub claim_ends_at: String,
    pub claim_mode: String,
    /// The form's key: submitting a new collection twice creates it once.
    pub form_key: String,
    /// An artwork sent with an earlier attempt that passed its checks (see [`HeldArtwork`]).
    pub held_artwork: String,
}

/// An artwork already checked and stored, held for the form while other fields are fixed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct HeldArtwork {
    content_hash: String,
    media_type: String,
    width: u32,
    height: u32,
    bytes: u64,
    original_key: String,
    full_key: String,
    large_key: String,
    small_key: String,
    perceptual_hash: u64,
}

impl HeldArtwork {
    fn of(artwork: &Artwork) -> Self {
        HeldArtwork {
            content_hash: crypto::hex(&artwork.content_hash),
            media_type: artwork.media_type.clone(),
            width: artwork.width,
            height: artwork.height,
            bytes: artwork.bytes,
            original_key: artwork.original_key.to_string(),
            full_key: artwork.full_key.to_string(),
            large_key: artwork.large_key.to_string(),
            small_key: artwork.small_key.to_string(),
            perceptual_hash: artwork.perceptual_hash.0,
        }
    }

    fn stored(self) -> Option<Artwork> {
        Some(Artwork {
            content_hash: crypto::parse_digest_hex(&self.content_hash)?,
            media_type: self.media_type,
            width: self.width,
            height: self.height,
            bytes: self.bytes,
            original_key: BlobKey::parse(&self.original_key).ok()?,
            full_key: BlobKey::parse(&self.full_key).ok()?,
            large_key: BlobKey::parse(&self.large_key).ok()?,
            small_key: BlobKey::parse(&self.small_key).ok()?,
            perceptual_hash: moderation::PerceptualHash(self.perceptual_hash),
        })
    }
}

impl FormValues {
    fn of(terms: &CollectionTerms) -> Self {
        FormValues {
            title: terms.title.clone(),
            description: terms.description.clone(),
            edition_size: terms.edition_size.to_string(),
            per_person_limit: terms.per_person_limit.to_string(),
            claim_starts_at: local_time_input(terms.claim_starts_at),
            claim_ends_at: local_time_input(terms.claim_ends_at),
            claim_mode: terms.claim_mode.as_str().to_owned(),
            form_key: FormKey::fresh().to_string(),
            held_artwork: String::new(),
        }
    }

    fn parse(&self, now: DateTime<Utc>) -> Result<CollectionTerms, Vec<TermsError>> {
        CollectionForm {
            title: self.title.clone(),
            description: self.description.clone(),
            edition_size: self.edition_size.clone(),
            per_person_limit: self.per_person_limit.clone(),
            claim_starts_at: parse_local_time(&self.claim_starts_at),
            claim_ends_at: parse_local_time(&self.claim_ends_at),
            claim_mode: self.claim_mode.clone(),
        }
        .parse(now)
    }
}

/// (form field, message key) for every problem in a submitted form.
type FieldErrors = Vec<(&'static str, &'static str)>;

fn terms_error_key(error: TermsError) -> (&'static str, &'static str) {
    match error {
        TermsError::Title => ("title", "collection.error_title"),
        TermsError::Description => ("description", "collection.error_description"),
        TermsError::EditionSize => ("edition_size", "collection.error_edition_size"),
        TermsError::PerPersonLimit => ("per_person_limit", "collection.error_per_person_limit"),
        TermsError::Window => ("claim_window", "collection.error_window"),
        TermsError::WindowOver => ("claim_window", "collection.error_window_over"),
        TermsError::TitleHidden => ("title", "form.hidden_characters"),
        TermsError::DescriptionHidden => ("description", "form.hidden_characters"),
        TermsError::ClaimMode => ("claim_mode", "collection.error_claim_mode"),
    }
}

pub fn image_error_key(error: &ImageError) -> &'static str {
    match error {
        ImageError::FileTooLarge { .. } => "collection.error_artwork_large",
        ImageError::UnsupportedFormat => "collection.error_artwork_format",
        ImageError::DimensionsTooLarge { .. } | ImageError::TooManyPixels { .. } | ImageError::MemoryLimit { .. } => {
            "collection.error_artwork_dimensions"
        }
        ImageError::NoPixels { .. } | ImageError::Corrupt { .. } | ImageError::Encode(_) => {
            "collection.error_artwork_corrupt"
        }
    }
}

#[derive(Template)]
#[template(path = "collection_form.html")]
struct FormTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    /// Set when editing an existing collection.
    collection: Option<i64>,
    values: FormValues,
    errors: FieldErrors,
    /// What the held artwork is, for the form to say it is attached.
    held: Option<String>,
}

impl FormTemplate {
    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, key)| *key)
    }

    fn action(&self) -> String {
        match self.collection {
            Some(id) => format!("/console/{}/collections/{id}/edit", self.issuer.id),
            None => format!("/console/{}/collections", self.issuer.id),
        }
    }
}

/// Reads the multipart collection form: the text fields and the artwork, if one was sent.
async fn read_form(mut multipart: Multipart) -> AppResult<(FormValues, Option<Bytes>)> {
    let mut values = FormValues::default();
    let mut artwork = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "artwork" {
            let bytes = field.bytes().await.map_err(|_| AppError::FileTooLarge)?;
            artwork = (!bytes.is_empty()).then_some(bytes);
            continue;
        }
        let text = field.text().await.map_err(|_| AppError::BadRequest)?;
        let slot = match name.as_str() {
            "title" => &mut values.title,
            "description" => &mut values.description,
            "edition_size" => &mut values.edition_size,
            "per_person_limit" => &mut values.per_person_limit,
            "claim_starts_at" => &mut values.claim_starts_at,
            "claim_ends_at" => &mut values.claim_ends_at,
            "claim_mode" => &mut values.claim_mode,
            "form_key" => &mut values.form_key,
            "held_artwork" => &mut values.held_artwork,
            _ => continue,
        };
        *slot = text;
    }
    Ok((values, artwork))
}

/// An artwork that passed the image checks, with everything to store.
struct CheckedArtwork {
    original: Bytes,
    media_type: &'static str,
    width: u32,
    height: u32,
    perceptual_hash: moderation::PerceptualHash,
    /// The clean full-size re-encoding, then the thumbnails, smallest first.
    renditions: Vec<moderation::EncodedImage>,
}

/// Sniffs, decodes under limits, re-encodes and hashes an upload, off the async threads:
/// decoding a large photo takes a tenth of a second of CPU.
async fn check_artwork(bytes: Bytes) -> AppResult<Result<CheckedArtwork, ImageError>> {
    tokio::task::spawn_blocking(move || {
        let limits = ImageLimits {
            max_bytes: MAX_ARTWORK_BYTES,
            ..ImageLimits::default()
        };
        let image = decode(&bytes, &limits)?;
        let mut renditions = vec![image.clean_encoding()?];
        renditions.extend(image.thumbnails()?);
        Ok(CheckedArtwork {
            media_type: image.format().mime_type(),
            width: image.width(),
            height: image.height(),
            perceptual_hash: image.perceptual_hash(),
            renditions,
            original: bytes,
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}

/// Writes the artwork's four blobs. Blobs go in before the row that references them, so a
/// failure leaves at worst an unreferenced blob, never a row pointing at nothing.
async fn store_artwork(state: &AppState, artwork: CheckedArtwork) -> AppResult<Artwork> {
    let put = |bytes: Bytes, content_type: &str| {
        let blob = Blob {
            bytes,
            content_type: content_type.to_owned(),
        };
        async move {
            state
                .services
                .blobs
                .put(ARTWORK, blob)
                .await
                .map_err(|e| AppError::Internal(e.into()))
        }
    };
    let original_key = put(artwork.original.clone(), artwork.media_type).await?;
    let mut keys = Vec::with_capacity(artwork.renditions.len());
    for rendition in artwork.renditions {
        keys.push(put(Bytes::from(rendition.bytes), rendition.format.mime_type()).await?);
    }
    let [full_key, small_key, large_key]: [BlobKey; 3] = keys
        .try_into()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("expected a clean image and two thumbnails")))?;
    Ok(Artwork {
        content_hash: Sha3_256::digest(&artwork.original).into(),
        media_type: artwork.media_type.to_owned(),
        width: artwork.width,
        height: artwork.height,
        bytes: artwork.original.len() as u64,
        original_key,
        full_key,
        large_key,
        small_key,
        perceptual_hash: artwork.perceptual_hash,
    })
}

/// A submission as checked: the terms if they are valid, the artwork if one passed (already
/// stored, so that a form shown again keeps it), and every problem found.
struct Checked {
    terms: Option<CollectionTerms>,
    artwork: Option<Artwork>,
    errors: FieldErrors,
}

/// Checks the fields and the artwork together, so every problem is reported at once. The
/// artwork is a new upload, or else the one an earlier attempt held.
async fn check_submission(
    state: &AppState,
    ctx: &RequestContext,
    values: &FormValues,
    upload: Option<Bytes>,
    artwork_required: bool,
    now: DateTime<Utc>,
) -> AppResult<Checked> {
    let terms = values.parse(now);
    let mut errors: FieldErrors = match &terms {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(|e| terms_error_key(*e)).collect(),
    };
    let held =
        || form_result::held_upload::<HeldArtwork>(state, ctx, &values.held_artwork).and_then(HeldArtwork::stored);
    let artwork = match upload {
        Some(bytes) => match check_artwork(bytes).await? {
            Ok(checked) => Some(store_artwork(state, checked).await?),
            Err(err) => {
                errors.push(("artwork", image_error_key(&err)));
                None
            }
        },
        None => held(),
    };
    if artwork.is_none() && artwork_required && errors.iter().all(|(field, _)| *field != "artwork") {
        errors.push(("artwork", "collection.error_artwork_missing"));
    }
    Ok(Checked {
        terms: terms.ok(),
        artwork,
        errors,
    })
}

/// The form shown again with its problems, keeping what was typed and the artwork that passed.
fn form_again(
    state: &AppState,
    ctx: RequestContext,
    acting: ActingFor,
    collection: Option<i64>,
    mut values: FormValues,
    checked: Checked,
) -> AppResult<Response> {
    let held = checked.artwork.as_ref().map(|artwork| {
        values.held_artwork = form_result::hold_upload(state, &ctx, HeldArtwork::of(artwork));
        ctx.tf(
            "collection.artwork_held",
            &[
                ("format", artwork.media_type.trim_start_matches("image/")),
                ("width", &artwork.width.to_string()),
                ("height", &artwork.height.to_string()),
            ],
        )
    });
    let page = FormTemplate {
        ctx,
        issuer: acting.issuer,
        collection,
        values,
        errors: checked.errors,
        held,
    };
    render_with(StatusCode::UNPROCESSABLE_ENTITY, page)
}

fn audit(ctx: &RequestContext, actor: UserId, action: AuditAction, id: CollectionId) -> AuditEntry {
    AuditEntry::new(
        Some(actor),
        action,
        AuditSubject::Collection(id),
        ctx.request_id.clone(),
    )
}

fn detail_path(issuer: IssuerId, id: CollectionId) -> String {
    format!("/console/{issuer}/collections/{id}")
}

pub async fn new_form(ctx: RequestContext, acting: ActingFor) -> AppResult<Response> {
    if !acting.issuer.status.is_active() {
        return Err(AppError::IssuerInactive);
    }
    let values = FormValues {
        per_person_limit: "1".to_owned(),
        claim_mode: ClaimMode::Open.as_str().to_owned(),
        form_key: FormKey::fresh().to_string(),
        ..FormValues::default()
    };
    Ok(render(FormTemplate {
        ctx,
        issuer: acting.issuer,
        collection: None,
        values,
        errors: Vec::new(),
        held: None,
    })?
    .into_response())
}

pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    multipart: Multipart,
) -> AppResult<Response> {
    let (values, upload) = read_form(multipart).await?;
    let form_key = FormKey::from_form(&values.form_key)?;
    if let Some(earlier) = form_result::replay(&state, &ctx, &form_key).await? {
        return Ok(earlier);
    }
    if !acting.issuer.status.is_active() {
        return Err(AppError::IssuerInactive);
    }
    let now = Utc::now();
    let checked = check_submission(&state, &ctx, &values, upload, true, now).await?;
    let (terms, artwork) = match checked {
        Checked {
            terms: Some(terms),
            artwork: Some(artwork),
            errors,
        } if errors.is_empty() => (terms, artwork),
        checked => return form_again(&state, ctx, acting, None, values, checked),
    };
    let txn = store::begin(&state.services.db).await?;
    let id = store::collections::create(&txn, acting.issuer.id, &terms, &artwork, acting.user.id, now).await?;
    let mut entry = audit(&ctx, acting.user.id, AuditAction::CollectionCreated, id);
    entry.after = Some(CollectionStatus::Draft.as_str());
    store::audit::append(&txn, entry, now).await?;
    let location = detail_path(acting.issuer.id, id);
    let answer = form_result::commit::<()>(&state, txn, &ctx, &form_key, &location, None, now).await?;
    tracing::info!(collection = %id, issuer = %acting.issuer.id, "collection created");
    Ok(answer)
}

/// The collection named in the path, only if it belongs to the issuer the member acts for.
async fn owned(state: &AppState, acting: &ActingFor, id: i64) -> AppResult<Collection> {
    store::collections::find(&state.services.db, CollectionId(id))
        .await?
        .filter(|c| c.issuer == acting.issuer.id)
        .ok_or(AppError::NotFound)
}

pub(super) fn transition_error(error: CollectionTransitionError) -> AppError {
    match error {
        CollectionTransitionError::IssuerInactive => AppError::IssuerInactive,
        CollectionTransitionError::ReasonRequired => AppError::BadRequest,
        CollectionTransitionError::SameReviewer => AppError::SameReviewer,
        CollectionTransitionError::Illegal { .. } | CollectionTransitionError::NotEditable => {
            AppError::CollectionStateConflict
        }
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let record = owned(&state, &acting, id).await?;
    record.status.edit().map_err(transition_error)?;
    Ok(render(FormTemplate {
        ctx,
        issuer: acting.issuer,
        collection: Some(id),
        values: FormValues::of(&record.terms),
        errors: Vec::new(),
        held: None,
    })?
    .into_response())
}

/// Runs automated screening for a submission, inside the caller's transaction.
pub async fn screen_submission(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    terms: &CollectionTerms,
    artwork: moderation::PerceptualHash,
) -> AppResult<Screened> {
    let policy_terms = store::moderation::terms(conn).await?;
    let screener = build_screener(&policy_terms).map_err(|e| AppError::Internal(e.into()))?;
    let blocklist = store::moderation::blocklist(conn).await?;
    let others = store::collections::artworks_of_others(conn, issuer).await?;
    let policy = store::moderation::review_policy(conn).await?;
    Ok(screen(
        &screener,
        &terms.title,
        &terms.description,
        artwork,
        &blocklist,
        &others,
        &policy,
    ))
}

/// Screens `record` (its content as it now stands, at its current version and status) and
/// records the outcome with its audit row and, for an automatic rejection, the mail to the issuer.
async fn submit_for_screening(
    state: &AppState,
    txn: &impl ConnectionTrait,
    ctx: &RequestContext,
    actor: UserId,
    record: &Collection,
    now: DateTime<Utc>,
) -> AppResult<CollectionStatus> {
    let from = &record.status;
    let submitted = from.submit(true).or_else(|_| from.edit()).map_err(transition_error)?;
    let screened = screen_submission(txn, record.issuer, &record.terms, record.artwork.perceptual_hash).await?;
    let outcome = submitted
        .screened(screened.assessment.verdict)
        .map_err(transition_error)?;
    if !store::collections::record_screening(txn, record.id, record.version, from, &outcome, &screened, now).await? {
        return Err(AppError::ReviewConflict);
    }
    let mut entry = audit(ctx, actor, AuditAction::CollectionScreened, record.id);
    entry.before = Some(from.as_str());
    entry.after = Some(outcome.as_str());
    entry.details = Some(AuditDetails::Screened {
        verdict: screened.assessment.verdict.as_str().to_owned(),
        score: screened.assessment.score,
        findings: screened.findings.len(),
        lists: screened.list_versions.clone(),
    });
    store::audit::append(txn, entry, now).await?;
    if outcome == CollectionStatus::AutoRejected {
        notify_issuer(state, txn, record, CollectionNotice::AutoRejected, "", now).await?;
    }
    Ok(outcome)
}

pub async fn edit(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
    multipart: Multipart,
) -> AppResult<Response> {
    let record = owned(&state, &acting, id).await?;
    let back_to_review = record.status.edit().map_err(transition_error)? != CollectionStatus::Draft;
    if back_to_review && !acting.issuer.status.is_active() {
        return Err(AppError::IssuerInactive);
    }
    let (values, upload) = read_form(multipart).await?;
    let now = Utc::now();
    let checked = check_submission(&state, &ctx, &values, upload, false, now).await?;
    let (terms, artwork) = match checked {
        Checked {
            terms: Some(terms),
            artwork,
            errors,
        } if errors.is_empty() => (terms, artwork),
        checked => return form_again(&state, ctx, acting, Some(id), values, checked),
    };
    let txn = store::begin(&state.services.db).await?;
    if !store::collections::edit(
        &txn,
        record.id,
        record.version,
        &record.status,
        &terms,
        artwork.as_ref(),
        now,
    )
    .await?
    {
        return Err(AppError::ReviewConflict);
    }
    let mut entry = audit(&ctx, acting.user.id, AuditAction::CollectionEdited, record.id);
    entry.details = artwork.is_some().then_some(AuditDetails::ArtworkReplaced);
    store::audit::append(&txn, entry, now).await?;
    if back_to_review {
        let edited = Collection {
            version: record.version + 1,
            artwork: artwork.unwrap_or(record.artwork.clone()),
            terms,
            ..record
        };
        submit_for_screening(&state, &txn, &ctx, acting.user.id, &edited, now).await?;
    }
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    Ok(Redirect::to(&detail_path(acting.issuer.id, CollectionId(id))).into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let record = owned(&state, &acting, id).await?;
    record
        .status
        .submit(acting.issuer.status.is_active())
        .map_err(transition_error)?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let outcome = submit_for_screening(&state, &txn, &ctx, acting.user.id, &record, now).await?;
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    tracing::info!(collection = %record.id, outcome = outcome.as_str(), "collection screened");
    Ok(Redirect::to(&detail_path(acting.issuer.id, record.id)).into_response())
}

pub async fn publish(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let record = owned(&state, &acting, id).await?;
    let next = record
        .status
        .publish(acting.issuer.status.is_active())
        .map_err(transition_error)?;
    let now = Utc::now();
    let published = EntryBody::CollectionPublished {
        issuer_id: record.issuer.0 as u64,
        collection_id: record.id.0 as u64,
        content_hash: record.artwork.content_hash,
        edition_size: record.terms.edition_size,
    };
    let txn = store::begin(&state.services.db).await?;
    let queue_id = queue_entry(&txn, published, now).await?;
    if !store::collections::publish(&txn, record.id, record.version, queue_id, now).await? {
        return Err(AppError::ReviewConflict);
    }
    let mut audit_entry = audit(&ctx, acting.user.id, AuditAction::CollectionPublished, record.id);
    audit_entry.before = Some(record.status.as_str());
    audit_entry.after = Some(next.as_str());
    store::audit::append(&txn, audit_entry, now).await?;
    txn.commit().await?;
    state.services.ledger_wakeup.notify_one();
    tracing::info!(collection = %record.id, "collection published");
    Ok(Redirect::to(&detail_path(acting.issuer.id, record.id)).into_response())
}

#[derive(serde::Deserialize)]
pub struct CloseForm {
    confirm: Option<String>,
}

pub async fn close(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
    Form(form): Form<CloseForm>,
) -> AppResult<Response> {
    confirmed(form.confirm.as_deref())?;
    let record = owned(&state, &acting, id).await?;
    let next = record.status.close().map_err(transition_error)?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    if !store::collections::transition(&txn, record.id, record.version, &record.status, &next, None, None, now).await? {
        return Err(AppError::ReviewConflict);
    }
    let mut entry = audit(&ctx, acting.user.id, AuditAction::CollectionClosed, record.id);
    entry.before = Some(record.status.as_str());
    entry.after = Some(next.as_str());
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(Redirect::to(&detail_path(acting.issuer.id, record.id)).into_response())
}

/// Mails every member of the issuer about a decision on one of its collections, each in the
/// member's language, in the caller's transaction.
pub async fn notify_issuer(
    state: &AppState,
    txn: &impl ConnectionTrait,
    record: &Collection,
    notice: CollectionNotice,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let link = state.services.absolute_url(&detail_path(record.issuer, record.id));
    for (member, _) in store::issuers::members(txn, record.issuer).await? {
        let Some(user) = store::users::find(txn, member).await? else {
            continue;
        };
        let to = user.email.clone();
        let message = Mail::CollectionStatus {
            link: &link,
            collection: &record.terms.title,
            status: notice,
            reason,
        }
        .render(&to, user.locale, &state.config.operator.name)?;
        mail::enqueue(txn, message, now).await?;
    }
    Ok(())
}

// ---- pages that show a collection ----

/// A listed term found in the collection's text.
pub struct TermFound {
    pub category: String,
    pub severity: String,
    pub term: String,
    pub list_version: String,
}

/// What the pages show of a collection's screening: the texts cut into highlighted runs and
/// the image findings.
pub struct ScreeningView {
    pub title: Vec<Segment>,
    pub description: Vec<Segment>,
    pub text_findings: Vec<TermFound>,
    pub blocklisted: Vec<(i64, String, u32)>,
    /// (other collection, distance)
    pub similar: Vec<(i64, u32)>,
}

impl ScreeningView {
    pub fn of(record: &Collection) -> Self {
        let findings = &record.findings;
        ScreeningView {
            title: highlight(&record.terms.title, findings, TextField::Title),
            description: highlight(&record.terms.description, findings, TextField::Description),
            text_findings: findings
                .iter()
                .filter_map(|f| match f {
                    Finding::Text {
                        category,
                        severity,
                        term,
                        list_version,
                        ..
                    } => Some(TermFound {
                        category: category.clone(),
                        severity: severity.clone(),
                        term: term.clone(),
                        list_version: list_version.clone(),
                    }),
                    _ => None,
                })
                .collect(),
            blocklisted: findings
                .iter()
                .filter_map(|f| match f {
                    Finding::Blocklisted { entry, label, distance } => Some((*entry, label.clone(), *distance)),
                    _ => None,
                })
                .collect(),
            similar: findings
                .iter()
                .filter_map(|f| match f {
                    Finding::Similar { collection, distance } => Some((*collection, *distance)),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// Facts every collection page shows.
pub struct CollectionFacts {
    pub id: i64,
    pub status: &'static str,
    pub reason: Option<String>,
    pub reason_code: Option<String>,
    pub title: String,
    pub description: String,
    pub edition_size: u32,
    pub per_person_limit: u32,
    pub claimed: u64,
    pub remaining: u64,
    pub starts: String,
    pub ends: String,
    pub claim_mode: &'static str,
    pub risk_score: u8,
    pub content_hash: String,
    pub perceptual_hash: String,
    /// `PNG`, `JPEG`, `WEBP` or `GIF`.
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub kilobytes: u64,
    pub version: i32,
}

impl CollectionFacts {
    pub fn of(record: &Collection, ctx: &RequestContext) -> Self {
        let terms = &record.terms;
        CollectionFacts {
            id: record.id.0,
            status: record.status.as_str(),
            reason: record.status.reason().map(str::to_owned),
            reason_code: record.reason_code.clone(),
            title: terms.title.clone(),
            description: terms.description.clone(),
            edition_size: terms.edition_size,
            per_person_limit: terms.per_person_limit,
            claimed: record.claimed_count,
            remaining: u64::from(terms.edition_size).saturating_sub(record.claimed_count),
            starts: ctx.time(terms.claim_starts_at),
            ends: ctx.time(terms.claim_ends_at),
            claim_mode: terms.claim_mode.as_str(),
            risk_score: record.risk_score,
            content_hash: crypto::hex(&record.artwork.content_hash),
            perceptual_hash: record.artwork.perceptual_hash.to_string(),
            format: record.artwork.media_type.trim_start_matches("image/").to_uppercase(),
            width: record.artwork.width,
            height: record.artwork.height,
            kilobytes: record.artwork.bytes.div_ceil(1024),
            version: record.version,
        }
    }
}

#[derive(Template)]
#[template(path = "collection_console.html")]
struct ConsoleTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    facts: CollectionFacts,
    screening: ScreeningView,
    editable: bool,
    submittable: bool,
    publishable: bool,
    closable: bool,
    ledger_index: Option<i64>,
    /// (generated, used) claim codes, for a claim-code collection.
    codes: Option<(u64, u64)>,
    can_generate: bool,
    chart: Option<ClaimsChart>,
    /// How many addresses an allowlist collection lists.
    allowlisted: Option<u64>,
    /// Fresh keys for the code-batch and allowlist forms: each submission acts once.
    codes_form: FormKey,
    allowlist_form: FormKey,
}

/// Claims over time as an SVG polyline, for the issuer's dashboard.
struct ClaimsChart {
    /// `x,y` pairs in a 600 × 160 view box, cumulative claims left to right.
    points: String,
    total: u64,
    from: String,
    to: String,
}

const CHART_BUCKETS: usize = 48;

impl ClaimsChart {
    fn of(record: &Collection, times: &[DateTime<Utc>], now: DateTime<Utc>, ctx: &RequestContext) -> Option<Self> {
        let from = record.terms.claim_starts_at;
        let to = record.terms.claim_ends_at.min(now);
        if !record.status.is_public() || to <= from {
            return None;
        }
        let totals = cumulative(&bucket_counts(times, from, to, CHART_BUCKETS));
        let total = totals.last().copied().unwrap_or(0);
        let top = total.max(1) as f64;
        let points = std::iter::once((0.0, 160.0))
            .chain(totals.iter().enumerate().map(|(i, n)| {
                let x = (i + 1) as f64 * 600.0 / CHART_BUCKETS as f64;
                (x, 160.0 - *n as f64 * 150.0 / top)
            }))
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ");
        Some(ClaimsChart {
            points,
            total,
            from: ctx.time(from),
            to: ctx.time(to),
        })
    }
}

async fn ledger_index(state: &AppState, record: &Collection) -> AppResult<Option<i64>> {
    Ok(match record.ledger_queue_id {
        Some(queue_id) => store::ledger::entry_from_queue(&state.services.db, queue_id)
            .await?
            .map(|e| e.idx),
        None => None,
    })
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
) -> AppResult<Html<String>> {
    let record = owned(&state, &acting, id).await?;
    let active = acting.issuer.status.is_active();
    let status = &record.status;
    let codes = match record.terms.claim_mode {
        ClaimMode::ClaimCodes => Some(store::claim_codes::counts(&state.services.db, record.id).await?),
        ClaimMode::Open | ClaimMode::Allowlist => None,
    };
    let allowlisted = match record.terms.claim_mode {
        ClaimMode::Allowlist => Some(store::allowlists::count(&state.services.db, record.id).await?),
        ClaimMode::Open | ClaimMode::ClaimCodes => None,
    };
    let claim_times = if record.status.is_public() {
        store::tokens::claim_times(&state.services.db, record.id).await?
    } else {
        Vec::new()
    };
    render(ConsoleTemplate {
        codes_form: FormKey::fresh(),
        allowlist_form: FormKey::fresh(),
        allowlisted,
        chart: ClaimsChart::of(&record, &claim_times, Utc::now(), &ctx),
        codes,
        can_generate: active && super::claim_codes::codes_allowed(&record),
        ledger_index: ledger_index(&state, &record).await?,
        editable: status.edit().is_ok(),
        submittable: status.submit(active).is_ok(),
        publishable: status.publish(active).is_ok(),
        closable: status.close().is_ok(),
        facts: CollectionFacts::of(&record, &ctx),
        screening: ScreeningView::of(&record),
        ctx,
        issuer: acting.issuer,
    })
}

/// Whether the visitor is a reviewer or a member of the collection's issuer: the people who
/// may see a collection before it is public, and its original upload at any time.
async fn insider(state: &AppState, ctx: &RequestContext, record: &Collection) -> AppResult<bool> {
    let Some(user) = &ctx.user else {
        return Ok(false);
    };
    Ok(ctx.is_reviewer()
        || store::issuers::membership(&state.services.db, record.issuer, user.id)
            .await?
            .is_some())
}

#[derive(Template)]
#[template(path = "collection_public.html")]
struct PublicTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    facts: CollectionFacts,
    /// Not public yet: an insider's preview.
    preview: bool,
    ledger_index: Option<i64>,
    /// What the visitor can do about claiming.
    claim: ClaimBox,
    share: Share,
}

/// The public page of a published collection; a preview for insiders; 404 for everyone else.
pub async fn public_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let record = store::collections::find(&state.services.db, CollectionId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let preview = !record.status.is_public();
    if preview && !insider(&state, &ctx, &record).await? {
        return Err(AppError::NotFound);
    }
    let issuer = store::issuers::find(&state.services.db, record.issuer)
        .await?
        .ok_or(AppError::NotFound)?;
    let path = format!("/collections/{}", record.id);
    let claim = claim_box::for_visitor(&state, &ctx, &record, None, &path, &format!("{path}/claim")).await?;
    let share = Share::new(
        &ctx,
        &path,
        &record.terms.title,
        &record.terms.description,
        Some(&format!("{path}/artwork/1024")),
    )?;
    render(PublicTemplate {
        ledger_index: ledger_index(&state, &record).await?,
        facts: CollectionFacts::of(&record, &ctx),
        ctx,
        issuer,
        preview,
        claim,
        share,
    })
}

/// One of the stored renditions of a collection's artwork.
pub async fn artwork(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((id, variant)): Path<(i64, String)>,
) -> AppResult<Response> {
    let record = store::collections::find(&state.services.db, CollectionId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let artwork = &record.artwork;
    let key = match variant.as_str() {
        "original" => &artwork.original_key,
        "full" => &artwork.full_key,
        "1024" => &artwork.large_key,
        "256" => &artwork.small_key,
        _ => return Err(AppError::NotFound),
    };
    let public = record.status.is_public() && variant != "original";
    if !public && !insider(&state, &ctx, &record).await? {
        return Err(AppError::NotFound);
    }
    let blob = state
        .services
        .blobs
        .get(key)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let cache = if public {
        "public, max-age=300"
    } else {
        "private, no-store"
    };
    Ok((
        [(CONTENT_TYPE, blob.content_type), (CACHE_CONTROL, cache.to_owned())],
        blob.bytes,
    )
        .into_response())
}

/// One claim as issuers see it: holder masked.
pub struct ClaimRow {
    pub serial: u32,
    pub claimed_at: DateTime<Utc>,
    pub holder: String,
    pub status: &'static str,
    pub ledger_index: Option<i64>,
}

/// Every claim of a collection in serial order, holders masked.
pub async fn claim_rows(state: &AppState, collection: CollectionId) -> AppResult<Vec<ClaimRow>> {
    let tokens = store::tokens::of_collection(&state.services.db, collection).await?;
    let holders: Vec<UserId> = tokens.iter().map(|t| t.holder).collect();
    let accounts = store::users::find_many(&state.services.db, &holders).await?;
    let queued: Vec<i64> = tokens.iter().map(|t| t.ledger_queue_id).collect();
    let indices = store::ledger::indices_from_queue(&state.services.db, &queued).await?;
    Ok(tokens
        .into_iter()
        .map(|token| ClaimRow {
            serial: token.serial,
            claimed_at: token.claimed_at,
            holder: accounts
                .get(&token.holder)
                .map(|u| mask_email(u.email.as_str()))
                .unwrap_or_default(),
            status: token.status.as_str(),
            ledger_index: indices.get(&token.ledger_queue_id).copied(),
        })
        .collect())
}

/// The collection's claims as CSV, holders masked: serial, time, holder, status, ledger index.
pub async fn claims_csv(
    State(state): State<AppState>,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let record = owned(&state, &acting, id).await?;
    let mut csv = CsvFile::new(&["serial", "claimed_at", "holder", "status", "ledger_index"])?;
    for row in claim_rows(&state, record.id).await? {
        csv.row([
            row.serial.to_string(),
            row.claimed_at.to_rfc3339(),
            row.holder,
            row.status.to_owned(),
            row.ledger_index.map(|i| i.to_string()).unwrap_or_default(),
        ])?;
    }
    csv.into_download(&format!("claims-{}.csv", record.id))
}

/// What an allowlist upload did, kept to show on its report page.
#[derive(serde::Serialize, serde::Deserialize)]
struct AllowlistReport {
    read: usize,
    added: usize,
    /// (line, content, problem) of each row left out.
    bad: Vec<(usize, String, String)>,
}

/// How long an upload's report stays available to the member who sent it.
const REPORT_SHOWN: chrono::Duration = chrono::Duration::days(1);

#[derive(Template)]
#[template(path = "allowlist_report.html")]
struct AllowlistReportTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    collection: i64,
    title: String,
    report: AllowlistReport,
}

/// The issuer uploads the allowlist of an allowlist collection as CSV (one address per row,
/// first column); the member is sent to a report of what was added and every row left out.
pub async fn upload_allowlist(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut file = None;
    let mut form_key = String::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        match field.name() {
            Some("file") => file = Some(field.bytes().await.map_err(|_| AppError::FileTooLarge)?),
            Some("form_key") => form_key = field.text().await.map_err(|_| AppError::BadRequest)?,
            _ => {}
        }
    }
    let form_key = FormKey::from_form(&form_key)?;
    if let Some(earlier) = form_result::replay(&state, &ctx, &form_key).await? {
        return Ok(earlier);
    }
    let record = owned(&state, &acting, id).await?;
    if record.terms.claim_mode != ClaimMode::Allowlist || !acting.issuer.status.is_active() {
        return Err(AppError::CollectionStateConflict);
    }
    let file = file.ok_or(AppError::BadRequest)?;
    let text = std::str::from_utf8(&file).map_err(|_| AppError::BadRequest)?;
    let (emails, bad) = parse_allowlist(text);
    if emails.len() > MAX_ALLOWLIST_ROWS {
        return Err(AppError::FileTooLarge);
    }
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let added = store::allowlists::add(&txn, record.id, &emails, now).await?;
    let mut entry = audit(
        &ctx,
        acting.user.id,
        AuditAction::CollectionAllowlistUploaded,
        record.id,
    );
    entry.details = Some(AuditDetails::AllowlistUploaded {
        read: emails.len(),
        added,
        left_out: bad.len(),
    });
    store::audit::append(&txn, entry, now).await?;
    let report = AllowlistReport {
        read: emails.len(),
        added,
        bad: bad
            .iter()
            .map(|row| (row.line, row.content.clone(), row.problem.as_str().to_owned()))
            .collect(),
    };
    let location = format!(
        "{}/allowlist?result={form_key}",
        detail_path(acting.issuer.id, record.id)
    );
    form_result::commit(
        &state,
        txn,
        &ctx,
        &form_key,
        &location,
        Some((&report, REPORT_SHOWN)),
        now,
    )
    .await
}

#[derive(serde::Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    result: String,
}

/// `GET …/allowlist?result=…`: the report of an upload the member made.
pub async fn allowlist_report(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
    Query(query): Query<ReportQuery>,
) -> AppResult<Response> {
    let record = owned(&state, &acting, id).await?;
    let detail = detail_path(acting.issuer.id, record.id);
    let report = match FormKey::parse(&query.result) {
        Some(key) => form_result::shown::<AllowlistReport>(&state, &ctx, &key).await?,
        None => None,
    };
    let Some((report, _)) = report else {
        return Ok(Redirect::to(&format!("{detail}#allowlist")).into_response());
    };
    Ok(render(AllowlistReportTemplate {
        ctx,
        issuer: acting.issuer,
        collection: record.id.0,
        title: record.terms.title,
        report,
    })?
    .into_response())
}
