//! The account flow in a real browser: headless Chromium (from Debian) driven by
//! playwright-core (`tests/browser/accounts.mjs`) against the real server. Screenshots are
//! saved under the target directory's `tmp/screenshots/`.
//!
//! Runs when `TEST_CHROMIUM` names the Chromium binary and `npm ci` has been run in
//! `tests/browser`; CI sets both.

mod support;

use std::path::Path;

use support::{Db, Server, service_var, services_required};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_and_log_in_in_chromium() {
    let Some(chromium) = service_var("TEST_CHROMIUM") else {
        return;
    };
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser");
    if !scripts.join("node_modules/playwright-core").is_dir() {
        assert!(!services_required(), "run `npm ci` in tests/browser first");
        eprintln!("skipped: run `npm ci` in tests/browser");
        return;
    }
    let screenshots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    for name in ["home-zh-CN.png", "signup-zh-CN.png", "account-en.png"] {
        let _ = std::fs::remove_file(screenshots.join(name));
    }

    let server = Server::start(Db::Sqlite).await;
    let output = tokio::process::Command::new("node")
        .arg("accounts.mjs")
        .current_dir(&scripts)
        .env("BASE_URL", &server.base)
        .env("MAIL_DIR", server.data_dir.join("mail"))
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROMIUM", chromium)
        .output()
        .await
        .expect("run node");
    assert!(
        output.status.success(),
        "browser flow failed:\n{}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    for name in ["home-zh-CN.png", "signup-zh-CN.png", "account-en.png"] {
        let png = std::fs::read(screenshots.join(name)).unwrap_or_default();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
            "{name} is a real screenshot"
        );
    }
    eprintln!("screenshots in {}", screenshots.display());
}
