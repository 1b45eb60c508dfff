//! Signed checkpoints in the C2SP signed-note format, and the verifier key that checks them;
//! [`super::signer`] signs them.
//!
//! A checkpoint is the note body `<origin>\n<tree size>\n<base64 root>\n`, a blank line, and
//! one signature line `— <key name> <base64(key id || Ed25519 signature)>`. The key id is the
//! first four bytes of `SHA-256(key name || 0x0A || 0x01 || public key)`, and the verifier key
//! is published as `<key name>+<hex key id>+<base64(0x01 || public key)>`. The origin is the
//! log's name (`<host>/ledger`); the closed v1 log's named its hash (`<host>/ledger/sha3-256`).
//!
//! Every checkpoint also carries a second line by the same key and name: a C2SP
//! tlog-cosignature/v1 (key id algorithm byte 0x04, blob `key id || u64 time || signature` over
//! `cosignature/v1\ntime <seconds>\n<body>`), so anyone can see when the log signed it and how
//! stale a copy is. Verifiers that only know the log's note key skip that line, as the format
//! says they must; witnesses' cosignatures ([`super::cosignature`]) are further lines of the
//! same kind.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use super::cosignature::{self, cosignature_key_id};
use super::merkle::Hash;
use crate::crypto::hex;

/// The signature algorithm byte of Ed25519 in C2SP signed notes.
pub(super) const ED25519_ALGORITHM: u8 = 0x01;

pub(super) fn key_id(name: &str, public_key: &[u8]) -> [u8; 4] {
    key_id_of(name, ED25519_ALGORITHM, public_key)
}

pub(super) fn key_id_of(name: &str, algorithm: u8, public_key: &[u8]) -> [u8; 4] {
    let mut material = name.as_bytes().to_vec();
    material.push(b'\n');
    material.push(algorithm);
    material.extend_from_slice(public_key);
    let hash = digest(&SHA256, &material);
    hash.as_ref()[..4].try_into().expect("SHA-256 is longer than 4 bytes")
}

pub(super) fn verifier_key(origin: &str, key_id: &[u8; 4], public_key: &[u8]) -> String {
    let mut material = vec![ED25519_ALGORITHM];
    material.extend_from_slice(public_key);
    format!("{origin}+{}+{}", hex(key_id), STANDARD.encode(material))
}

/// The note body of a checkpoint.
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// A checkpoint whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// When the key signed it, from its timestamped signature (checkpoints signed before
    /// timestamps were added have none).
    pub signed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the verifier key is malformed")]
    BadKey,
    #[error("the note is malformed")]
    Malformed,
    #[error("no valid signature by the verifier key")]
    NotSigned,
}

/// The name and public key of a log's verifier key, `<name>+<hex key id>+<base64(0x01 ||
/// Ed25519 public key)>`, whose key id must match.
pub fn parse_verifier_key(verifier_key: &str) -> Result<(&str, [u8; 32]), NoteError> {
    let mut parts = verifier_key.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::BadKey);
    };
    let material = STANDARD.decode(key_b64).map_err(|_| NoteError::BadKey)?;
    let (&algorithm, public_key) = material.split_first().ok_or(NoteError::BadKey)?;
    let public_key: [u8; 32] = public_key.try_into().map_err(|_| NoteError::BadKey)?;
    if algorithm != ED25519_ALGORITHM || name.is_empty() || hex(&key_id(name, &public_key)) != id_hex {
        return Err(NoteError::BadKey);
    }
    Ok((name, public_key))
}

/// The body of a note `verifier_key` signed, with the time its timestamped signature gives
/// (checkpoints signed before timestamps, and notes that are not checkpoints, have none).
pub fn signed_body(note: &str, verifier_key: &str) -> Result<(String, Option<DateTime<Utc>>), NoteError> {
    let (name, public_key) = parse_verifier_key(verifier_key)?;
    let public_key = &public_key[..];
    let expected_id = key_id(name, public_key);
    let (body, lines) = signature_lines(note)?;
    let verifier = UnparsedPublicKey::new(&ED25519, public_key);
    let stamp_id = cosignature_key_id(name, public_key);
    let mut signed = false;
    let mut signed_at = None;
    for line in lines.iter().filter(|line| line.name == name) {
        signed |= line.blob.len() == 4 + 64
            && line.blob[..4] == expected_id
            && verifier.verify(body.as_bytes(), &line.blob[4..]).is_ok();
        if let Some(time) = cosignature::check(&stamp_id, public_key, &body, &line.blob) {
            signed_at = Some(time);
        }
    }
    if !signed {
        return Err(NoteError::NotSigned);
    }
    Ok((body, signed_at))
}

