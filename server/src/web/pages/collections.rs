//! A collection as the public sees it: its page (an insider's preview before it is public,
//! not found for everyone else), its artwork, and claiming it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::claim_box::{self, ClaimBox};
use crate::domain::audit::AuditSubject;
use crate::domain::ids::CollectionId;
use crate::domain::issuer::Issuer;
use crate::paths;
use crate::services::appeals;
use crate::services::claims;
use crate::services::collections::artwork::{self, Rendition};
use crate::services::collections::{self, Viewer};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;
use crate::web::share::Share;
use crate::web::views::CollectionFacts;

/// Who is looking, as the collection service asks.
pub fn viewer(ctx: &RequestContext) -> Viewer {
    Viewer {
        user: ctx.user.as_ref().map(|u| u.id),
        staff: ctx.is_reviewer() || ctx.is_regulator(),
    }
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
    /// Its freeze is under appeal.
    under_appeal: bool,
}

/// The public page of a published collection; a preview for insiders; 404 for everyone else.
pub async fn public_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<CollectionId>,
) -> AppResult<Html<String>> {
    let (collection, preview) = collections::for_viewer(&state.services, id, viewer(&ctx)).await?;
    let issuer = collections::issuer(&state.services, &collection).await?;
    let path = paths::collection(collection.id);
    let claim = claim_box::for_visitor(&state, &ctx, &collection, None, &path, &format!("{path}/claim")).await?;
    let share = Share::new(
        &ctx,
        &path,
        &collection.terms.title,
        &collection.terms.description,
        Some(&format!("{path}/artwork/1024")),
    )?;
    render(PublicTemplate {
        under_appeal: appeals::under_appeal(&state.services, &AuditSubject::Collection(collection.id)).await?,
        ledger_index: collections::ledger_index(&state.services, &collection).await?,
        facts: CollectionFacts::of(&collection, &ctx),
        ctx,
        issuer,
        preview,
        claim,
        share,
    })
}

/// One of the stored renditions of a collection's artwork: the public ones once it is public,
/// every one (the upload as sent too) for insiders.
pub async fn artwork(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((id, variant)): Path<(CollectionId, String)>,
) -> AppResult<Response> {
    let collection = collections::find(&state.services, id).await?;
    let rendition = Rendition::parse(&variant).ok_or(AppError::NotFound)?;
    let public = collection.status.is_public() && rendition != Rendition::Original;
    if !public && !collections::insider(&state.services, &collection, viewer(&ctx)).await? {
        return Err(AppError::NotFound);
    }
    let blob = artwork::served(&state.services, &collection, rendition).await?;
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

#[derive(Deserialize)]
pub struct ClaimForm {
    /// A random key the claim page renders into the form: submitting twice mints once.
    claim_key: String,
}

/// `POST /collections/{id}/claim`: claims a token and shows it.
pub async fn claim(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<CollectionId>,
    Form(form): Form<ClaimForm>,
) -> AppResult<Response> {
    let minted = claims::claim(&state.services, &user.claimant(), id, &form.claim_key, None).await?;
    Ok(Redirect::to(&paths::token(minted.token)).into_response())
}
