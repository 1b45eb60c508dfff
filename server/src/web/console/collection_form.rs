//! The collection form: creating a collection with its artwork and editing one. Every problem
//! with the fields and the artwork is shown at once; an artwork that passed its checks is held
//! for the form shown again, so it need not be sent twice.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::crypto;
use crate::domain::blob_key::BlobKey;
use crate::domain::collection::{
    Artwork, ClaimMode, CollectionForm, CollectionTerms, TermsError, local_time_input, parse_local_time,
};
use crate::domain::ids::{CollectionId, IssuerId};
use crate::domain::issuer::Issuer;
use crate::paths;
use crate::services::collections::{self, artwork};
use crate::services::forms::FormKey;
use crate::state::AppState;
use crate::web::auth::ActingFor;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::form_result;
use crate::web::render::{render, render_with};
use crate::web::views::image_error_key;

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
    pub minimum_age: String,
    /// The box declaring the artwork AI-generated is ticked.
    pub ai_declared: bool,
    /// The form's key: submitting a new collection twice creates it once.
    pub form_key: String,
    /// An artwork sent with an earlier attempt that passed its checks (see [`HeldArtwork`]).
    pub held_artwork: String,
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
            minimum_age: terms.minimum_age.map(|age| age.to_string()).unwrap_or_default(),
            ai_declared: terms.ai_declared,
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
            minimum_age: self.minimum_age.clone(),
            ai_declared: self.ai_declared,
        }
        .parse(now)
    }
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
        TermsError::MinimumAge => ("minimum_age", "collection.error_minimum_age"),
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
        if name == "ai_declared" {
            values.ai_declared = text == "yes";
            continue;
        }
        let slot = match name.as_str() {
            "title" => &mut values.title,
            "description" => &mut values.description,
            "edition_size" => &mut values.edition_size,
            "per_person_limit" => &mut values.per_person_limit,
            "claim_starts_at" => &mut values.claim_starts_at,
            "claim_ends_at" => &mut values.claim_ends_at,
            "claim_mode" => &mut values.claim_mode,
            "minimum_age" => &mut values.minimum_age,
            "form_key" => &mut values.form_key,
            "held_artwork" => &mut values.held_artwork,
            _ => continue,
        };
        *slot = text;
    }
    Ok((values, artwork))
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
    let held = || {
        form_result::held_upload::<HeldArtwork>(&state.services, ctx, &values.held_artwork)
            .and_then(HeldArtwork::stored)
    };
    let artwork = match upload {
        Some(bytes) => match artwork::accept(&state.services, bytes).await? {
            Ok(artwork) => Some(artwork),
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
        values.held_artwork = form_result::hold_upload(&state.services, &ctx, HeldArtwork::of(artwork));
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
    let submission = form_result::submission(&ctx, &values.form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
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
    let actor = ctx.actor(acting.user.id);
    let location = collections::create(
        &state.services,
        &actor,
        &acting.issuer,
        &submission,
        &terms,
        &artwork,
        now,
    )
    .await?;
    Ok(Redirect::to(&location).into_response())
}

pub async fn edit_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
) -> AppResult<Response> {
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    collections::editable(&collection)?;
    Ok(render(FormTemplate {
        ctx,
        issuer: acting.issuer,
        collection: Some(id.0),
        values: FormValues::of(&collection.terms),
        errors: Vec::new(),
        held: None,
    })?
    .into_response())
}

pub async fn edit(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
    multipart: Multipart,
) -> AppResult<Response> {
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    collections::editing(&acting.issuer, &collection)?;
    let (values, upload) = read_form(multipart).await?;
    let now = Utc::now();
    let checked = check_submission(&state, &ctx, &values, upload, false, now).await?;
    let (terms, artwork) = match checked {
        Checked {
            terms: Some(terms),
            artwork,
            errors,
        } if errors.is_empty() => (terms, artwork),
        checked => return form_again(&state, ctx, acting, Some(id.0), values, checked),
    };
    let actor = ctx.actor(acting.user.id);
    collections::edit(
        &state.services,
        &actor,
        &acting.issuer,
        &collection,
        terms,
        artwork,
        now,
    )
    .await?;
    Ok(Redirect::to(&paths::console_collection(acting.issuer.id, id)).into_response())
}
