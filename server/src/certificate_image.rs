//! The shareable certificate image of a token: a PNG with the artwork, title, serial, issuer,
//! ledger index and a QR code of the link that verifies it. It carries nothing personal, so
//! anyone may fetch it; the JSON certificate with the holder's salt stays with the holder.
//!
//! Text is drawn with an embedded subset of Noto Sans CJK SC (ASCII, Latin-1, punctuation, the
//! GB 2312 characters and every CJK unified ideograph of the basic block, so rare characters in
//! names such as 喆 or 堃 too; see `server/assets/fonts/OFL.txt`), so the image renders the same
//! on a machine without any fonts installed. Characters outside the subset (the extension
//! blocks) show as a box. Cards drawn lately are kept in a [`CertificateCache`].

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use qrcode::{Color, QrCode};
use sha3::{Digest, Sha3_256};

use crate::bytes_cache::BytesCache;

const REGULAR: &[u8] = include_bytes!("../assets/fonts/NotoSansCJKsc-Regular-subset.otf");
const BOLD: &[u8] = include_bytes!("../assets/fonts/NotoSansCJKsc-Bold-subset.otf");

/// A card's fingerprint: SHA3-256 over everything drawn on it.
pub type Fingerprint = [u8; 32];

/// Rendered certificate images, kept in memory by what they show. Drawing a card takes tens of
/// milliseconds of CPU, and a card shared on social media is fetched over and over; it only
/// changes with the token's status, its ledger index and the reader's language, all of which
/// are part of its [fingerprint](CertificateCard::fingerprint).
pub type CertificateCache = BytesCache<Fingerprint>;

/// Bytes of PNG the cache keeps at most: a few hundred typical cards (60–200 KiB each).
pub const CACHE_BUDGET: usize = 32 * 1024 * 1024;

pub const WIDTH: u32 = 1080;
pub const HEIGHT: u32 = 1440;

const PAPER: Rgb<u8> = Rgb([250, 247, 242]);
const INK: Rgb<u8> = Rgb([31, 36, 48]);
const MUTED: Rgb<u8> = Rgb([104, 110, 122]);
const ACCENT: Rgb<u8> = Rgb([164, 38, 44]);
const GOLD: Rgb<u8> = Rgb([196, 164, 104]);
const WARNING: Rgb<u8> = Rgb([176, 96, 0]);
const LABEL_PLATE: Rgb<u8> = Rgb([28, 28, 32]);

const MARGIN: u32 = 80;
const ARTWORK_TOP: u32 = 170;
const ARTWORK_BOX: u32 = 760;
const QR_SIZE: u32 = 232;

/// Everything the image says, already in the reader's language; the artwork comes separately.
pub struct CertificateCard {
    /// The operator's name, as configured.
    pub brand: String,
    /// "Digital collectible · non-transferable".
    pub kicker: String,
    pub title: String,
    /// `#12 / 1000`.
    pub serial: String,
    /// "Issuer: …".
    pub issuer: String,
    /// "Ledger entry #4711", or that it is still pending.
    pub ledger: String,
    /// Shown prominently when the token is frozen or revoked.
    pub status: Option<String>,
    /// The caption under the QR code.
    pub scan_hint: String,
    /// What the QR code links to.
    pub verify_url: String,
    /// The explicit label of an AI-generated artwork, drawn on its corner.
    pub ai_label: Option<String>,
}

