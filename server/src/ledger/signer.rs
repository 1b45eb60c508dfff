//! The log's signing key: it signs each checkpoint, and cosigns the latest one when a rotation
//! hands signing to a new key. The key lives in the data directory, never in the database, and
//! so does the [`SignedRecord`] of the latest checkpoint it signed.

use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use super::checkpoint::{body, key_id, verifier_key};
use super::cosignature::cosignature_line;
use super::merkle::Hash;
use super::signed_record::SignedRecord;
use crate::crypto::Key;

/// Signs checkpoints. The private key lives in the data directory, never in the database,
/// and so does the signer's record of the latest checkpoint it signed.
pub struct CheckpointSigner {
    origin: String,
    key: Ed25519KeyPair,
    key_id: [u8; 4],
    record: SignedRecord,
}

impl std::fmt::Debug for CheckpointSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckpointSigner({})", self.verifier_key())
    }
}

impl CheckpointSigner {
    /// Loads the signing key (a 32-byte Ed25519 seed) from `path`, creating it on first start,
    /// and the record of the latest checkpoint it signed from beside it.
    pub fn load(path: &Path, origin: String) -> std::io::Result<Self> {
        Self::load_with_record(path, origin, SignedRecord::beside(path))
    }

    /// [`load`](Self::load), keeping the record of the latest signed checkpoint at `record`.
    pub fn load_with_record(path: &Path, origin: String, record: PathBuf) -> std::io::Result<Self> {
        let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let seed = Key::load_or_create(path)?;
        let key = Ed25519KeyPair::from_seed_unchecked(seed.material()).map_err(|e| invalid(e.to_string()))?;
        let key_id = key_id(&origin, key.public_key().as_ref());
        let verifier_key = verifier_key(&origin, &key_id, key.public_key().as_ref());
        let record = SignedRecord::load(record, &verifier_key).map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            origin,
            key,
            key_id,
            record,
        })
    }

    /// The latest checkpoint this signer signed, as far as it knows.
    pub fn record(&self) -> &SignedRecord {
        &self.record
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The raw Ed25519 public key, for tests that check signatures byte by byte.
    #[cfg(test)]
    pub(crate) fn public_key(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }

    /// `<name>+<hex key id>+<base64(0x01 || public key)>`.
    pub fn verifier_key(&self) -> String {
        verifier_key(&self.origin, &self.key_id, self.key.public_key().as_ref())
    }

    /// The signed note for a tree of `size` leaves with `root`, timestamped `now`.
    pub fn sign(&self, size: u64, root: &Hash, now: DateTime<Utc>) -> String {
        let body = body(&self.origin, size, root);
        let signature = self.key.sign(body.as_bytes());
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(signature.as_ref());
        format!(
            "{body}\n\u{2014} {origin} {}\n{}",
            STANDARD.encode(blob),
            cosignature_line(&self.origin, &self.key, &body, now),
            origin = self.origin
        )
    }

    /// A signed note of `body` (which ends with a newline) that is not a checkpoint: what the
    /// operator's key vouches for beside the log, such as an export bundle's manifest. Its first
    /// line names what it is, so it can never be read as a checkpoint of this log.
    pub fn sign_note(&self, body: &str) -> String {
        let signature = self.key.sign(body.as_bytes());
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(signature.as_ref());
        format!("{body}\n\u{2014} {} {}\n", self.origin, STANDARD.encode(blob))
    }

    /// `note` with this key's signature added, for a checkpoint another key signed: how a key
    /// rotation ties the new key to the history the old one signed. `None` if `note` is not a
    /// note.
    pub fn cosign(&self, note: &str) -> Option<String> {
        let (body, _) = note.split_once("\n\n")?;
        let body = format!("{body}\n");
        let signature = self.key.sign(body.as_bytes());
        let mut blob = self.key_id.to_vec();
        blob.extend_from_slice(signature.as_ref());
        Some(format!("{note}\u{2014} {} {}\n", self.origin, STANDARD.encode(blob)))
    }
}
