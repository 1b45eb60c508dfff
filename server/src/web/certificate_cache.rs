//! Rendered certificate images, kept in memory by what they show. Drawing a card takes tens of
//! milliseconds of CPU, and a card shared on social media is fetched over and over; it only
//! changes with the token's status, its ledger index and the reader's language, all of which
//! are part of its [fingerprint](super::certificate_image::CertificateCard::fingerprint).

use super::bytes_cache::BytesCache;

/// A card's fingerprint: SHA3-256 over everything drawn on it.
pub type Fingerprint = [u8; 32];

/// Bytes of PNG kept at most: a few hundred typical cards (60–200 KiB each).
pub const BUDGET: usize = 32 * 1024 * 1024;

pub type CertificateCache = BytesCache<Fingerprint>;
