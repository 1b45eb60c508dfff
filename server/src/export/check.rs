//! Checks an export bundle offline, as `keepsake verify-export` does: the manifest signed by
//! a key the checker trusts, every file present with the digest and length the manifest gives
//! and no file it does not list, the checkpoint signed by the same keys and of the size the
//! manifest names, every receipt proven against that checkpoint, and every record that names
//! a ledger index matched by the receipt of an entry about that record.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use sha2::{Digest, Sha256};

use super::records::{CollectionRecord, TokenRecord};
use super::{CHECKPOINT, FORMAT, MANIFEST, Manifest, RECEIPTS, SIGNATURE, signed_body};
use crate::crypto::hex;
use crate::ledger::checkpoint::{self, NoteError};
use crate::ledger::entry::EntryBody;
use crate::ledger::receipt::{Receipt, ReceiptError, Trust};

/// Largest file a bundle may hold, so a hostile bundle cannot exhaust memory.
const MAX_FILE_BYTES: u64 = 1 << 30;

/// Why a bundle did not check out; each names what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the bundle is not a readable tar: {0}")]
    Unreadable(#[from] std::io::Error),
    #[error("the bundle holds `{0}` twice")]
    Duplicate(String),
    #[error("the bundle has no `{0}`")]
    Missing(String),
    #[error("`{0}` is larger than any bundle file may be")]
    TooLarge(String),
    #[error("the manifest is not valid JSON of format {FORMAT}: {0}")]
    Manifest(String),
    #[error("the manifest's format `{0}` is not {FORMAT}")]
    Format(String),
    #[error("the manifest's signature: {0}")]
    Signature(NoteError),
    #[error("the signature is for another manifest")]
    SignatureMismatch,
    #[error("`{0}` does not have the digest or length the manifest gives: it was altered")]
    Altered(String),
    #[error("`{0}` is in the bundle but not in the manifest")]
    Unlisted(String),
    #[error("the checkpoint: {0}")]
    Checkpoint(NoteError),
    #[error("the checkpoint is for {found} entries, the manifest says {expected}")]
    CheckpointSize { expected: u64, found: u64 },
    #[error("receipt `{path}`: {error}")]
    Receipt { path: String, error: ReceiptError },
    #[error("receipt `{0}` is for another index than its name")]
    ReceiptMisnamed(String),
    #[error("`{0}` is not valid JSON of its records")]
    Records(String),
    #[error("{what} {id} names ledger entry {index}, but the bundle has no receipt for it")]
    NoReceipt { what: &'static str, id: i64, index: u64 },
    #[error("{what} {id} names ledger entry {index}, whose receipt is about something else")]
    WrongEntry { what: &'static str, id: i64, index: u64 },
}

/// What a bundle that checked out holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub manifest: Manifest,
    pub files: usize,
    pub receipts: usize,
    pub collections: usize,
    pub tokens: usize,
}

/// Reads the tar's regular files into memory, refusing duplicates and oversized files.
fn files(bundle: impl Read) -> Result<BTreeMap<String, Vec<u8>>, ExportError> {
    let mut archive = tar::Archive::new(bundle);
    let mut files = BTreeMap::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        if entry.size() > MAX_FILE_BYTES {
            return Err(ExportError::TooLarge(path));
        }
        let mut bytes = Vec::new();
        (&mut entry).take(MAX_FILE_BYTES).read_to_end(&mut bytes)?;
        if files.insert(path.clone(), bytes).is_some() {
            return Err(ExportError::Duplicate(path));
        }
    }
    Ok(files)
}

