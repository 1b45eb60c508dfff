//! The collector's real-name verification page: status, and the form to submit or resubmit.
//!
//! Name and ID number are validated, sealed and indexed here and never logged; pages show
//! only the masked number.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use chrono::Utc;
use serde::Deserialize;

use super::auth::SignedIn;
use super::context::RequestContext;
use super::error::{AppError, AppResult};
use super::pages::{NextParam, safe_next};
use super::{render, render_with};
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::identity::{IdNumberError, IdentityStatus, LegalName, LegalNameError, ResidentIdNumber};
use crate::domain::ids::UserId;
use crate::kyc::{Field, IdentityVerifier, Started, VerificationRequest};
use crate::mail::{self, Mail};
use crate::state::AppState;
use crate::store::identities::Submission;
use crate::store::{self, StoreError};

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
    let record = store::identities::find(&state.services.db, user).await?;
    let provider_retry = match store::identities::provider_state(&state.services.db, user).await? {
        Some((verifier, reference)) => {
            verifier == "http"
                && reference.is_none()
                && record.as_ref().is_some_and(|r| r.status == IdentityStatus::Pending)
        }
        None => false,
    };
    let status = record.as_ref().map_or(IdentityStatus::Unverified, |r| r.status.clone());
    Ok(IdentityTemplate {
        ctx,
        status: status.as_str(),
        reject_reason: match &status {
            IdentityStatus::Rejected { reason } => Some(reason.clone()),
            _ => None,
        },
        masked: record.map(|r| r.masked),
        can_submit: status.submit().is_ok(),
        legal_name: String::new(),
        id_number: String::new(),
        name_error: None,
        id_error: None,
        provider_retry,
        automatic: !matches!(state.services.verifier, IdentityVerifier::Manual),
        next: next.to_owned(),
    })
}

/// Hands a pending submission to the HTTP provider, if one is configured. A provider error
/// leaves the submission pending (never approved) and the page offers a retry.
async fn send_to_provider(state: &AppState, user: UserId) -> AppResult<()> {
    if matches!(state.services.verifier, IdentityVerifier::Manual) {
        return Ok(());
    }
    let record = store::identities::find(&state.services.db, user)
        .await?
        .ok_or(AppError::NotFound)?;
    let legal_name = state.services.vault.open(Field::LegalName, user, &record.sealed_name);
    let id_number = state
        .services
        .vault
        .open(Field::IdNumber, user, &record.sealed_id_number);
    let (legal_name, id_number) = match (legal_name, id_number) {
        (Ok(name), Ok(number)) => (name, number),
        _ => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "identity of user {user} does not decrypt"
            )));
        }
    };
    let request = VerificationRequest {
        reference: format!("identity-{user}-{}", record.version),
        legal_name: &legal_name,
        id_number: &id_number,
        callback_url: state.services.absolute_url("/api/v1/kyc/callback"),
    };
    match state.services.verifier.start(request).await {
        Ok(Started::Sent { provider_id }) => {
            store::identities::set_provider_reference(&state.services.db, user, record.version, &provider_id).await?;
            tracing::info!(%user, "identity sent to the verification provider");
        }
        Ok(Started::Queued) => {}
        Err(error) => tracing::warn!(%user, %error, "identity provider failed; submission stays pending"),
    }
    Ok(())
}

