//! Export bundles for regulators: the records of a span of days or of one issuer, with the
//! ledger's receipts for every record that has an entry, sealed by a manifest the operator's
//! key signs. A bundle is a plain tar any tool opens; [`check`] verifies one offline.
//!
//! Layout: `manifest.json` (format, scope, the checkpoint's size and every other file's
//! SHA-256 and length), `manifest.sig` (a C2SP signed note by the log's key whose body is
//! [`signed_body`] of the manifest), `checkpoint.txt` (the latest signed checkpoint),
//! `issuers`, `collections`, `tokens` and `audit` each as `.json` and `.csv`, and
//! `receipts/<index>.json` for every ledger index a record names, proven against that
//! checkpoint.

pub mod check;
pub mod records;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::crypto::hex;
use crate::ledger::signer::CheckpointSigner;

/// The bundle format this server writes and [`check`] reads.
pub const FORMAT: &str = "keepsake-export/1";
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";
pub const CHECKPOINT: &str = "checkpoint.txt";
/// Where receipts go: `receipts/<index>.json`.
pub const RECEIPTS: &str = "receipts/";

/// What the manifest says about one file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// The days and issuer a bundle covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// First and last day covered (included), Beijing time.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Every issuer when absent.
    pub issuer: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The log whose key signed this manifest and the checkpoint.
    pub origin: String,
    /// The export's number on the platform.
    pub export: i64,
    pub made_at: DateTime<Utc>,
    pub scope: Scope,
    /// The size of the tree in `checkpoint.txt`, which every receipt is proven against; absent
    /// (and no checkpoint, no receipt) while the log has none.
    pub checkpoint_size: Option<u64>,
    pub files: Vec<FileDigest>,
}

/// The note body the operator's key signs for a manifest: the format, then the manifest's
/// SHA-256. The `sha256:` line can never parse as a tree size, so the note is no checkpoint.
pub fn signed_body(manifest: &[u8]) -> String {
    format!("{FORMAT}\nsha256:{}\n", hex(&Sha256::digest(manifest)))
}

/// A bundle being put together: its files in the order they were added.
#[derive(Debug, Default)]
pub struct Bundle {
    files: Vec<(String, Vec<u8>)>,
}

impl Bundle {
    pub fn add(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.push((path.into(), bytes));
    }

    /// The files listed with their digests, the manifest signed, all written as one tar.
    pub fn seal(self, head: Manifest, signer: &CheckpointSigner) -> std::io::Result<Vec<u8>> {
        let files = self
            .files
            .iter()
            .map(|(path, bytes)| FileDigest {
                path: path.clone(),
                sha256: hex(&Sha256::digest(bytes)),
                bytes: bytes.len() as u64,
            })
            .collect();
        let made_at = u64::try_from(head.made_at.timestamp()).unwrap_or(0);
        let manifest = Manifest { files, ..head };
        let manifest = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
        let signature = signer.sign_note(&signed_body(&manifest));
        let mut tar = tar::Builder::new(Vec::new());
        for (path, bytes) in [
            (MANIFEST.to_owned(), manifest.clone()),
            (SIGNATURE.to_owned(), signature.into_bytes()),
        ]
        .into_iter()
        .chain(self.files)
        {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(made_at);
            tar.append_data(&mut header, &path, bytes.as_slice())?;
        }
        tar.into_inner()
    }
}
