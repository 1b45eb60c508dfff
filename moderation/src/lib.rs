//! Content screening for Keepsake.
//!
//! The pure screening rules that every collection passes before a human reviewer sees it:
//! normalised text matching against versioned term lists (including the financialisation terms
//! the regulator forbids), image format sniffing under decode limits, perceptual hashes for
//! blocklist and look-alike checks, and a risk score that combines the findings. It performs no
//! I/O and knows nothing of the database or the web server, so that every rule can be tested on
//! its own.
//!
//! A submission goes through it like this:
//!
//! ```
//! use moderation::image::{ImageLimits, decode};
//! use moderation::phash::{DEFAULT_MAX_DISTANCE, PerceptualHash, matches_within};
//! use moderation::risk::{Verdict, assess};
//! use moderation::text::TextScreener;
//!
//! # let mut upload = Vec::new();
//! # image::DynamicImage::new_rgb8(32, 32)
//! #     .write_with_encoder(image::codecs::png::PngEncoder::new(&mut upload))
//! #     .unwrap();
//! let screener = TextScreener::starter(); // built once, from the operator's lists in practice
//! let findings = screener.screen("限量发行，未来必将升 值！");
//!
//! let image = decode(&upload, &ImageLimits::default())?;
//! let hash = image.perceptual_hash();
//! let blocklist: [(u64, PerceptualHash); 0] = [];
//! let others = [("artwork-42", PerceptualHash(0xF0F0_F0F0_F0F0_F0F0))];
//! let blocked = matches_within(hash, &blocklist, DEFAULT_MAX_DISTANCE);
//! let similar = matches_within(hash, &others, DEFAULT_MAX_DISTANCE);
//!
//! let assessment = assess(&findings, &blocked, &similar);
//! assert_eq!(assessment.verdict, Verdict::NeedsReview);
//! let _stored = (image.clean_encoding()?, image.thumbnails()?, screener.list_versions());
//! # Ok::<(), moderation::image::ImageError>(())
//! ```
//!
//! `tests/fuzz.rs` holds the fuzz targets (normaliser and screener on arbitrary text, the upload
//! path on arbitrary bytes), written with `bolero` so that they run on the stable toolchain with
//! the ordinary tests, for a bounded time. The normaliser's properties (no panic, spans on
//! character boundaries of the original, idempotence) are also checked with proptest in
//! `tests/normalise_props.rs`, and `tests/corpus.rs` measures screening on a labelled corpus.

mod ascii;
mod first_char;
mod fold;
pub mod image;
pub mod lists;
pub mod normalise;
pub mod phash;
pub mod risk;
pub mod spellings;
pub mod text;

pub use crate::image::{DecodedImage, EncodedImage, ImageError, ImageFormat, ImageLimits};
pub use crate::lists::{Allowlist, Category, ListError, Severity, TermList};
pub use crate::phash::{HashMatch, PerceptualHash};
pub use crate::risk::{Assessment, Verdict};
pub use crate::text::{FieldFinding, TextFinding, TextScreener};
