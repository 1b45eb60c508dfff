//! Screening throughput: text against 10 000 terms (target: at least 100 MB/s) and the full
//! intake of a 12-megapixel JPEG (target: under 300 ms for decode, hash and look-alike check).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, Rgb, RgbImage};
use moderation::image::{ImageLimits, decode};
use moderation::lists::{Allowlist, Category, Severity, TermList};
use moderation::normalise::normalise;
use moderation::phash::{DEFAULT_MAX_DISTANCE, PerceptualHash, matches_within};
use moderation::text::TextScreener;

/// Deterministic pseudo-random numbers, so every run screens the same input.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }

    fn han(&mut self) -> char {
        char::from_u32(0x4E00 + u32::try_from(self.next(0x5000)).unwrap_or(0)).unwrap_or('字')
    }
}

/// 10 000 terms: half two-to-four Han characters, half Latin words, over all categories.
fn lists() -> Vec<TermList> {
    let mut rng = Lcg(7);
    let mut lists = Vec::new();
    for (i, category) in Category::ALL.into_iter().enumerate() {
        for severity in [Severity::Block, Severity::Review] {
            let terms = (0..1_000)
                .map(|j| {
                    if j % 2 == 0 {
                        let len = 2 + rng.next(3);
                        (0..len).map(|_| rng.han()).collect()
                    } else {
                        let len = 5 + rng.next(6);
                        (0..len).map(|_| char::from(b'a' + rng.next(26) as u8)).collect()
                    }
                })
                .collect();
            lists.push(TermList {
                category,
                severity,
                version: format!("bench-{i}"),
                terms,
            });
        }
    }
    lists
}

/// About 1 MB of mixed Chinese and English prose-like text.
fn text(bytes: usize) -> String {
    let mut rng = Lcg(11);
    let mut out = String::with_capacity(bytes + 64);
    let words = [
        "the",
        "collection",
        "limited",
        "artwork",
        "museum",
        "edition",
        "of",
        "and",
        "free",
        "claim",
    ];
    while out.len() < bytes {
        for _ in 0..20 {
            out.push(rng.han());
        }
        out.push('，');
        for _ in 0..8 {
            out.push_str(words[rng.next(words.len() as u64) as usize]);
            out.push(' ');
        }
        out.push_str("。\n");
    }
    out
}

fn text_screening(c: &mut Criterion) {
    let screener = TextScreener::new(&lists(), &Allowlist::default()).expect("lists compile");
    let mut group = c.benchmark_group("text");
    for (name, input) in [
        ("mixed_zh_en_1MB", text(1 << 20)),
        (
            "ascii_1MB",
            "plain ascii text for a limited edition, free to claim. ".repeat((1 << 20) / 55),
        ),
    ] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_function(format!("normalise_only/{name}"), |b| {
            b.iter(|| black_box(normalise(black_box(&input))))
        });
        group.bench_function(format!("screen_10000_terms/{name}"), |b| {
            b.iter(|| black_box(screener.screen(black_box(&input))))
        });
    }
    group.finish();
}

fn photo_12mp() -> Vec<u8> {
    let (width, height) = (4000, 3000);
    let image = RgbImage::from_fn(width, height, |x, y| {
        let ripple = ((x / 7 + y / 5) % 32) as u8;
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ripple * 8])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
        .expect("encodes");
    out
}

fn image_screening(c: &mut Criterion) {
    let jpeg = photo_12mp();
    let limits = ImageLimits::default();
    let mut rng = Lcg(3);
    let stored: Vec<(u64, PerceptualHash)> = (0..100_000).map(|i| (i, PerceptualHash(rng.next(u64::MAX)))).collect();
    let mut group = c.benchmark_group("image_12mp_jpeg");
    group.sample_size(10);
    group.bench_function("decode_hash_and_match_100k", |b| {
        b.iter(|| {
            let decoded = decode(black_box(&jpeg), &limits).expect("decodes");
            let hash = decoded.perceptual_hash();
            black_box(matches_within(hash, &stored, DEFAULT_MAX_DISTANCE))
        })
    });
    let decoded = decode(&jpeg, &limits).expect("decodes");
    group.bench_function("clean_encoding", |b| {
        b.iter(|| black_box(decoded.clean_encoding().expect("encodes")))
    });
    group.bench_function("thumbnails_256_1024", |b| {
        b.iter(|| black_box(decoded.thumbnails().expect("encodes")))
    });
    group.finish();
}

criterion_group!(benches, text_screening, image_screening);
criterion_main!(benches);
