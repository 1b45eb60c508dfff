//! Image intake against crafted inputs: every accepted format, non-images, decompression
//! bombs, EXIF stripping and orientation, look-alike detection and thumbnails. All images are
//! generated here, so the tests carry no binary fixtures.

use std::time::{Duration, Instant};

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use moderation::image::{ImageError, ImageFormat, ImageLimits, decode, sniff};
use moderation::phash::{DEFAULT_MAX_DISTANCE, PerceptualHash, matches_within};

/// A gradient with a few filled circles and bars placed by `seed`: enough structure for a
/// perceptual hash to tell two seeds apart.
fn artwork(seed: u32, width: u32, height: u32) -> RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    let mut next = move |bound: u32| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 8) % bound
    };
    let shapes: Vec<(u32, u32, u32, [u8; 3])> = (0..6)
        .map(|_| {
            let r = width / 12 + next(width / 6);
            (
                next(width),
                next(height),
                r,
                [next(256) as u8, next(256) as u8, next(256) as u8],
            )
        })
        .collect();
    let bars = (next(width), width / 10);
    RgbImage::from_fn(width, height, |x, y| {
        let mut pixel = Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128]);
        if x >= bars.0 && x < bars.0 + bars.1 {
            pixel = Rgb([20, 20, 20]);
        }
        for &(cx, cy, r, colour) in &shapes {
            let (dx, dy) = (x.abs_diff(cx), y.abs_diff(cy));
            if dx * dx + dy * dy <= r * r {
                pixel = Rgb(colour);
            }
        }
        pixel
    })
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_with_encoder(PngEncoder::new(&mut out)).unwrap();
    out
}

fn jpeg(image: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality))
        .unwrap();
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small valid PNG whose IHDR chunk (with a correct CRC) claims other dimensions.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(&DynamicImage::ImageRgb8(artwork(1, 16, 16)));
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn accepts_each_supported_format_by_its_bytes() {
    let art = DynamicImage::ImageRgb8(artwork(3, 64, 48));
    let mut webp = Vec::new();
    art.write_with_encoder(WebPEncoder::new_lossless(&mut webp)).unwrap();
    let mut gif = Vec::new();
    GifEncoder::new(&mut gif)
        .encode_frame(image::Frame::new(art.to_rgba8()))
        .unwrap();
    for (bytes, format) in [
        (png(&art), ImageFormat::Png),
        (jpeg(&art, 90), ImageFormat::Jpeg),
        (webp, ImageFormat::WebP),
        (gif, ImageFormat::Gif),
    ] {
        assert_eq!(sniff(&bytes), Some(format));
        let decoded = decode(&bytes, &ImageLimits::default()).unwrap();
        assert_eq!((decoded.format(), decoded.width(), decoded.height()), (format, 64, 48));
    }
}

#[test]
fn refuses_non_images_whatever_they_are_called() {
    for bytes in [
        b"this is a text file saved as artwork.png".to_vec(),
        b"%PDF-1.7\n".to_vec(),
        b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(),
        b"BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00".to_vec(),
        b"II*\x00\x08\x00\x00\x00".to_vec(),
        Vec::new(),
    ] {
        let err = decode(&bytes, &ImageLimits::default()).unwrap_err();
        assert_eq!(err, ImageError::UnsupportedFormat);
        assert_eq!(
            err.to_string(),
            "the file is not a PNG, JPEG, WebP or GIF image, whatever its name says"
        );
    }
}

#[test]
fn refuses_a_header_bomb_before_decoding() {
    let bomb = png_claiming(100_000, 100_000);
    let started = Instant::now();
    let err = decode(&bomb, &ImageLimits::default()).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(
        err,
        ImageError::DimensionsTooLarge {
            width: 100_000,
            height: 100_000,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "the image is 100000 x 100000 pixels; at most 16384 x 16384 allowed"
    );
}

#[test]
fn refuses_too_many_pixels_within_side_limits() {
    let err = decode(&png_claiming(16_000, 16_000), &ImageLimits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the image is 16000 x 16000 = 256000000 pixels; at most 50000000 pixels allowed"
    );
}

#[test]
fn refuses_oversized_files_and_memory_hungry_images() {
    let bytes = png(&DynamicImage::ImageRgb8(artwork(1, 100, 100)));
    let small_file = ImageLimits {
        max_bytes: 100,
        ..ImageLimits::default()
    };
    assert!(matches!(
        decode(&bytes, &small_file),
        Err(ImageError::FileTooLarge { max: 100, .. })
    ));
    let little_memory = ImageLimits {
        max_alloc: 1_000,
        ..ImageLimits::default()
    };
    assert_eq!(
        decode(&bytes, &little_memory).unwrap_err(),
        ImageError::MemoryLimit { max: 1_000 }
    );
}

#[test]
fn refuses_truncated_and_empty_images() {
    let bytes = png(&DynamicImage::ImageRgb8(artwork(1, 100, 100)));
    let err = decode(&bytes[..bytes.len() / 2], &ImageLimits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::Corrupt {
                format: ImageFormat::Png,
                ..
            }
        ),
        "{err}"
    );
    assert!(decode(&png_claiming(0, 16), &ImageLimits::default()).is_err());
}

