//! Documents uploaded with an issuer application: what kinds exist, which formats are
//! accepted, and how a file's real format is recognised from its bytes (never from its name or
//! the browser's claimed type).

/// The largest document accepted.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// Which document an upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    BusinessLicence,
    IcpCertificate,
    BlockchainCertificate,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 3] = [
        DocumentKind::BusinessLicence,
        DocumentKind::IcpCertificate,
        DocumentKind::BlockchainCertificate,
    ];

    /// The form field and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::BusinessLicence => "business_licence",
            DocumentKind::IcpCertificate => "icp_certificate",
            DocumentKind::BlockchainCertificate => "blockchain_certificate",
        }
    }

    pub fn from_field(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// An accepted document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    Pdf,
    Jpeg,
    Png,
}

impl DocumentFormat {
    pub fn media_type(self) -> &'static str {
        match self {
            DocumentFormat::Pdf => "application/pdf",
            DocumentFormat::Jpeg => "image/jpeg",
            DocumentFormat::Png => "image/png",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than 10 MB")]
    TooLarge,
    #[error("only PDF, JPEG and PNG files are accepted")]
    UnsupportedFormat,
}

/// Recognises the format from the file's first bytes and checks the size.
pub fn check_document(bytes: &[u8]) -> Result<DocumentFormat, DocumentError> {
    if bytes.is_empty() {
        return Err(DocumentError::Empty);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(DocumentError::TooLarge);
    }
    if bytes.starts_with(b"%PDF-") {
        Ok(DocumentFormat::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(DocumentFormat::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(DocumentFormat::Png)
    } else {
        Err(DocumentError::UnsupportedFormat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(check_document(b"%PDF-1.7\n..."), Ok(DocumentFormat::Pdf));
        assert_eq!(
            check_document(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Ok(DocumentFormat::Jpeg)
        );
        assert_eq!(
            check_document(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Ok(DocumentFormat::Png)
        );
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            &b"GIF89a......"[..],
            b"<html><script>alert(1)</script>",
            b"PK\x03\x04 zip or docx",
            b"MZ\x90\0 windows executable",
            b" %PDF-1.7 with a leading space",
        ] {
            assert_eq!(check_document(bad), Err(DocumentError::UnsupportedFormat));
        }
        assert_eq!(check_document(b""), Err(DocumentError::Empty));
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, b' ');
        assert_eq!(check_document(&big), Err(DocumentError::TooLarge));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in DocumentKind::ALL {
            assert_eq!(DocumentKind::from_field(kind.as_str()), Some(kind));
        }
        assert_eq!(DocumentKind::from_field("../etc/passwd"), None);
    }
}
