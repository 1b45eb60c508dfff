//! Encryption at rest for identity data, and the blind index that enforces one person, one
//! account.
//!
//! Names and ID numbers are sealed with AES-256-GCM under a data key of their person alone
//! ([`PersonKey`]), itself stored sealed under the installation's key kept in
//! `<data_dir>/keys/` (never in the database or the repository). Deleting a person's key
//! (crypto-shredding) leaves every copy of what it sealed unreadable, wherever it was copied.
//! Each ciphertext is `<key kind and version>:<base64(nonce || ciphertext || tag)>` (`p1:`
//! under a person's key; `v1:`, straight under the installation's key, is how identities were
//! sealed before person keys, until the clean-up moves them) and is bound, through the associated data, to its field and
//! owner, so a ciphertext copied into another row does not decrypt.
//! The blind index is an HMAC under a second, separate key: equal ID numbers give equal
//! indexes, but the index cannot be reversed by trying the (small) space of ID numbers without
//! the key. The same key makes the pseudonyms the throttles count by (an account's address, a
//! client's network address), so that who tried from where is never stored in clear.

use std::path::Path;

use crate::crypto::{Key, OpenError, SealingKey};
use crate::domain::identity::ResidentIdNumber;
use crate::domain::ids::UserId;

/// The version of the installation's key; older versions stay readable once rotation adds
/// them.
const KEY_VERSION: &str = "v1";
/// The version written into ciphertexts under a person's key.
const PERSON_KEY_VERSION: &str = "p1";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot read or create the identity keys: {0}")]
    Keys(#[from] std::io::Error),
    #[error("sealed value is malformed or was made with an unknown key")]
    Malformed,
    #[error("sealed value does not decrypt for this field and owner")]
    Tampered,
    #[error("sealed under a person's key that was deleted")]
    Shredded,
}

/// Which identity field a ciphertext holds (part of the associated data).
#[derive(Debug, Clone, Copy)]
pub enum Field {
    LegalName,
    IdNumber,
    /// A copy of a person's data, packed for them to download.
    DataArchive,
    /// The secret a person's authenticator app shares with the platform.
    TotpSecret,
    /// A person's mobile number.
    Phone,
    /// A code waiting to be texted.
    SmsCode,
}

impl Field {
    fn as_str(self) -> &'static str {
        match self {
            Field::LegalName => "legal_name",
            Field::IdNumber => "id_number",
            Field::DataArchive => "data_archive",
            Field::TotpSecret => "totp_secret",
            Field::Phone => "phone",
            Field::SmsCode => "sms_code",
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
    /// A mobile number in E.164 form (its blind index).
    PhoneNumber,
    /// A texted code, with the number it went to.
    SmsCode,
}

impl Counted {
    fn as_str(self) -> &'static str {
        match self {
            Counted::LoginAccount => "login-account",
            Counted::ClientAddress => "client-address",
            Counted::PhoneNumber => "phone-number",
            Counted::SmsCode => "sms-code",
        }
    }
}

fn open_error(error: OpenError) -> VaultError {
    match error {
        OpenError::Malformed => VaultError::Malformed,
        OpenError::Tampered => VaultError::Tampered,
    }
}

fn person_key_aad(owner: UserId) -> Vec<u8> {
    format!("keepsake|person-key|{owner}").into_bytes()
}

/// One person's data key: what seals their identity and the copies of their data.
pub struct PersonKey(SealingKey);

impl std::fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonKey([redacted])")
    }
}

impl PersonKey {
    fn new(key: &Key) -> Self {
        Self(SealingKey::new(key, PERSON_KEY_VERSION))
    }

    /// Encrypts `plaintext` for `field` of `owner`.
    pub fn seal(&self, field: Field, owner: UserId, plaintext: &[u8]) -> String {
        self.0.seal(&aad(field, owner), plaintext)
    }

