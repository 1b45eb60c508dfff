//! The issuer console's home: the issuers a member acts for, and one issuer's page (its
//! documents, members and invitations, API keys, attestations and collections); correcting a
//! rejected application; the documents on file.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::crypto;
use crate::domain::account::Email;
use crate::domain::ids::{ApiKeyId, CollectionId, DocumentId, IssuerId};
use crate::domain::issuer::Issuer;
use crate::domain::page::{self, Cursor, PageSize};
use crate::paths;
use crate::services::forms::FormKey;
use crate::services::issuers::api_keys::{self, NewApiKey};
use crate::services::issuers::{self, members};
use crate::services::{attestations, collections};
use crate::state::AppState;
use crate::web::auth::{ActingFor, IssuerAdmin, SignedIn};
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::filings_view::{FilingsView, issuer_filings};
use crate::web::form_result;
use crate::web::pages::application::{self, ApplyTemplate, Checked, fields_of};
use crate::web::render::{confirmed, render, render_with};
use crate::web::views::{DocumentView, document_views};

/// Attestations per page of the console.
const CONSOLE_ATTESTATIONS: PageSize = PageSize::fixed(50);
/// Collections per page of the console.
const CONSOLE_COLLECTIONS: PageSize = PageSize::fixed(50);

#[derive(Template)]
#[template(path = "console_list.html")]
struct ConsoleListTemplate {
    ctx: RequestContext,
    issuers: Vec<(Issuer, bool)>,
}

/// The issuers this user acts for; they choose one to work on.
pub async fn console_list(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
) -> AppResult<Html<String>> {
    let issuers = issuers::memberships_of(&state.services, user.id).await?;
    render(ConsoleListTemplate { ctx, issuers })
}

struct MemberRow {
    email: String,
    is_admin: bool,
}

struct KeyRow {
    id: i64,
    label: String,
    prefix: String,
    created: String,
    last_used: Option<String>,
    revoked: bool,
}

struct CollectionRow {
    id: i64,
    title: String,
    status: &'static str,
    edition_size: u32,
    updated: String,
}

struct AttestationRow {
    digest: String,
    label: String,
    created: String,
    /// The ledger index, once sequenced.
    index: Option<i64>,
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsoleTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    is_admin: bool,
    /// Where the issuer's filings stand.
    filings: FilingsView,
    documents: Vec<DocumentView>,
    members: Vec<MemberRow>,
    keys: Vec<KeyRow>,
    /// A key just created, with the time it stops being shown.
    new_key: Option<(String, String)>,
    notice: Option<&'static str>,
    /// Fresh keys for the invitation and API-key forms: each submission of them acts once.
    invite_form: FormKey,
    key_form: FormKey,
    attestations: Vec<AttestationRow>,
    /// The page of older attestations, when there are any.
    older_attestations: Option<String>,
    /// Whether the attestations shown are a later page (it then links back to the newest).
    later_attestations: bool,
    /// The first page of attestations.
    newest_attestations: String,
    collections: Vec<CollectionRow>,
    /// The page of older collections, when there are any.
    older_collections: Option<String>,
}

/// Where the console's two lists start: after the last collection, or attestation, of the
/// page before; from the newest when not given.
#[derive(Debug, Clone, Copy, Default)]
struct ConsolePlace {
    collections: Option<CollectionId>,
    attestations: Option<i64>,
}

/// The console, its collections and attestations from the newest, or from `place`.
async fn console_page(
    state: &AppState,
    ctx: RequestContext,
    acting: &ActingFor,
    place: ConsolePlace,
) -> AppResult<ConsoleTemplate> {
    let services = &state.services;
    let issuer = acting.issuer.clone();
    let documents = document_views(issuers::documents(services, issuer.id).await?);
    let members = members::list(services, issuer.id)
        .await?
        .into_iter()
        .map(|(email, is_admin)| MemberRow {
            email: email.to_string(),
            is_admin,
        })
        .collect();
    let keys = api_keys::list(services, issuer.id)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id.0,
            label: k.label,
            prefix: k.prefix,
            created: ctx.time(k.created_at),
            last_used: k.last_used_at.map(|t| ctx.time(t)),
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    let attestations = attestations::of_issuer(services, issuer.id, place.attestations, CONSOLE_ATTESTATIONS).await?;
    let older_attestations = attestations.next.map(|last| {
        format!(
            "{}?attestations_before={}#attestations",
            paths::console(issuer.id),
            last.encode()
        )
    });
    let newest_attestations = format!("{}#attestations", paths::console(issuer.id));
    let attestations = attestations
        .items
        .into_iter()
        .map(|a| AttestationRow {
            digest: crypto::hex(&a.digest),
            label: a.label,
            created: ctx.time(a.created_at),
            index: a.index,
        })
        .collect();
    let collections = collections::issuer_list(services, issuer.id, place.collections, CONSOLE_COLLECTIONS).await?;
    let older_collections = collections
        .next
        .map(|last| format!("{}?before={}", paths::console(issuer.id), last.encode()));
    let collections = collections
        .items
        .into_iter()
        .map(|c| CollectionRow {
            id: c.id.0,
            status: c.status.as_str(),
            edition_size: c.terms.edition_size,
            updated: ctx.time(c.submitted_at.unwrap_or(c.created_at)),
            title: c.terms.title,
        })
        .collect();
    let filings = issuer_filings(&ctx, &issuer.filings, &services.filings, Utc::now());
    Ok(ConsoleTemplate {
        ctx,
        filings,
        issuer,
        collections,
        older_collections,
        is_admin: acting.is_admin,
        documents,
        members,
        keys,
        new_key: None,
        notice: None,
        invite_form: FormKey::fresh(),
        key_form: FormKey::fresh(),
        attestations,
        older_attestations,
        later_attestations: place.attestations.is_some(),
        newest_attestations,
    })
}

