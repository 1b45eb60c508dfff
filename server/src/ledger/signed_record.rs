//! The signer's own record of the latest checkpoint it signed, kept next to its key and
//! outside the database.
//!
//! The database alone cannot tell that it was rolled back: a log cut back to an earlier size
//! looks like a shorter log. The record can, and the sequencer refuses to sign a tree that
//! does not extend it, so the log never gets two roots signed for one size.
//!
//! The record is the signed note itself, written after the batch that it signs has committed
//! (never before, so a batch that failed to commit cannot leave it ahead of the database); a
//! crash between the two leaves it one batch behind, which the next batch makes up. Several
//! servers of one installation may each keep one: a record that is behind is consistent
//! with the log, and only a record ahead of it means the log went back.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::checkpoint::{self, NoteError};
use super::merkle::Hash;

/// A size and root this signer signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    pub size: u64,
    pub root: Hash,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "{} is not a checkpoint signed by this log's key ({source}): restore it together with the key from one backup",
        path.display()
    )]
    Invalid { path: PathBuf, source: NoteError },
}

/// The latest checkpoint this signer signed, in memory and in its file; clones share both.
#[derive(Debug, Clone)]
pub struct SignedRecord {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    latest: Mutex<Option<Signed>>,
}

impl SignedRecord {
    /// Where the record of the key at `key_file` lives: beside it, `<key name>.checkpoint`.
    pub fn beside(key_file: &Path) -> PathBuf {
        key_file.with_extension("checkpoint")
    }

    /// Reads the record at `path`, checking it was signed by `verifier_key`; no file is no
    /// record yet (a new log, or one kept before signers kept records).
    pub fn load(path: PathBuf, verifier_key: &str) -> Result<Self, RecordError> {
        let latest = match std::fs::read_to_string(&path) {
            Ok(note) => {
                let checked = checkpoint::verify(&note, verifier_key).map_err(|source| RecordError::Invalid {
                    path: path.clone(),
                    source,
                })?;
                Some(Signed {
                    size: checked.size,
                    root: checked.root,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(RecordError::Read { path, source }),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                latest: Mutex::new(latest),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The latest checkpoint recorded.
    pub fn latest(&self) -> Option<Signed> {
        *self
            .inner
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `note`, the checkpoint of `signed`, if it is later than the one recorded: the
    /// file is replaced atomically and synced before the record in memory moves on.
    pub fn advance(&self, signed: Signed, note: &str) -> std::io::Result<()> {
        let mut latest = self
            .inner
            .latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if latest.is_some_and(|recorded| recorded.size >= signed.size) {
            return Ok(());
        }
        replace_file(&self.inner.path, note.as_bytes())?;
        *latest = Some(signed);
        Ok(())
    }

    /// [`advance`](Self::advance) on a blocking thread: under a flash drop a checkpoint is
    /// signed every few milliseconds, and two syncs each time must not stall an async worker.
    pub async fn advance_off_runtime(&self, signed: Signed, note: String) -> std::io::Result<()> {
        let record = self.clone();
        tokio::task::spawn_blocking(move || record.advance(signed, &note))
            .await
            .map_err(std::io::Error::other)?
    }
}

/// Replaces the file at `path` with `bytes` atomically: written beside it, synced, renamed
/// over it, and the directory synced, so a crash leaves the old file or the new one.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::signer::CheckpointSigner;

    #[test]
    fn the_record_only_moves_forward_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("ledger.key");
        let signer = CheckpointSigner::load(&key, "example.test/ledger".into()).unwrap();
        let path = SignedRecord::beside(&key);
        assert_eq!(path, dir.path().join("ledger.checkpoint"));
        let record = SignedRecord::load(path.clone(), &signer.verifier_key()).unwrap();
        assert_eq!(record.latest(), None);

        let seven = Signed { size: 7, root: [7; 32] };
        record
            .advance(seven, &signer.sign(7, &[7; 32], chrono::Utc::now()))
            .unwrap();
        record
            .advance(
                Signed { size: 5, root: [5; 32] },
                &signer.sign(5, &[5; 32], chrono::Utc::now()),
            )
            .unwrap();
        assert_eq!(
            record.latest(),
            Some(seven),
            "an older checkpoint does not move it back"
        );
        let reread = SignedRecord::load(path.clone(), &signer.verifier_key()).unwrap();
        assert_eq!(reread.latest(), Some(seven));

        let other = CheckpointSigner::load(&dir.path().join("other.key"), "example.test/ledger".into()).unwrap();
        assert!(matches!(
            SignedRecord::load(path.clone(), &other.verifier_key()),
            Err(RecordError::Invalid { .. })
        ));
        std::fs::write(&path, "not a note").unwrap();
        assert!(matches!(
            SignedRecord::load(path, &signer.verifier_key()),
            Err(RecordError::Invalid { .. })
        ));
    }
}
