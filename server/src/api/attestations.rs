//! Hash attestations (存证) over the API: an issuer attests a SHA3-256 hash (JSON) or a file
//! (multipart, hashed as it streams in, never stored) with its API key and gets a receipt;
//! anyone looks up who attested a hash.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::auth::ApiIssuer;
use crate::crypto::{hex, parse_digest_hex};
use crate::domain::attestation::AttestationLabel;
use crate::ledger::merkle::Hash;
use crate::ledger::receipt::Receipt;
use crate::services::attestations::{self, Attested};
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};
use crate::web::upload::{UploadError, hash_upload};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationRequest {
    sha3_256: String,
    #[serde(default)]
    label: String,
}

/// What an issuer asked to attest.
struct Attestation {
    digest: Hash,
    label: AttestationLabel,
}

impl Attestation {
    fn from_json(body: &[u8]) -> AppResult<Self> {
        let request: AttestationRequest = serde_json::from_slice(body).map_err(|_| AppError::InvalidAttestation)?;
        Ok(Self {
            digest: parse_digest_hex(&request.sha3_256).ok_or(AppError::InvalidAttestation)?,
            label: AttestationLabel::parse(&request.label).map_err(|_| AppError::InvalidAttestation)?,
        })
    }

    /// A multipart form with exactly one non-empty `file`, hashed as it streams in and never
    /// stored, and an optional `label`.
    async fn from_multipart(mut form: Multipart) -> AppResult<Self> {
        let (mut digest, mut label) = (None, None);
        while let Some(field) = form.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("file") if digest.is_none() => {
                    digest = Some(hash_upload(field).await.map_err(|e| match e {
                        UploadError::TooLarge => AppError::FileTooLarge,
                        UploadError::Empty | UploadError::Broken => AppError::InvalidAttestation,
                    })?);
                }
                Some("label") if label.is_none() => {
                    let text = field.text().await.map_err(multipart_error)?;
                    label = Some(AttestationLabel::parse(&text).map_err(|_| AppError::InvalidAttestation)?);
                }
                _ => return Err(AppError::InvalidAttestation),
            }
        }
        Ok(Self {
            digest: digest.ok_or(AppError::InvalidAttestation)?,
            label: label.unwrap_or_default(),
        })
    }
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::FileTooLarge
    } else {
        AppError::InvalidAttestation
    }
}

#[derive(Deserialize)]
pub struct AttestParams {
    /// Whether to wait for the entry to be sequenced and answer with its receipt.
    #[serde(default = "waits_by_default")]
    wait: bool,
}

fn waits_by_default() -> bool {
    true
}

/// The answer to an attestation not sequenced yet.
#[derive(Serialize)]
pub struct Queued {
    status: &'static str,
    queue_id: i64,
    sha3_256: String,
}

/// `POST /attestations[?wait=false]`: queues a hash attestation and answers with its receipt
/// once sequenced (`201`), or `202` with the queue id when asked not to wait or if sequencing
/// takes longer than usual. The body is JSON with the hash, or a multipart form with the file
/// to hash.
pub async fn attest(
    State(state): State<AppState>,
    ApiIssuer(issuer): ApiIssuer,
    params: Result<Query<AttestParams>, QueryRejection>,
    request: Request,
) -> AppResult<Response> {
    let Query(params) = params.map_err(|_| AppError::InvalidAttestation)?;
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let attestation = if multipart {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|_| AppError::InvalidAttestation)?;
        Attestation::from_multipart(form).await?
    } else {
        let body = axum::body::Bytes::from_request(request, &state)
            .await
            .map_err(|_| AppError::InvalidAttestation)?;
        Attestation::from_json(&body)?
    };
    let attested = attestations::attest(
        &state.services,
        &issuer,
        attestation.digest,
        &attestation.label,
        params.wait,
        Utc::now(),
    )
    .await?;
    Ok(match attested {
        Attested::Receipt(receipt) => (StatusCode::CREATED, Json(*receipt)).into_response(),
        Attested::Queued { queue_id } => {
            let queued = Queued {
                status: "queued",
                queue_id,
                sha3_256: hex(&attestation.digest),
            };
            (StatusCode::ACCEPTED, Json(queued)).into_response()
        }
    })
}

#[derive(Serialize)]
pub struct Attestations {
    sha3_256: String,
    /// The checkpoint the receipts are against; absent while the log has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoint: Option<String>,
    attestations: Vec<PublicAttestation>,
}

#[derive(Serialize)]
pub struct PublicAttestation {
    issuer: Option<AttestingIssuer>,
    label: String,
    attested_at: String,
    index: u64,
    receipt: Receipt,
}

#[derive(Serialize)]
pub struct AttestingIssuer {
    id: i64,
    legal_name: String,
    status: &'static str,
}

/// `GET /attestations/{sha3_256}`: who attested this hash and when, with proofs.
pub async fn lookup(State(state): State<AppState>, Path(digest): Path<String>) -> AppResult<Json<Attestations>> {
    let digest = parse_digest_hex(&digest).ok_or(AppError::InvalidDigest)?;
    let Some((checkpoint, found)) = attestations::of_digest(&state.services, &digest).await? else {
        return Ok(Json(Attestations {
            sha3_256: hex(&digest),
            checkpoint: None,
            attestations: Vec::new(),
        }));
    };
    let attestations = found
        .into_iter()
        .map(|a| PublicAttestation {
            issuer: a.issuer.map(|i| AttestingIssuer {
                id: i.id.0,
                legal_name: i.legal_name,
                status: i.status.as_str(),
            }),
            label: a.label,
            attested_at: a.attested_at.to_rfc3339(),
            index: a.receipt.entry.index,
            receipt: a.receipt,
        })
        .collect();
    Ok(Json(Attestations {
        sha3_256: hex(&digest),
        checkpoint: Some(checkpoint.note),
        attestations,
    }))
}