impl CertificateCard {
    /// SHA3-256 over everything the image shows, with `artwork` (the artwork's blob key)
    /// standing for the artwork's bytes so that a cached image is found without fetching them,
    /// and the server's version standing for the drawing code.
    pub fn fingerprint(&self, artwork: Option<&str>) -> Fingerprint {
        let mut hasher = Sha3_256::new();
        let texts = [
            Some(env!("CARGO_PKG_VERSION")),
            Some(self.brand.as_str()),
            Some(self.kicker.as_str()),
            Some(self.title.as_str()),
            Some(self.serial.as_str()),
            Some(self.issuer.as_str()),
            Some(self.ledger.as_str()),
            self.status.as_deref(),
            Some(self.scan_hint.as_str()),
            Some(self.verify_url.as_str()),
            self.ai_label.as_deref(),
            artwork,
        ];
        for text in texts {
            // Length-prefixed, and absent distinct from empty, so no two cards collide.
            match text {
                Some(text) => {
                    hasher.update([1]);
                    hasher.update((text.len() as u64).to_be_bytes());
                    hasher.update(text.as_bytes());
                }
                None => hasher.update([0]),
            }
        }
        hasher.finalize().into()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("embedded font unreadable: {0}")]
    Font(#[from] ab_glyph::InvalidFont),
    #[error("verify link too long for a QR code: {0}")]
    Qr(#[from] qrcode::types::QrError),
    #[error("PNG encoding failed: {0}")]
    Encode(#[from] image::ImageError),
}

/// Renders the card as PNG bytes, with the artwork thumbnail (any format `image` decodes) if
/// it may be shown.
pub fn render(card: &CertificateCard, artwork_bytes: Option<&[u8]>) -> Result<Vec<u8>, CardError> {
    let regular = FontRef::try_from_slice(REGULAR)?;
    let bold = FontRef::try_from_slice(BOLD)?;
    let mut canvas = RgbImage::from_pixel(WIDTH, HEIGHT, PAPER);
    frame(&mut canvas);

    let left = MARGIN as f32;
    let text_width = (WIDTH - 2 * MARGIN - QR_SIZE - 40) as f32;
    // A long operator name is cut to half the line, leaving room for the kicker.
    let brand_line = wrap(&bold, 30.0, &card.brand, text_width / 2.0, 1)
        .pop()
        .unwrap_or_default();
    draw_text(&mut canvas, &bold, 30.0, left, 118.0, &brand_line, GOLD);
    let brand = measure(&bold, 30.0, &brand_line);
    draw_text(
        &mut canvas,
        &regular,
        26.0,
        left + brand + 24.0,
        116.0,
        &card.kicker,
        MUTED,
    );

    artwork(&mut canvas, artwork_bytes);
    if let Some(label) = &card.ai_label {
        // White on a dark plate edged in paper in the artwork's lower left corner: legible on
        // light and dark artwork alike.
        let width = measure(&bold, 28.0, label) as u32 + 32;
        let left = (WIDTH - ARTWORK_BOX) / 2 + 16;
        let top = ARTWORK_TOP + ARTWORK_BOX - 16 - 48;
        fill(&mut canvas, left - 3, top - 3, width + 6, 54, PAPER);
        fill(&mut canvas, left, top, width, 48, LABEL_PLATE);
        draw_text(
            &mut canvas,
            &bold,
            28.0,
            (left + 16) as f32,
            (top + 34) as f32,
            label,
            PAPER,
        );
    }

    let mut baseline = (ARTWORK_TOP + ARTWORK_BOX + 84) as f32;
    let full_width = (WIDTH - 2 * MARGIN) as f32;
    for line in wrap(&bold, 54.0, &card.title, full_width, 2) {
        draw_text(&mut canvas, &bold, 54.0, left, baseline, &line, INK);
        baseline += 68.0;
    }
    baseline += 8.0;
    draw_text(&mut canvas, &bold, 46.0, left, baseline, &card.serial, ACCENT);
    if let Some(status) = &card.status {
        let serial_width = measure(&bold, 46.0, &card.serial);
        draw_text(
            &mut canvas,
            &bold,
            34.0,
            left + serial_width + 28.0,
            baseline,
            status,
            WARNING,
        );
    }
    baseline += 62.0;
    for line in wrap(&regular, 30.0, &card.issuer, text_width, 2) {
        draw_text(&mut canvas, &regular, 30.0, left, baseline, &line, INK);
        baseline += 42.0;
    }
    draw_text(&mut canvas, &regular, 26.0, left, baseline + 4.0, &card.ledger, MUTED);

    let qr_left = WIDTH - MARGIN - QR_SIZE;
    let qr_top = HEIGHT - MARGIN - QR_SIZE - 36;
    qr(&mut canvas, &card.verify_url, qr_left, qr_top)?;
    let hint_width = measure(&regular, 22.0, &card.scan_hint);
    let hint_left = qr_left as f32 + (QR_SIZE as f32 - hint_width) / 2.0;
    draw_text(
        &mut canvas,
        &regular,
        22.0,
        hint_left,
        (qr_top + QR_SIZE + 30) as f32,
        &card.scan_hint,
        MUTED,
    );

    let mut png = Vec::new();
    DynamicImage::ImageRgb8(canvas).write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)?;
    Ok(png)
}

/// A double rule around the card, like a printed certificate.
fn frame(canvas: &mut RgbImage) {
    for (inset, thickness) in [(28u32, 3u32), (40, 1)] {
        fill(canvas, inset, inset, WIDTH - 2 * inset, thickness, GOLD);
        fill(
            canvas,
            inset,
            HEIGHT - inset - thickness,
            WIDTH - 2 * inset,
            thickness,
            GOLD,
        );
        fill(canvas, inset, inset, thickness, HEIGHT - 2 * inset, GOLD);
        fill(
            canvas,
            WIDTH - inset - thickness,
            inset,
            thickness,
            HEIGHT - 2 * inset,
            GOLD,
        );
    }
}

/// The artwork scaled into its square, centred; a plain panel when there is none to show or
/// it does not decode.
fn artwork(canvas: &mut RgbImage, bytes: Option<&[u8]>) {
    let left = (WIDTH - ARTWORK_BOX) / 2;
    let decoded = bytes.and_then(|b| image::load_from_memory(b).ok());
    let Some(art) = decoded else {
        fill(
            canvas,
            left,
            ARTWORK_TOP,
            ARTWORK_BOX,
            ARTWORK_BOX,
            Rgb([232, 228, 220]),
        );
        return;
    };
    let art = art.resize(ARTWORK_BOX, ARTWORK_BOX, FilterType::Triangle).to_rgb8();
    let x = left + (ARTWORK_BOX - art.width()) / 2;
    let y = ARTWORK_TOP + (ARTWORK_BOX - art.height()) / 2;
    fill(canvas, x + 6, y + 6, art.width(), art.height(), Rgb([226, 221, 211]));
    image::imageops::replace(canvas, &art, i64::from(x), i64::from(y));
}

/// The QR code, black modules on white with its quiet zone, scaled to whole pixels per module.
fn qr(canvas: &mut RgbImage, url: &str, left: u32, top: u32) -> Result<(), CardError> {
    let code = QrCode::new(url.as_bytes())?;
    let modules = code.width() as u32;
    let quiet = 4;
    let scale = (QR_SIZE / (modules + 2 * quiet)).max(1);
    let size = scale * (modules + 2 * quiet);
    let origin_x = left + (QR_SIZE - size) / 2;
    let origin_y = top + (QR_SIZE - size) / 2;
    fill(canvas, origin_x, origin_y, size, size, Rgb([255, 255, 255]));
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (mx, my) = (i as u32 % modules, i as u32 / modules);
            let x = origin_x + (quiet + mx) * scale;
            let y = origin_y + (quiet + my) * scale;
            fill(canvas, x, y, scale, scale, Rgb([0, 0, 0]));
        }
    }
    Ok(())
}

