//! The implicit label of AI-generated content in image files (GB 45438-2025): an XMP packet
//! whose `TC260:AIGC` property holds the standard's JSON (`Label`, `ContentProducer`,
//! `ProduceID`, `ReservedCode1`, `ContentPropagator`, `PropagateID`, `ReservedCode2`), put
//! where XMP goes in each format: an `iTXt` chunk keyed `XML:com.adobe.xmp` right after a
//! PNG's header, an `APP1` segment right after a JPEG's start (and its JFIF segment).
//!
//! The served renditions carry it; the upload as sent never changes, since the ledger commits
//! to its bytes. Re-encoding drops every other metadata, so this is the only metadata served.

use serde::Serialize;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const XMP_PNG_KEYWORD: &[u8] = b"XML:com.adobe.xmp";
const XMP_JPEG_NAMESPACE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// The namespace of the TC260 practice guide for the `AIGC` property.
pub const TC260_NAMESPACE: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";

/// What the label says about one image, in the standard's field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImplicitLabel {
    /// `1`: the content is AI-generated (declared by its issuer or found so by a reviewer).
    #[serde(rename = "Label")]
    pub label: &'static str,
    /// Who made the content: the issuer.
    #[serde(rename = "ContentProducer")]
    pub producer: String,
    /// The producer's id for it: the artwork's content hash.
    #[serde(rename = "ProduceID")]
    pub produce_id: String,
    #[serde(rename = "ReservedCode1")]
    pub reserved1: String,
    /// Who spreads it: the operator of this platform.
    #[serde(rename = "ContentPropagator")]
    pub propagator: String,
    /// The propagator's id for it: the collection's public address.
    #[serde(rename = "PropagateID")]
    pub propagate_id: String,
    #[serde(rename = "ReservedCode2")]
    pub reserved2: String,
}

impl ImplicitLabel {
    /// The label of content known to be AI-generated.
    pub fn generated(producer: String, produce_id: String, propagator: String, propagate_id: String) -> Self {
        ImplicitLabel {
            label: "1",
            producer,
            produce_id,
            reserved1: String::new(),
            propagator,
            propagate_id,
            reserved2: String::new(),
        }
    }