/// Checks a signed checkpoint against a published verifier key, offline.
pub fn verify(note: &str, verifier_key: &str) -> Result<VerifiedCheckpoint, NoteError> {
    let (body, signed_at) = signed_body(note, verifier_key)?;
    let mut lines = body.lines();
    let origin = lines.next().ok_or(NoteError::Malformed)?.to_owned();
    let size = lines.next().and_then(|s| s.parse().ok()).ok_or(NoteError::Malformed)?;
    let root: Hash = lines
        .next()
        .and_then(|r| STANDARD.decode(r).ok())
        .and_then(|r| r.try_into().ok())
        .ok_or(NoteError::Malformed)?;
    Ok(VerifiedCheckpoint {
        origin,
        size,
        root,
        signed_at,
    })
}

/// One signature line of a note: the key name, the decoded blob and the line as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SignatureLine<'a> {
    pub name: &'a str,
    pub blob: Vec<u8>,
    pub text: &'a str,
}

/// Splits a signed note into its body (with its final newline) and its signature lines. As the
/// C2SP format has it, every line after the blank one is a signature line (`— name base64`, the
/// blob a key id and a signature) and the note ends with a newline; anything else makes the
/// note malformed, whatever the other lines say.
pub(super) fn signature_lines(note: &str) -> Result<(String, Vec<SignatureLine<'_>>), NoteError> {
    let (body, signatures) = note.split_once("\n\n").ok_or(NoteError::Malformed)?;
    let signatures = signatures.strip_suffix('\n').ok_or(NoteError::Malformed)?;
    let lines = signatures
        .split('\n')
        .map(|text| {
            let (name, blob) = text
                .strip_prefix("\u{2014} ")
                .and_then(|rest| rest.split_once(' '))
                .ok_or(NoteError::Malformed)?;
            let blob = STANDARD.decode(blob).map_err(|_| NoteError::Malformed)?;
            if name.is_empty() || blob.len() < 4 {
                return Err(NoteError::Malformed);
            }
            Ok(SignatureLine { name, blob, text })
        })
        .collect::<Result<_, _>>()?;
    Ok((format!("{body}\n"), lines))
}

