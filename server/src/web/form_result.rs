//! The web side of forms that create something once ([`crate::services::forms`]): the
//! submission of the session that sent a form, the redirect a repeated one gets, and the
//! results and held uploads kept for that session.

use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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

/// The `?result=` of a page that shows what a form kept: the form's key.
#[derive(Debug, Deserialize, Default)]
pub struct ResultQuery {
    #[serde(default)]
    pub result: String,
}

/// What this visitor's form with the key `result` kept, while it may be shown: the payload,
/// until when it is shown, and the key. `None` for anything else, a malformed key included.
pub async fn kept<T: DeserializeOwned>(
    services: &Services,
    ctx: &RequestContext,
    result: &str,
) -> AppResult<Option<(T, DateTime<Utc>, FormKey)>> {
    let Some(key) = FormKey::parse(result) else {
        return Ok(None);
    };
    let submission = Submission {
        owner: ctx.visitor.clone(),
        key,
    };
    let shown = forms::shown(services, &submission, Utc::now()).await?;
    Ok(shown.map(|(payload, until)| (payload, until, submission.key)))
}

/// A sealed reference to an upload that passed its checks, for this visitor's form shown again.
pub fn hold_upload<T: Serialize>(services: &Services, ctx: &RequestContext, upload: T) -> String {
    forms::hold(services, &ctx.visitor, upload, Utc::now())
}

/// The upload this visitor's reference holds, if it is theirs and still fresh.
pub fn held_upload<T: DeserializeOwned>(services: &Services, ctx: &RequestContext, reference: &str) -> Option<T> {
    forms::held(services, &ctx.visitor, reference, Utc::now())
}
