//! Hash attestations (存证): an approved issuer puts a document's SHA3-256 on the ledger with a
//! short public label. The document itself is never stored.

use std::fmt;

/// Longest label, in bytes of UTF-8.
pub const MAX_LABEL_BYTES: usize = 200;

/// Largest file the server hashes for an issuer; bigger files are hashed by the issuer.
pub const MAX_ATTESTED_FILE_BYTES: usize = 64 * 1024 * 1024;

/// A label as it goes into the public ledger: trimmed, at most [`MAX_LABEL_BYTES`], no
/// control characters (it is shown on public pages and in receipts).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttestationLabel(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("a label has at most {MAX_LABEL_BYTES} bytes")]
    TooLong,
    #[error("a label cannot contain control characters")]
    ControlCharacter,
}

impl AttestationLabel {
    pub fn parse(text: &str) -> Result<Self, LabelError> {
        let text = text.trim();
        if text.len() > MAX_LABEL_BYTES {
            return Err(LabelError::TooLong);
        }
        if text.chars().any(char::is_control) {
            return Err(LabelError::ControlCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttestationLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_bounded_and_printable() {
        assert_eq!(AttestationLabel::parse("  合同 v2 ").unwrap().as_str(), "合同 v2");
        assert_eq!(AttestationLabel::parse("").unwrap().as_str(), "");
        assert!(AttestationLabel::parse(&"x".repeat(MAX_LABEL_BYTES)).is_ok());
        assert_eq!(
            AttestationLabel::parse(&"x".repeat(MAX_LABEL_BYTES + 1)),
            Err(LabelError::TooLong)
        );
        // 67 three-byte characters are 201 bytes, though only 67 characters.
        assert_eq!(AttestationLabel::parse(&"合".repeat(67)), Err(LabelError::TooLong));
        assert_eq!(
            AttestationLabel::parse("line\nbreak"),
            Err(LabelError::ControlCharacter)
        );
        assert_eq!(AttestationLabel::parse("nul\0"), Err(LabelError::ControlCharacter));
    }
}
