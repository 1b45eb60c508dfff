//! Key rotation: a new key takes over signing the log, and the key it replaces stays listed
//! (`/api/v1/ledger/keys`) so receipts it signed keep verifying.
//!
//! The new key cosigns the latest checkpoint, which ties it to the history the old one
//! signed: from then on every checkpoint is the new key's and consistent with that one. The
//! old private key is destroyed. Every step can be repeated: an interrupted rotation is
//! finished by running it again.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::ledger::checkpoint;
use crate::ledger::signed_record::{SignedRecord, replace_file};
use crate::ledger::signer::CheckpointSigner;
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("this installation has no ledger yet: its first start makes the key")]
    NoLedger,
    #[error("the ledger signing key {0} is missing or not this log's key: restore it from a backup first")]
    NotTheLogsKey(PathBuf),
    #[error("the latest checkpoint is not signed by this log's key (run `keepsake ledger audit`)")]
    LatestNotSigned,
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub retired: Option<String>,
    pub current: String,
    /// The size of the checkpoint both keys signed, if the log had one.
    pub cosigned_size: Option<u64>,
}

/// Where the next key waits while a rotation runs: beside the key, `<key file>.next`.
fn next_key_file(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// Rotates the key at `key_file` (every server of the installation stopped).
pub async fn rotate(db: &store::Database, key_file: &Path, now: DateTime<Utc>) -> Result<Rotated, RotationError> {
    let io = |what: &str, path: &Path| {
        let what = format!("{what} {}", path.display());
        move |err| RotationError::Io(what, err)
    };
    let pinned = store::installation::ledger_key(db)
        .await?
        .ok_or(RotationError::NoLedger)?;
    let origin = pinned.split('+').next().unwrap_or_default().to_owned();
    let next_file = next_key_file(key_file);
    let next =
        CheckpointSigner::load(&next_file, origin.clone()).map_err(io("cannot create the next key", &next_file))?;
    let mut retired = None;
    if next.verifier_key() != pinned {
        if !key_file.exists() {
            return Err(RotationError::NotTheLogsKey(key_file.to_owned()));
        }
        let current = CheckpointSigner::load(key_file, origin).map_err(io("cannot read the key", key_file))?;
        if current.verifier_key() != pinned {
            return Err(RotationError::NotTheLogsKey(key_file.to_owned()));
        }
        let txn = store::begin(db).await?;
        // Holding the sequencer lock: no batch is signed by either key meanwhile.
        store::ledger::lock_state(&txn).await?;
        if let Some(latest) = store::ledger::latest_checkpoint(&txn).await? {
            checkpoint::verify(&latest.note, &pinned).map_err(|_| RotationError::LatestNotSigned)?;
            let cosigned = next.cosign(&latest.note).ok_or(RotationError::LatestNotSigned)?;
            store::ledger::cosign_checkpoint(&txn, latest.tree_size as u64, &cosigned).await?;
        }
        store::installation::rotate_ledger_key(&txn, &pinned, &next.verifier_key(), now).await?;
        store::commit(txn).await?;
        retired = Some(pinned);
    }
    let latest = store::ledger::latest_checkpoint(db).await?;
    if let Some(latest) = &latest {
        let record = SignedRecord::beside(key_file);
        replace_file(&record, latest.note.as_bytes()).map_err(io("cannot write", &record))?;
    }
    std::fs::rename(&next_file, key_file).map_err(io("cannot put the next key in place at", key_file))?;
    Ok(Rotated {
        retired,
        current: next.verifier_key(),
        cosigned_size: latest.map(|latest| latest.tree_size as u64),
    })
}
