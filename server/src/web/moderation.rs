//! The admin's moderation policy pages: the operator's term lists per category and severity,
//! the image blocklist (only perceptual hashes are kept) and the review thresholds. Every
//! change is audited; a term list that would not compile is refused before it is stored.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use moderation::Category;
use moderation::image::{ImageLimits, decode};
use sea_orm::DatabaseTransaction;
use serde::Deserialize;

use super::auth::Admin;
use super::collections::{MAX_ARTWORK_BYTES, image_error_key};
use super::context::RequestContext;
use super::error::{AppError, AppResult};
use super::form_result::{self, FormKey};
use super::render_with;
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::screening::{
    BlockedImage, PolicyError, PolicyTerm, ReviewPolicy, TermKind, build_screener, parse_category, parse_terms,
};
use crate::state::AppState;
use crate::store;

const PAGE: &str = "/admin/moderation";

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
    let terms = store::moderation::terms(&state.services.db).await?;
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
        blocklist: store::moderation::blocklist(&state.services.db).await?,
        policy: store::moderation::review_policy(&state.services.db).await?,
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

/// Audits a policy change in its transaction.
async fn audit_change(
    txn: &DatabaseTransaction,
    ctx: &RequestContext,
    admin: &Admin,
    action: AuditAction,
    details: AuditDetails,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut entry = AuditEntry::new(
        Some(admin.user.id),
        action,
        AuditSubject::ModerationPolicy,
        ctx.request_id.clone(),
    );
    entry.details = Some(details);
    store::audit::append(txn, entry, now).await?;
    Ok(())
}

/// Audits a policy change in its transaction, commits both, and goes back to the policy page.
async fn commit_change(
    txn: DatabaseTransaction,
    ctx: &RequestContext,
    admin: &Admin,
    action: AuditAction,
    details: AuditDetails,
    now: DateTime<Utc>,
) -> AppResult<Response> {
    audit_change(&txn, ctx, admin, action, details, now).await?;
    txn.commit().await?;
    Ok(Redirect::to(PAGE).into_response())
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
    let new_terms = match parse_terms(&form.terms) {
        Ok(terms) => terms,
        Err(err) => return refuse(&state, ctx, &err).await,
    };
    let mut candidate = store::moderation::terms(&state.services.db).await?;
    candidate.extend(new_terms.iter().map(|term| PolicyTerm {
        id: 0,
        category,
        kind,
        term: term.clone(),
    }));
    if let Err(err) = build_screener(&candidate) {
        return refuse(&state, ctx, &PolicyError::List(err)).await;
    }
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let added = store::moderation::add_terms(&txn, category, kind, &new_terms, admin.user.id, now).await?;
    let details = AuditDetails::TermsAdded {
        category: category.to_string(),
        severity: kind.as_str().to_owned(),
        added,
        terms: new_terms,
    };
    commit_change(txn, &ctx, &admin, AuditAction::ModerationTermsAdded, details, now).await
}

pub async fn remove_term(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let removed = store::moderation::delete_term(&txn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let details = AuditDetails::TermRemoved {
        category: removed.category.to_string(),
        severity: removed.kind.as_str().to_owned(),
        term: removed.term,
    };
    commit_change(txn, &ctx, &admin, AuditAction::ModerationTermRemoved, details, now).await
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
    let form_key = FormKey::from_form(&form_key)?;
    if let Some(earlier) = form_result::replay(&state, &ctx, &form_key).await? {
        return Ok(earlier);
    }
    let image = image.filter(|b| !b.is_empty()).ok_or(AppError::BadRequest)?;
    let label: String = label.trim().chars().take(200).collect();
    let hashed = tokio::task::spawn_blocking(move || {
        let limits = ImageLimits {
            max_bytes: MAX_ARTWORK_BYTES,
            ..ImageLimits::default()
        };
        decode(&image, &limits).map(|decoded| decoded.perceptual_hash())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let hash = match hashed {
        Ok(hash) => hash,
        Err(err) => {
            let mut template = page(&state, ctx).await?;
            template.error = Some(image_error_key(&err));
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, template);
        }
    };
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let id = store::moderation::block_image(&txn, hash, &label, admin.user.id, now).await?;
    let details = AuditDetails::ImageBlocked {
        entry: id,
        hash: hash.to_string(),
        label,
    };
    audit_change(&txn, &ctx, &admin, AuditAction::ModerationImageBlocked, details, now).await?;
    form_result::commit::<()>(&state, txn, &ctx, &form_key, PAGE, None, now).await
}

pub async fn unblock_image(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let removed = store::moderation::unblock_image(&txn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let details = AuditDetails::ImageUnblocked {
        entry: id,
        hash: removed.hash.to_string(),
        label: removed.label,
    };
    commit_change(txn, &ctx, &admin, AuditAction::ModerationImageUnblocked, details, now).await
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
    let policy = match ReviewPolicy::parse(&form.four_eyes_score, &form.max_distance) {
        Ok(policy) => policy,
        Err(err) => return refuse(&state, ctx, &err).await,
    };
    let before = store::moderation::review_policy(&state.services.db).await?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    store::moderation::set_review_policy(&txn, policy, admin.user.id, now).await?;
    let details = AuditDetails::ThresholdsChanged {
        four_eyes_before: before.four_eyes_score,
        four_eyes_after: policy.four_eyes_score,
        distance_before: before.max_distance,
        distance_after: policy.max_distance,
    };
    commit_change(
        txn,
        &ctx,
        &admin,
        AuditAction::ModerationThresholdsChanged,
        details,
        now,
    )
    .await
}