fn text(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Result<String, ExportError> {
    let bytes = files.get(path).ok_or_else(|| ExportError::Missing(path.to_owned()))?;
    String::from_utf8(bytes.clone()).map_err(|_| ExportError::Altered(path.to_owned()))
}

/// Any of `keys` signed `note`: its body.
fn signed_by_any(note: &str, keys: &[String]) -> Result<String, NoteError> {
    let mut refusal = NoteError::NotSigned;
    for key in keys {
        match checkpoint::signed_body(note, key) {
            Ok((body, _)) => return Ok(body),
            Err(NoteError::Malformed) => return Err(NoteError::Malformed),
            Err(err) => refusal = err,
        }
    }
    Err(refusal)
}

/// Checks the bundle read from `bundle` against the operator's verifier `keys` (the current
/// one and those it retired).
pub fn check(bundle: impl Read, keys: &[String]) -> Result<Checked, ExportError> {
    let files = files(bundle)?;
    let manifest_bytes = files
        .get(MANIFEST)
        .ok_or_else(|| ExportError::Missing(MANIFEST.to_owned()))?;
    let body = signed_by_any(&text(&files, SIGNATURE)?, keys).map_err(ExportError::Signature)?;
    if body != signed_body(manifest_bytes) {
        return Err(ExportError::SignatureMismatch);
    }
    let manifest: Manifest =
        serde_json::from_slice(manifest_bytes).map_err(|e| ExportError::Manifest(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(ExportError::Format(manifest.format));
    }
    let listed: HashMap<&str, _> = manifest.files.iter().map(|f| (f.path.as_str(), f)).collect();
    for path in files.keys().filter(|p| *p != MANIFEST && *p != SIGNATURE) {
        if !listed.contains_key(path.as_str()) {
            return Err(ExportError::Unlisted(path.clone()));
        }
    }
    for listed in &manifest.files {
        let bytes = files
            .get(&listed.path)
            .ok_or_else(|| ExportError::Missing(listed.path.clone()))?;
        if bytes.len() as u64 != listed.bytes || hex(&Sha256::digest(bytes)) != listed.sha256 {
            return Err(ExportError::Altered(listed.path.clone()));
        }
    }
    let mut entries = HashMap::new();
    if let Some(size) = manifest.checkpoint_size {
        let note = text(&files, CHECKPOINT)?;
        let tree = checkpoint::verify_any(&note, keys).map_err(ExportError::Checkpoint)?;
        if tree.size != size {
            return Err(ExportError::CheckpointSize {
                expected: size,
                found: tree.size,
            });
        }
        let trust = Trust {
            keys,
            checkpoint: Some(&note),
            ..Trust::default()
        };
        for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with(RECEIPTS)) {
            let receipt_error = |error| ExportError::Receipt {
                path: path.clone(),
                error,
            };
            let receipt = Receipt::parse(&String::from_utf8_lossy(bytes)).map_err(receipt_error)?;
            let verified = receipt.verify(trust).map_err(receipt_error)?;
            if *path != format!("{RECEIPTS}{}.json", verified.index) {
                return Err(ExportError::ReceiptMisnamed(path.clone()));
            }
            entries.insert(verified.index, verified.entry.body);
        }
    }
    let records = |path: &str| -> Result<&[u8], ExportError> {
        files
            .get(path)
            .map(Vec::as_slice)
            .ok_or_else(|| ExportError::Missing(path.to_owned()))
    };
    let collections: Vec<CollectionRecord> = serde_json::from_slice(records("collections.json")?)
        .map_err(|_| ExportError::Records("collections.json".to_owned()))?;
    for record in &collections {
        let Some(index) = record.ledger_index else { continue };
        let about = |body: &EntryBody| matches!(body, EntryBody::CollectionPublished { collection_id, .. } if *collection_id == record.id as u64);
        matched(&entries, "collection", record.id, index, about)?;
    }
    let tokens: Vec<TokenRecord> =
        serde_json::from_slice(records("tokens.json")?).map_err(|_| ExportError::Records("tokens.json".to_owned()))?;
    for record in &tokens {
        let Some(index) = record.ledger_index else { continue };
        let about = |body: &EntryBody| {
            matches!(body, EntryBody::TokenMinted { collection_id, serial, .. }
                if *collection_id == record.collection_id as u64 && *serial == record.serial)
        };
        matched(&entries, "token", record.id, index, about)?;
    }
    Ok(Checked {
        files: manifest.files.len(),
        receipts: entries.len(),
        collections: collections.len(),
        tokens: tokens.len(),
        manifest,
    })
}

/// The receipt of entry `index` exists and is about the record.
fn matched(
    entries: &HashMap<u64, EntryBody>,
    what: &'static str,
    id: i64,
    index: u64,
    about: impl Fn(&EntryBody) -> bool,
) -> Result<(), ExportError> {
    match entries.get(&index) {
        None => Err(ExportError::NoReceipt { what, id, index }),
        Some(body) if !about(body) => Err(ExportError::WrongEntry { what, id, index }),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::export::{Bundle, Scope};
    use crate::ledger::signer::CheckpointSigner;

    fn sealed(signer: &CheckpointSigner) -> Vec<u8> {
        let mut bundle = Bundle::default();
        bundle.add("collections.json", b"[]".to_vec());
        bundle.add("tokens.json", b"[]".to_vec());
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let head = Manifest {
            format: FORMAT.to_owned(),
            origin: signer.origin().to_owned(),
            export: 1,
            made_at: Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap(),
            scope: Scope {
                from: day,
                to: day,
                issuer: None,
            },
            checkpoint_size: None,
            files: Vec::new(),
        };
        bundle.seal(head, signer).unwrap()
    }

    /// `bundle` with `path` holding `bytes` instead, or added when it has no such file.
    fn rewritten(bundle: &[u8], path: &str, bytes: &[u8]) -> Vec<u8> {
        let mut files: Vec<(String, Vec<u8>)> = tar::Archive::new(bundle)
            .entries()
            .unwrap()
            .map(|entry| {
                let mut entry = entry.unwrap();
                let name = entry.path().unwrap().to_string_lossy().into_owned();
                let mut content = Vec::new();
                entry.read_to_end(&mut content).unwrap();
                (name, content)
            })
            .collect();
        match files.iter_mut().find(|(name, _)| name == path) {
            Some((_, content)) => *content = bytes.to_vec(),
            None => files.push((path.to_owned(), bytes.to_vec())),
        }
        let mut out = tar::Builder::new(Vec::new());
        for (name, content) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(content.len() as u64);
            out.append_data(&mut header, &name, content.as_slice()).unwrap();
        }
        out.into_inner().unwrap()
    }

    #[test]
    fn a_sealed_bundle_checks_and_any_change_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let signer = CheckpointSigner::load(&dir.path().join("ledger.key"), "keepsake.example/ledger".into()).unwrap();
        let keys = [signer.verifier_key()];
        let bundle = sealed(&signer);
        let checked = check(bundle.as_slice(), &keys).unwrap();
        assert_eq!((checked.files, checked.receipts, checked.tokens), (2, 0, 0));

        let altered = rewritten(&bundle, "tokens.json", b"[ ]");
        assert!(matches!(check(altered.as_slice(), &keys), Err(ExportError::Altered(path)) if path == "tokens.json"));
        let manifest = rewritten(&bundle, MANIFEST, b"{}");
        assert!(matches!(
            check(manifest.as_slice(), &keys),
            Err(ExportError::SignatureMismatch)
        ));

        let other = tempfile::tempdir().unwrap();
        let stranger =
            CheckpointSigner::load(&other.path().join("ledger.key"), "keepsake.example/ledger".into()).unwrap();
        assert!(matches!(
            check(bundle.as_slice(), &[stranger.verifier_key()]),
            Err(ExportError::Signature(NoteError::NotSigned))
        ));
        // A manifest signature is a note, never a checkpoint of the log.
        let signature = {
            let mut archive = tar::Archive::new(bundle.as_slice());
            let mut entry = archive
                .entries()
                .unwrap()
                .map(Result::unwrap)
                .find(|e| e.path().unwrap().to_string_lossy() == SIGNATURE)
                .unwrap();
            let mut note = String::new();
            entry.read_to_string(&mut note).unwrap();
            note
        };
        assert_eq!(checkpoint::verify(&signature, &keys[0]), Err(NoteError::Malformed));
    }

    #[test]
    fn a_file_the_manifest_does_not_list_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let signer = CheckpointSigner::load(&dir.path().join("ledger.key"), "keepsake.example/ledger".into()).unwrap();
        let bundle = rewritten(&sealed(&signer), "extra.json", b"{}");
        assert!(matches!(
            check(bundle.as_slice(), &[signer.verifier_key()]),
            Err(ExportError::Unlisted(path)) if path == "extra.json"
        ));
    }
}
