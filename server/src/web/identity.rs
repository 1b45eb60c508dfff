//! The collector's real-name verification page: status, and the form to submit or resubmit.
//!
//! Name and ID number are validated, sealed and indexed here and never logged; pages show
//! only the masked number.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use sea_orm::TransactionTrait;
use serde::Deserialize;

use super::auth::SignedIn;
use super::context::RequestContext;
use super::error::AppResult;
use super::{render, render_with};
use crate::app::AppState;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::identity::{IdNumberError, IdentityStatus, LegalName, LegalNameError, ResidentIdNumber};
use crate::kyc::Field;
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
    name_error: Option<&'static str>,
    id_error: Option<&'static str>,
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
    }
}

async fn page(
    state: &AppState,
    ctx: RequestContext,
    user: crate::domain::account::UserId,
) -> AppResult<IdentityTemplate> {
    let record = store::identities::find(&state.db, user).await?;
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
        name_error: None,
        id_error: None,
    })
}

pub async fn show(State(state): State<AppState>, ctx: RequestContext, SignedIn(user): SignedIn) -> AppResult<Response> {
    Ok(render(page(&state, ctx, user.id).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct IdentityForm {
    legal_name: String,
    id_number: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<IdentityForm>,
) -> AppResult<Response> {
    let request_id = ctx.request_id.clone();
    let mut template = page(&state, ctx, user.id).await?;
    if !template.can_submit {
        return render_with(StatusCode::CONFLICT, template);
    }
    template.legal_name = form.legal_name.trim().to_owned();
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
        sealed_name: state.vault.seal(Field::LegalName, user.id, name.as_str()),
        sealed_id_number: state.vault.seal(Field::IdNumber, user.id, number.canonical()),
        masked: number.masked(),
        blind_index: state.vault.blind_index(&number),
        province_known: number.province_known(),
        verifier: "manual",
    };
    let now = Utc::now();
    let txn = state.db.begin().await?;
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
        request_id,
    };
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(user = %user.id, "identity submitted for review");
    Ok(Redirect::to("/identity").into_response())
}