    /// Decrypts a value made by [`PersonKey::seal`] for the same field and owner.
    pub fn open_bytes(&self, field: Field, owner: UserId, sealed: &str) -> Result<Vec<u8>, VaultError> {
        self.0.open(&aad(field, owner), sealed).map_err(open_error)
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

    /// Encrypts `plaintext` for `field` of `owner` under the installation's key: for secrets
    /// that are not personal data (second factors), and how identities were sealed before
    /// person keys (the tests seed such rows).
    pub fn seal(&self, field: Field, owner: UserId, plaintext: &str) -> String {
        self.data_key.seal(&aad(field, owner), plaintext.as_bytes())
    }

    /// A new data key for `owner`, and the form it is stored in: sealed under the
    /// installation's key and bound to its owner.
    pub fn new_person_key(&self, owner: UserId) -> (PersonKey, String) {
        let key = Key::generate();
        let wrapped = self.data_key.seal(&person_key_aad(owner), key.material());
        (PersonKey::new(&key), wrapped)
    }

    /// `owner`'s data key from its stored form.
    pub fn person_key(&self, owner: UserId, wrapped: &str) -> Result<PersonKey, VaultError> {
        let material = self
            .data_key
            .open(&person_key_aad(owner), wrapped)
            .map_err(open_error)?;
        let material: [u8; 32] = material.try_into().map_err(|_| VaultError::Malformed)?;
        Ok(PersonKey::new(&Key::from_material(material)))
    }

    /// Decrypts `field` of `owner`: under their key when it was sealed with one (`person`, which
    /// is `None` once it was deleted), or under the installation's key when it predates them.
    pub fn open(
        &self,
        field: Field,
        owner: UserId,
        sealed: &str,
        person: Option<&PersonKey>,
    ) -> Result<String, VaultError> {
        let plain = if sealed.starts_with(PERSON_KEY_VERSION) {
            person.ok_or(VaultError::Shredded)?.open_bytes(field, owner, sealed)?
        } else {
            self.data_key.open(&aad(field, owner), sealed).map_err(open_error)?
        };
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
        assert_eq!(vault.open(Field::LegalName, UserId(7), &sealed, None).unwrap(), "张三");
        assert!(matches!(
            vault.open(Field::LegalName, UserId(8), &sealed, None),
            Err(VaultError::Tampered)
        ));
        assert!(matches!(
            vault.open(Field::IdNumber, UserId(7), &sealed, None),
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
            vault.open(Field::IdNumber, UserId(1), &flipped, None),
            Err(VaultError::Tampered)
        ));
        for bad in ["", "v1:", "v2:AAAA", "v1:not base64!", "plain text"] {
            assert!(vault.open(Field::IdNumber, UserId(1), bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_persons_key_seals_their_data_and_deleting_it_shreds_it() {
        let dir = tempfile::tempdir().unwrap();
        let vault = vault(dir.path());
        let (key, wrapped) = vault.new_person_key(UserId(3));
        assert!(wrapped.starts_with("v1:"), "stored sealed under the installation's key");
        let sealed = key.seal(Field::IdNumber, UserId(3), b"11010519491231002X");
        assert!(sealed.starts_with("p1:"));
        let again = vault.person_key(UserId(3), &wrapped).unwrap();
        assert_eq!(
            vault.open(Field::IdNumber, UserId(3), &sealed, Some(&again)).unwrap(),
            "11010519491231002X"
        );
        assert!(
            matches!(vault.person_key(UserId(4), &wrapped), Err(VaultError::Tampered)),
            "a key is bound to its owner"
        );
        let (other, _) = vault.new_person_key(UserId(3));
        assert!(vault.open(Field::IdNumber, UserId(3), &sealed, Some(&other)).is_err());
        assert!(matches!(
            vault.open(Field::IdNumber, UserId(3), &sealed, None),
            Err(VaultError::Shredded)
        ));
    }

    #[test]
    fn keys_persist_and_are_per_installation() {
        let dir = tempfile::tempdir().unwrap();
        let sealed = vault(dir.path()).seal(Field::LegalName, UserId(1), "李四");
        let index = vault(dir.path()).blind_index(&id());
        assert_eq!(
            vault(dir.path())
                .open(Field::LegalName, UserId(1), &sealed, None)
                .unwrap(),
            "李四"
        );
        assert_eq!(vault(dir.path()).blind_index(&id()), index, "stable across restarts");

        let other = tempfile::tempdir().unwrap();
        assert!(
            vault(other.path())
                .open(Field::LegalName, UserId(1), &sealed, None)
                .is_err()
        );
        assert_ne!(vault(other.path()).blind_index(&id()), index, "keyed, not a plain hash");
        assert!(!index.contains("1101"));
    }
}
