//! Where a blob is kept: a key the server generates, `<namespace>/<uuid>`, stored in rows that
//! reference the blob and read back from them. User input never names a storage location.

use std::fmt;

/// A stored key that is not one the server would generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid blob key")]
pub struct InvalidBlobKey;

/// A server-generated storage key: `<namespace>/<uuid>`, where the namespace is one of a fixed
/// set of lowercase words chosen by the code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// A fresh key in `namespace` (e.g. `"kyb-documents"`).
    pub fn generate(namespace: &'static str) -> Self {
        debug_assert!(valid_namespace(namespace), "bad namespace {namespace}");
        Self(format!("{namespace}/{}", uuid::Uuid::new_v4()))
    }

    /// Re-reads a key stored in the database; refuses anything this module would not generate.
    pub fn parse(raw: &str) -> Result<Self, InvalidBlobKey> {
        let (namespace, id) = raw.split_once('/').ok_or(InvalidBlobKey)?;
        if !valid_namespace(namespace) || uuid::Uuid::parse_str(id).is_err() || id.len() != 36 {
            return Err(InvalidBlobKey);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn valid_namespace(ns: &str) -> bool {
    !ns.is_empty() && ns.len() <= 32 && ns.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back() {
        let key = BlobKey::generate("kyb-documents");
        assert!(key.as_str().starts_with("kyb-documents/"));
        assert_eq!(BlobKey::parse(key.as_str()).unwrap(), key);
    }

    #[test]
    fn foreign_keys_are_refused() {
        for bad in [
            "",
            "../etc/passwd",
            "kyb/../../x",
            "kyb/not-a-uuid",
            "KYB/3f2b8c1e-9a4d-4c7e-8b1a-2d3e4f5a6b7c",
            "kyb/3f2b8c1e-9a4d-4c7e-8b1a-2d3e4f5a6b7c/extra",
            "/3f2b8c1e-9a4d-4c7e-8b1a-2d3e4f5a6b7c",
            "kyb/3f2b8c1e9a4d4c7e8b1a2d3e4f5a6b7c",
        ] {
            assert!(BlobKey::parse(bad).is_err(), "{bad}");
        }
    }
}
