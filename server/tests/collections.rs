//! Collections end to end: an issuer creates a collection with artwork and submits it,
//! screening flags financialisation wording (also when disguised), copied, blocklisted and
//! malicious images, reviewers decide (two of them above the four-eyes threshold), edits void
//! approvals, and only published collections are public, with an entry in the ledger.

use crate::support;

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::kyb::{
    self, PASSWORD, PDF, application, apply, approved_issuer_with_key, query, scalar, verified_person, version_in,
};
use crate::support::{Client, Db, ReceivedMail, Server, location};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage};
use moderation::phash::PerceptualHash;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

const CLAIM_STARTS_AT: &str = "2026-12-01T10:00";
const CLAIM_ENDS_AT: &str = "2027-01-01T10:00";
const EDITION_SIZE: &str = "777";
/// The legal name and filings `kyb::application` applies with.
const ISSUER_NAME: &str = "新华文创（北京）有限公司";
const ICP_FILING: &str = "京ICP备12345678号-1";
const BLOCKCHAIN_FILING: &str = "京网信备11010819842097170019号";
/// The first issuer's founder, made by `approved_issuer_with_key`.
const FOUNDER: &str = "founder@example.com";
/// A second valid GB 32100 code (check character computed as in `domain::credit_code`).
const SECOND_CREDIT_CODE: &str = "91110108MA01C2K3X1";
/// How long to wait for asynchronous work (mail, ledger sequencing).
const DEADLINE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);
/// A Windows executable's first bytes.
const EXE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00\x00\x00\
\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x00PE\x00\x00This program cannot be run in DOS mode.\r\n";

on_both_databases!(
    a_clean_collection_is_reviewed_published_and_public,
    financialisation_wording_is_highlighted_for_issuer_and_reviewer,
    disguised_terms_are_still_caught,
    a_copy_of_another_issuers_artwork_is_flagged,
    image_bombs_and_disguised_files_are_refused,
    risky_cases_need_two_reviewers,
    unpublished_collections_are_hidden_from_strangers,
    edits_after_approval_go_back_to_review,
    admins_set_the_moderation_policy,
);

// ---------------------------------------------------------------------------------------------
// Fixtures: artwork and hostile files
// ---------------------------------------------------------------------------------------------

/// A picture with plenty of horizontal detail, so that its dHash (9 × 8 grey cells, each bit
/// "brighter than the right-hand neighbour") is far from trivial and differs per `seed`: a 9 × 8
/// grid of cells whose brightness jumps by at least 48 between horizontal neighbours, each cell
/// shaded with a red-to-blue ramp and thin diagonal stripes.
fn artwork(seed: u64, width: u32, height: u32) -> DynamicImage {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as i32
    };
    let mut cells = [[0i32; 9]; 8];
    for row in &mut cells {
        let mut previous: Option<i32> = None;
        for cell in row.iter_mut() {
            *cell = loop {
                let value = 32 + next() % 192;
                if previous.is_none_or(|p| (p - value).abs() >= 48) {
                    break value;
                }
            };
            previous = Some(*cell);
        }
    }
    let image = RgbImage::from_fn(width, height, |x, y| {
        let base = cells[(y * 8 / height) as usize][(x * 9 / width) as usize];
        let stripes = ((x + y) % 24) as i32 / 3 - 4;
        let ramp = (x * 24 / width) as i32 - 12;
        let channel = |v: i32| v.clamp(0, 255) as u8;
        Rgb([
            channel(base + ramp + stripes),
            channel(base + stripes),
            channel(base - ramp + stripes),
        ])
    });
    DynamicImage::ImageRgb8(image)
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

fn hash_of(bytes: &[u8]) -> PerceptualHash {
    PerceptualHash::of(&image::load_from_memory(bytes).unwrap())
}

/// CRC-32 (ISO-HDLC), as PNG chunks use it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
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

/// A well-formed tiny PNG whose header (with a valid CRC) claims `width` × `height` pixels.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(&DynamicImage::new_rgb8(1, 1));
    assert_eq!(&bytes[12..16], b"IHDR", "IHDR is the first chunk");
    assert_eq!(
        bytes[29..33],
        crc32(&bytes[12..29]).to_be_bytes(),
        "the CRC function agrees with the encoder"
    );
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// The name and type a browser would send for these bytes (judged by their format).
fn upload_name(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(&[0xFF, 0xD8]) {
        "artwork.jpg"
    } else {
        "artwork.png"
    }
}

