//! Image intake: format sniffing, bounded decoding, metadata-free re-encoding and thumbnails.
//!
//! Uploaded artwork is untrusted bytes. [`decode`] accepts only PNG, JPEG, WebP and GIF, judged
//! by the bytes themselves (a file name or declared content type proves nothing), and refuses an
//! oversized file or a decompression bomb before decoding a single pixel: the dimensions come
//! from the header and are checked against [`ImageLimits`] first, and the decoder then runs under
//! `image::Limits` as a second line of defence.
//!
//! Nothing of the upload is ever served as is. [`DecodedImage::clean_encoding`] re-encodes the
//! pixels, which drops every metadata block (EXIF with GPS position and camera serial, XMP, text
//! chunks, comments): JPEG stays JPEG (re-compressing a photo as PNG would bloat it), anything
//! else becomes PNG, which keeps transparency losslessly. The EXIF orientation is applied to the
//! pixels before that, so photos still display upright once the tag is gone. Animated GIF and
//! WebP files keep their first frame only: collectibles are still images here.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageReader};
use thiserror::Error;

use crate::phash::PerceptualHash;

/// The image formats accepted on upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
    WebP,
    Gif,
}

impl ImageFormat {
    /// The media type to serve an encoding of this format with.
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::WebP => "image/webp",
            ImageFormat::Gif => "image/gif",
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::WebP => "webp",
            ImageFormat::Gif => "gif",
        }
    }

    fn to_image_crate(self) -> image::ImageFormat {
        match self {
            ImageFormat::Png => image::ImageFormat::Png,
            ImageFormat::Jpeg => image::ImageFormat::Jpeg,
            ImageFormat::WebP => image::ImageFormat::WebP,
            ImageFormat::Gif => image::ImageFormat::Gif,
        }
    }
}

impl std::fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImageFormat::Png => "PNG",
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::WebP => "WebP",
            ImageFormat::Gif => "GIF",
        })
    }
}

/// Bounds on what an upload may cost to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Size of the encoded file.
    pub max_bytes: usize,
    pub max_width: u32,
    pub max_height: u32,
    /// Width × height; keeps a long thin bomb from passing both side limits.
    pub max_pixels: u64,
    /// Memory the decoder may allocate, including the decoded pixels.
    pub max_alloc: u64,
}

/// 32 MiB files, sides up to 16 384 pixels, 50 megapixels, 512 MiB of decoder memory: room for
/// a full-resolution photo from any current camera, and a bound of about 200 MB of RGBA pixels.
impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: 32 * 1024 * 1024,
            max_width: 16_384,
            max_height: 16_384,
            max_pixels: 50_000_000,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImageError {
    #[error("the file is {size} bytes; at most {max} bytes are allowed")]
    FileTooLarge { size: usize, max: usize },
    #[error("the file is not a PNG, JPEG, WebP or GIF image, whatever its name says")]
    UnsupportedFormat,
    #[error("the image is {width} x {height} pixels; at most {max_width} x {max_height} allowed")]
    DimensionsTooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    #[error("the image is {width} x {height} = {pixels} pixels; at most {max} pixels allowed")]
    TooManyPixels {
        width: u32,
        height: u32,
        pixels: u64,
        max: u64,
    },
    #[error("the image is {width} x {height} pixels: there is nothing to show")]
    NoPixels { width: u32, height: u32 },
    #[error("decoding the image would need more than the {max} bytes of memory allowed")]
    MemoryLimit { max: u64 },
    #[error("the {format} image is damaged or incomplete: {reason}")]
    Corrupt { format: ImageFormat, reason: String },
    #[error("the image could not be re-encoded: {0}")]
    Encode(String),
}

/// Identifies an accepted format from the first bytes of a file.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// An upload that passed every limit, decoded and turned upright.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    format: ImageFormat,
    image: DynamicImage,
}

/// An image encoded by this crate, ready to store and serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedImage {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// Longest sides of the thumbnails the server serves, ascending: a card in a grid and a detail
/// view.
pub const THUMBNAIL_SIDES: [u32; 2] = [256, 1024];

/// JPEG quality for re-encoded photos: visually lossless for artwork, and far smaller than PNG.
const CLEAN_JPEG_QUALITY: u8 = 90;
const THUMBNAIL_JPEG_QUALITY: u8 = 82;