#[derive(Deserialize, Default)]
pub struct ConsoleQuery {
    /// The form whose result to show (a new API key).
    #[serde(default)]
    result: String,
    /// `invited` after an invitation went out.
    #[serde(default)]
    notice: String,
    /// The `older` link's cursor: the last collection of the page before.
    #[serde(default)]
    before: String,
    /// The older attestations link's cursor: the last attestation of the page before.
    #[serde(default)]
    attestations_before: String,
}

pub async fn console(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Query(query): Query<ConsoleQuery>,
) -> AppResult<Html<String>> {
    let place = ConsolePlace {
        collections: page::after::<CollectionId>(Some(query.before.trim()))?,
        attestations: page::after::<i64>(Some(query.attestations_before.trim()))?,
    };
    let mut page = console_page(&state, ctx, &acting, place).await?;
    if acting.is_admin
        && let Some((NewApiKey { key }, until, _)) =
            form_result::kept(&state.services, &page.ctx, &query.result).await?
    {
        page.new_key = Some((key, page.ctx.time(until)));
    }
    if query.notice == "invited" {
        page.notice = Some("console.invited");
    }
    render(page)
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    #[serde(default)]
    form_key: String,
}

pub async fn invite(
    State(state): State<AppState>,
    ctx: RequestContext,
    IssuerAdmin(acting): IssuerAdmin,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    let submission = form_result::submission(&ctx, &form.form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let Ok(email) = Email::parse(&form.email) else {
        let mut page = console_page(&state, ctx, &acting, ConsolePlace::default()).await?;
        page.notice = Some("form.email_malformed");
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    };
    let actor = ctx.actor(acting.user.id);
    let location = members::invite(
        &state.services,
        &actor,
        &acting.issuer,
        &email,
        ctx.locale,
        &submission,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&location).into_response())
}

#[derive(Deserialize)]
pub struct KeyForm {
    label: String,
    #[serde(default)]
    form_key: String,
}

pub async fn create_key(
    State(state): State<AppState>,
    ctx: RequestContext,
    IssuerAdmin(acting): IssuerAdmin,
    Form(form): Form<KeyForm>,
) -> AppResult<Response> {
    if !acting.issuer.status.is_active() {
        let mut page = console_page(&state, ctx, &acting, ConsolePlace::default()).await?;
        page.notice = Some("console.inactive");
        return render_with(StatusCode::CONFLICT, page);
    }
    let submission = form_result::submission(&ctx, &form.form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let Some(label) = api_keys::label(&form.label) else {
        let mut page = console_page(&state, ctx, &acting, ConsolePlace::default()).await?;
        page.notice = Some("form.hidden_characters");
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    };
    let location = format!("/console/{}?result={}#api-keys", acting.issuer.id, submission.key);
    let actor = ctx.actor(acting.user.id);
    let location = api_keys::create(
        &state.services,
        &actor,
        &acting.issuer,
        &label,
        &submission,
        &location,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&location).into_response())
}

#[derive(Deserialize)]
pub struct RevokeKeyForm {
    confirm: Option<String>,
}

pub async fn revoke_key(
    State(state): State<AppState>,
    ctx: RequestContext,
    IssuerAdmin(acting): IssuerAdmin,
    Path((_, key)): Path<(IssuerId, ApiKeyId)>,
    Form(form): Form<RevokeKeyForm>,
) -> AppResult<Response> {
    confirmed(form.confirm.as_deref())?;
    let actor = ctx.actor(acting.user.id);
    api_keys::revoke(&state.services, &actor, acting.issuer.id, key, Utc::now()).await?;
    Ok(Redirect::to(&format!("/console/{}#api-keys", acting.issuer.id)).into_response())
}

/// The corrected application form of a rejected issuer (its admins only).
pub async fn resubmit_form(ctx: RequestContext, acting: ActingFor) -> AppResult<Html<String>> {
    if !acting.is_admin || !issuers::resubmittable(&acting.issuer) {
        return Err(AppError::Forbidden);
    }
    render(ApplyTemplate::new(
        ctx,
        fields_of(&acting.issuer),
        Some(acting.issuer.id.0),
    ))
}

pub async fn resubmit(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    multipart: Multipart,
) -> AppResult<Response> {
    let form = application::read(multipart).await?;
    let issuer = acting.issuer.clone();
    if !acting.is_admin || !issuers::resubmittable(&issuer) {
        return Err(AppError::Forbidden);
    }
    let actor = ctx.actor(acting.user.id);
    let (application, documents) = match application::check(&state, ctx, form, Some(issuer.id.0)).await? {
        Checked::Valid(application, documents) => (application, documents),
        Checked::Again(page) => return Ok(page),
    };
    issuers::resubmit(&state.services, &actor, &issuer, &application, &documents, Utc::now()).await?;
    Ok(Redirect::to(&paths::console(issuer.id)).into_response())
}

/// Documents are never public: members of the issuer and reviewers only.
pub async fn document(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path((issuer, document)): Path<(IssuerId, DocumentId)>,
) -> AppResult<Response> {
    let (document, blob) = issuers::document(
        &state.services,
        issuer,
        document,
        user.id,
        ctx.is_reviewer() || ctx.is_regulator(),
    )
    .await?;
    Ok((
        [
            (CONTENT_TYPE, document.content_type),
            (
                CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-{}\"", document.kind.as_str(), document.id),
            ),
        ],
        blob.bytes,
    )
        .into_response())
}
