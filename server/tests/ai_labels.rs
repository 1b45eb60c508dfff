//! AI-generated artwork, end to end: an issuer's declaration or a reviewer's flag labels the
//! artwork on its pages, its thumbnails and its certificate (the explicit label), and puts the
//! GB 45438-2025 implicit label into the image files served, read back here by ExifTool; the
//! upload as sent, which the ledger commits to, never changes.
//!
//! ExifTool comes from `TEST_EXIFTOOL` (`.ci/run` installs Debian's); without it the implicit
//! label is checked in the bytes only, unless `KEEPSAKE_REQUIRE_SERVICES=1`.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::collections::{Terms, artwork_png, published_collection, published_collection_with};
use crate::support::kyb::{approved_issuer_with_key, scalar, version_in};
use crate::support::{Client, Db, Server, location, service_var};

on_both_databases!(declared_and_flagged_artwork_is_labelled_everywhere);

fn terms(edition_size: u32) -> Terms {
    Terms {
        edition_size,
        per_person_limit: 1,
        claim_mode: "open",
    }
}

async fn bytes(client: &Client, path: &str) -> Vec<u8> {
    let response = client.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.bytes().await.unwrap().to_vec()
}

/// The `AIGC` JSON of the implicit label in `image`, as ExifTool reads it (or, without
/// ExifTool, as it stands in the bytes); `None` if there is none.
fn implicit_label(image: &[u8]) -> Option<Value> {
    let Some(exiftool) = service_var("TEST_EXIFTOOL") else {
        let text = String::from_utf8_lossy(image);
        let start = text.find("<TC260:AIGC>")? + "<TC260:AIGC>".len();
        let end = start + text[start..].find("</TC260:AIGC>")?;
        let json = text[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        return Some(serde_json::from_str(&json).expect("the label's JSON"));
    };
    let mut child = Command::new(exiftool)
        .args(["-j", "-XMP-TC260:all", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("exiftool runs");
    child.stdin.take().unwrap().write_all(image).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "exiftool: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: Value = serde_json::from_slice(&output.stdout).expect("exiftool's JSON");
    read[0]["Aigc"]
        .as_str()
        .map(|json| serde_json::from_str(json).expect("the label's JSON"))
}

/// Whether `page` shows the explicit label on the card of `collection`.
fn card_labelled(page: &str, collection: i64) -> bool {
    let start = page
        .find(&format!("data-collection=\"{collection}\""))
        .expect("the collection's card");
    let card = &page[start..start + page[start..].find("</li>").unwrap()];
    card.contains("data-ai-label")
}

async fn declared_and_flagged_artwork_is_labelled_everywhere(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let declared = published_collection_with(
        &founder,
        &reviewer,
        issuer,
        "AI 绘制的长城",
        terms(11),
        &[("ai_declared", "yes")],
    )
    .await;
    let plain = published_collection(&founder, &reviewer, issuer, "手绘长城", terms(12)).await;
    let visitor = server.client();

    // The issuer's declaration: labelled on the page, the card and in the files served.
    let (_, page) = visitor.get_text(&format!("/collections/{declared}")).await;
    assert!(page.contains("data-ai-label") && page.contains("data-ai=\"declared\""));
    let (_, page) = visitor.get_text(&format!("/collections/{plain}")).await;
    assert!(!page.contains("data-ai-label") && page.contains("data-ai=\"no\""));
    let (_, explore) = visitor.get_text("/explore").await;
    assert!(card_labelled(&explore, declared));
    assert!(!card_labelled(&explore, plain));
    for rendition in ["256", "1024", "full"] {
        let image = bytes(&visitor, &format!("/collections/{declared}/artwork/{rendition}")).await;
        let label = implicit_label(&image).unwrap_or_else(|| panic!("{rendition}: an implicit label"));
        assert_eq!(label["Label"], "1");
        assert_eq!(label["ContentProducer"], "新华文创（北京）有限公司");
        assert_eq!(label["ContentPropagator"], "Keepsake Test");
        assert!(
            label["PropagateID"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/collections/{declared}")),
            "{label}"
        );
        image::load_from_memory(&image).expect("a labelled file is still an image");
        let plain_image = bytes(&visitor, &format!("/collections/{plain}/artwork/{rendition}")).await;
        assert_eq!(
            implicit_label(&plain_image),
            None,
            "{rendition}: nothing declared, nothing added"
        );
    }
    assert_eq!(
        bytes(&founder, &format!("/collections/{declared}/artwork/original")).await,
        artwork_png(11),
        "the upload as sent, which the ledger commits to, is untouched"
    );

    // A collector's token and certificate carry the label too.
    let collector = &crate::support::collections::collectors(&server, &reviewer, 1, 1).await[0];
    let csrf = collector.csrf(&format!("/collections/{declared}")).await;
    let (status, token) = crate::support::collections::claim(collector, &csrf, declared, "ai-label-claim-00001").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = collector.get_text(&token).await;
    assert!(page.contains("data-ai-label"), "the token page");
    let (_, page) = collector.get_text("/me/collection").await;
    assert!(page.contains("data-ai-label"), "my collection");
    let card = image::load_from_memory(&bytes(collector, &format!("{token}/certificate.png")).await)
        .unwrap()
        .to_rgb8();
    assert_eq!(
        card.get_pixel(160 + 20, 170 + 760 - 20).0,
        [28, 28, 32],
        "the label's plate"
    );

    // A reviewer labels the undeclared one, once, at the version seen; and takes it back.
    let case = format!("/review/collections/{plain}");
    let (_, html) = reviewer.get_text(&case).await;
    let version = version_in(&html);
    let flag = |flagged: &'static str, version: String| {
        let (reviewer, case) = (reviewer.clone(), case.clone());
        async move {
            reviewer
                .post_form(
                    &case,
                    &format!("{case}/ai-label"),
                    &[("flagged", flagged), ("version", &version)],
                )
                .await
        }
    };
    let response = flag("true", version.clone()).await;
    assert_eq!(location(&response), case);
    assert_eq!(
        flag("true", version).await.status(),
        StatusCode::CONFLICT,
        "a stale version"
    );
    let (_, page) = visitor.get_text(&format!("/collections/{plain}")).await;
    assert!(page.contains("data-ai-label") && page.contains("data-ai=\"flagged\""));
    let image = bytes(&visitor, &format!("/collections/{plain}/artwork/1024")).await;
    assert_eq!(implicit_label(&image).expect("labelled once flagged")["Label"], "1");
    let (_, html) = reviewer.get_text(&case).await;
    let response = flag("false", version_in(&html)).await;
    assert_eq!(location(&response), case);
    let (_, page) = visitor.get_text(&format!("/collections/{plain}")).await;
    assert!(!page.contains("data-ai-label"));
    assert_eq!(
        scalar(
            &server,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE subject_id = '{plain}' \
                 AND action IN ('collection.ai_flagged', 'collection.ai_unflagged')"
            )
        )
        .await,
        2,
        "each change is audited"
    );
    // The issuer's member cannot label, and outsiders are refused.
    assert_eq!(
        founder
            .post_form(
                &format!("/collections/{plain}"),
                &format!("{case}/ai-label"),
                &[("flagged", "true"), ("version", "1")]
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}