fn fill(canvas: &mut RgbImage, x: u32, y: u32, width: u32, height: u32, color: Rgb<u8>) {
    for py in y..(y + height).min(canvas.height()) {
        for px in x..(x + width).min(canvas.width()) {
            canvas.put_pixel(px, py, color);
        }
    }
}

/// One glyph of a line laid out from the origin.
struct Placed {
    /// Byte offset of its character in the text.
    at: usize,
    id: GlyphId,
    /// Pen position where it starts, and where its advance ends.
    x: f32,
    end: f32,
}

/// The glyphs of `text` laid out from the origin, with kerning.
fn layout<F: Font>(font: &F, size: f32, text: &str) -> Vec<Placed> {
    let scaled = font.as_scaled(PxScale::from(size));
    let mut caret = 0.0;
    let mut previous = None;
    let mut glyphs = Vec::with_capacity(text.len());
    for (at, c) in text.char_indices().filter(|(_, c)| !c.is_control()) {
        let id = scaled.glyph_id(c);
        if let Some(previous) = previous {
            caret += scaled.kern(previous, id);
        }
        let x = caret;
        caret += scaled.h_advance(id);
        glyphs.push(Placed { at, id, x, end: caret });
        previous = Some(id);
    }
    glyphs
}

fn measure<F: Font>(font: &F, size: f32, text: &str) -> f32 {
    layout(font, size, text).last().map_or(0.0, |g| g.end)
}

/// Draws one line with its baseline at `baseline`, blending the glyph coverage into the canvas.
fn draw_text<F: Font>(canvas: &mut RgbImage, font: &F, size: f32, x: f32, baseline: f32, text: &str, color: Rgb<u8>) {
    for placed in layout(font, size, text) {
        let glyph = placed.id.with_scale_and_position(size, point(x + placed.x, baseline));
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let px = bounds.min.x as i64 + i64::from(gx);
            let py = bounds.min.y as i64 + i64::from(gy);
            let (Ok(px), Ok(py)) = (u32::try_from(px), u32::try_from(py)) else {
                return;
            };
            if px >= canvas.width() || py >= canvas.height() {
                return;
            }
            let alpha = coverage.clamp(0.0, 1.0);
            let pixel = canvas.get_pixel_mut(px, py);
            for (channel, ink) in pixel.0.iter_mut().zip(color.0) {
                *channel = (f32::from(*channel) * (1.0 - alpha) + f32::from(ink) * alpha).round() as u8;
            }
        });
    }
}