/// `/identity`, with `next=` when there is somewhere to go back to.
fn identity_path(next: &str) -> String {
    if next == "/" {
        "/identity".to_owned()
    } else {
        format!(
            "/identity?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    }
}

pub async fn retry(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<NextParam>,
) -> AppResult<Response> {
    let next = safe_next(form.next.as_deref());
    if !page(&state, ctx, user.id, &next).await?.provider_retry {
        return Err(AppError::BadRequest);
    }
    send_to_provider(&state, user.id).await?;
    Ok(Redirect::to(&identity_path(&next)).into_response())
}

/// `GET /identity/status`: the signed-in person's check as JSON, which the waiting page asks
/// every few seconds so that it can move on as soon as the provider answers.
pub async fn status(State(state): State<AppState>, SignedIn(user): SignedIn) -> AppResult<Json<serde_json::Value>> {
    let status = store::identities::find(&state.services.db, user.id)
        .await?
        .map_or(IdentityStatus::Unverified, |r| r.status);
    Ok(Json(serde_json::json!({ "status": status.as_str() })))
}

/// Records an identity decision's consequences in `txn`: the audit row and the mail that tells
/// the applicant (with the reason, never the identity data).
pub(super) async fn record_decision(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    decision: Decision<'_>,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    let reason = match decision.to {
        IdentityStatus::Rejected { reason } => Some(reason.clone()),
        _ => None,
    };
    let entry = AuditEntry {
        actor: decision.reviewer,
        action: if reason.is_some() {
            AuditAction::IdentityRejected
        } else {
            AuditAction::IdentityApproved
        },
        subject: AuditSubject::Identity(decision.applicant),
        before: Some(IdentityStatus::Pending.as_str()),
        after: Some(decision.to.as_str()),
        reason: reason.clone(),
        details: None,
        request_id: decision.request_id,
    };
    store::audit::append(txn, entry, now).await?;
    let account = store::users::find(txn, decision.applicant)
        .await?
        .ok_or(AppError::NotFound)?;
    // The mail leads back to where the person was going, through the identity page, which
    // then offers to carry on (or, after a rejection, to correct the submission).
    let return_path = store::identities::find(txn, decision.applicant)
        .await?
        .and_then(|record| record.return_path);
    let link = state
        .services
        .absolute_url(&identity_path(&safe_next(return_path.as_deref())));
    let notice = match &reason {
        Some(reason) => Mail::IdentityRejected { link: &link, reason },
        None => Mail::IdentityVerified { link: &link },
    };
    let to = account.email.clone();
    mail::enqueue(
        txn,
        notice.render(&to, account.locale, &state.config.operator.name)?,
        now,
    )
    .await?;
    Ok(())
}

/// A decision on a pending identity, by a reviewer or (with no reviewer) the provider.
pub(super) struct Decision<'a> {
    pub applicant: UserId,
    pub reviewer: Option<UserId>,
    pub to: &'a IdentityStatus,
    pub request_id: Option<String>,
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
    let request_id = ctx.request_id.clone();
    let next = safe_next(Some(&form.next));
    let mut template = page(&state, ctx, user.id, &next).await?;
    if !template.can_submit {
        return render_with(StatusCode::CONFLICT, template);
    }
    template.legal_name = form.legal_name.trim().to_owned();
    template.id_number = form.id_number.trim().to_owned();
    let name = LegalName::parse(&form.legal_name);
    let number = ResidentIdNumber::parse(&form.id_number, Utc::now().date_naive());
    let (name, number) = match (name, number) {
        (Ok(name), Ok(number)) => (name, number),
        (name, number) => {
            template.name_error = name.err().map(name_error_key);
            template.id_error = number.err().map(id_error_key);
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, template);
        }
    };
    let before = template.status;
    let submission = Submission {
        sealed_name: state.services.vault.seal(Field::LegalName, user.id, name.as_str()),
        sealed_id_number: state.services.vault.seal(Field::IdNumber, user.id, number.canonical()),
        masked: number.masked(),
        blind_index: state.services.vault.blind_index(&number),
        province_known: number.province_known(),
        verifier: state.services.verifier.name(),
        return_path: (next != "/").then(|| next.clone()),
    };
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    match store::identities::submit(&txn, user.id, submission, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            template.id_error = Some("identity.error_taken");
            return render_with(StatusCode::CONFLICT, template);
        }
        Err(e) => return Err(e.into()),
    }
    let entry = AuditEntry {
        actor: Some(user.id),
        action: AuditAction::IdentitySubmitted,
        subject: AuditSubject::Identity(user.id),
        before: Some(before),
        after: Some(IdentityStatus::Pending.as_str()),
        reason: None,
        details: None,
        request_id,
    };
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(user = %user.id, "identity submitted for review");
    send_to_provider(&state, user.id).await?;
    Ok(Redirect::to(&identity_path(&next)).into_response())
}
