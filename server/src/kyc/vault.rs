//! Encryption at rest for identity data, and the blind index that enforces one person, one
//! account.
//!
//! Names and ID numbers are sealed with AES-256-GCM under a data key kept in
//! `<data_dir>/keys/` (never in the database or the repository). Each ciphertext is
//! `v<key version>:<base64(nonce || ciphertext || tag)>` and is bound, through the associated
//! data, to its field and owner, so a ciphertext copied into another row does not decrypt.
//! The blind index is an HMAC under a second, separate key: equal ID numbers give equal
//! indexes, but the index cannot be reversed by trying the (small) space of ID numbers without
//! the key. The same key makes the pseudonyms the throttles count by (an account's address, a
//! client's network address), so that who tried from where is never stored in clear.

use std::path::Path;

use crate::crypto::{Key, OpenError, SealingKey};
use crate::domain::identity::ResidentIdNumber;
use crate::domain::ids::UserId;

/// The version written into new ciphertexts; older versions stay readable once rotation
/// adds them.
const KEY_VERSION: &str = "v1";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot read or create the identity keys: {0}")]
    Keys(#[from] std::io::Error),
    #[error("sealed value is malformed or was made with an unknown key")]
    Malformed,
    #[error("sealed value does not decrypt for this field and owner")]
    Tampered,
}

/// Which identity field a ciphertext holds (part of the associated data).
#[derive(Debug, Clone, Copy)]
pub enum Field {
    LegalName,
    IdNumber,
}

impl Field {
    fn as_str(self) -> &'static str {
        match self {
            Field::LegalName => "legal_name",
            Field::IdNumber => "id_number",
        }
    }
}

/// Personal data that throttles count by, kept only as a pseudonym (part of what is signed).
#[derive(Debug, Clone, Copy)]
pub enum Counted {
    /// The normal form of the address someone tried to log in as.
    LoginAccount,
    /// A client's network address (IPv6 by /64), as the throttles group it.
    ClientAddress,
}

impl Counted {
    fn as_str(self) -> &'static str {
        match self {
            Counted::LoginAccount => "login-account",
            Counted::ClientAddress => "client-address",
        }
    }
}

pub struct PiiVault {
    data_key: SealingKey,
    index_key: Key,
}

impl std::fmt::Debug for PiiVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiVault([redacted])")
    }
}

fn aad(field: Field, owner: UserId) -> Vec<u8> {
    format!("keepsake|{}|{owner}", field.as_str()).into_bytes()
}

impl PiiVault {
    /// Loads the keys from `keys_dir`, creating them on first start.
    pub fn load(keys_dir: &Path) -> Result<Self, VaultError> {
        let data = Key::load_or_create(&keys_dir.join(format!("identity-data-{KEY_VERSION}.key")))?;
        let index_key = Key::load_or_create(&keys_dir.join("identity-index.key"))?;
        Ok(Self::from_keys(&data, index_key))
    }

    fn from_keys(data: &Key, index_key: Key) -> Self {
        Self {
            data_key: SealingKey::new(data, KEY_VERSION),
            index_key,
        }
    }

    /// Encrypts `plaintext` for `field` of `owner`.
    pub fn seal(&self, field: Field, owner: UserId, plaintext: &str) -> String {
        self.data_key.seal(&aad(field, owner), plaintext.as_bytes())
    }

    /// Decrypts a value made by [`PiiVault::seal`] for the same field and owner.
    pub fn open(&self, field: Field, owner: UserId, sealed: &str) -> Result<String, VaultError> {
        let plain = self.data_key.open(&aad(field, owner), sealed).map_err(|e| match e {
            OpenError::Malformed => VaultError::Malformed,
            OpenError::Tampered => VaultError::Tampered,
        })?;
        String::from_utf8(plain).map_err(|_| VaultError::Tampered)
    }

    /// The keyed blind index of an ID number.
    pub fn blind_index(&self, id: &ResidentIdNumber) -> String {
        self.index_key
            .sign(format!("resident-id|{}", id.canonical()).as_bytes())
    }

    /// The opening of a token's holder commitment: a secret of that token alone, derived from
    /// the holder's blind index and the token's salt under a key only the server holds. The
    /// holder's certificate carries it; two certificates of one person share nothing.
    pub fn holder_opening(&self, blind_index: &str, salt: &[u8; 32]) -> [u8; 32] {
        self.index_key
            .mac(format!("holder-opening|{blind_index}|{}", crate::crypto::hex(salt)).as_bytes())
    }

    /// The keyed pseudonym of `value` as `what`: equal values give equal pseudonyms, which
    /// cannot be reversed, or linked across kinds, without the key.
    pub fn pseudonym(&self, what: Counted, value: &str) -> String {
        self.index_key.sign(format!("{}|{value}", what.as_str()).as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(dir: &Path) -> PiiVault {
        PiiVault::load(dir).unwrap()
    }

    fn id() -> ResidentIdNumber {
        ResidentIdNumber::parse(
            "11010519491231002X",
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn sealed_values_open_only_for_their_field_and_owner() {
        let dir = tempfile::tempdir().unwrap();
        let vault = vault(dir.path());
        let sealed = vault.seal(Field::LegalName, UserId(7), "张三");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("张三"));
        assert_eq!(vault.open(Field::LegalName, UserId(7), &sealed).unwrap(), "张三");
        assert!(matches!(
            vault.open(Field::LegalName, UserId(8), &sealed),
            Err(VaultError::Tampered)
        ));
        assert!(matches!(
            vault.open(Field::IdNumber, UserId(7), &sealed),
            Err(VaultError::Tampered)
        ));
        assert_ne!(
            sealed,
            vault.seal(Field::LegalName, UserId(7), "张三"),
            "fresh nonce each time"
        );
    }

    #[test]
    fn tampered_or_malformed_values_are_refused() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;

        let dir = tempfile::tempdir().unwrap();
        let vault = vault(dir.path());
        let sealed = vault.seal(Field::IdNumber, UserId(1), "11010519491231002X");
        let mut bytes = STANDARD.decode(&sealed[3..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let flipped = format!("v1:{}", STANDARD.encode(bytes));
        assert!(matches!(
            vault.open(Field::IdNumber, UserId(1), &flipped),
            Err(VaultError::Tampered)
        ));
        for bad in ["", "v1:", "v2:AAAA", "v1:not base64!", "plain text"] {
            assert!(vault.open(Field::IdNumber, UserId(1), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_persist_and_are_per_installation() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = vault(dir.path()).seal(Field::LegalName, UserId(1), "李四");
        let index = vault(dir.path()).blind_index(&id());
        assert_eq!(
            vault(dir.path()).open(Field::LegalName, UserId(1), &sealed).unwrap(),
            "李四"
        );
        assert_eq!(vault(dir.path()).blind_index(&id()), index, "stable across restarts");

        let other = tempfile::tempdir().unwrap();
        assert!(vault(other.path()).open(Field::LegalName, UserId(1), &sealed).is_err());
        assert_ne!(vault(other.path()).blind_index(&id()), index, "keyed, not a plain hash");
        assert!(!index.contains("1101"));
    }
}
