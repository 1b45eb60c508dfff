//! Perceptual hashes: 64-bit difference hashes (dHash) compared by Hamming distance.
//!
//! A dHash survives resizing, re-compression and small colour changes, which is what a
//! re-uploaded copy of someone else's artwork usually undergoes, while unrelated pictures
//! differ in about half of the 64 bits. The image is reduced to 9 × 8 grey pixels and each bit
//! says whether a pixel is brighter than its right-hand neighbour.
//!
//! Hashes depend on the exact reduction (filter, pre-shrink, orientation): a stored hash is only
//! comparable with hashes made by the same [`PerceptualHash::ALGORITHM`], so the server should
//! store that identifier next to every hash and re-hash when it changes. Images are hashed after
//! their EXIF orientation is applied (see [`crate::image`]), so a rotated copy of a photo is
//! still a copy.
//!
//! A known limit of difference hashes: images without horizontal detail (flat colours, pure
//! vertical gradients) all hash to nearly zero and so resemble each other.

use std::fmt;
use std::str::FromStr;

use image::DynamicImage;
use image::imageops::FilterType;
use thiserror::Error;

/// A 64-bit perceptual hash of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PerceptualHash(pub u64);

/// The distance at or below which two hashes are taken for the same picture. Re-encoded and
/// resized copies typically land within 0–6; unrelated pictures around 32.
pub const DEFAULT_MAX_DISTANCE: u32 = 10;

/// Side of the box the image is first shrunk into with a cheap box filter, so that the exact
/// filter below never runs over a full-size photo.
const PRESHRINK: u32 = 128;

impl PerceptualHash {
    /// Identifies how hashes are computed; store it with each hash.
    pub const ALGORITHM: &'static str = "keepsake-dhash-9x8-v1";

    /// Hashes an image (already in its display orientation).
    pub fn of(image: &DynamicImage) -> PerceptualHash {
        let small = if image.width() > PRESHRINK || image.height() > PRESHRINK {
            image.thumbnail(PRESHRINK, PRESHRINK)
        } else {
            image.clone()
        };
        let grey = small.to_luma8();
        let reduced = image::imageops::resize(&grey, 9, 8, FilterType::Triangle);
        let mut bits = 0u64;
        for y in 0..8 {
            for x in 0..8 {
                let left = reduced.get_pixel(x, y)[0];
                let right = reduced.get_pixel(x + 1, y)[0];
                bits = (bits << 1) | u64::from(left > right);
            }
        }
        PerceptualHash(bits)
    }

    /// Number of differing bits, 0..=64.
    pub fn distance(self, other: PerceptualHash) -> u32 {
        (self.0 ^ other.0).count_ones()
    }
}

/// Sixteen lower-case hexadecimal digits.
impl fmt::Display for PerceptualHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A stored hash that is not sixteen hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a perceptual hash is 16 hexadecimal digits, not {0:?}")]
pub struct ParseHashError(String);

impl FromStr for PerceptualHash {
    type Err = ParseHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseHashError(s.to_owned()));
        }
        u64::from_str_radix(s, 16)
            .map(PerceptualHash)
            .map_err(|_| ParseHashError(s.to_owned()))
    }
}

/// A stored hash within the distance threshold of the hash being checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashMatch<Id> {
    pub id: Id,
    pub distance: u32,
}

/// Every candidate within `max_distance` of `hash`, nearest first (ties keep input order).
///
/// Used both for the operator's blocklist and for artworks of other issuers; a linear scan is
/// some nanoseconds per candidate, so a million stored hashes cost a few milliseconds.
pub fn matches_within<Id: Clone>(
    hash: PerceptualHash,
    candidates: &[(Id, PerceptualHash)],
    max_distance: u32,
) -> Vec<HashMatch<Id>> {
    let mut found: Vec<HashMatch<Id>> = candidates
        .iter()
        .filter_map(|(id, other)| {
            let distance = hash.distance(*other);
            (distance <= max_distance).then(|| HashMatch {
                id: id.clone(),
                distance,
            })
        })
        .collect();
    found.sort_by_key(|m| m.distance);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_differing_bits() {
        assert_eq!(PerceptualHash(0).distance(PerceptualHash(u64::MAX)), 64);
        assert_eq!(PerceptualHash(0b1011).distance(PerceptualHash(0b0001)), 2);
        assert_eq!(PerceptualHash(42).distance(PerceptualHash(42)), 0);
    }

    #[test]
    fn text_form_round_trips_and_rejects_garbage() {
        let h = PerceptualHash(0x00ff_1234_abcd_0001);
        assert_eq!(h.to_string(), "00ff1234abcd0001");
        assert_eq!("00ff1234abcd0001".parse::<PerceptualHash>(), Ok(h));
        assert_eq!("00FF1234ABCD0001".parse::<PerceptualHash>(), Ok(h));
        for bad in ["", "123", "+0ff1234abcd0001", "00ff1234abcd000g", "00ff1234abcd00011"] {
            assert!(bad.parse::<PerceptualHash>().is_err(), "{bad}");
        }
    }

    #[test]
    fn matches_are_filtered_and_sorted() {
        let stored = [
            ("far", PerceptualHash(u64::MAX)),
            ("two", PerceptualHash(0b11)),
            ("same", PerceptualHash(0)),
        ];
        let found = matches_within(PerceptualHash(0), &stored, 10);
        let ids: Vec<_> = found.iter().map(|m| (m.id, m.distance)).collect();
        assert_eq!(ids, [("same", 0), ("two", 2)]);
    }
}