fn artwork_part(bytes: &[u8], file_name: &str) -> Part {
    let mime = if file_name.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "image/png"
    };
    Part::bytes(bytes.to_vec())
        .file_name(file_name.to_owned())
        .mime_str(mime)
        .unwrap()
}

/// The collection form as a browser sends it; `artwork` is optional when editing.
fn collection_form(title: &str, description: &str, artwork: Option<(&[u8], &str)>) -> Form {
    let form = Form::new()
        .text("title", title.to_owned())
        .text("description", description.to_owned())
        .text("edition_size", EDITION_SIZE)
        .text("per_person_limit", "")
        .text("claim_starts_at", CLAIM_STARTS_AT)
        .text("claim_ends_at", CLAIM_ENDS_AT)
        .text("claim_mode", "open");
    match artwork {
        Some((bytes, file_name)) => form.part("artwork", artwork_part(bytes, file_name)),
        None => form,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading pages, the database, the mailbox and the ledger
// ---------------------------------------------------------------------------------------------

async fn user_id(server: &Server, email: &str) -> i64 {
    scalar(server, &format!("SELECT id FROM users WHERE email = '{email}'")).await
}

/// The texts of every `<mark class="finding" data-category="{category}" …>` in a page, each
/// with its opening tag: (tag, text).
fn findings(html: &str, category: &str) -> Vec<(String, String)> {
    let opening = format!("<mark class=\"finding\" data-category=\"{category}\"");
    html.match_indices(&opening)
        .filter_map(|(at, _)| {
            let rest = &html[at..];
            let tag_end = rest.find('>')?;
            let text_end = rest.find("</mark>")?;
            Some((rest[..tag_end].to_owned(), rest[tag_end + 1..text_end].to_owned()))
        })
        .collect()
}

/// Asserts a finding of `category` and `severity` that marks text containing all of `parts`.
fn assert_marked(html: &str, category: &str, severity: &str, parts: &[&str], page: &str) {
    let marks = findings(html, category);
    let severity = format!("data-severity=\"{severity}\"");
    assert!(
        marks
            .iter()
            .any(|(tag, text)| tag.contains(&severity) && parts.iter().all(|p| text.contains(p))),
        "{page}: no {category} finding ({severity}) marking {parts:?}; marks: {marks:?}"
    );
}

/// Waits until `to` has received at least `count` messages whose subject names `title`.
async fn mails_about(server: &Server, to: &str, title: &str, count: usize) -> Vec<ReceivedMail> {
    let start = Instant::now();
    loop {
        let all = server.mailbox().messages_for(to).await;
        let about: Vec<ReceivedMail> = all.iter().filter(|m| m.subject.contains(title)).cloned().collect();
        if about.len() >= count {
            return about;
        }
        let subjects: Vec<&str> = all.iter().map(|m| m.subject.as_str()).collect();
        assert!(
            start.elapsed() < DEADLINE,
            "expected {count} mail(s) to {to} about {title:?}; subjects: {subjects:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

async fn ledger_size(server: &Server) -> u64 {
    let response = reqwest::get(server.url("/api/v1/ledger/checkpoint")).await.unwrap();
    if response.status() != StatusCode::OK {
        return 0;
    }
    let note = response.text().await.unwrap();
    note.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0)
}

/// Waits until the log holds the `collection_published` entry of `collection`: (index, entry).
async fn published_entry(server: &Server, collection: i64) -> (u64, Value) {
    let start = Instant::now();
    let mut next = 0;
    loop {
        let size = ledger_size(server).await;
        while next < size {
            let entry: Value = reqwest::get(server.url(&format!("/api/v1/ledger/entries/{next}")))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if entry["type"] == "collection_published" && entry["fields"]["collection_id"] == collection {
                return (next, entry);
            }
            next += 1;
        }
        assert!(
            start.elapsed() < DEADLINE,
            "no collection_published entry for collection {collection} in {size} entries"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the page at `path` (status 200) contains `needle` and returns it.
async fn page_eventually_containing(client: &Client, path: &str, needle: &str) -> String {
    let start = Instant::now();
    loop {
        let (status, html) = client.get_text(path).await;
        if status == StatusCode::OK && html.contains(needle) {
            return html;
        }
        assert!(start.elapsed() < DEADLINE, "{path} ({status}) never showed {needle:?}");
        tokio::time::sleep(POLL).await;
    }
}

/// Files in the local blob store (under the data directory).
/// Uploaded blobs under `dir`: the ledger's tiles, which the server publishes in the
/// background whenever the log grows, are not counted.
fn blob_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("ledger"))
        .map(|p| if p.is_dir() { blob_files(&p) } else { 1 })
        .sum()
}

/// The public page and artwork URLs of a collection.
fn public_paths(id: i64) -> Vec<String> {
    let page = format!("/collections/{id}");
    ["256", "1024", "full", "original"]
        .iter()
        .map(|variant| format!("{page}/artwork/{variant}"))
        .chain([page.clone()])
        .collect()
}

async fn assert_statuses(client: &Client, paths: &[String], expected: StatusCode, who: &str) {
    for path in paths {
        assert_eq!(client.get(path).await.status(), expected, "{who}: GET {path}");
    }
}

// ---------------------------------------------------------------------------------------------
// Actors
// ---------------------------------------------------------------------------------------------

/// A signed-in member of an issuer.
struct Member {
    issuer: i64,
    client: Client,
}

impl Member {
    fn collections(&self) -> String {
        format!("/console/{}/collections", self.issuer)
    }

    fn detail(&self, id: i64) -> String {
        format!("{}/{id}", self.collections())
    }
}

/// A server with an approved issuer (its founder signed in), the reviewer who approved it and
/// the admin.
struct Platform {
    server: Server,
    founder: Member,
    reviewer: Client,
    admin: Client,
}

impl Platform {
    async fn start(db: Db) -> Platform {
        let server = Server::start(db).await;
        let (issuer, _key, founder, reviewer) = approved_issuer_with_key(&server).await;
        let admin = server.client();
        let response = admin.login("boss@example.com", "root password 123").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "admin log-in");
        Platform {
            server,
            founder: Member {
                issuer,
                client: founder,
            },
            reviewer,
            admin,
        }
    }

    /// A second approved issuer, founded by another verified person.
    async fn second_issuer(&self) -> Member {
        let founder = verified_person(&self.server, &self.reviewer, "rival@example.com", "44030419900307123X").await;
        let response = apply(&self.server, &founder, application(SECOND_CREDIT_CODE, PDF)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "second application");
        let issuer: i64 = location(&response).trim_start_matches("/console/").parse().unwrap();
        let case = format!("/review/issuers/{issuer}");
        self.reviewer.post_form("/review", &format!("{case}/claim"), &[]).await;
        let (_, html) = self.reviewer.get_text(&case).await;
        let response = self
            .reviewer
            .post_form(
                &case,
                &format!("{case}/decision"),
                &[("action", "approve"), ("version", &version_in(&html))],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "second issuer approved");
        Member {
            issuer,
            client: founder,
        }
    }

    /// A verified person who joins the first issuer and is then made a reviewer.
    async fn reviewing_member(&self, email: &str, id_number: &str) -> Client {
        let insider = verified_person(&self.server, &self.reviewer, email, id_number).await;
        let console = format!("/console/{}", self.founder.issuer);
        self.founder
            .client
            .post_form(&console, &format!("{console}/invitations"), &[("email", email)])
            .await;
        let link = self.server.mailbox().link_for(email, "/invitations/").await;
        let invitation = link.strip_prefix(&self.server.base).unwrap().to_owned();
        let accepted = insider.post_form(&invitation, &invitation, &[]).await;
        assert_eq!(location(&accepted), console, "{email} joins the issuer");
        let id = user_id(&self.server, email).await;
        let response = self
            .admin
            .post_form(
                "/admin/users",
                &format!("/admin/users/{id}/roles"),
                &[("role", "reviewer"), ("change", "grant")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{email} made a reviewer");
        insider.set_up_second_factor(email).await;
        insider
    }

    /// Posts a multipart form with the CSRF token of `form_page` in the query string.
    /// Sends a multipart form with the CSRF token of `form_page`, and the form key of its form
    /// that posts to `action`, as a browser would.
    async fn post_multipart(&self, client: &Client, form_page: &str, action: &str, form: Form) -> reqwest::Response {
        let (_, html) = client.get_text(form_page).await;
        let token = support::csrf_in(&html).expect("a CSRF token on the form page");
        let form = match support::form_key_in(&html, action) {
            Some(key) => form.text("form_key", key),
            None => form,
        };
        client
            .http
            .post(self.server.url(&format!("{action}?csrf={token}")))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    async fn try_create(
        &self,
        member: &Member,
        title: &str,
        description: &str,
        artwork: &[u8],
        file_name: &str,
    ) -> reqwest::Response {
        let collections = member.collections();
        let form = collection_form(title, description, Some((artwork, file_name)));
        self.post_multipart(&member.client, &format!("{collections}/new"), &collections, form)
            .await
    }

    /// Creates a draft collection and returns its id.
    async fn create(&self, member: &Member, title: &str, description: &str, artwork: &[u8]) -> i64 {
        let response = self
            .try_create(member, title, description, artwork, upload_name(artwork))
            .await;
        let status = response.status();
        let target = location(&response);
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "create {title:?}: {}",
            response.text().await.unwrap_or_default()
        );
        let id: i64 = target
            .rsplit('/')
            .next()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("create redirects to the collection, not {target:?}"));
        assert_eq!(target, member.detail(id));
        assert_eq!(self.status(id).await, "draft");
        id
    }

    /// Edits title and description, keeping the artwork.
    async fn edit(&self, member: &Member, id: i64, title: &str, description: &str) -> reqwest::Response {
        let detail = member.detail(id);
        let form = collection_form(title, description, None);
        self.post_multipart(&member.client, &detail, &format!("{detail}/edit"), form)
            .await
    }

    /// Posts one of the console's collection actions (submit, publish, close).
    async fn act(&self, member: &Member, id: i64, action: &str) -> reqwest::Response {
        let detail = member.detail(id);
        member
            .client
            .post_form(&detail, &format!("{detail}/{action}"), &[])
            .await
    }

    /// Submits a draft and returns the status screening left it in.
    async fn submit(&self, member: &Member, id: i64) -> String {
        let response = self.act(member, id, "submit").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "submit {id}");
        assert_eq!(location(&response), member.detail(id));
        self.status(id).await
    }

    async fn publish(&self, member: &Member, id: i64) -> StatusCode {
        self.act(member, id, "publish").await.status()
    }

    async fn status(&self, id: i64) -> String {
        query(&self.server, &format!("SELECT status FROM collections WHERE id = {id}")).await
    }

    async fn first_approved_by(&self, id: i64) -> Option<i64> {
        query(
            &self.server,
            &format!("SELECT first_approved_by FROM collections WHERE id = {id}"),
        )
        .await
    }

    async fn risk(&self, id: i64) -> i64 {
        scalar(
            &self.server,
            &format!("SELECT CAST(risk_score AS BIGINT) FROM collections WHERE id = {id}"),
        )
        .await
    }

    async fn detail_page(&self, member: &Member, id: i64) -> String {
        let (status, html) = member.client.get_text(&member.detail(id)).await;
        assert_eq!(status, StatusCode::OK, "detail page of {id}");
        html
    }

    /// Posts an admin policy form (as whoever `client` is).
    async fn policy(&self, client: &Client, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        client
            .post_form("/review", &format!("/admin/moderation/{action}"), fields)
            .await
    }

    async fn count(&self, table_and_condition: &str) -> i64 {
        scalar(&self.server, &format!("SELECT COUNT(*) FROM {table_and_condition}")).await
    }
}

fn case(id: i64) -> String {
    format!("/review/collections/{id}")
}

async fn claim(reviewer: &Client, id: i64) -> StatusCode {
    let response = reviewer.post_form("/review", &format!("{}/claim", case(id)), &[]).await;
    if response.status() == StatusCode::SEE_OTHER {
        assert_eq!(location(&response), case(id));
    }
    response.status()
}

async fn case_page(reviewer: &Client, id: i64) -> String {
    let (status, html) = reviewer.get_text(&case(id)).await;
    assert_eq!(status, StatusCode::OK, "case page of {id}");
    html
}

/// Posts a decision with a given form version.
async fn decide_at(
    reviewer: &Client,
    id: i64,
    version: &str,
    action: &str,
    reason_code: &str,
    note: &str,
) -> StatusCode {
    let response = reviewer
        .post_form(
            "/review",
            &format!("{}/decision", case(id)),
            &[
                ("action", action),
                ("reason_code", reason_code),
                ("note", note),
                ("version", version),
            ],
        )
        .await;
    if response.status() == StatusCode::SEE_OTHER {
        assert_eq!(location(&response), case(id));
    }
    response.status()
}

/// Posts a decision on the version the reviewer sees now.
async fn decide(reviewer: &Client, id: i64, action: &str, reason_code: &str, note: &str) -> StatusCode {
    let version = version_in(&case_page(reviewer, id).await);
    decide_at(reviewer, id, &version, action, reason_code, note).await
}

/// Claims the case and approves it.
async fn approve(reviewer: &Client, id: i64) {
    assert_eq!(claim(reviewer, id).await, StatusCode::SEE_OTHER, "claim {id}");
    assert_eq!(
        decide(reviewer, id, "approve", "", "").await,
        StatusCode::SEE_OTHER,
        "approve {id}"
    );
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

async fn a_clean_collection_is_reviewed_published_and_public(db: Db) {
    let p = Platform::start(db).await;
    let founder = &p.founder;
    let original = png(&artwork(1, 720, 480));
    let title = "敦煌飞天 · 壹";
    let id = p
        .create(
            founder,
            title,
            "以莫高窟壁画为灵感的数字藏品，附实体明信片。",
            &original,
        )
        .await;
    assert!(p.detail_page(founder, id).await.contains("data-status=\"draft\""));

    assert_eq!(
        p.submit(founder, id).await,
        "in_review",
        "nothing found: a human still decides"
    );
    let detail = p.detail_page(founder, id).await;
    assert!(detail.contains("data-status=\"in_review\""));
    assert!(
        !detail.contains("<mark class=\"finding\""),
        "no findings in a clean text"
    );
    assert_eq!(p.risk(id).await, 0);
    assert_ne!(
        p.publish(founder, id).await,
        StatusCode::SEE_OTHER,
        "not before approval"
    );
    assert_eq!(p.status(id).await, "in_review");

    approve(&p.reviewer, id).await;
    assert_eq!(p.status(id).await, "approved");
    mails_about(&p.server, FOUNDER, title, 1).await;

    assert_eq!(p.publish(founder, id).await, StatusCode::SEE_OTHER);
    assert_eq!(p.status(id).await, "published");
    assert_eq!(
        p.count(&format!("collections WHERE id = {id} AND ledger_queue_id IS NOT NULL"))
            .await,
        1
    );
    let (index, entry) = published_entry(&p.server, id).await;
    assert_eq!(entry["fields"]["issuer_id"], founder.issuer);
    assert_eq!(entry["fields"]["edition_size"], 777);

    // The public page, for anyone.
    let anonymous = p.server.client();
    let public = format!("/collections/{id}");
    let page =
        page_eventually_containing(&anonymous, &public, &format!("/api/v1/ledger/entries/{index}/receipt")).await;
    for fact in [title, ISSUER_NAME, ICP_FILING, BLOCKCHAIN_FILING, EDITION_SIZE] {
        assert!(page.contains(fact), "public page shows {fact}");
    }

    // Thumbnails are public; the original upload never is.
    let thumbnail = anonymous.get(&format!("{public}/artwork/256")).await;
    assert_eq!(thumbnail.status(), StatusCode::OK);
    let content_type = thumbnail.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("image/"), "{content_type}");
    let small = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
    assert!(
        small.width() <= 256 && small.height() <= 256,
        "{}x{}",
        small.width(),
        small.height()
    );
    assert_eq!(
        anonymous.get(&format!("{public}/artwork/full")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        anonymous.get(&format!("{public}/artwork/original")).await.status(),
        StatusCode::NOT_FOUND
    );
    let upload = founder.client.get(&format!("{public}/artwork/original")).await;
    assert_eq!(upload.status(), StatusCode::OK, "members get the original");
    let full = image::load_from_memory(&upload.bytes().await.unwrap()).unwrap();
    assert_eq!((full.width(), full.height()), (720, 480));

    // What is on the ledger is final.
    let edit = p.edit(founder, id, "敦煌飞天 · 贰", "改过的描述").await;
    assert_eq!(
        edit.status(),
        StatusCode::CONFLICT,
        "published collections are not editable"
    );
    assert_eq!(
        query::<String>(&p.server, &format!("SELECT title FROM collections WHERE id = {id}")).await,
        title
    );

    // Closing is final, so it is confirmed first.
    assert_eq!(
        p.act(founder, id, "close").await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(p.status(id).await, "published", "nothing happens unconfirmed");
    let detail = founder.detail(id);
    let closed = founder
        .client
        .post_form(&detail, &format!("{detail}/close"), &[("confirm", "yes")])
        .await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    assert_eq!(p.status(id).await, "closed");
    assert_eq!(
        anonymous.get(&public).await.status(),
        StatusCode::OK,
        "closed stays public"
    );
}

async fn financialisation_wording_is_highlighted_for_issuer_and_reviewer(db: Db) {
    let p = Platform::start(db).await;
    let founder = &p.founder;
    let clean = p
        .create(
            founder,
            "青花瓷纹样",
            "景德镇青花瓷纹样的数字复刻。",
            &png(&artwork(2, 640, 480)),
        )
        .await;
    assert_eq!(p.submit(founder, clean).await, "in_review");
    let title = "生肖龙年纪念";
    let risky = p
        .create(founder, title, "限量发行，未来必将升值", &png(&artwork(3, 640, 480)))
        .await;
    assert_eq!(
        p.submit(founder, risky).await,
        "in_review",
        "a review term goes to a human"
    );

    let detail = p.detail_page(founder, risky).await;
    assert!(detail.contains("data-status=\"in_review\""));
    assert_marked(&detail, "financialisation", "review", &["升值"], "issuer's page");
    let case_html = case_page(&p.reviewer, risky).await;
    assert_marked(&case_html, "financialisation", "review", &["升值"], "reviewer's case");

    // The queue puts the riskier case first, although it is younger.
    let risk = p.risk(risky).await;
    assert!(risk >= 1, "risk {risk}");
    let (status, queue) = p.reviewer.get_text("/review?kind=collections").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        queue.contains(&format!("data-risk=\"{risk}\"")),
        "the queue shows the score"
    );
    let at = |id: i64| {
        queue
            .find(&format!("data-collection=\"{id}\""))
            .unwrap_or_else(|| panic!("collection {id} in the queue"))
    };
    assert!(at(risky) < at(clean), "ordered by risk");

    // Changes requested, with a note the issuer reads.
    assert_eq!(claim(&p.reviewer, risky).await, StatusCode::SEE_OTHER);
    assert_ne!(
        decide(&p.reviewer, risky, "request_changes", "financialisation", "").await,
        StatusCode::SEE_OTHER,
        "a request for changes needs a note"
    );
    assert_eq!(p.status(risky).await, "in_review");
    let note = "请删除暗示藏品会涨价的表述";
    assert_eq!(
        decide(&p.reviewer, risky, "request_changes", "financialisation", note).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(p.status(risky).await, "changes_requested");
    assert!(p.detail_page(founder, risky).await.contains(note));
    mails_about(&p.server, FOUNDER, title, 1).await;
}

async fn disguised_terms_are_still_caught(db: Db) {
    let p = Platform::start(db).await;
    let founder = &p.founder;
    // (title, description, status after screening, severity, parts of the marked original text)
    let cases: [(&str, &str, &str, &str, &[&str]); 3] = [
        (
            "变体一",
            "限量纪念款，未来会升 值！",
            "in_review",
            "review",
            &["升", "值"],
        ),
        (
            "变体二",
            "限量纪念款，ｇｕａｒａｎｔｅｅｄ　ｐｒｏｆｉｔ！",
            "auto_rejected",
            "block",
            &["ｇｕａｒａｎｔｅｅｄ"],
        ),
        (
            "变体三",
            "限量纪念款，未来会升\u{200D}值！",
            "in_review",
            "review",
            &["升", "值"],
        ),
    ];
    for (seed, (title, description, status, severity, marked)) in (10..).zip(cases) {
        let id = p
            .create(founder, title, description, &png(&artwork(seed, 480, 480)))
            .await;
        assert_eq!(p.submit(founder, id).await, status, "{description:?}");
        let detail = p.detail_page(founder, id).await;
        assert!(detail.contains(&format!("data-status=\"{status}\"")), "{description:?}");
        assert_marked(&detail, "financialisation", severity, marked, description);
        assert!(p.risk(id).await >= 1, "{description:?} carries risk");
    }
}

async fn a_copy_of_another_issuers_artwork_is_flagged(db: Db) {
    let p = Platform::start(db).await;
    let picture = artwork(21, 720, 480);
    let original = png(&picture);
    let copy = jpeg(&picture.resize_exact(533, 355, FilterType::Lanczos3), 55);
    let unrelated = png(&artwork(22, 720, 480));
    // The fixtures are what the test claims: a close copy and an unrelated picture.
    assert!(
        hash_of(&original).distance(hash_of(&copy)) <= 4,
        "the copy hashes alike"
    );
    assert!(
        hash_of(&original).distance(hash_of(&unrelated)) >= 20,
        "unrelated pictures differ"
    );
    assert!(![0, u64::MAX].contains(&hash_of(&original).0), "a non-trivial hash");

    let first = p.create(&p.founder, "江南水乡", "江南古镇的清晨。", &original).await;
    assert_eq!(p.submit(&p.founder, first).await, "in_review");

    let rival = p.second_issuer().await;
    let copied = p.create(&rival, "水乡晨景", "古镇清晨写生。", &copy).await;
    assert_eq!(p.submit(&rival, copied).await, "in_review");
    let case_html = case_page(&p.reviewer, copied).await;
    assert!(
        case_html.contains(&format!("data-similar-collection=\"{first}\"")),
        "the reviewer sees which artwork it resembles"
    );
    assert!(case_html.contains("data-distance=\""));
    assert!(p.risk(copied).await >= 1, "a look-alike carries risk");

    let own = p.create(&rival, "山间小屋", "山间木屋写生。", &unrelated).await;
    assert_eq!(p.submit(&rival, own).await, "in_review");
    assert!(!case_page(&p.reviewer, own).await.contains("data-similar-collection="));
    assert_eq!(p.risk(own).await, 0);
}

async fn image_bombs_and_disguised_files_are_refused(db: Db) {
    let p = Platform::start(db).await;
    let blobs = p.server.data_dir.join("blobs");
    let stored_before = blob_files(&blobs);
    let bomb = png_claiming(100_000, 100_000);
    for (what, bytes) in [
        ("decompression bomb", bomb.as_slice()),
        ("executable", EXE),
        ("PDF", PDF),
    ] {
        let response = p.try_create(&p.founder, "坏文件", "说明", bytes, "art.png").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("data-error=\"artwork\""),
            "{what}: the form names the artwork"
        );
    }
    assert_eq!(p.count("collections").await, 0, "nothing stored");
    assert_eq!(blob_files(&blobs), stored_before, "no blob stored");
}

async fn risky_cases_need_two_reviewers(db: Db) {
    let p = Platform::start(db).await;
    let response = p
        .policy(
            &p.admin,
            "thresholds",
            &[("four_eyes_score", "1"), ("max_distance", "10")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/moderation");

    let founder = &p.founder;
    let title = "十二生肖 · 鼠";
    let id = p
        .create(founder, title, "限量发行，未来必将升值", &png(&artwork(31, 640, 640)))
        .await;
    assert_eq!(p.submit(founder, id).await, "in_review");
    assert!(p.risk(id).await >= 1);

    // A reviewer who belongs to the issuer may not decide on its collections.
    let insider = p.reviewing_member("insider@example.com", "310115200002290005").await;
    assert_eq!(claim(&p.reviewer, id).await, StatusCode::SEE_OTHER);
    let version = version_in(&case_page(&p.reviewer, id).await);
    assert_eq!(
        decide_at(&insider, id, &version, "approve", "", "").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(p.status(id).await, "in_review");

    // The first approval is not enough, and the same reviewer cannot give the second.
    assert_eq!(decide(&p.reviewer, id, "approve", "", "").await, StatusCode::SEE_OTHER);
    assert_eq!(p.status(id).await, "in_review", "one approval of two");
    let first = user_id(&p.server, "reviewer@example.com").await;
    assert_eq!(p.first_approved_by(id).await, Some(first));
    let version = scalar(
        &p.server,
        &format!("SELECT CAST(version AS BIGINT) FROM collections WHERE id = {id}"),
    )
    .await;
    assert_eq!(
        decide_at(&p.reviewer, id, &version.to_string(), "approve", "", "").await,
        StatusCode::CONFLICT,
        "four eyes means two people"
    );
    assert_eq!(p.status(id).await, "in_review");
    // Nor can the first approver take the lock again and keep the second reviewer out.
    assert_eq!(
        claim(&p.reviewer, id).await,
        StatusCode::CONFLICT,
        "the first approver cannot claim"
    );
    assert_eq!(
        scalar(
            &p.server,
            &format!("SELECT COUNT(*) FROM collections WHERE id = {id} AND claimed_by IS NULL")
        )
        .await,
        1,
        "the lock is free for the second reviewer"
    );

    let second = kyb::reviewer(&p.server, &p.admin, "second.reviewer@example.com").await;
    approve(&second, id).await;
    assert_eq!(p.status(id).await, "approved");
    // The first of two approvals is not a decision yet: one mail, for the approval.
    let mails = mails_about(&p.server, FOUNDER, title, 1).await;
    assert_eq!(mails.len(), 1);
}

async fn unpublished_collections_are_hidden_from_strangers(db: Db) {
    let p = Platform::start(db).await;
    let founder = &p.founder;
    let anonymous = p.server.client();
    let stranger = p.server.verified_user("stranger@example.com", PASSWORD).await;
    let id = p
        .create(founder, "未公开的藏品", "尚在准备中。", &png(&artwork(41, 600, 400)))
        .await;
    let paths = public_paths(id);
    let assert_hidden = async |stage: &str| {
        assert_eq!(p.status(id).await, stage);
        assert_statuses(
            &anonymous,
            &paths,
            StatusCode::NOT_FOUND,
            &format!("anonymous, {stage}"),
        )
        .await;
        assert_statuses(
            &stranger,
            &paths,
            StatusCode::NOT_FOUND,
            &format!("non-member, {stage}"),
        )
        .await;
        assert_statuses(&founder.client, &paths, StatusCode::OK, &format!("member, {stage}")).await;
    };

    assert_hidden("draft").await;
    assert_eq!(p.submit(founder, id).await, "in_review");
    assert_hidden("in_review").await;
    let preview = [format!("/collections/{id}"), format!("/collections/{id}/artwork/256")];
    assert_statuses(&p.reviewer, &preview, StatusCode::OK, "reviewer").await;
    approve(&p.reviewer, id).await;
    assert_hidden("approved").await;
}

async fn edits_after_approval_go_back_to_review(db: Db) {
    let p = Platform::start(db).await;
    let founder = &p.founder;
    let description = "苏州园林四季。";
    let id = p
        .create(founder, "园林四季", description, &png(&artwork(51, 640, 480)))
        .await;
    assert_eq!(p.submit(founder, id).await, "in_review");
    approve(&p.reviewer, id).await;
    assert_eq!(p.status(id).await, "approved");

    let edited = p.edit(founder, id, "园林四季 · 修订版", description).await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&edited), founder.detail(id));
    assert_eq!(p.status(id).await, "in_review", "the approval is void");
    assert_eq!(p.first_approved_by(id).await, None);
    assert!(p.detail_page(founder, id).await.contains("园林四季 · 修订版"));
    assert_ne!(p.publish(founder, id).await, StatusCode::SEE_OTHER);
    assert_eq!(p.status(id).await, "in_review", "nothing unapproved is published");

    approve(&p.reviewer, id).await;
    assert_eq!(p.status(id).await, "approved");
    assert_eq!(p.publish(founder, id).await, StatusCode::SEE_OTHER);
    assert_eq!(p.status(id).await, "published");
}

async fn admins_set_the_moderation_policy(db: Db) {
    let p = Platform::start(db).await;
    let founder = &p.founder;
    let term = [("category", "gambling"), ("severity", "block"), ("terms", "幸运大转盘")];

    // Reviewers are not admins.
    assert_eq!(
        p.reviewer.get("/admin/moderation").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        p.policy(&p.reviewer, "terms", &term).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(p.count("moderation_terms").await, 0);

    let response = p.policy(&p.admin, "terms", &term).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/admin/moderation");
    let (status, page) = p.admin.get_text("/admin/moderation").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("幸运大转盘"));
    assert_eq!(p.count("moderation_terms").await, 1);

    let id = p
        .create(
            founder,
            "转盘纪念",
            "转动幸运大转盘，抽取限定徽章",
            &png(&artwork(61, 640, 480)),
        )
        .await;
    assert_eq!(
        p.submit(founder, id).await,
        "auto_rejected",
        "the operator's block term"
    );
    assert_marked(
        &p.detail_page(founder, id).await,
        "gambling",
        "block",
        &["幸运大转盘"],
        "issuer's page",
    );

    // A blocklisted picture: only its hash is stored, and uploads of it are rejected.
    let blocked = png(&artwork(62, 640, 480));
    let blocklist_form = || {
        Form::new()
            .text("label", "侵权图片")
            .part("image", artwork_part(&blocked, "blocked.png"))
    };
    let refused = p
        .post_multipart(&p.reviewer, "/review", "/admin/moderation/blocklist", blocklist_form())
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Sent twice with one form key (a reload), the picture is blocked once.
    let form_key = p
        .admin
        .form_key("/admin/moderation", "/admin/moderation/blocklist")
        .await;
    let token = p.admin.csrf("/admin/moderation").await;
    for _ in 0..2 {
        let response = p
            .admin
            .http
            .post(p.server.url(&format!("/admin/moderation/blocklist?csrf={token}")))
            .multipart(blocklist_form().text("form_key", form_key.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(p.count("image_blocklist").await, 1);

    let id = p.create(founder, "山水长卷", "宋代山水画的数字复刻。", &blocked).await;
    assert_eq!(p.submit(founder, id).await, "auto_rejected", "a blocklisted image");

    assert!(
        p.count("audit_log WHERE action LIKE 'moderation.%'").await >= 2,
        "policy changes are audited"
    );
}
