//! Small cryptographic building blocks: random tokens, SHA3-256 digests, HMAC, password
//! hashing (Argon2id) and the per-installation keys kept in the data directory.

use std::io::Write;
use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use sha3::{Digest, Sha3_256};

type HmacSha3 = hmac::SimpleHmac<Sha3_256>;

/// 256 fresh random bits.
pub fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// A fresh random token of 256 bits, URL-safe base64 encoded (43 characters).
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes())
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A 32-byte digest written as exactly 64 lower-case hex digits; anything else is `None`, so
/// each digest has one spelling.
pub fn parse_digest_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// SHA3-256 of `data`.
pub fn sha3_256(data: &[u8]) -> [u8; 32] {
    Sha3_256::digest(data).into()
}

/// Lower-case hex SHA3-256 of `data`; how one-time tokens and session ids are stored.
pub fn sha3_hex(data: &[u8]) -> String {
    hex(&Sha3_256::digest(data))
}

/// A 256-bit key generated on first start and kept in `<data_dir>/keys/`.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key([redacted])")
    }
}

impl Key {
    /// Reads the key file, or creates it (mode 0600) with fresh random bytes if it is absent.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{} must hold exactly 32 bytes", path.display()),
                    )
                })?;
                Ok(Self(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path)?;
                file.write_all(&bytes)?;
                file.sync_all()?;
                Ok(Self(bytes))
            }
            Err(e) => Err(e),
        }
    }

    /// A fresh random key, kept wherever its caller keeps it (sealed under another key).
    pub fn generate() -> Self {
        Self(random_bytes())
    }

    /// A key from its 32 bytes, as [`Key::material`] gave them.
    pub fn from_material(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw key material, for building a cipher from it.
    pub(crate) fn material(&self) -> &[u8; 32] {
        &self.0
    }

    /// HMAC-SHA3-256 of `data` under this key, URL-safe base64 encoded.
    pub fn sign(&self, data: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(data))
    }

    /// HMAC-SHA3-256 of `data` under this key.
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        let mut mac = <HmacSha3 as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Constant-time check of a signature made by [`Key::sign`].
    pub fn verify(&self, data: &[u8], signature: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac = <HmacSha3 as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        mac.update(data);
        mac.verify_slice(&tag).is_ok()
    }
}

/// An AES-256-GCM key for data kept at rest. Each ciphertext reads
/// `<version>:<base64(nonce || ciphertext || tag)>` and is bound to a context (what the value
/// is and whose), so a ciphertext copied elsewhere does not open.
pub struct SealingKey {
    key: aws_lc_rs::aead::LessSafeKey,
    version: &'static str,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey([redacted])")
    }
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("sealed value is malformed or was made with an unknown key")]
    Malformed,
    #[error("sealed value does not open in this context")]
    Tampered,
}

impl SealingKey {
    /// A sealing key from `key`'s material; `version` is written into every ciphertext.
    pub fn new(key: &Key, version: &'static str) -> Self {
        use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
        let unbound = UnboundKey::new(&AES_256_GCM, key.material()).expect("a 32-byte key suits AES-256-GCM");
        Self {
            key: LessSafeKey::new(unbound),
            version,
        }
    }

    /// Encrypts `plaintext` for `context`.
    pub fn seal(&self, context: &[u8], plaintext: &[u8]) -> String {
        use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).expect("the operating system's random source failed");
        let mut sealed = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut sealed)
            .expect("AES-GCM sealing cannot fail for inputs of this size");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!(
            "{}:{}",
            self.version,
            base64::engine::general_purpose::STANDARD.encode(out)
        )
    }

    /// Decrypts a value made by [`SealingKey::seal`] for the same context.
    pub fn open(&self, context: &[u8], sealed: &str) -> Result<Vec<u8>, OpenError> {
        use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};
        let encoded = sealed
            .strip_prefix(self.version)
            .and_then(|rest| rest.strip_prefix(':'))
            .ok_or(OpenError::Malformed)?;
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError::Malformed);
        }
        let mut body = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| OpenError::Malformed)?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| OpenError::Tampered)?;
        Ok(plain.to_vec())
    }
}

/// Lower-case hex HMAC-SHA3-256 of `data` under a shared secret (signed webhooks and callbacks).
pub fn hmac_sha3_hex(secret: &[u8], data: &[u8]) -> String {
    let mut mac = <HmacSha3 as KeyInit>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(data);
    hex(&mac.finalize().into_bytes())
}

/// Constant-time check of a hex signature made by [`hmac_sha3_hex`].
pub fn verify_hmac_sha3_hex(secret: &[u8], data: &[u8], signature: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = hmac_sha3_hex(secret, data);
    bool::from(
        expected
            .as_bytes()
            .ct_eq(signature.trim().to_ascii_lowercase().as_bytes()),
    )
}

/// Hashes a password with Argon2id (default parameters: 19 MiB, 2 passes). CPU-heavy: call it
/// from `spawn_blocking`.
pub fn hash_password(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("Argon2 with default parameters cannot fail")
        .to_string()
}

/// Checks a password against a stored PHC string. CPU-heavy: call it from `spawn_blocking`.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so that a wrong email takes as
/// long as a wrong password and response times do not reveal which accounts exist.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hash_password(&random_token()));
    &DUMMY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_have_one_hex_spelling() {
        let digest = Sha3_256::digest(b"abc");
        let text = sha3_hex(b"abc");
        assert_eq!(parse_digest_hex(&text).map(|d| d.to_vec()), Some(digest.to_vec()));
        assert_eq!(parse_digest_hex(&text.to_uppercase()), None);
        assert_eq!(parse_digest_hex(&text[1..]), None);
        assert_eq!(parse_digest_hex(&format!("{text}0")), None);
        assert_eq!(parse_digest_hex(&format!("+{}", &text[1..])), None);
        assert_eq!(parse_digest_hex(&"g".repeat(64)), None);
    }

    #[test]
    fn tokens_are_random_and_url_safe() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn sha3_matches_the_standard_vector() {
        assert_eq!(
            sha3_hex(b"abc"),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
    }

    #[test]
    fn passwords_are_argon2id_and_verify() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn keys_persist_and_sign() {
        let dir = std::env::temp_dir().join(format!("keepsake-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("keys/test.key");
        let key = Key::load_or_create(&path).unwrap();
        let again = Key::load_or_create(&path).unwrap();
        let sig = key.sign(b"nonce");
        assert_eq!(sig, again.sign(b"nonce"));
        assert!(again.verify(b"nonce", &sig));
        assert!(!again.verify(b"other", &sig));
        assert!(!again.verify(b"nonce", "garbage!"));
        std::fs::write(&path, b"short").unwrap();
        assert!(Key::load_or_create(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
