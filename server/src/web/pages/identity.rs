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
use crate::domain::id_consent::{ConsentError, IdNumberConsent};
use crate::domain::identity::{IdNumberError, IdentityStatus, LegalName, LegalNameError, ResidentIdNumber};
use crate::domain::ids::UserId;
use crate::domain::policy::PolicyDocument;
use crate::paths::{self, safe_next};
use crate::policies;
use crate::services::id_consent;
use crate::services::identity::{self, CheckKind, NotTaken};
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
    /// The identity is verified, and may be corrected through a new check.
    can_correct: bool,
    /// A correction of a verified identity is being checked.
    correcting: bool,
    legal_name: String,
    /// The ID number as typed, shown again with an error so that one wrong digit need not
    /// mean typing all eighteen again.
    id_number: String,
    name_error: Option<&'static str>,
    id_error: Option<&'static str>,
    /// The separate consent box was left unticked.
    consent_missing: bool,
    /// The latest consent to processing the ID number, if one was ever given.
    consent: Option<IdNumberConsent>,
    /// Why a consent move was refused, as a message key.
    consent_error: Option<&'static str>,
    /// The privacy policy version a consent is given under now.
    privacy_version: u32,
    /// The provider could not be reached; the submission waits for a retry.
    provider_retry: bool,
    /// Checks are decided by an identity provider within seconds (rather than by a reviewer).
    automatic: bool,
    /// Where the person was going (a claim, say); the page leads back there once verified.
    next: String,
}

impl IdentityTemplate {
    fn consent_live(&self) -> bool {
        self.consent.as_ref().is_some_and(IdNumberConsent::live)
    }
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
        correcting: standing.record.as_ref().is_some_and(|r| r.previous_masked.is_some()),
        masked: standing.record.map(|r| r.masked),
        can_submit: standing.status.submit().is_ok(),
        can_correct: standing.status.correct().is_ok(),
        legal_name: String::new(),
        id_number: String::new(),
        name_error: None,
        id_error: None,
        consent_missing: false,
        consent: id_consent::latest(&state.services, user).await?,
        consent_error: None,
        privacy_version: policies::current(PolicyDocument::Privacy).at.version,
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
    /// The separate consent to processing the ID number: `yes` when ticked.
    #[serde(default)]
    id_consent: String,
    #[serde(default)]
    next: String,
}

/// `POST /identity`: a first check, or one after a rejection.
pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<IdentityForm>,
) -> AppResult<Response> {
    check(&state, ctx, user.id, CheckKind::First, form).await
}

/// `POST /identity/correction`: a verified person corrects their name or ID number.
pub async fn correct(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<IdentityForm>,
) -> AppResult<Response> {
    check(&state, ctx, user.id, CheckKind::Correction, form).await
}

async fn check(
    state: &AppState,
    ctx: RequestContext,
    user: UserId,
    kind: CheckKind,
    form: IdentityForm,
) -> AppResult<Response> {
    let actor = ctx.actor(user);
    let next = safe_next(Some(&form.next));
    let mut template = page(state, ctx, user, &next).await?;
    let allowed = match kind {
        CheckKind::First => template.can_submit,
        CheckKind::Correction => template.can_correct,
    };
    if !allowed {
        return render_with(StatusCode::CONFLICT, template);
    }
    template.legal_name = form.legal_name.trim().to_owned();
    template.id_number = form.id_number.trim().to_owned();
    let name = LegalName::parse(&form.legal_name);
    let now = Utc::now();
    let number = ResidentIdNumber::parse(&form.id_number, age::beijing_date(now));
    let consented = form.id_consent == "yes";
    let (name, number) = match (name, number) {
        (Ok(name), Ok(number)) if consented => (name, number),
        (name, number) => {
            template.name_error = name.err().map(name_error_key);
            template.id_error = number.err().map(id_error_key);
            template.consent_missing = !consented;
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, template);
        }
    };
    match identity::submit(&state.services, &actor, kind, (&name, &number), &next, now).await? {
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

fn consent_error_key(error: ConsentError) -> &'static str {
    match error {
        ConsentError::NotGiven => "identity.consent_not_given",
        ConsentError::AlreadyGiven => "identity.consent_already_given",
        ConsentError::CheckPending => "identity.consent_check_pending",
        ConsentError::NothingHeld => "identity.consent_nothing_held",
    }
}

/// What a consent form sends: where the person was going.
#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    id_consent: String,
    #[serde(default)]
    next: String,
}

/// `POST /identity/consent`: consent again to the processing of a number already submitted.
pub async fn give_consent(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<ConsentForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    let next = safe_next(Some(&form.next));
    if form.id_consent != "yes" {
        let mut template = page(&state, ctx, user.id, &next).await?;
        template.consent_missing = true;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, template);
    }
    match id_consent::give(&state.services, &actor, Utc::now()).await? {
        Ok(()) => Ok(Redirect::to(&paths::identity(&next)).into_response()),
        Err(refused) => consent_refused(&state, ctx, user.id, &next, refused).await,
    }
}

/// `POST /identity/consent/withdraw`: withdraw the consent; the number is then used for nothing.
pub async fn withdraw_consent(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<ConsentForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    let next = safe_next(Some(&form.next));
    match id_consent::withdraw(&state.services, &actor, Utc::now()).await? {
        Ok(()) => Ok(Redirect::to(&paths::identity(&next)).into_response()),
        Err(refused) => consent_refused(&state, ctx, user.id, &next, refused).await,
    }
}

async fn consent_refused(
    state: &AppState,
    ctx: RequestContext,
    user: UserId,
    next: &str,
    refused: ConsentError,
) -> AppResult<Response> {
    let mut template = page(state, ctx, user, next).await?;
    template.consent_error = Some(consent_error_key(refused));
    render_with(StatusCode::CONFLICT, template)
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
