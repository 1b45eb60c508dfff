//! What a page shared elsewhere carries: its full address, a QR code of it, and the Open
//! Graph preview that chat apps show for a link (title, description, image).

use qrcode::QrCode;
use qrcode::render::svg;

use super::context::RequestContext;
use super::error::{AppError, AppResult};

/// A shareable page, as its template shows it.
pub struct Share {
    pub url: String,
    pub title: String,
    pub description: String,
    /// A full address of a preview image.
    pub image: Option<String>,
    /// An inline SVG QR code of `url`.
    pub qr: String,
}

impl Share {
    /// The page at `path`; `image` is a path on this platform.
    pub fn new(
        ctx: &RequestContext,
        path: &str,
        title: &str,
        description: &str,
        image: Option<&str>,
    ) -> AppResult<Self> {
        let url = ctx.absolute(path);
        // Previews show a line or two; long descriptions are cut at a character boundary.
        let description: String = description.split_whitespace().collect::<Vec<_>>().join(" ");
        let description = match description.char_indices().nth(160) {
            Some((at, _)) => format!("{}…", &description[..at]),
            None => description,
        };
        Ok(Share {
            qr: qr_svg(&url, 160)?,
            url,
            title: title.to_owned(),
            description,
            image: image.map(|path| ctx.absolute(path)),
        })
    }
}

/// An inline SVG QR code of `link`, at least `size` pixels square.
pub fn qr_svg(link: &str, size: u32) -> AppResult<String> {
    let code = QrCode::new(link.as_bytes()).map_err(|e| AppError::Internal(e.into()))?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build();
    // Inline in HTML, the XML declaration is noise.
    Ok(svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest).to_owned())
}
