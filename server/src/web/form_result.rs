//! The web side of forms that create something once ([`crate::services::forms`]): the
//! submission of the session that sent a form, the redirect a repeated one gets, and the
//! results and held uploads kept for that session.

use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::RequestContext;
use super::error::{AppError, AppResult};
use crate::services::Services;
use crate::services::forms::{self, FormKey, Submission};

/// This visitor's sending of the form whose key is `form_key`; a form without one was not
/// rendered by this site.
pub fn submission(ctx: &RequestContext, form_key: &str) -> AppResult<Submission> {
    let key = FormKey::parse(form_key).ok_or(AppError::BadRequest)?;
    Ok(Submission {
        owner: ctx.visitor.clone(),
        key,
    })
}

/// The redirect to where an earlier sending of this form led, if there was one.
pub async fn replay(services: &Services, submission: &Submission) -> AppResult<Option<Response>> {
    let earlier = forms::earlier(services, submission, Utc::now()).await?;
    Ok(earlier.map(|location| Redirect::to(&location).into_response()))
}

/// The payload this visitor's form `key` kept, while it may be shown, and until when.
pub async fn shown<T: DeserializeOwned>(
    services: &Services,
    ctx: &RequestContext,
    key: FormKey,
) -> AppResult<Option<(T, DateTime<Utc>)>> {
    let submission = Submission {
        owner: ctx.visitor.clone(),
        key,
    };
    Ok(forms::shown(services, &submission, Utc::now()).await?)
}

/// A sealed reference to an upload that passed its checks, for this visitor's form shown again.
pub fn hold_upload<T: Serialize>(services: &Services, ctx: &RequestContext, upload: T) -> String {
    forms::hold(services, &ctx.visitor, upload, Utc::now())
}

/// The upload this visitor's reference holds, if it is theirs and still fresh.
pub fn held_upload<T: DeserializeOwned>(services: &Services, ctx: &RequestContext, reference: &str) -> Option<T> {
    forms::held(services, &ctx.visitor, reference, Utc::now())
}
