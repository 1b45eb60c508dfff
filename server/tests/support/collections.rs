//! Helpers for tests that need a published collection and verified collectors.

use chrono::{FixedOffset, TimeDelta, Utc};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use super::kyb::claim_and_decide;
use super::{Client, Server, location};

/// A valid resident ID number (GB 11643 check character) for the `n`th test person.
pub fn id_number(n: u32) -> String {
    with_check_character(&format!(
        "110105{}{:03}",
        19_800_101 + (n / 900) * 10_000,
        n % 900 + 100
    ))
}

/// The first 17 digits of a resident ID number followed by their check character.
pub fn with_check_character(body: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{body}{check}")
}

/// A small artwork with some structure, different per `seed`.
pub fn artwork_png(seed: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(96, 96, |x, y| {
        let v = ((x * (seed + 3) + y * 7) % 256) as u8;
        image::Rgb([v, v.wrapping_mul(3), 255 - v])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut out))
        .unwrap();
    out
}

/// The claim terms of a test collection; the window opens an hour ago.
pub struct Terms {
    pub edition_size: u32,
    pub per_person_limit: u32,
    pub claim_mode: &'static str,
}

fn beijing(offset: TimeDelta) -> String {
    (Utc::now() + offset)
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Creates, screens, approves (as `reviewer`) and publishes a collection of `issuer`, created
/// by its member `founder`; returns its id.
pub async fn published_collection(founder: &Client, reviewer: &Client, issuer: i64, title: &str, terms: Terms) -> i64 {
    published_collection_with(founder, reviewer, issuer, title, terms, &[]).await
}

/// [`published_collection`] with more fields of the collection form (`minimum_age`, say).
pub async fn published_collection_with(
    founder: &Client,
    reviewer: &Client,
    issuer: i64,
    title: &str,
    terms: Terms,
    more: &[(&'static str, &str)],
) -> i64 {
    let collections = format!("/console/{issuer}/collections");
    let token = founder.csrf(&format!("{collections}/new")).await;
    let form_key = founder.form_key(&format!("{collections}/new"), &collections).await;
    let form = more
        .iter()
        .fold(Form::new(), |form, (name, value)| form.text(*name, (*value).to_owned()))
        .text("form_key", form_key)
        .text("title", title.to_owned())
        .text("description", "测试藏品。")
        .text("edition_size", terms.edition_size.to_string())
        .text("per_person_limit", terms.per_person_limit.to_string())
        .text("claim_starts_at", beijing(TimeDelta::hours(-1)))
        .text("claim_ends_at", beijing(TimeDelta::days(1)))
        .text("claim_mode", terms.claim_mode)
        .part(
            "artwork",
            Part::bytes(artwork_png(terms.edition_size)).file_name("art.png"),
        );
    let response = founder
        .http
        .post(founder.url(&format!("{collections}?csrf={token}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "collection created");
    let detail = location(&response);
    let id: i64 = detail.rsplit('/').next().unwrap().parse().unwrap();
    let response = founder.post_form(&detail, &format!("{detail}/submit"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "submitted");
    claim_and_decide(reviewer, &format!("/review/collections/{id}"), ("action", "approve")).await;
    let response = founder.post_form(&detail, &format!("{detail}/publish"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "published");
    id
}

/// `count` signed-in collectors with verified identities, named `collector{n}@example.com`.
pub async fn collectors(server: &Server, reviewer: &Client, first: u32, count: u32) -> Vec<Client> {
    let mut clients = Vec::new();
    for n in first..first + count {
        clients.push(
            super::kyb::verified_person(server, reviewer, &format!("collector{n}@example.com"), &id_number(n)).await,
        );
    }
    clients
}

/// Claims with `claim_key` (and the CSRF token `csrf` of the client's session); returns the
/// status and the redirect target.
pub async fn claim(client: &Client, csrf: &str, collection: i64, claim_key: &str) -> (StatusCode, String) {
    let response = client
        .http
        .post(client.url(&format!("/collections/{collection}/claim")))
        .form(&[("csrf", csrf), ("claim_key", claim_key)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let target = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, target)
}

/// `count` new claim codes of a claim-code collection, as the links of the console's CSV file.
pub async fn claim_code_links(founder: &Client, issuer: i64, collection: i64, count: u32) -> Vec<String> {
    let detail = format!("/console/{issuer}/collections/{collection}");
    let batch = founder
        .post_form(
            &detail,
            &format!("{detail}/codes"),
            &[("count", &count.to_string()), ("format", "csv")],
        )
        .await;
    assert_eq!(batch.status(), StatusCode::SEE_OTHER, "a batch of codes");
    let (_, csv) = founder.get_text(&location(&batch)).await;
    csv.lines()
        .skip(1)
        .filter_map(|line| line.split_once(','))
        .map(|(_, link)| link.to_owned())
        .collect()
}

/// Claims through the API with the client's session: (status, error code or token).
pub async fn api_claim(client: &Client, collection: i64, key: &str) -> (StatusCode, serde_json::Value) {
    let response = client
        .http
        .post(client.url(&format!("/api/v1/collections/{collection}/claims")))
        .header("Idempotency-Key", key)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}
