//! The account, review and verification flows in a real browser: headless Chromium (from
//! Debian) driven by playwright-core (the scripts in `server/tests/browser/`) against the real
//! server. Screenshots are saved under the target directory's `tmp/screenshots/`.
//!
//! Runs when `TEST_CHROMIUM` names the Chromium binary and `npm ci` has been run in
//! `server/tests/browser`; CI sets both.

use crate::support;

use std::path::{Path, PathBuf};

use crate::support::kyb::{PASSWORD, PDF, application, apply, reviewer, scalar, verified_person};
use crate::support::{Db, Options, Server, service_var, services_required};

/// Chromium and the npm packages, or `None` to skip.
fn browser_setup() -> Option<(String, PathBuf, PathBuf)> {
    let chromium = service_var("TEST_CHROMIUM")?;
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !scripts.join("node_modules/playwright-core").is_dir() {
        assert!(!services_required(), "run `npm ci` in server/tests/browser first");
        eprintln!("skipped: run `npm ci` in server/tests/browser");
        return None;
    }
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    Some((chromium, scripts, screenshots))
}

/// Runs a script in `server/tests/browser` and checks that it passed and saved its screenshots.
async fn run_script(server: &Server, script: &str, env: &[(&str, String)], screenshots: &[&str]) {
    let (chromium, dir, shots) = browser_setup().expect("checked by the caller");
    for name in screenshots {
        let _ = std::fs::remove_file(shots.join(name));
    }
    let mut command = tokio::process::Command::new("node");
    command
        .arg(script)
        .current_dir(&dir)
        .env("BASE_URL", &server.base)
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", chromium)
        .env(
            "SECOND_FACTORS",
            support::authenticator::hand_over(&server.database_url).to_string(),
        );
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().await.expect("run node");
    assert!(
        output.status.success(),
        "{script} failed:\n{}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    for name in screenshots {
        let png = std::fs::read(shots.join(name)).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "{name} is a real screenshot"
        );
    }
    eprintln!("screenshots in {}", shots.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_log_in_in_chromium() {
    if browser_setup().is_none() {
        return;
    }
    let server = Server::start_with(Options::new(Db::Sqlite).subprocess()).await;
    let mail_dir = server.data_dir.join("mail").display().to_string();
    run_script(
        &server,
        "accounts.mjs",
        &[("MAIL_DIR", mail_dir)],
        &["home-zh-CN.png", "signup-zh-CN.png", "account-en.png"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewer_approves_an_issuer_in_chromium() {
    if browser_setup().is_none() {
        return;
    }
    let server = Server::start_with(Options::new(Db::Sqlite).subprocess()).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let reviewer = reviewer(&server, &admin, "reviewer@example.com").await;
    let founder = verified_person(&server, &reviewer, "founder@example.com", "11010519491231002X").await;
    let response = apply(&server, &founder, application("91350100M000100Y43", PDF)).await;
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);

    run_script(
        &server,
        "issuer_review.mjs",
        &[
            ("REVIEWER_EMAIL", "reviewer@example.com".to_owned()),
            ("REVIEWER_PASSWORD", PASSWORD.to_owned()),
            ("ISSUER_NAME", "新华文创（北京）有限公司".to_owned()),
        ],
        &["review-queue-en.png", "review-issuer-en.png", "issuer-public-zh-CN.png"],
    )
    .await;
    let status = scalar(&server, "SELECT COUNT(*) FROM issuers WHERE status = 'approved'").await;
    assert_eq!(status, 1, "the browser's approval reached the database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_verifies_a_file_and_a_receipt_in_chromium() {
    use reqwest::multipart::{Form, Part};

    if browser_setup().is_none() {
        return;
    }
    let server = Server::start_with(Options::new(Db::Sqlite).subprocess()).await;
    let (issuer, key, _, _) = support::kyb::approved_issuer_with_key(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let document = dir.path().join("press-release.txt");
    std::fs::write(&document, "新华社 2026-11-25 数字藏品发布通稿\n").unwrap();
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/attestations"))
        .bearer_auth(&key)
        .multipart(
            Form::new()
                .part(
                    "file",
                    Part::bytes(std::fs::read(&document).unwrap()).file_name("press-release.txt"),
                )
                .text("label", "发布通稿"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    let receipt: serde_json::Value = response.json().await.unwrap();
    let receipt_path = dir.path().join("receipt.json");
    std::fs::write(&receipt_path, receipt.to_string()).unwrap();
    let mut tampered = receipt.clone();
    tampered["entry"]["index"] = serde_json::json!(0);
    let tampered_path = dir.path().join("tampered.json");
    std::fs::write(&tampered_path, tampered.to_string()).unwrap();

    run_script(
        &server,
        "verify.mjs",
        &[
            ("DOCUMENT", document.display().to_string()),
            ("RECEIPT", receipt_path.display().to_string()),
            ("TAMPERED_RECEIPT", tampered_path.display().to_string()),
            ("ISSUER_NAME", "新华文创（北京）有限公司".to_owned()),
            ("ISSUER_ID", issuer.to_string()),
            ("MEMBER_EMAIL", "founder@example.com".to_owned()),
            ("MEMBER_PASSWORD", PASSWORD.to_owned()),
        ],
        &[
            "verify-file-en.png",
            "verify-tampered-en.png",
            "verify-receipt-zh-CN.png",
            "console-attestations-en.png",
            "console-attestations-zh-CN.png",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issuer_publishes_a_reviewed_collection_in_chromium() {
    if browser_setup().is_none() {
        return;
    }
    let server = Server::start_with(Options::new(Db::Sqlite).subprocess()).await;
    let (issuer, _, _, _) = support::kyb::approved_issuer_with_key(&server).await;
    let dir = tempfile::tempdir().unwrap();
    let artwork = dir.path().join("horse.png");
    image::RgbImage::from_fn(800, 800, |x, y| {
        let ring = ((x as i64 - 400).pow(2) + (y as i64 - 400).pow(2)).isqrt() / 40;
        let gold = if ring % 2 == 0 { 200 } else { 120 };
        image::Rgb([gold, (gold as u32 * 3 / 4) as u8, (x * 60 / 800) as u8])
    })
    .save(&artwork)
    .unwrap();

    run_script(
        &server,
        "collections.mjs",
        &[
            ("ISSUER_ID", issuer.to_string()),
            ("MEMBER_EMAIL", "founder@example.com".to_owned()),
            ("REVIEWER_EMAIL", "reviewer@example.com".to_owned()),
            ("PASSWORD", PASSWORD.to_owned()),
            ("ADMIN_EMAIL", "boss@example.com".to_owned()),
            ("ADMIN_PASSWORD", "root password 123".to_owned()),
            ("ARTWORK", artwork.display().to_string()),
        ],
        &[
            "collection-form-en.png",
            "collection-console-en.png",
            "review-queue-collections-zh-CN.png",
            "review-collection-zh-CN.png",
            "collection-public-en.png",
            "collection-public-zh-CN.png",
            "admin-moderation-en.png",
        ],
    )
    .await;
    let published = scalar(&server, "SELECT COUNT(*) FROM collections WHERE status = 'published'").await;
    assert_eq!(published, 1, "the browser's publication reached the database");
    let terms = scalar(
        &server,
        "SELECT COUNT(*) FROM moderation_terms WHERE severity = 'block'",
    )
    .await;
    assert_eq!(terms, 2, "the admin's terms reached the database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_redeems_a_qr_code_in_chromium() {
    use support::collections::{Terms, claim_code_links, collectors, published_collection};

    if browser_setup().is_none() {
        return;
    }
    let server = Server::start_with(Options::new(Db::Sqlite).subprocess()).await;
    let (issuer, _, founder, reviewer) = support::kyb::approved_issuer_with_key(&server).await;
    let title = "故宫文创 · 瑞兽";
    let terms = Terms {
        edition_size: 5,
        per_person_limit: 1,
        claim_mode: "claim_codes",
    };
    let collection = published_collection(&founder, &reviewer, issuer, title, terms).await;
    let detail = format!("/console/{issuer}/collections/{collection}");
    let link = claim_code_links(&founder, issuer, collection, 2).await.remove(0);
    collectors(&server, &reviewer, 1, 1).await;
    let downloads = tempfile::tempdir().unwrap();

    run_script(
        &server,
        "claims.mjs",
        &[
            ("CODE_LINK", link),
            ("TITLE", title.to_owned()),
            ("COLLECTOR_EMAIL", "collector1@example.com".to_owned()),
            ("MEMBER_EMAIL", "founder@example.com".to_owned()),
            ("REVIEWER_EMAIL", "reviewer@example.com".to_owned()),
            ("DASHBOARD", detail.clone()),
            ("CASE", format!("/review/collections/{collection}")),
            ("PASSWORD", PASSWORD.to_owned()),
            ("DOWNLOAD_DIR", downloads.path().display().to_string()),
        ],
        &[
            "redeem-en.png",
            "token-en.png",
            "my-collection-en.png",
            "my-collection-zh-CN.png",
            "token-zh-CN.png",
            "certificate-image-en.png",
            "certificate-image-zh-CN.png",
            "dashboard-en.png",
            "review-collection-tokens-en.png",
            "review-collection-tokens-zh-CN.png",
        ],
    )
    .await;
    let certificate = downloads.path().join("certificate.json");
    let output = support::stranger_verifies(downloads.path(), &[certificate.to_str().unwrap()]).await;
    assert!(
        output.status.success(),
        "the downloaded certificate verifies offline: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let used = scalar(&server, "SELECT COUNT(*) FROM claim_codes WHERE used_at IS NOT NULL").await;
    assert_eq!(used, 1, "the browser's redemption used the code");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_time_visitor_claims_from_a_qr_code_on_a_phone_in_chromium() {
    use support::collections::{Terms, claim_code_links, published_collection};
    use support::fake_provider::{FakeProvider, Mode};

    if browser_setup().is_none() {
        return;
    }
    let provider = FakeProvider::start(Mode::Approve).await;
    let server = Server::start_with(
        Options::new(Db::Sqlite)
            .env("KEEPSAKE_KYC_VERIFIER", "http")
            .env("KEEPSAKE_KYC_PROVIDER_URL", &provider.url)
            .env("KEEPSAKE_KYC_PROVIDER_KEY", &provider.key)
            .subprocess(),
    )
    .await;
    let (issuer, _, founder, reviewer) = support::kyb::approved_issuer_with_key(&server).await;
    let title = "西湖夜游纪念";
    let terms = Terms {
        edition_size: 100,
        per_person_limit: 1,
        claim_mode: "claim_codes",
    };
    let collection = published_collection(&founder, &reviewer, issuer, title, terms).await;
    let link = claim_code_links(&founder, issuer, collection, 1).await.remove(0);

    let steps: Vec<String> = [
        "01-code",
        "02-signup",
        "03-check-inbox",
        "04-email-confirmed",
        "05-login",
        "06-verify-first",
        "07-identity",
        "08-verified",
        "09-claimable",
        "10-token",
    ]
    .iter()
    .map(|step| format!("journey-{step}.png"))
    .collect();
    let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
    run_script(
        &server,
        "journey.mjs",
        &[
            ("CODE_LINK", link),
            ("TITLE", title.to_owned()),
            ("EMAIL", "first.visitor@example.com".to_owned()),
            ("PASSWORD", PASSWORD.to_owned()),
            ("MAIL_DIR", server.data_dir.join("mail").display().to_string()),
        ],
        &steps,
    )
    .await;
    let holder = scalar(
        &server,
        "SELECT COUNT(*) FROM tokens t JOIN users u ON u.id = t.holder_user_id WHERE u.email = 'first.visitor@example.com'",
    )
    .await;
    assert_eq!(holder, 1, "the visitor holds the collectible");
    assert_eq!(
        provider.accepted().len(),
        2,
        "the founder's check went through the provider as well"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_changes_address_downloads_their_data_and_leaves_in_chromium() {
    if browser_setup().is_none() {
        return;
    }
    let server = Server::start_with(Options::new(Db::Sqlite).subprocess()).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let reviewer = reviewer(&server, &admin, "reviewer@example.com").await;
    let email = "rights@example.com";
    verified_person(&server, &reviewer, email, &crate::support::collections::id_number(401)).await;
    run_script(
        &server,
        "personal_data.mjs",
        &[
            ("EMAIL", email.to_owned()),
            ("NEW_EMAIL", "rights-new@example.com".to_owned()),
            ("PASSWORD", PASSWORD.to_owned()),
            ("MAIL_DIR", server.data_dir.join("mail").display().to_string()),
        ],
        &[
            "rights-email-sent.png",
            "rights-email-changed.png",
            "rights-data-ready.png",
            "rights-delete.png",
            "rights-deleted.png",
        ],
    )
    .await;
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL").await,
        1,
        "the account was deleted"
    );
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM identities").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_reviewer_sets_up_two_step_verification_in_chromium() {
    if browser_setup().is_none() {
        return;
    }
    let server = Server::start_with(Options::new(Db::Sqlite).subprocess()).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let email = "new-reviewer@example.com";
    server.verified_user(email, PASSWORD).await;
    let id = support::kyb::grant_role(&server, &admin, email, "reviewer").await;
    run_script(
        &server,
        "two_factor.mjs",
        &[("EMAIL", email.to_owned()), ("PASSWORD", PASSWORD.to_owned())],
        &[
            "two-factor-set-up-zh-CN-390.png",
            "two-factor-recovery-codes-zh-CN-390.png",
            "two-factor-review-zh-CN-390.png",
            "two-factor-log-in-zh-CN-390.png",
            "two-factor-log-in-en-1280.png",
            "two-factor-manage-en-1280.png",
        ],
    )
    .await;
    let enrolled = scalar(
        &server,
        &format!("SELECT COUNT(*) FROM second_factors WHERE user_id = {id} AND enrolled_at IS NOT NULL"),
    )
    .await;
    assert_eq!(enrolled, 1, "the reviewer's key is confirmed");
    let used = scalar(
        &server,
        &format!("SELECT COUNT(*) FROM recovery_codes WHERE user_id = {id} AND used_at IS NOT NULL"),
    )
    .await;
    assert_eq!(used, 1, "one recovery code was used");
    let audited = scalar(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'account.second_factor_enrolled'",
    )
    .await;
    assert_eq!(audited, 2, "the admin's set-up and the reviewer's");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_reports_and_a_regulator_reads_it_in_chromium() {
    if browser_setup().is_none() {
        return;
    }
    let (server, accounts) = Server::start_demo().await;
    let regulator = accounts
        .iter()
        .find(|a| a.role == "regulator")
        .expect("a demo regulator");
    run_script(
        &server,
        "oversight.mjs",
        &[
            ("REGULATOR_EMAIL", regulator.email.clone()),
            ("REGULATOR_PASSWORD", regulator.password.clone()),
            (
                "REGULATOR_SECOND_FACTOR",
                regulator.second_factor.clone().expect("the regulator's two-step key"),
            ),
        ],
        &[
            "report-form-zh-CN-390.png",
            "report-status-en-390.png",
            "regulator-issuer-zh-CN-390.png",
            "regulator-reports-en-1280.png",
        ],
    )
    .await;
    let filed = scalar(&server, "SELECT COUNT(*) FROM reports WHERE target_type = 'collection'").await;
    assert_eq!(filed, 2, "both reports were filed, and only those");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_fits_a_phone_and_the_main_pages_pass_axe_in_chromium() {
    if browser_setup().is_none() {
        return;
    }
    let (server, accounts) = Server::start_demo().await;
    let accounts: Vec<serde_json::Value> = accounts
        .iter()
        .map(|a| {
            serde_json::json!({
                "role": a.role,
                "email": a.email,
                "password": a.password,
                "second_factor": a.second_factor,
            })
        })
        .collect();
    let codes = std::fs::read_to_string(server.data_dir.join("demo-claim-codes.csv")).unwrap();
    let code = codes.lines().nth(2).and_then(|l| l.split_once(',')).unwrap().1;
    let extra = serde_json::json!([
        code.trim_start_matches(&server.base),
        "/tokens/3",
        "/tokens/4",
        "/signup/sent",
        "/verify-email/done?next=%2Fexplore",
        "/no-such-page"
    ]);
    run_script(
        &server,
        "tour.mjs",
        &[
            ("ACCOUNTS", serde_json::Value::from(accounts).to_string()),
            ("EXTRA_PAGES", extra.to_string()),
        ],
        &[
            "tour-stranger-home-zh-CN-390.png",
            "tour-stranger-home-en-1280.png",
            "tour-stranger-collections-1-zh-CN-390.png",
            "tour-collector1-me-collection-en-390.png",
            "tour-collector1-account-email-zh-CN-390.png",
            "tour-collector1-account-data-en-390.png",
            "tour-collector1-account-delete-en-1280.png",
            "tour-collector1-identity-zh-CN-390.png",
            "tour-collector1-tokens-1-zh-CN-390.png",
            "tour-brand-console-1-zh-CN-1280.png",
            "tour-brand-console-1-filings-en-390.png",
            "tour-reviewer-review-issuers-1-zh-CN-390.png",
            "tour-reviewer-review-collections-1-en-1280.png",
            "tour-operator-admin-users-zh-CN-390.png",
            "tour-regulator-regulator-en-1280.png",
            "tour-regulator-regulator-collections-1-zh-CN-390.png",
            "tour-regulator-regulator-reveals-en-390.png",
        ],
    )
    .await;
}
