//! Forms that create something do it once. Each such form carries a random [`FormKey`]; the
//! first submission records where its result is shown (and, for a result that exists only
//! once, such as a new API key, the result itself, sealed) in the same transaction as the
//! work. A repeated submission (a reload, a double tap, a retry after a lost answer) finds
//! that record and is sent to the same result instead of creating a second key, batch or
//! collection. A record belongs to the [`Submission`]'s owner (the session that sent the
//! form), so nobody else can replay or read it.
//!
//! Uploads that passed their checks while another field of their form did not are held for
//! the form shown again: sealed references that open only for their owner, for a day.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{ServiceError, ServiceResult, Services};
use crate::crypto;
use crate::store::form_results::NewResult;
use crate::store::{self, StoreError, Transaction};

/// How long a form key keeps a repeated submission from doing the work again.
const REMEMBERED: Duration = Duration::days(1);

/// How long an upload that passed its checks can be re-attached to its form.
const HELD_UPLOAD: Duration = Duration::days(1);

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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for FormKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One sending of a creating form: whose it is and its key.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The session that sent it (see `web::context::RequestContext::visitor`).
    pub owner: String,
    pub key: FormKey,
}

impl Submission {
    fn sealing_context(&self) -> Vec<u8> {
        format!("form-result|{}|{}", self.owner, self.key.as_str()).into_bytes()
    }
}

/// Where an earlier sending of this form led, if there was one.
pub async fn earlier(
    services: &Services,
    submission: &Submission,
    now: DateTime<Utc>,
) -> ServiceResult<Option<String>> {
    let earlier = store::form_results::find(&services.db, &submission.owner, submission.key.as_str(), now).await?;
    Ok(earlier.map(|result| result.location))
}

/// Ends the transaction of a creating form: records in it that the form's result is at
/// `location` (with `payload` to show there for a while), and commits. Answers where the
/// result is shown: `location`, or, when another sending of the same form got there first
/// (its record is in the way), that one's, with nothing of this one kept.
pub(crate) async fn finish<T: Serialize>(
    services: &Services,
    txn: Transaction,
    submission: &Submission,
    location: &str,
    payload: Option<(&T, Duration)>,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let (payload, show_until) = match payload {
        Some((value, show_for)) => {
            let json = serde_json::to_vec(value).map_err(ServiceError::internal)?;
            let sealed = services.results_key.seal(&submission.sealing_context(), &json);
            (Some(sealed), now + show_for)
        }
        None => (None, now),
    };
    let result = NewResult {
        owner: &submission.owner,
        form_key: submission.key.as_str(),
        location,
        payload,
        show_until,
        expires_at: now + REMEMBERED,
    };
    match store::form_results::record(&txn, result, now).await {
        Ok(()) => {
            store::commit(txn).await?;
            Ok(location.to_owned())
        }
        Err(conflict @ StoreError::Conflict("form result")) => {
            drop(txn);
            earlier(services, submission, now).await?.ok_or(conflict.into())
        }
        Err(err) => Err(err.into()),
    }
}

/// A kept payload for its owner, while it may be shown, with the time it stops being shown.
pub async fn shown<T: DeserializeOwned>(
    services: &Services,
    submission: &Submission,
    now: DateTime<Utc>,
) -> ServiceResult<Option<(T, DateTime<Utc>)>> {
    let found = store::form_results::find(&services.db, &submission.owner, submission.key.as_str(), now).await?;
    let Some(result) = found else {
        return Ok(None);
    };
    let Some(sealed) = result.payload else {
        return Ok(None);
    };
    let json = services
        .results_key
        .open(&submission.sealing_context(), &sealed)
        .map_err(ServiceError::internal)?;
    let value = serde_json::from_slice(&json).map_err(ServiceError::internal)?;
    Ok(Some((value, result.show_until)))
}

#[derive(Serialize, serde::Deserialize)]
struct Held<T> {
    until: DateTime<Utc>,
    upload: T,
}

fn held_context(owner: &str) -> Vec<u8> {
    format!("held-upload|{owner}").into_bytes()
}

/// A reference to an upload that passed its checks and is already in the blob store, for a
/// form shown again because of another field's error: sealed, so that it opens only for
/// `owner` and cannot be made up.
pub fn hold<T: Serialize>(services: &Services, owner: &str, upload: T, now: DateTime<Utc>) -> String {
    let held = Held {
        until: now + HELD_UPLOAD,
        upload,
    };
    let json = serde_json::to_vec(&held).expect("uploads serialise");
    services.results_key.seal(&held_context(owner), &json)
}

/// The upload a form's reference holds, if the reference is `owner`'s and still fresh.
pub fn held<T: DeserializeOwned>(services: &Services, owner: &str, reference: &str, now: DateTime<Utc>) -> Option<T> {
    let json = services.results_key.open(&held_context(owner), reference.trim()).ok()?;
    let held: Held<T> = serde_json::from_slice(&json).ok()?;
    (held.until > now).then_some(held.upload)
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
