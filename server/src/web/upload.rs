//! Files hashed as they stream in, never kept: the attestation API and the verify page hash an
//! upload with SHA3-256 without storing it.

use axum::extract::multipart::Field;
use axum::http::StatusCode;
use sha3::{Digest, Sha3_256};

use crate::domain::attestation::MAX_ATTESTED_FILE_BYTES;
use crate::ledger::merkle::Hash;

/// Why an uploaded file could not be hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadError {
    Empty,
    TooLarge,
    /// The upload broke off or was not valid multipart.
    Broken,
}

/// Hashes an uploaded file with SHA3-256 as it streams in, without keeping it, refusing empty
/// files and files over [`MAX_ATTESTED_FILE_BYTES`].
pub async fn hash_upload(mut field: Field<'_>) -> Result<Hash, UploadError> {
    let (mut hasher, mut length) = (Sha3_256::new(), 0usize);
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            UploadError::TooLarge
        } else {
            UploadError::Broken
        }
    })? {
        length += chunk.len();
        if length > MAX_ATTESTED_FILE_BYTES {
            return Err(UploadError::TooLarge);
        }
        hasher.update(&chunk);
    }
    if length == 0 {
        return Err(UploadError::Empty);
    }
    Ok(hasher.finalize().into())
}