/// Checks a signed checkpoint against several verifier keys (a log's current and retired
/// keys): valid if any of them signed it.
pub fn verify_any(note: &str, verifier_keys: &[String]) -> Result<VerifiedCheckpoint, NoteError> {
    let mut refusal = NoteError::NotSigned;
    for key in verifier_keys {
        match verify(note, key) {
            Ok(checked) => return Ok(checked),
            Err(NoteError::Malformed) => return Err(NoteError::Malformed),
            Err(err) => refusal = err,
        }
    }
    Err(refusal)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::ledger::signer::CheckpointSigner;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_633_600, 0).unwrap()
    }

    fn signer(dir: &Path) -> CheckpointSigner {
        CheckpointSigner::load(&dir.join("ledger.key"), "keepsake.example/ledger".into()).unwrap()
    }

    #[test]
    fn checkpoints_are_signed_notes_that_verify() {
        let dir = tempfile::tempdir().unwrap();
        let signer = signer(dir.path());
        let root = [7u8; 32];
        let note = signer.sign(42, &root, at());
        let mut lines = note.lines();
        assert_eq!(lines.next(), Some("keepsake.example/ledger"));
        assert_eq!(lines.next(), Some("42"));
        assert_eq!(lines.next(), Some(STANDARD.encode(root).as_str()));
        assert_eq!(lines.next(), Some(""));
        assert!(lines.next().unwrap().starts_with("\u{2014} keepsake.example/ledger "));
        assert!(lines.next().unwrap().starts_with("\u{2014} keepsake.example/ledger "));
        let key = signer.verifier_key();
        assert!(key.starts_with("keepsake.example/ledger+"));
        let checked = verify(&note, &key).unwrap();
        assert_eq!((checked.size, checked.root, checked.signed_at), (42, root, Some(at())));
    }

    /// The timestamp line is a C2SP tlog-cosignature/v1: its key id uses algorithm byte 0x04,
    /// its blob holds the time big-endian, and it signs `cosignature/v1\ntime <t>\n<body>`.
    #[test]
    fn the_timestamp_is_a_tlog_cosignature() {
        let dir = tempfile::tempdir().unwrap();
        let signer = signer(dir.path());
        let note = signer.sign(42, &[7u8; 32], at());
        let line = note.lines().last().unwrap();
        let blob = STANDARD.decode(line.rsplit_once(' ').unwrap().1).unwrap();
        assert_eq!(blob.len(), 4 + 8 + 64);
        let public_key = signer.public_key();
        assert_eq!(blob[..4], key_id_of("keepsake.example/ledger", 0x04, public_key));
        assert_eq!(u64::from_be_bytes(blob[4..12].try_into().unwrap()), 1_764_633_600);
        let message = format!(
            "cosignature/v1\ntime 1764633600\n{}",
            body("keepsake.example/ledger", 42, &[7u8; 32])
        );
        assert!(
            UnparsedPublicKey::new(&ED25519, public_key)
                .verify(message.as_bytes(), &blob[12..])
                .is_ok()
        );
        let mut later = blob.clone();
        later[4..12].copy_from_slice(&1_764_633_601u64.to_be_bytes());
        let restamped = note.replace(
            line,
            &format!("\u{2014} keepsake.example/ledger {}", STANDARD.encode(later)),
        );
        let checked = verify(&restamped, &signer.verifier_key()).unwrap();
        assert_eq!(checked.signed_at, None, "a changed time is not the key's");
    }

    #[test]
    fn altered_notes_and_other_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let signer = signer(dir.path());
        let note = signer.sign(42, &[7u8; 32], at());
        let key = signer.verifier_key();
        assert_eq!(
            verify(&note.replacen("\n42\n", "\n43\n", 1), &key),
            Err(NoteError::NotSigned)
        );
        let other_dir = tempfile::tempdir().unwrap();
        let other = CheckpointSigner::load(&other_dir.path().join("k"), "keepsake.example/ledger".into()).unwrap();
        assert_eq!(verify(&note, &other.verifier_key()), Err(NoteError::NotSigned));
        assert_eq!(verify(&note, "garbage"), Err(NoteError::BadKey));
        assert_eq!(verify("no blank line", &key), Err(NoteError::Malformed));
    }

    #[test]
    fn a_cosigned_note_verifies_under_either_key() {
        let dir = tempfile::tempdir().unwrap();
        let old = signer(dir.path());
        let new = CheckpointSigner::load(&dir.path().join("next.key"), "keepsake.example/ledger".into()).unwrap();
        let note = old.sign(42, &[7u8; 32], at());
        let both = new.cosign(&note).unwrap();
        assert_eq!(
            both.lines().filter(|l| l.starts_with('\u{2014}')).count(),
            3,
            "the note and timestamp lines, and the new key's"
        );
        for key in [old.verifier_key(), new.verifier_key()] {
            assert_eq!(verify(&both, &key).unwrap().size, 42);
        }
        assert!(
            verify(&note, &new.verifier_key()).is_err(),
            "only the cosigned note is the new key's"
        );
        let keys = [new.verifier_key(), old.verifier_key()];
        assert_eq!(
            verify_any(&note, &keys).unwrap().size,
            42,
            "a retired key still verifies"
        );
        assert_eq!(verify_any(&note, &keys[..1]), Err(NoteError::NotSigned));
        assert_eq!(new.cosign("no blank line"), None);
    }

    #[test]
    fn the_key_persists() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(signer(dir.path()).verifier_key(), signer(dir.path()).verifier_key());
    }

    /// Fuzz target (bolero): arbitrary notes and keys are refused or verified, never a panic;
    /// a note changed anywhere never verifies as anything the key did not sign.
    #[test]
    fn arbitrary_notes_and_keys_are_answered() {
        let dir = tempfile::tempdir().unwrap();
        let signer = signer(dir.path());
        let note = signer.sign(42, &[7u8; 32], at());
        let key = signer.verifier_key();
        bolero::check!()
            .with_type::<(String, String, u16)>()
            .for_each(|(text, other_key, offset)| {
                let _ = verify(text, &key);
                let _ = verify(&note, other_key);
                let _ = verify(text, other_key);
                let mut changed = note.clone();
                let offset = usize::from(*offset) % (changed.len() + 1);
                if changed.is_char_boundary(offset) {
                    changed.insert_str(offset, text);
                    // A note changed anywhere says nothing new: it is refused, or (the change
                    // in a signature line other than the key's) it still says what the key
                    // signed, at the time the key signed it, or at no time.
                    if changed != note
                        && let Ok(checked) = verify(&changed, &key)
                    {
                        assert_eq!((checked.size, checked.root), (42, [7u8; 32]), "{changed:?}");
                        assert!(checked.signed_at.is_none_or(|t| t == at()), "{changed:?}");
                    }
                }
            });
    }
}