/// Sniffs, checks and decodes an upload; see the module documentation.
pub fn decode(bytes: &[u8], limits: &ImageLimits) -> Result<DecodedImage, ImageError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::FileTooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let format = sniff(bytes).ok_or(ImageError::UnsupportedFormat)?;
    let corrupt = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => ImageError::MemoryLimit { max: limits.max_alloc },
        other => ImageError::Corrupt {
            format,
            reason: other.to_string(),
        },
    };
    let reader = |image_limits: image::Limits| {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format.to_image_crate());
        reader.limits(image_limits);
        reader
    };

    // Reading the header alone allocates nothing in proportion to the claimed size, so it runs
    // unbounded in order to report the dimensions themselves rather than a generic limit error.
    let (width, height) = reader(image::Limits::no_limits()).into_dimensions().map_err(corrupt)?;
    check_dimensions(width, height, limits)?;

    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    image_limits.max_alloc = Some(limits.max_alloc);
    let mut decoder = reader(image_limits).into_decoder().map_err(corrupt)?;
    if decoder.total_bytes() > limits.max_alloc {
        return Err(ImageError::MemoryLimit { max: limits.max_alloc });
    }
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    Ok(DecodedImage { format, image })
}

fn check_dimensions(width: u32, height: u32, limits: &ImageLimits) -> Result<(), ImageError> {
    if width > limits.max_width || height > limits.max_height {
        return Err(ImageError::DimensionsTooLarge {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(ImageError::TooManyPixels {
            width,
            height,
            pixels,
            max: limits.max_pixels,
        });
    }
    if pixels == 0 {
        return Err(ImageError::NoPixels { width, height });
    }
    Ok(())
}

impl DecodedImage {
    /// The format the upload was in.
    pub fn format(&self) -> ImageFormat {
        self.format
    }

    /// Width in display orientation.
    pub fn width(&self) -> u32 {
        self.image.width()
    }

    /// Height in display orientation.
    pub fn height(&self) -> u32 {
        self.image.height()
    }

    /// The decoded pixels, upright.
    pub fn image(&self) -> &DynamicImage {
        &self.image
    }

    /// The perceptual hash of the upright image.
    pub fn perceptual_hash(&self) -> PerceptualHash {
        PerceptualHash::of(&self.image)
    }

    /// Re-encodes the full image without any metadata: JPEG for JPEG uploads, PNG otherwise.
    pub fn clean_encoding(&self) -> Result<EncodedImage, ImageError> {
        let format = if self.format == ImageFormat::Jpeg {
            ImageFormat::Jpeg
        } else {
            ImageFormat::Png
        };
        encode(&self.image, format, CLEAN_JPEG_QUALITY)
    }

    /// One encoding per entry of [`THUMBNAIL_SIDES`], in that order, each fitting within a square
    /// of that side. Smaller images are not enlarged. Images with transparency become PNG,
    /// others JPEG.
    pub fn thumbnails(&self) -> Result<Vec<EncodedImage>, ImageError> {
        let format = if self.image.color().has_alpha() {
            ImageFormat::Png
        } else {
            ImageFormat::Jpeg
        };
        // Largest first, each made from the previous one, so the full image is filtered once.
        let mut source = self.image.clone();
        let mut made = Vec::with_capacity(THUMBNAIL_SIDES.len());
        for side in THUMBNAIL_SIDES.into_iter().rev() {
            if source.width() > side || source.height() > side {
                source = source.resize(side, side, FilterType::Triangle);
            }
            made.push(encode(&source, format, THUMBNAIL_JPEG_QUALITY)?);
        }
        made.reverse();
        Ok(made)
    }
}

fn encode(image: &DynamicImage, format: ImageFormat, jpeg_quality: u8) -> Result<EncodedImage, ImageError> {
    let mut bytes = Vec::new();
    let result = match format {
        ImageFormat::Jpeg => {
            let encoder = JpegEncoder::new_with_quality(&mut bytes, jpeg_quality);
            // JPEG has neither alpha nor 16-bit samples.
            match image {
                DynamicImage::ImageRgb8(_) | DynamicImage::ImageLuma8(_) => image.write_with_encoder(encoder),
                _ if image.color().has_color() => DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder),
                _ => DynamicImage::ImageLuma8(image.to_luma8()).write_with_encoder(encoder),
            }
        }
        _ => image.write_with_encoder(PngEncoder::new(&mut bytes)),
    };
    result.map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(EncodedImage {
        format,
        width: image.width(),
        height: image.height(),
        bytes,
    })
}
