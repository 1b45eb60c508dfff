//! The collector's real-name verification page: status, and the form to submit or resubmit.
//!
//! Name and ID number are validated here and sealed and indexed by the service; they are never
//! logged, and pages show only the masked number.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::home::NextParam;
use crate::domain::age;
use crate::domain::identity::{IdNumberError, IdentityStatus, LegalName, LegalNameError, ResidentIdNumber};
use crate::domain::ids::UserId;
use crate::paths::{self, safe_next};
use crate::services::identity::{self, NotTaken};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::{render, render_with};

#[derive(Template)]
#[template(path = "identity.html")]
struct IdentityTemplate {
    ctx: RequestContext,
    status: &'static str,
    reject_reason: Option<String>,
    masked: Option<String>,
    can_submit: bool,
    legal_name: String,
    /// The ID number as typed, shown again with an error so that one wrong digit need not
    /// mean typing all eighteen again.
    id_number: String,
    name_error: Option<&'static str>,
    id_error: Option<&'static str>,
    /// The provider could not be reached; the submission waits for a retry.
    provider_retry: bool,
    /// Checks are decided by an identity provider within seconds (rather than by a reviewer).
    automatic: bool,
    /// Where the person was going (a claim, say); the page leads back there once verified.
    next: String,
}

fn id_error_key(error: IdNumberError) -> &'static str {
    match error {
        IdNumberError::Length => "identity.error_length",
        IdNumberError::Characters => "identity.error_characters",
        IdNumberError::BirthDate => "identity.error_birth_date",
        IdNumberError::CheckCharacter => "identity.error_check",
    }
}

fn name_error_key(error: LegalNameError) -> &'static str {
    match error {
        LegalNameError::Empty => "identity.error_name_empty",
        LegalNameError::TooLong => "identity.error_name_long",
        LegalNameError::Characters => "identity.error_name_characters",
        LegalNameError::Hidden => "form.hidden_characters",
    }
}

async fn page(state: &AppState, ctx: RequestContext, user: UserId, next: &str) -> AppResult<IdentityTemplate> {
    let standing = identity::standing(&state.services, user).await?;
    Ok(IdentityTemplate {
        ctx,
        status: standing.status.as_str(),
        reject_reason: match &standing.status {
            IdentityStatus::Rejected { reason } => Some(reason.clone()),
            _ => None,
        },
        masked: standing.record.map(|r| r.masked),
        can_submit: standing.status.submit().is_ok(),
        legal_name: String::new(),
        id_number: String::new(),
        name_error: None,
        id_error: None,
        provider_retry: standing.provider_retry,
        automatic: standing.automatic,
        next: next.to_owned(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Query(q): Query<NextParam>,
) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    Ok(render(page(&state, ctx, user.id, &next).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct IdentityForm {
    legal_name: String,
    id_number: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<IdentityForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    let next = safe_next(Some(&form.next));
    let mut template = page(&state, ctx, user.id, &next).await?;
    if !template.can_submit {
        return render_with(StatusCode::CONFLICT, template);
    }
    template.legal_name = form.legal_name.trim().to_owned();
    template.id_number = form.id_number.trim().to_owned();
    let name = LegalName::parse(&form.legal_name);
    let now = Utc::now();
    let number = ResidentIdNumber::parse(&form.id_number, age::beijing_date(now));
    let (name, number) = match (name, number) {
        (Ok(name), Ok(number)) => (name, number),
        (name, number) => {
            template.name_error = name.err().map(name_error_key);
            template.id_error = number.err().map(id_error_key);
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, template);
        }
    };
    match identity::submit(&state.services, &actor, &name, &number, &next, now).await? {
        Ok(()) => {}
        Err(NotTaken::IdNumberTaken) => {
            template.id_error = Some("identity.error_taken");
            return render_with(StatusCode::CONFLICT, template);
        }
        Err(NotTaken::UnderGuardianAge) => {
            template.id_error = Some("identity.error_under_14");
            template.id_number.clear();
            template.legal_name.clear();
            return render_with(StatusCode::FORBIDDEN, template);
        }
    }
    Ok(Redirect::to(&paths::identity(&next)).into_response())
}

pub async fn retry(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Form(form): Form<NextParam>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    identity::retry(&state.services, user.id).await?;
    Ok(Redirect::to(&paths::identity(&next)).into_response())
}

/// `GET /identity/status`: the signed-in person's check as JSON, which the waiting page asks
/// every few seconds so that it can move on as soon as the provider answers.
pub async fn status(State(state): State<AppState>, SignedIn(user): SignedIn) -> AppResult<Json<CheckStatus>> {
    let status = identity::standing(&state.services, user.id).await?.status;
    Ok(Json(CheckStatus {
        status: status.as_str(),
    }))
}

/// The answer of `GET /identity/status`: the check's stored status (`pending`, `verified`...).
#[derive(Serialize)]
pub struct CheckStatus {
    status: &'static str,
}
