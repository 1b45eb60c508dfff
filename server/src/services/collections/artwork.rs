//! The artwork pipeline: an upload is sniffed and decoded under size and pixel limits (its
//! format whatever the file name says), re-encoded without metadata, thumbnailed at 256 and
//! 1024 px and hashed, off the async threads; then the original and its renditions go into the
//! blob store, before any row refers to them.

use bytes::Bytes;
use moderation::image::{ImageError, ImageLimits, decode};
use sha3::{Digest, Sha3_256};

use crate::aigc::{self, ImplicitLabel};
use crate::blobs::Blob;
use crate::domain::blob_key::BlobKey;
use crate::domain::collection::{Artwork, Collection};
use crate::services::{ServiceError, ServiceResult, Services};
use crate::{crypto, paths, store};

/// Namespace of artwork in the blob store.
const ARTWORK: &str = "collection-artwork";

/// Largest artwork upload.
pub const MAX_ARTWORK_BYTES: usize = 32 * 1024 * 1024;

/// Which stored rendition of an artwork a page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendition {
    /// The upload as sent: only for the issuer's members and reviewers.
    Original,
    /// The clean full-size re-encoding.
    Full,
    Large,
    Small,
}

impl Rendition {
    /// The rendition named in an artwork address (`original`, `full`, `1024`, `256`).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "original" => Rendition::Original,
            "full" => Rendition::Full,
            "1024" => Rendition::Large,
            "256" => Rendition::Small,
            _ => return None,
        })
    }

    /// Where `artwork` keeps this rendition.
    pub fn key(self, artwork: &Artwork) -> &BlobKey {
        match self {
            Rendition::Original => &artwork.original_key,
            Rendition::Full => &artwork.full_key,
            Rendition::Large => &artwork.large_key,
            Rendition::Small => &artwork.small_key,
        }
    }
}

/// An artwork that passed the image checks, with everything to store.
struct CheckedArtwork {
    original: Bytes,
    media_type: &'static str,
    width: u32,
    height: u32,
    perceptual_hash: moderation::PerceptualHash,
    /// The clean full-size re-encoding, then the thumbnails, smallest first.
    renditions: Vec<moderation::EncodedImage>,
}

/// Checks an upload and stores it with its renditions; the image's problem if it is refused.
/// Decoding a large photo takes a tenth of a second of CPU, so it runs on the blocking pool.
pub async fn accept(services: &Services, upload: Bytes) -> ServiceResult<Result<Artwork, ImageError>> {
    let checked = tokio::task::spawn_blocking(move || check(upload))
        .await
        .map_err(ServiceError::internal)?;
    match checked {
        Ok(checked) => Ok(Ok(store(services, checked).await?)),
        Err(err) => Ok(Err(err)),
    }
}

fn check(bytes: Bytes) -> Result<CheckedArtwork, ImageError> {
    let limits = ImageLimits {
        max_bytes: MAX_ARTWORK_BYTES,
        ..ImageLimits::default()
    };
    let image = decode(&bytes, &limits)?;
    let mut renditions = vec![image.clean_encoding()?];
    renditions.extend(image.thumbnails()?);
    Ok(CheckedArtwork {
        media_type: image.format().mime_type(),
        width: image.width(),
        height: image.height(),
        perceptual_hash: image.perceptual_hash(),
        renditions,
        original: bytes,
    })
}

/// Writes the artwork's four blobs. Blobs go in before the row that references them, so a
/// failure leaves at worst an unreferenced blob, never a row pointing at nothing.
async fn store(services: &Services, artwork: CheckedArtwork) -> ServiceResult<Artwork> {
    let put = |bytes: Bytes, content_type: &str| {
        let blob = Blob {
            bytes,
            content_type: content_type.to_owned(),
        };
        async move { services.blobs.put(ARTWORK, blob).await.map_err(ServiceError::internal) }
    };
    let original_key = put(artwork.original.clone(), artwork.media_type).await?;
    let mut keys = Vec::with_capacity(artwork.renditions.len());
    for rendition in artwork.renditions {
        keys.push(put(Bytes::from(rendition.bytes), rendition.format.mime_type()).await?);
    }
    let [full_key, small_key, large_key]: [BlobKey; 3] = keys
        .try_into()
        .map_err(|_| ServiceError::internal(anyhow::anyhow!("expected a clean image and two thumbnails")))?;
    Ok(Artwork {
        content_hash: Sha3_256::digest(&artwork.original).into(),
        media_type: artwork.media_type.to_owned(),
        width: artwork.width,
        height: artwork.height,
        bytes: artwork.original.len() as u64,
        original_key,
        full_key,
        large_key,
        small_key,
        perceptual_hash: artwork.perceptual_hash,
    })
}

/// A rendition of `collection`'s artwork as served: an AI-generated one carries the implicit
/// label in its metadata, except the upload as sent, whose bytes the ledger commits to.
pub async fn served(services: &Services, collection: &Collection, rendition: Rendition) -> ServiceResult<Blob> {
    let mut blob = read(services, &collection.artwork, rendition).await?;
    if !collection.ai_generated() || rendition == Rendition::Original {
        return Ok(blob);
    }
    let producer = store::issuers::find(&services.db, collection.issuer)
        .await?
        .map(|issuer| issuer.legal_name)
        .unwrap_or_default();
    let label = ImplicitLabel::generated(
        producer,
        crypto::hex(&collection.artwork.content_hash),
        services.operator_name.clone(),
        services.absolute_url(&paths::collection(collection.id)),
    );
    if let Some(labelled) = aigc::embed(&blob.bytes, &label) {
        blob.bytes = Bytes::from(labelled);
    }
    Ok(blob)
}

/// The stored bytes of one rendition, with their media type.
pub async fn read(services: &Services, artwork: &Artwork, rendition: Rendition) -> ServiceResult<Blob> {
    services
        .blobs
        .get(rendition.key(artwork))
        .await
        .map_err(ServiceError::internal)
}
