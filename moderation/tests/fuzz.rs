//! Fuzz targets on the stable toolchain, with `bolero`: under `cargo test` each runs on random
//! inputs for a bounded time (one second, or `BOLERO_RANDOM_TEST_TIME_MS`; CI gives each
//! longer), and `cargo bolero test` can drive the same targets with a coverage-guided engine.
//!
//! - the normaliser and the screener on arbitrary text: no panic, every span on character
//!   boundaries of the original, findings of two fields inside their field;
//! - the upload path on arbitrary bytes: sniffing, decoding under small limits, hashing and
//!   re-encoding either succeed within the limits or return an error.

use std::sync::LazyLock;

use moderation::TextScreener;
use moderation::image::{ImageLimits, decode};
use moderation::normalise::normalise;

static SCREENER: LazyLock<TextScreener> = LazyLock::new(TextScreener::starter);

#[test]
fn normalise_and_screen_arbitrary_text() {
    bolero::check!()
        .with_type::<(String, String)>()
        .for_each(|(title, description)| {
            let normalised = normalise(title);
            let whole = normalised.original_range(0..normalised.as_str().len());
            assert!(title.get(whole).is_some());
            assert_eq!(normalise(normalised.as_str()).as_str(), normalised.as_str());
            for finding in SCREENER.screen(title) {
                assert!(title.get(finding.span.clone()).is_some(), "{finding:?}");
            }
            for found in SCREENER.screen_fields(&[title, description]) {
                let field = [title, description][found.field];
                assert!(field.get(found.finding.span.clone()).is_some(), "{found:?}");
            }
        });
}

#[test]
fn decode_arbitrary_bytes() {
    const LIMITS: ImageLimits = ImageLimits {
        max_bytes: 1024 * 1024,
        max_width: 2048,
        max_height: 2048,
        max_pixels: 1_000_000,
        max_alloc: 64 * 1024 * 1024,
    };
    bolero::check!().for_each(|bytes: &[u8]| {
        if let Ok(image) = decode(bytes, &LIMITS) {
            assert!(u64::from(image.width()) * u64::from(image.height()) <= LIMITS.max_pixels);
            let _ = image.perceptual_hash();
            let _ = image.clean_encoding();
            let _ = image.thumbnails();
        }
    });
}
