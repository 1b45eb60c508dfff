//! Object storage for uploaded documents and artwork.
//!
//! [`BlobStore`] has two implementations chosen by configuration: files under the data
//! directory (the default) and any S3-compatible server. Keys are always generated here
//! ([`BlobKey::generate`]); user input never names a storage location. The ledger's tiles are
//! the one kind of object stored under a fixed name ([`ObjectName`]), which the code builds
//! from a parsed tile, never from a request's text.

mod fs;
mod s3;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::domain::blob_key::BlobKey;

pub use fs::FsBlobStore;
pub use s3::S3BlobStore;

/// Largest blob accepted by any store (uploads have their own, smaller limits).
pub const MAX_BLOB_BYTES: usize = 64 * 1024 * 1024;

/// The fixed name of a published object: `ledger/` and a path of lowercase letters, digits
/// and dots, no part empty or all dots.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectName(String);

impl ObjectName {
    /// The ledger's object at `path` (e.g. `checkpoint`, `tile/0/x001/234.p/7`).
    pub fn ledger(path: &str) -> Result<Self, BlobError> {
        let valid = !path.is_empty()
            && path.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().any(|b| b != b'.')
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.')
            });
        if !valid {
            return Err(BlobError::InvalidKey);
        }
        Ok(Self(format!("ledger/{path}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored object and its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Bytes,
    pub content_type: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("not a valid blob key")]
    InvalidKey,
    #[error("blob not found")]
    NotFound,
    #[error("blob is larger than {MAX_BLOB_BYTES} bytes")]
    TooLarge,
    #[error("blob store I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("S3 request failed: {0}")]
    S3(String),
}

/// Where blobs live. Implementations must be safe to share between requests.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores `bytes` under a new key in `namespace` and returns the key.
    async fn put(&self, namespace: &'static str, blob: Blob) -> Result<BlobKey, BlobError>;
    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError>;
    /// Deletes a blob; deleting a missing blob is not an error.
    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
    /// Whether the store can be reached (used by `/readyz`).
    async fn check(&self) -> Result<(), BlobError>;
    /// Writes the object `name`, replacing any there, so that a reader sees the old bytes or
    /// the new ones, never part of either.
    async fn put_named(&self, name: &ObjectName, bytes: Bytes) -> Result<(), BlobError>;
    /// The object `name`.
    async fn get_named(&self, name: &ObjectName) -> Result<Bytes, BlobError>;
}

pub type SharedBlobStore = Arc<dyn BlobStore>;

/// Builds the store the configuration asks for.
pub async fn from_config(config: &crate::config::Config) -> Result<SharedBlobStore, BlobError> {
    match &config.s3 {
        Some(s3) => Ok(Arc::new(S3BlobStore::connect(s3).await?)),
        None => Ok(Arc::new(FsBlobStore::new(config.data_dir.join("blobs"))?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_stay_under_the_ledger() {
        assert_eq!(
            ObjectName::ledger("tile/0/x001/234.p/7").unwrap().as_str(),
            "ledger/tile/0/x001/234.p/7"
        );
        for bad in [
            "",
            "/checkpoint",
            "tile//0",
            "tile/../x",
            "tile/./x",
            "Tile/0",
            "tile/0/",
            "a b",
        ] {
            assert!(ObjectName::ledger(bad).is_err(), "{bad}");
        }
    }
}
