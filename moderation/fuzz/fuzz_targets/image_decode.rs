//! The upload path on arbitrary bytes: sniffing, decoding under small limits, hashing and
//! re-encoding either succeed or return an error, never panic or exceed the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use moderation::image::{ImageLimits, decode};

const LIMITS: ImageLimits = ImageLimits {
    max_bytes: 1024 * 1024,
    max_width: 2048,
    max_height: 2048,
    max_pixels: 1_000_000,
    max_alloc: 64 * 1024 * 1024,
};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(image) = decode(bytes, &LIMITS) {
        assert!(u64::from(image.width()) * u64::from(image.height()) <= LIMITS.max_pixels);
        let _ = image.perceptual_hash();
        let _ = image.clean_encoding();
        let _ = image.thumbnails();
    }
});
