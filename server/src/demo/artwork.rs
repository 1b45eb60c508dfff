//! Generated artwork for the demonstration collections: a sun over layered hills in one of a
//! few palettes, drawn pixel by pixel so that no image file ships with the program.

use image::{Rgb, RgbImage};

const SIZE: u32 = 800;

/// (sky top, sky bottom, sun, hills near, hills far)
const PALETTES: [[[u8; 3]; 5]; 3] = [
    [
        [250, 214, 165],
        [237, 127, 88],
        [255, 240, 200],
        [96, 52, 44],
        [158, 82, 62],
    ],
    [
        [32, 60, 94],
        [120, 170, 190],
        [240, 210, 120],
        [24, 40, 56],
        [52, 86, 104],
    ],
    [
        [242, 236, 220],
        [214, 176, 120],
        [164, 51, 42],
        [70, 60, 50],
        [130, 110, 86],
    ],
];

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t) as u8)
}

/// The artwork for `seed` as PNG bytes.
pub fn png(seed: u32) -> Vec<u8> {
    let [sky_top, sky_bottom, sun, near, far] = PALETTES[seed as usize % PALETTES.len()];
    let phase = seed as f32 * 1.7;
    let image = RgbImage::from_fn(SIZE, SIZE, |x, y| {
        let (fx, fy) = (x as f32 / SIZE as f32, y as f32 / SIZE as f32);
        let far_ridge = 0.58 + 0.06 * (fx * 7.0 + phase).sin() + 0.03 * (fx * 19.0).cos();
        let near_ridge = 0.72 + 0.05 * (fx * 4.0 - phase).cos() + 0.02 * (fx * 23.0 + phase).sin();
        let sun_distance = ((fx - 0.62).powi(2) + (fy - 0.42).powi(2)).sqrt();
        let colour = if fy > near_ridge {
            mix(near, [0, 0, 0], (fy - near_ridge) * 0.8)
        } else if fy > far_ridge {
            far
        } else if sun_distance < 0.12 {
            sun
        } else {
            let glow = (0.3 - sun_distance).max(0.0);
            mix(mix(sky_top, sky_bottom, fy / 0.7), sun, glow * 1.5)
        };
        Rgb(colour)
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut out))
        .expect("encoding a PNG in memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_seed_draws_its_own_picture() {
        let first = super::png(1);
        assert!(first.starts_with(b"\x89PNG"));
        assert_ne!(first, super::png(2));
        assert_eq!(first, super::png(1), "the same seed draws the same picture");
    }
}
