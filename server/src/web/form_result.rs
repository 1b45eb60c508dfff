//! Forms that create something do it once. Each such form carries a random `form_key`; the
//! first submission records where its result is shown (and, for a result that exists only
//! once, such as a new API key, the result itself, sealed) in the same transaction as the
//! work. A repeated submission (a reload, a double tap, a retry after a lost answer) finds
//! that record and is sent to the same result instead of creating a second key, batch or
//! collection. The owner of a record is the session that sent the form (see
//! [`RequestContext::visitor`]), so nobody else can replay or read it.

use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::RequestContext;
use super::error::{AppError, AppResult};
use crate::crypto;
use crate::state::AppState;
use crate::store::form_results::NewResult;
use crate::store::{self, StoreError};

/// How long a form key keeps a repeated submission from doing the work again.
const REMEMBERED: Duration = Duration::days(1);

/// A form's random key: the platform's own tokens, or anything of the same alphabet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormKey(String);

impl FormKey {
    /// A key for a form about to be rendered.
    pub fn fresh() -> Self {
        FormKey(crypto::random_token())
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        ((16..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| FormKey(text.to_owned()))
    }

    /// The key a submitted form carries; a form without one was not rendered by this site.
    pub fn from_form(text: &str) -> AppResult<Self> {
        Self::parse(text).ok_or(AppError::BadRequest)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for FormKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn context(ctx: &RequestContext, key: &FormKey) -> Vec<u8> {
    format!("form-result|{}|{}", ctx.visitor, key.as_str()).into_bytes()
}

/// Where an earlier submission of this form led, as the redirect a repeated one gets.
pub async fn replay(state: &AppState, ctx: &RequestContext, key: &FormKey) -> AppResult<Option<Response>> {
    let earlier = store::form_results::find(&state.services.db, &ctx.visitor, key.as_str(), Utc::now()).await?;
    Ok(earlier.map(|result| Redirect::to(&result.location).into_response()))
}

/// Ends the transaction of a creating form: records, in it, that the form's result is at
/// `location` (with `payload` to show there until its time has passed), commits, and answers
/// with the redirect there. When another submission of the same form got there first (its
/// record is in the way), nothing of this one is kept and the answer is that one's redirect.
pub async fn commit<T: Serialize>(
    state: &AppState,
    txn: DatabaseTransaction,
    ctx: &RequestContext,
    key: &FormKey,
    location: &str,
    payload: Option<(&T, Duration)>,
    now: DateTime<Utc>,
) -> AppResult<Response> {
    if let Err(err) = keep(state, &txn, ctx, key, location, payload, now).await {
        drop(txn);
        return after_race(state, ctx, key, err).await;
    }
    txn.commit().await?;
    Ok(Redirect::to(location).into_response())
}

/// Records, in the caller's transaction, that this form's result is at `location`.
async fn keep<T: Serialize>(
    state: &AppState,
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    key: &FormKey,
    location: &str,
    payload: Option<(&T, Duration)>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (payload, show_until) = match payload {
        Some((value, show_for)) => {
            let json = serde_json::to_vec(value).map_err(|e| AppError::Internal(e.into()))?;
            (
                Some(state.services.results_key.seal(&context(ctx, key), &json)),
                now + show_for,
            )
        }
        None => (None, now),
    };
    let result = NewResult {
        owner: &ctx.visitor,
        form_key: key.as_str(),
        location,
        payload,
        show_until,
        expires_at: now + REMEMBERED,
    };
    store::form_results::record(conn, result, now).await?;
    Ok(())
}

/// The answer to a submission whose transaction failed with `err`: when another submission
/// of the same form got there first ([`keep`] found its record), that one's result.
async fn after_race(state: &AppState, ctx: &RequestContext, key: &FormKey, err: AppError) -> AppResult<Response> {
    if matches!(err, AppError::Store(StoreError::Conflict("form result")))
        && let Some(earlier) = replay(state, ctx, key).await?
    {
        return Ok(earlier);
    }
    Err(err)
}

/// A kept payload for its owner, while it may be shown, with the time it stops being shown.
pub async fn shown<T: DeserializeOwned>(
    state: &AppState,
    ctx: &RequestContext,
    key: &FormKey,
) -> AppResult<Option<(T, DateTime<Utc>)>> {
    let Some(result) = store::form_results::find(&state.services.db, &ctx.visitor, key.as_str(), Utc::now()).await?
    else {
        return Ok(None);
    };
    let Some(sealed) = result.payload else {
        return Ok(None);
    };
    let json = state
        .services
        .results_key
        .open(&context(ctx, key), &sealed)
        .map_err(|e| AppError::Internal(e.into()))?;
    let value = serde_json::from_slice(&json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some((value, result.show_until)))
}

/// How long an upload that passed its checks can be re-attached to its form.
const HELD_UPLOAD: Duration = Duration::days(1);

#[derive(Serialize, serde::Deserialize)]
struct Held<T> {
    until: DateTime<Utc>,
    upload: T,
}

fn held_context(ctx: &RequestContext) -> Vec<u8> {
    format!("held-upload|{}", ctx.visitor).into_bytes()
}

/// A reference to an upload that passed its checks and is already in the blob store, for a
/// form shown again because of another field's error: sealed, so that it opens only for this
/// visitor and cannot be made up.
pub fn hold_upload<T: Serialize>(state: &AppState, ctx: &RequestContext, upload: T) -> String {
    let held = Held {
        until: Utc::now() + HELD_UPLOAD,
        upload,
    };
    let json = serde_json::to_vec(&held).expect("uploads serialise");
    state.services.results_key.seal(&held_context(ctx), &json)
}

/// The upload a form's reference holds, if the reference is this visitor's and still fresh.
pub fn held_upload<T: DeserializeOwned>(state: &AppState, ctx: &RequestContext, reference: &str) -> Option<T> {
    let json = state
        .services
        .results_key
        .open(&held_context(ctx), reference.trim())
        .ok()?;
    let held: Held<T> = serde_json::from_slice(&json).ok()?;
    (held.until > Utc::now()).then_some(held.upload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_keys_are_long_url_safe_tokens() {
        assert!(FormKey::parse(FormKey::fresh().as_str()).is_some());
        assert!(FormKey::parse("short").is_none());
        assert!(FormKey::parse("has spaces in it, sixteen+").is_none());
        assert_eq!(
            FormKey::parse(" key-0123456789abcdef ").unwrap().as_str(),
            "key-0123456789abcdef"
        );
    }
}
