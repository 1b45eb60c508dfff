//! C2SP [tlog-cosignature/v1](https://c2sp.org/tlog-cosignature): a timestamped Ed25519
//! signature over a checkpoint's body. Witnesses sign them after checking that a checkpoint
//! extends everything they saw of the log; the log signs one of its own as its timestamp.
//!
//! A cosignature is the note signature line `— <key name> <base64(key id || u64 time ||
//! signature)>`, the signature over `cosignature/v1\ntime <time>\n<body>`. Its key id is the
//! first four bytes of `SHA-256(key name || 0x0A || 0x04 || public key)` and its verifier key
//! is `<key name>+<hex key id>+<base64(0x04 || public key)>`.

use std::path::Path;

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use super::checkpoint::{NoteError, signature_lines};
use crate::crypto::{Key, hex};

/// The key id algorithm byte of an Ed25519 tlog-cosignature/v1.
pub(super) const COSIGNATURE_ALGORITHM: u8 = 0x04;

/// The message a cosignature signs: a header, the time, and the note body.
pub(super) fn cosigned_message(seconds: u64, body: &str) -> String {
    format!("cosignature/v1\ntime {seconds}\n{body}")
}

/// The key id of the cosignature key `public_key` named `name`.
pub(super) fn cosignature_key_id(name: &str, public_key: &[u8]) -> [u8; 4] {
    super::checkpoint::key_id_of(name, COSIGNATURE_ALGORITHM, public_key)
}

/// The signature line of `key` (named `name`) cosigning `body` at `now`.
pub(super) fn cosignature_line(name: &str, key: &Ed25519KeyPair, body: &str, now: DateTime<Utc>) -> String {
    let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
    let signature = key.sign(cosigned_message(seconds, body).as_bytes());
    let mut blob = cosignature_key_id(name, key.public_key().as_ref()).to_vec();
    blob.extend_from_slice(&seconds.to_be_bytes());
    blob.extend_from_slice(signature.as_ref());
    format!("\u{2014} {name} {}\n", STANDARD.encode(blob))
}

/// When the key `public_key` with cosignature key id `key_id` cosigned `body`, if `blob` (a
/// signature line's) is its valid cosignature.
pub(super) fn check(key_id: &[u8; 4], public_key: &[u8], body: &str, blob: &[u8]) -> Option<DateTime<Utc>> {
    if blob.len() != 4 + 8 + 64 || blob[..4] != key_id[..] {
        return None;
    }
    let seconds = u64::from_be_bytes(blob[4..12].try_into().expect("eight bytes"));
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(cosigned_message(seconds, body).as_bytes(), &blob[12..])
        .ok()?;
    DateTime::from_timestamp(i64::try_from(seconds).ok()?, 0)
}

/// A witness's signing key: cosigns the checkpoints it checked.
pub struct WitnessSigner {
    name: String,
    key: Ed25519KeyPair,
}

impl std::fmt::Debug for WitnessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WitnessSigner({})", self.verifier_key())
    }
}

impl WitnessSigner {
    /// Loads the witness's key (a 32-byte Ed25519 seed) from `path`, creating it on first start.
    pub fn load(path: &Path, name: String) -> std::io::Result<Self> {
        let seed = Key::load_or_create(path)?;
        let key = Ed25519KeyPair::from_seed_unchecked(seed.material())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(Self { name, key })
    }

    /// `<name>+<hex key id>+<base64(0x04 || public key)>`, what logs and verifiers configure.
    pub fn verifier_key(&self) -> String {
        let public_key = self.key.public_key().as_ref();
        let mut material = vec![COSIGNATURE_ALGORITHM];
        material.extend_from_slice(public_key);
        format!(
            "{}+{}+{}",
            self.name,
            hex(&cosignature_key_id(&self.name, public_key)),
            STANDARD.encode(material)
        )
    }

    /// The cosignature line for the checkpoint `body`, at `now`.
    pub fn cosign(&self, body: &str, now: DateTime<Utc>) -> String {
        cosignature_line(&self.name, &self.key, body, now)
    }
}

/// A witness's published verifier key, which checks its cosignatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessKey {
    name: String,
    key_id: [u8; 4],
    public_key: [u8; 32],
    text: String,
}

impl WitnessKey {
    /// Parses `<name>+<hex key id>+<base64(0x04 || public key)>`, checking the key id.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let text = text.trim();
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey);
        };
        let material = STANDARD.decode(key_b64).map_err(|_| NoteError::BadKey)?;
        let (&algorithm, public_key) = material.split_first().ok_or(NoteError::BadKey)?;
        let public_key: [u8; 32] = public_key.try_into().map_err(|_| NoteError::BadKey)?;
        let key_id = cosignature_key_id(name, &public_key);
        if algorithm != COSIGNATURE_ALGORITHM || name.is_empty() || hex(&key_id) != id_hex {
            return Err(NoteError::BadKey);
        }
        Ok(Self {
            name: name.to_owned(),
            key_id,
            public_key,
            text: text.to_owned(),
        })
    }

    /// The witness's name, as its signature lines carry it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key as published.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The line of `note` that is this witness's valid cosignature of it, with its time.
    pub fn cosignature_in<'a>(&self, note: &'a str) -> Option<(&'a str, DateTime<Utc>)> {
        let (body, lines) = signature_lines(note).ok()?;
        lines.into_iter().find_map(|line| {
            (line.name == self.name)
                .then(|| check(&self.key_id, &self.public_key, &body, &line.blob))
                .flatten()
                .map(|time| (line.text, time))
        })
    }
}

impl std::fmt::Display for WitnessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::signer::CheckpointSigner;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_764_633_600, 0).unwrap()
    }

    #[test]
    fn a_witness_cosignature_verifies_under_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let log = CheckpointSigner::load(&dir.path().join("log.key"), "example.test/ledger".into()).unwrap();
        let witness = WitnessSigner::load(&dir.path().join("w.key"), "witness.example".into()).unwrap();
        let note = log.sign(42, &[7; 32], at());
        let body = super::super::checkpoint::body("example.test/ledger", 42, &[7; 32]);
        let line = witness.cosign(&body, at());
        assert!(line.starts_with("\u{2014} witness.example "));
        let cosigned = format!("{note}{line}");
        let key = WitnessKey::parse(&witness.verifier_key()).unwrap();
        assert_eq!(key.cosignature_in(&cosigned), Some((line.trim_end(), at())));
        assert_eq!(key.cosignature_in(&note), None, "not cosigned yet");
        let other = WitnessSigner::load(&dir.path().join("o.key"), "witness.example".into()).unwrap();
        let other = WitnessKey::parse(&other.verifier_key()).unwrap();
        assert_eq!(other.cosignature_in(&cosigned), None);
        let moved = cosigned.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(key.cosignature_in(&moved), None, "a cosignature covers its body only");
        assert!(
            crate::ledger::checkpoint::verify(&cosigned, &log.verifier_key()).is_ok(),
            "the log's key still verifies a cosigned note"
        );
    }

    #[test]
    fn malformed_witness_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let witness = WitnessSigner::load(&dir.path().join("w.key"), "w".into()).unwrap();
        let key = witness.verifier_key();
        assert!(WitnessKey::parse(&key).is_ok());
        let log = CheckpointSigner::load(&dir.path().join("log.key"), "w".into()).unwrap();
        for bad in [
            "",
            "w",
            "w+00000000+AAAA",
            &key.replacen("w+", "v+", 1),
            &log.verifier_key(),
        ] {
            assert_eq!(WitnessKey::parse(bad), Err(NoteError::BadKey), "{bad}");
        }
    }
}