/// Breaks `text` into at most `max_lines` lines no wider than `width`, at spaces where the text
/// has them and between any two characters otherwise (Chinese has no spaces); the last line
/// ends in an ellipsis when text is left over.
fn wrap<F: Font>(font: &F, size: f32, text: &str, width: f32, max_lines: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest: &str = text.trim();
    while !rest.is_empty() && lines.len() < max_lines {
        let last = lines.len() + 1 == max_lines;
        let fits = longest_prefix(font, size, rest, width);
        if fits == rest.len() {
            lines.push(rest.to_owned());
            break;
        }
        if last {
            let room = longest_prefix(font, size, rest, width - measure(font, size, "…"));
            lines.push(format!("{}…", rest[..room].trim_end()));
            break;
        }
        let at_space = rest[fits..].starts_with(' ');
        let cut = match rest[..fits].rfind(' ').filter(|&space| space > 0) {
            _ if at_space => fits,
            Some(space) => space,
            None => fits.max(rest.chars().next().map_or(1, char::len_utf8)),
        };
        lines.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    lines
}

/// The byte length of the longest prefix of `text` (on a character boundary) that fits `width`.
fn longest_prefix<F: Font>(font: &F, size: f32, text: &str, width: f32) -> usize {
    layout(font, size, text)
        .into_iter()
        .find(|g| g.end > width)
        .map_or(text.len(), |g| g.at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(title: &str) -> CertificateCard {
        CertificateCard {
            brand: "Keepsake 数字藏品".into(),
            kicker: "数字藏品 · 不可转让".into(),
            title: title.into(),
            serial: "#12 / 1000".into(),
            issuer: "发行方：新华文创（北京）有限公司".into(),
            ledger: "账本条目 #4711".into(),
            status: None,
            scan_hint: "扫码验证".into(),
            verify_url: "https://keepsake.example/verify?entry=4711".into(),
            ai_label: None,
        }
    }

    fn decode(png: &[u8]) -> RgbImage {
        image::load_from_memory_with_format(png, ImageFormat::Png)
            .expect("a PNG")
            .to_rgb8()
    }

    #[test]
    fn the_fingerprint_changes_with_anything_drawn() {
        let base = card("长城 · 日出");
        let print = base.fingerprint(Some("artwork/a"));
        assert_eq!(print, card("长城 · 日出").fingerprint(Some("artwork/a")));
        let variants = [
            card("长城 · 日落").fingerprint(Some("artwork/a")),
            base.fingerprint(Some("artwork/b")),
            base.fingerprint(None),
            CertificateCard {
                status: Some("已冻结".into()),
                ..card("长城 · 日出")
            }
            .fingerprint(Some("artwork/a")),
            CertificateCard {
                status: Some(String::new()),
                ..card("长城 · 日出")
            }
            .fingerprint(Some("artwork/a")),
            CertificateCard {
                ledger: "Ledger entry #4711".into(),
                ..card("长城 · 日出")
            }
            .fingerprint(Some("artwork/a")),
            CertificateCard {
                ai_label: Some("AI 生成".into()),
                ..card("长城 · 日出")
            }
            .fingerprint(Some("artwork/a")),
            CertificateCard {
                brand: "Another operator".into(),
                ..card("长城 · 日出")
            }
            .fingerprint(Some("artwork/a")),
            CertificateCard {
                kicker: "数字藏品 · 不可转让长城".into(),
                title: " · 日出".into(),
                ..card("")
            }
            .fingerprint(Some("artwork/a")),
        ];
        for (n, other) in variants.iter().enumerate() {
            assert_ne!(&print, other, "variant {n}");
        }
    }

    #[test]
    fn the_qr_code_in_the_image_reads_back_as_the_verify_link() {
        let png = render(&card("长城 · 日出"), None).unwrap();
        let image = decode(&png);
        assert_eq!((image.width(), image.height()), (WIDTH, HEIGHT));
        let mut grid = rqrr::PreparedImage::prepare_from_greyscale(WIDTH as usize, HEIGHT as usize, |x, y| {
            let p = image.get_pixel(x as u32, y as u32).0;
            ((u16::from(p[0]) + u16::from(p[1]) + u16::from(p[2])) / 3) as u8
        });
        let codes: Vec<String> = grid
            .detect_grids()
            .into_iter()
            .filter_map(|g| g.decode().ok().map(|(_, text)| text))
            .collect();
        assert_eq!(codes, vec!["https://keepsake.example/verify?entry=4711".to_owned()]);
    }

    #[test]
    fn the_artwork_is_drawn_into_its_square() {
        let art = RgbImage::from_pixel(64, 64, Rgb([10, 200, 30]));
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(art)
            .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        let with = decode(&render(&card("t"), Some(&bytes)).unwrap());
        let centre = (WIDTH / 2, ARTWORK_TOP + ARTWORK_BOX / 2);
        assert_eq!(with.get_pixel(centre.0, centre.1).0, [10, 200, 30]);
        let without = decode(&render(&card("t"), Some(b"not an image")).unwrap());
        assert_ne!(without.get_pixel(centre.0, centre.1).0, [10, 200, 30]);
    }

    #[test]
    fn an_ai_label_is_drawn_on_the_artworks_corner() {
        let corner = ((WIDTH - ARTWORK_BOX) / 2 + 20, ARTWORK_TOP + ARTWORK_BOX - 20);
        let labelled = CertificateCard {
            ai_label: Some("AI 生成".into()),
            ..card("t")
        };
        let with = decode(&render(&labelled, None).unwrap());
        let without = decode(&render(&card("t"), None).unwrap());
        assert_eq!(with.get_pixel(corner.0, corner.1).0, LABEL_PLATE.0);
        assert_ne!(without.get_pixel(corner.0, corner.1).0, LABEL_PLATE.0);
        let plate = (corner.1 - 44..corner.1).flat_map(|y| (corner.0..corner.0 + 150).map(move |x| (x, y)));
        let lettering = plate.filter(|&(x, y)| with.get_pixel(x, y).0 == PAPER.0).count();
        assert!(lettering > 50, "the label's letters are drawn on the plate");
    }

    #[test]
    fn text_is_drawn_in_ink_where_the_title_goes() {
        let ink_in_title_band = |image: &RgbImage| {
            let top = ARTWORK_TOP + ARTWORK_BOX + 30;
            (top..top + 70)
                .flat_map(|y| (MARGIN..WIDTH - MARGIN).map(move |x| (x, y)))
                .filter(|&(x, y)| image.get_pixel(x, y).0 == INK.0)
                .count()
        };
        let titled = decode(&render(&card("长城日出 Sunrise"), None).unwrap());
        let untitled = decode(&render(&card(""), None).unwrap());
        assert!(ink_in_title_band(&titled) > 200, "the title's glyphs are drawn");
        assert_eq!(ink_in_title_band(&untitled), 0);
    }

    #[test]
    fn both_weights_cover_common_text_and_every_basic_cjk_ideograph() {
        for font in [REGULAR, BOLD] {
            let font = FontRef::try_from_slice(font).unwrap();
            let missing: Vec<char> = ('\u{4e00}'..='\u{9fa5}')
                .chain("KEEPSAKE #12 / 1000，。、“”《》（）ÉéAz09·…".chars())
                .filter(|&c| font.glyph_id(c).0 == 0)
                .collect();
            assert!(missing.is_empty(), "no glyph for {missing:?}");
            assert_eq!(font.glyph_id('\u{20000}').0, 0, "extension B is not embedded");
        }
    }

    #[test]
    fn long_titles_wrap_into_two_lines_and_end_in_an_ellipsis() {
        let font = FontRef::try_from_slice(BOLD).unwrap();
        let width = 400.0;
        let short = wrap(&font, 54.0, "长城", width, 2);
        assert_eq!(short, vec!["长城"]);
        let lines = wrap(&font, 54.0, &"长城日出".repeat(20), width, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
        for line in &lines {
            assert!(measure(&font, 54.0, line) <= width, "{line} fits");
        }
        let words = wrap(&font, 54.0, "The Great Wall at sunrise over the hills", width, 2);
        assert!(
            words[0]
                .split(' ')
                .all(|w| "The Great Wall at sunrise over the hills".contains(w))
        );
        assert!(!words[0].ends_with(' ') && !words[1].starts_with(' '));
    }
}