    /// The XMP packet carrying the label.
    pub fn xmp(&self) -> String {
        let json = serde_json::to_string(self).expect("a label serialises");
        format!(
            "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
             <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\
             <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
             <rdf:Description rdf:about=\"\" xmlns:TC260=\"{TC260_NAMESPACE}\">\
             <TC260:AIGC>{}</TC260:AIGC>\
             </rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"r\"?>",
            escape(&json)
        )
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `image` with `label` in its metadata, for the PNG and JPEG files the platform serves;
/// `None` for anything else (which it never serves) or a file too broken to place it in.
pub fn embed(image: &[u8], label: &ImplicitLabel) -> Option<Vec<u8>> {
    let xmp = label.xmp();
    if image.starts_with(PNG_SIGNATURE) {
        embed_png(image, xmp.as_bytes())
    } else if image.starts_with(&[0xFF, 0xD8]) {
        embed_jpeg(image, xmp.as_bytes())
    } else {
        None
    }
}

/// An uncompressed `iTXt` chunk after `IHDR`, which the PNG specification puts first.
fn embed_png(png: &[u8], xmp: &[u8]) -> Option<Vec<u8>> {
    let header_end = PNG_SIGNATURE.len() + 8 + 13 + 4;
    if png.len() < header_end || &png[PNG_SIGNATURE.len() + 4..PNG_SIGNATURE.len() + 8] != b"IHDR" {
        return None;
    }
    // keyword, NUL, compression flag and method, empty language tag and translated keyword.
    let mut data = Vec::with_capacity(XMP_PNG_KEYWORD.len() + 5 + xmp.len());
    data.extend_from_slice(XMP_PNG_KEYWORD);
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(xmp);
    let length = u32::try_from(data.len()).ok()?;
    let mut crc = crc32fast::Hasher::new();
    crc.update(b"iTXt");
    crc.update(&data);
    let mut out = Vec::with_capacity(png.len() + data.len() + 12);
    out.extend_from_slice(&png[..header_end]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(b"iTXt");
    out.extend_from_slice(&data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out.extend_from_slice(&png[header_end..]);
    Some(out)
}

/// An `APP1` XMP segment after the start of image and the `APP0` (JFIF) segment if there is
/// one, which must come first.
fn embed_jpeg(jpeg: &[u8], xmp: &[u8]) -> Option<Vec<u8>> {
    let mut at = 2;
    if jpeg.get(2..4) == Some(&[0xFF, 0xE0]) {
        let length = usize::from(u16::from_be_bytes([*jpeg.get(4)?, *jpeg.get(5)?]));
        at = 4 + length;
        if at > jpeg.len() {
            return None;
        }
    }
    let length = u16::try_from(2 + XMP_JPEG_NAMESPACE.len() + xmp.len()).ok()?;
    let mut out = Vec::with_capacity(jpeg.len() + usize::from(length) + 2);
    out.extend_from_slice(&jpeg[..at]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(XMP_JPEG_NAMESPACE);
    out.extend_from_slice(xmp);
    out.extend_from_slice(&jpeg[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use image::{DynamicImage, ImageFormat, RgbImage};

    use super::*;

    fn label() -> ImplicitLabel {
        ImplicitLabel::generated(
            "新华文创 & <Partners>".into(),
            "ab".repeat(32),
            "Keepsake".into(),
            "https://collect.example.cn/collections/7".into(),
        )
    }

    fn encoded(format: ImageFormat) -> Vec<u8> {
        let image = DynamicImage::ImageRgb8(RgbImage::from_fn(32, 24, |x, y| {
            image::Rgb([x as u8 * 8, y as u8 * 10, 90])
        }));
        let mut bytes = Vec::new();
        image.write_to(&mut std::io::Cursor::new(&mut bytes), format).unwrap();
        bytes
    }

    /// The `TC260:AIGC` value of the packet in `bytes`, unescaped.
    fn aigc_json(bytes: &[u8]) -> serde_json::Value {
        let text = String::from_utf8_lossy(bytes);
        let start = text.find("<TC260:AIGC>").expect("the property") + "<TC260:AIGC>".len();
        let end = text[start..].find("</TC260:AIGC>").unwrap() + start;
        let json = text[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn the_json_has_the_standards_fields_in_order() {
        let json = serde_json::to_string(&label()).unwrap();
        let keys: Vec<&str> = [
            "Label",
            "ContentProducer",
            "ProduceID",
            "ReservedCode1",
            "ContentPropagator",
            "PropagateID",
            "ReservedCode2",
        ]
        .into_iter()
        .filter(|key| json.contains(&format!("\"{key}\":")))
        .collect();
        assert_eq!(keys.len(), 7, "{json}");
        assert!(json.starts_with("{\"Label\":\"1\",\"ContentProducer\""), "{json}");
    }

    #[test]
    fn labelled_files_still_decode_and_carry_the_label() {
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let plain = encoded(format);
            let labelled = embed(&plain, &label()).expect("a label goes in");
            let decoded = image::load_from_memory_with_format(&labelled, format).expect("still an image");
            let original = image::load_from_memory_with_format(&plain, format).unwrap();
            assert_eq!(
                decoded.to_rgb8(),
                original.to_rgb8(),
                "{format:?}: the pixels are untouched"
            );
            let json = aigc_json(&labelled);
            assert_eq!(json["Label"], "1");
            assert_eq!(json["ContentProducer"], "新华文创 & <Partners>", "escaped and back");
            assert_eq!(json["PropagateID"], "https://collect.example.cn/collections/7");
        }
    }

    #[test]
    fn the_png_chunk_comes_right_after_the_header_with_a_valid_crc() {
        let labelled = embed(&encoded(ImageFormat::Png), &label()).unwrap();
        let chunk = &labelled[33..];
        let length = u32::from_be_bytes(chunk[..4].try_into().unwrap()) as usize;
        assert_eq!(&chunk[4..8], b"iTXt");
        assert!(chunk[8..].starts_with(b"XML:com.adobe.xmp\0"));
        let crc = u32::from_be_bytes(chunk[8 + length..12 + length].try_into().unwrap());
        assert_eq!(crc, crc32fast::hash(&chunk[4..8 + length]));
    }

    #[test]
    fn anything_else_is_left_alone() {
        assert_eq!(embed(b"GIF89a....", &label()), None);
        assert_eq!(embed(b"\x89PNG\r\n\x1a\n\0\0", &label()), None, "a truncated PNG");
        assert_eq!(
            embed(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF], &label()),
            None,
            "a truncated JPEG"
        );
    }
}
