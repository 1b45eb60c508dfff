//! The admin's moderation policy pages: the operator's term lists per category and severity,
//! the image blocklist (only perceptual hashes are kept) and the review thresholds. Every
//! change is audited; a term list that would not compile is refused before it is stored.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use moderation::Category;
use serde::Deserialize;

use crate::domain::ids::{BlockedImageId, TermId};
use crate::domain::screening::{
    BlockedImage, PolicyError, PolicyTerm, ReviewPolicy, TermKind, parse_category, parse_terms,
};
use crate::services::forms::FormKey;
use crate::services::moderation::{self as policy_service, PAGE};
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::form_result;
use crate::web::render::render_with;
use crate::web::views::image_error_key;

/// The operator's terms of one category and kind.
struct TermGroup {
    category: &'static str,
    kind: &'static str,
    terms: Vec<PolicyTerm>,
}

#[derive(Template)]
#[template(path = "admin_moderation.html")]
struct PolicyTemplate {
    ctx: RequestContext,
    groups: Vec<TermGroup>,
    blocklist: Vec<BlockedImage>,
    policy: ReviewPolicy,
    categories: Vec<&'static str>,
    /// The message key of a refused change.
    error: Option<&'static str>,
    /// Details of a refused term list (the compiler's words).
    error_detail: Option<String>,
    /// A fresh key for the blocklist form: an image sent twice is blocked once.
    block_form: FormKey,
}

async fn page(state: &AppState, ctx: RequestContext) -> AppResult<PolicyTemplate> {
    let policy = policy_service::policy(&state.services).await?;
    let terms = policy.terms;
    let mut groups = Vec::new();
    for category in Category::ALL {
        for kind in ["block", "review", "allow"] {
            let listed: Vec<PolicyTerm> = terms
                .iter()
                .filter(|t| t.category == category && t.kind.as_str() == kind)
                .cloned()
                .collect();
            if !listed.is_empty() {
                groups.push(TermGroup {
                    category: category.as_str(),
                    kind,
                    terms: listed,
                });
            }
        }
    }
    Ok(PolicyTemplate {
        ctx,
        groups,
        blocklist: policy.blocklist,
        policy: policy.thresholds,
        categories: Category::ALL.iter().map(|c| c.as_str()).collect(),
        error: None,
        error_detail: None,
        block_form: FormKey::fresh(),
    })
}

pub async fn show(State(state): State<AppState>, ctx: RequestContext, _admin: Admin) -> AppResult<Response> {
    render_with(StatusCode::OK, page(&state, ctx).await?)
}

async fn refuse(state: &AppState, ctx: RequestContext, error: &PolicyError) -> AppResult<Response> {
    let mut template = page(state, ctx).await?;
    template.error = Some(match error {
        PolicyError::Terms => "moderation.error_terms",
        PolicyError::FourEyesScore => "moderation.error_four_eyes",
        PolicyError::MaxDistance => "moderation.error_distance",
        PolicyError::List(_) => "moderation.error_list",
    });
    if let PolicyError::List(err) = error {
        template.error_detail = Some(err.to_string());
    }
    render_with(StatusCode::UNPROCESSABLE_ENTITY, template)
}

fn back() -> Response {
    Redirect::to(PAGE).into_response()
}

#[derive(Deserialize)]
pub struct TermsForm {
    category: String,
    severity: String,
    terms: String,
}

pub async fn add_terms(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Form(form): Form<TermsForm>,
) -> AppResult<Response> {
    let category = parse_category(&form.category).ok_or(AppError::BadRequest)?;
    let kind = TermKind::parse(&form.severity).ok_or(AppError::BadRequest)?;
    let terms = match parse_terms(&form.terms) {
        Ok(terms) => terms,
        Err(err) => return refuse(&state, ctx, &err).await,
    };
    let actor = ctx.actor(admin.user.id);
    match policy_service::add_terms(&state.services, &actor, category, kind, terms, Utc::now()).await? {
        Ok(()) => Ok(back()),
        Err(err) => refuse(&state, ctx, &err).await,
    }
}

pub async fn remove_term(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Path(id): Path<TermId>,
) -> AppResult<Response> {
    policy_service::remove_term(&state.services, &ctx.actor(admin.user.id), id, Utc::now()).await?;
    Ok(back())
}

pub async fn block_image(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut label = String::new();
    let mut image = None;
    let mut form_key = String::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        match field.name().unwrap_or_default() {
            "label" => label = field.text().await.map_err(|_| AppError::BadRequest)?,
            "image" => image = Some(field.bytes().await.map_err(|_| AppError::FileTooLarge)?),
            "form_key" => form_key = field.text().await.map_err(|_| AppError::BadRequest)?,
            _ => {}
        }
    }
    let submission = form_result::submission(&ctx, &form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let image = image.filter(|b| !b.is_empty()).ok_or(AppError::BadRequest)?;
    let actor = ctx.actor(admin.user.id);
    match policy_service::block_image(&state.services, &actor, image, &label, &submission, Utc::now()).await? {
        Ok(location) => Ok(Redirect::to(&location).into_response()),
        Err(err) => {
            let mut template = page(&state, ctx).await?;
            template.error = Some(image_error_key(&err));
            render_with(StatusCode::UNPROCESSABLE_ENTITY, template)
        }
    }
}

pub async fn unblock_image(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Path(id): Path<BlockedImageId>,
) -> AppResult<Response> {
    policy_service::unblock_image(&state.services, &ctx.actor(admin.user.id), id, Utc::now()).await?;
    Ok(back())
}

#[derive(Deserialize)]
pub struct ThresholdsForm {
    four_eyes_score: String,
    max_distance: String,
}

pub async fn set_thresholds(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Form(form): Form<ThresholdsForm>,
) -> AppResult<Response> {
    let thresholds = match ReviewPolicy::parse(&form.four_eyes_score, &form.max_distance) {
        Ok(thresholds) => thresholds,
        Err(err) => return refuse(&state, ctx, &err).await,
    };
    policy_service::set_thresholds(&state.services, &ctx.actor(admin.user.id), thresholds, Utc::now()).await?;
    Ok(back())
}