/// A JPEG with an APP1 EXIF segment holding one tag, Orientation = 6 (rotate 90° clockwise to
/// display), as phones write.
fn jpeg_with_exif(image: &DynamicImage) -> Vec<u8> {
    let plain = jpeg(image, 90);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[6, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(segment.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&plain[2..]);
    out
}

#[test]
fn re_encoding_strips_exif_after_applying_orientation() {
    let art = DynamicImage::ImageRgb8(artwork(5, 120, 80));
    let upload = jpeg_with_exif(&art);
    assert!(contains(&upload, b"Exif"));
    let decoded = decode(&upload, &ImageLimits::default()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (80, 120), "orientation applied");
    let clean = decoded.clean_encoding().unwrap();
    assert_eq!(clean.format, ImageFormat::Jpeg);
    assert!(!contains(&clean.bytes, b"Exif"));
    let again = decode(&clean.bytes, &ImageLimits::default()).unwrap();
    assert_eq!((again.width(), again.height()), (80, 120));
    for thumbnail in decoded.thumbnails().unwrap() {
        assert!(!contains(&thumbnail.bytes, b"Exif"));
    }
}

#[test]
fn non_jpeg_uploads_are_re_encoded_as_png_keeping_transparency() {
    let mut rgba = RgbaImage::from_pixel(40, 30, Rgba([10, 200, 30, 255]));
    rgba.put_pixel(3, 3, Rgba([0, 0, 0, 0]));
    let mut gif = Vec::new();
    GifEncoder::new(&mut gif).encode_frame(image::Frame::new(rgba)).unwrap();
    let clean = decode(&gif, &ImageLimits::default()).unwrap().clean_encoding().unwrap();
    assert_eq!(clean.format, ImageFormat::Png);
    let back = image::load_from_memory(&clean.bytes).unwrap().to_rgba8();
    assert_eq!(back.get_pixel(3, 3)[3], 0);
    assert_eq!(back.get_pixel(10, 10)[3], 255);
}

#[test]
fn a_resized_recompressed_copy_is_similar_and_another_artwork_is_not() {
    let original = DynamicImage::ImageRgb8(artwork(11, 800, 600));
    let original_hash = decode(&png(&original), &ImageLimits::default())
        .unwrap()
        .perceptual_hash();

    let copy = original.resize(360, 270, FilterType::Lanczos3);
    let copy_hash = decode(&jpeg(&copy, 60), &ImageLimits::default())
        .unwrap()
        .perceptual_hash();
    assert!(
        original_hash.distance(copy_hash) <= DEFAULT_MAX_DISTANCE,
        "copy at distance {}",
        original_hash.distance(copy_hash)
    );

    for seed in [12, 13, 14, 15] {
        let other = DynamicImage::ImageRgb8(artwork(seed, 800, 600));
        let other_hash = decode(&jpeg(&other, 90), &ImageLimits::default())
            .unwrap()
            .perceptual_hash();
        assert!(
            original_hash.distance(other_hash) > DEFAULT_MAX_DISTANCE,
            "seed {seed} at distance {}",
            original_hash.distance(other_hash)
        );
    }

    let other_issuers = [
        (
            "other",
            PerceptualHash::of(&DynamicImage::ImageRgb8(artwork(12, 800, 600))),
        ),
        ("copy", copy_hash),
    ];
    let found = matches_within(original_hash, &other_issuers, DEFAULT_MAX_DISTANCE);
    assert_eq!(found.iter().map(|m| m.id).collect::<Vec<_>>(), ["copy"]);
}

#[test]
fn thumbnails_fit_their_boxes_without_enlarging() {
    let big = decode(
        &jpeg(&DynamicImage::ImageRgb8(artwork(2, 2000, 1000)), 85),
        &ImageLimits::default(),
    )
    .unwrap();
    let thumbs = big.thumbnails().unwrap();
    let sizes: Vec<_> = thumbs.iter().map(|t| (t.format, t.width, t.height)).collect();
    assert_eq!(sizes, [(ImageFormat::Jpeg, 256, 128), (ImageFormat::Jpeg, 1024, 512)]);
    for t in &thumbs {
        let back = image::load_from_memory(&t.bytes).unwrap();
        assert_eq!((back.width(), back.height()), (t.width, t.height));
    }

    let small = decode(
        &png(&DynamicImage::ImageRgba8(RgbaImage::new(100, 50))),
        &ImageLimits::default(),
    )
    .unwrap();
    let sizes: Vec<_> = small
        .thumbnails()
        .unwrap()
        .iter()
        .map(|t| (t.format, t.width, t.height))
        .collect();
    assert_eq!(sizes, [(ImageFormat::Png, 100, 50), (ImageFormat::Png, 100, 50)]);
}
