//! Claiming end to end: verified people claim free collectibles, each mint gets the next serial
//! and a ledger entry, the per-person limit and the supply hold under concurrent claims, a
//! retried claim returns the same token, and transfers are refused and audited.

use crate::support;

use std::collections::BTreeSet;

use crate::support::collections::{Terms, claim, collectors, published_collection};
use crate::support::kyb::{PASSWORD, approved_issuer_with_key, query, scalar};
use crate::support::{Client, Db, Options, Server};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;

on_both_databases!(
    open_claims_mint_tokens_once_per_person,
    concurrent_claims_never_exceed_supply,
    claim_codes_work_once_each,
    acknowledged_claims_survive_a_crash_and_restart,
    acknowledged_claims_survive_a_killed_server,
    allowlists_decide_who_claims,
    reviewers_freeze_and_revoke_a_whole_collection,
    a_whole_collection_decision_pages_through_a_large_edition,
);

fn open(edition_size: u32, per_person_limit: u32) -> Terms {
    Terms {
        edition_size,
        per_person_limit,
        claim_mode: "open",
    }
}

/// The token id a successful claim redirected to.
fn token_of(target: &str) -> i64 {
    target
        .strip_prefix("/tokens/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("a claim redirects to its token, not {target:?}"))
}

/// Fires every claim at once: (client, its CSRF token, claim key) against `collection`.
async fn burst(collection: i64, claims: Vec<(Client, String, String)>) -> Vec<(StatusCode, String)> {
    let mut running = tokio::task::JoinSet::new();
    for (client, csrf, key) in claims {
        running.spawn(async move { claim(&client, &csrf, collection, &key).await });
    }
    running.join_all().await
}

/// The size of the log's latest checkpoint (0 before the first).
/// The text of the one QR code in a PNG.
fn qr_link(png: &[u8]) -> String {
    let image = image::load_from_memory(png).expect("a PNG").to_luma8();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(image.width() as usize, image.height() as usize, |x, y| {
            image.get_pixel(x as u32, y as u32).0[0]
        });
    let mut texts: Vec<String> = prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect();
    assert_eq!(texts.len(), 1, "one readable QR code");
    texts.remove(0)
}

async fn ledger_size(server: &Server) -> u64 {
    let checkpoint = reqwest::get(server.url("/api/v1/ledger/checkpoint")).await.unwrap();
    if checkpoint.status() != StatusCode::OK {
        return 0;
    }
    let note = checkpoint.text().await.unwrap();
    note.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or(0)
}

/// Polls the public log until it holds `count` entries that `wanted` picks; returns them.
async fn entries_where(server: &Server, count: usize, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    for _ in 0..400 {
        let mut found = Vec::new();
        for index in 0..ledger_size(server).await {
            let entry: Value = reqwest::get(server.url(&format!("/api/v1/ledger/entries/{index}")))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if wanted(&entry) {
                found.push(entry);
            }
        }
        if found.len() >= count {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the log never held {count} such entries");
}

/// Polls the public log until it holds `count` `token_minted` entries of `collection`.
async fn minted_entries(server: &Server, collection: i64, count: usize) -> Vec<Value> {
    entries_where(server, count, |e| {
        e["type"] == "token_minted" && e["fields"]["collection_id"] == collection
    })
    .await
}

async fn open_claims_mint_tokens_once_per_person(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let id = published_collection(&founder, &reviewer, issuer, "开放领取测试", open(3, 1)).await;
    let page = format!("/collections/{id}");
    let collector = &collectors(&server, &reviewer, 1, 1).await[0];
    let csrf = collector.csrf(&page).await;

    let (status, target) = claim(collector, &csrf, id, "first-claim-key-0001").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let token = token_of(&target);
    let (status, again) = claim(collector, &csrf, id, "first-claim-key-0001").await;
    assert_eq!(
        (status, again.as_str()),
        (StatusCode::SEE_OTHER, target.as_str()),
        "a retried claim returns the same token"
    );
    // Apps claim through the API with the session and an idempotency key: the same key, the same token.
    let api_claim = |key: Option<&'static str>| {
        let mut request = collector
            .http
            .post(collector.url(&format!("/api/v1/collections/{id}/claims")));
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = api_claim(Some("first-claim-key-0001")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["token"], token);
    assert_eq!(body["serial"], 1);
    let (status, body) = api_claim(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "claim_request_invalid");
    let (status, body) = api_claim(Some("api-claim-key-000002")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("limit_reached"))
    );
    let (status, _) = claim(collector, &csrf, id, "second-claim-key-0002").await;
    assert_eq!(status, StatusCode::CONFLICT, "one per person");
    let refusal = collector
        .http
        .post(collector.url(&format!("{page}/claim")))
        .header("accept", "application/json")
        .form(&[("csrf", csrf.as_str()), ("claim_key", "third-claim-key-00003")])
        .send()
        .await
        .unwrap();
    let body: Value = refusal.json().await.unwrap();
    assert_eq!(body["error"]["code"], "limit_reached");
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM tokens").await, 1);

    let unverified = server.verified_user("unverified@example.com", PASSWORD).await;
    let unverified_csrf = unverified.csrf(&page).await;
    let (status, _) = claim(&unverified, &unverified_csrf, id, "unverified-claim-key-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only verified people claim");

    let (status, html) = collector.get_text(&target).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-serial=\"1\""), "serial #1");
    assert!(html.contains("#1 / 3"));
    let (_, mine) = collector.get_text("/me/collection").await;
    assert!(mine.contains(&format!("data-token=\"{token}\"")));

    // The public token page shows nothing personal.
    let (status, public) = server.client().get_text(&target).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!public.contains("collector1@example.com"));
    let masked: String = query(
        &server,
        "SELECT id_masked FROM identities i JOIN users u ON u.id = i.user_id WHERE u.email = 'collector1@example.com'",
    )
    .await;
    assert!(!public.contains(&masked), "not even the masked ID number");

    let entries = minted_entries(&server, id, 1).await;
    assert_eq!(entries[0]["fields"]["serial"], 1);
    let commitment: Vec<u8> = query(&server, &format!("SELECT commitment FROM tokens WHERE id = {token}")).await;
    let hex: String = commitment.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        entries[0]["fields"]["holder_commitment"], hex,
        "the ledger holds the commitment"
    );

    // The holder's certificate verifies offline, for anyone, without the server.
    let certificate_path = format!("/tokens/{token}/certificate.json");
    assert_eq!(
        server.client().get(&certificate_path).await.status(),
        StatusCode::SEE_OTHER,
        "only the signed-in holder downloads it"
    );
    let certificate = loop {
        let response = collector.get(&certificate_path).await;
        if response.status() == StatusCode::OK {
            break response.text().await.unwrap();
        }
        assert_eq!(response.status(), StatusCode::CONFLICT, "pending until sequenced");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("certificate.json"), &certificate).unwrap();
    let output = support::stranger_verifies(dir.path(), &["certificate.json"]).await;
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        report.contains("token_minted") && report.contains("holder commitment"),
        "{report}"
    );
    let mut forged: Value = serde_json::from_str(&certificate).unwrap();
    let holder = forged["holder"].as_object().unwrap();
    assert_eq!(
        holder.keys().collect::<Vec<_>>(),
        ["opening"],
        "the certificate opens this token alone: {holder:?}"
    );
    let blind_index: String = query(&server, &format!("SELECT holder_index FROM tokens WHERE id = {token}")).await;
    assert!(
        !certificate.contains(&blind_index),
        "nothing that links the holder's certificates"
    );
    forged["holder"]["opening"] = Value::String("00".repeat(32));
    std::fs::write(dir.path().join("forged.json"), forged.to_string()).unwrap();
    let output = support::stranger_verifies(dir.path(), &["forged.json"]).await;
    assert!(
        !output.status.success(),
        "a certificate with another opening does not verify"
    );

    // A reviewer freezes the token: the ledger, the holder and online verification all say so.
    // Revoking is final: the reviewer ticks the confirmation as well.
    let decide = |action: &'static str, reason: &'static str| {
        let reviewer = reviewer.clone();
        let target = target.clone();
        async move {
            reviewer
                .post_form(
                    &target,
                    &format!("/review/tokens/{token}/decision"),
                    &[("action", action), ("reason", reason), ("confirm", "yes")],
                )
                .await
                .status()
        }
    };
    assert_eq!(
        decide("freeze", "").await,
        StatusCode::BAD_REQUEST,
        "a reason is required"
    );
    assert_eq!(decide("freeze", "投诉核查中").await, StatusCode::SEE_OTHER);
    let (_, frozen) = server.client().get_text(&target).await;
    assert!(frozen.contains("data-status=\"frozen\""));
    assert!(
        !frozen.contains("投诉核查中"),
        "the reason is for the holder, not for everyone"
    );
    let (_, holder_view) = collector.get_text(&target).await;
    assert!(
        holder_view.contains("data-status-notice=\"frozen\"") && holder_view.contains("投诉核查中"),
        "the holder is told the reason"
    );
    assert!(
        !holder_view.contains("data-holder-box"),
        "a frozen token is not offered for sharing"
    );
    assert_eq!(decide("freeze", "again").await, StatusCode::CONFLICT);
    let frozen_entries = entries_where(&server, 1, |e| e["type"] == "token_frozen").await;
    assert_eq!(frozen_entries.len(), 1);
    assert_eq!(frozen_entries[0]["fields"]["serial"], 1);
    let mails = server.mailbox().wait_for("collector1@example.com", 3).await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains("开放领取测试 #1") && m.text.contains("投诉核查中")),
        "the holder is told, with the reason"
    );
    let verify_token = collector.csrf("/verify").await;
    let checked = collector
        .http
        .post(collector.url(&format!("/verify/receipt?csrf={verify_token}")))
        .multipart(
            reqwest::multipart::Form::new()
                .text("receipt_text", certificate.clone())
                .text("form_key", collector.form_key("/verify", "/verify/receipt").await),
        )
        .send()
        .await
        .unwrap();
    let (_, checked) = collector.get_text(&support::location(&checked)).await;
    assert!(
        checked.contains("data-holder-proven=\"true\""),
        "the certificate's holder proof checks online"
    );
    assert!(
        checked.contains("data-token-status=\"frozen\""),
        "verification reports the freeze"
    );

    // The shareable image is public, and its QR code opens online verification of the entry.
    let image_path = format!("/tokens/{token}/certificate.png");
    let image = server.client().get(&image_path).await;
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/png");
    let frozen_etag = image.headers()["etag"].to_str().unwrap().to_owned();
    let frozen_png = image.bytes().await.unwrap();
    let verify_link = qr_link(&frozen_png);
    let fetch_if_changed = |etag: String| {
        let (server, image_path) = (&server, &image_path);
        async move {
            let response = server
                .client()
                .http
                .get(server.url(image_path))
                .header("If-None-Match", etag)
                .send()
                .await
                .unwrap();
            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
            (response.status(), etag, response.bytes().await.unwrap())
        }
    };
    for known in [frozen_etag.clone(), format!("\"other\", W/{frozen_etag}")] {
        let (status, etag, body) = fetch_if_changed(known).await;
        assert_eq!(
            (status, &etag, body.len()),
            (StatusCode::NOT_MODIFIED, &frozen_etag, 0),
            "a browser that has the image is told so"
        );
    }
    let again = server.client().get(&image_path).await.bytes().await.unwrap();
    assert_eq!(again, frozen_png, "served again, the same image");
    let index = frozen
        .split("data-ledger-index=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the token page names its ledger entry");
    assert_eq!(verify_link, server.url(&format!("/verify?entry={index}")));
    let (status, verified) = server
        .client()
        .get_text(&verify_link.replace(&server.url(""), ""))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        verified.contains("data-token-status=\"frozen\"") && verified.contains("藏品领取（铸造）"),
        "the link verifies the minted entry and reports the freeze"
    );
    assert!(
        !verified.contains("投诉核查中"),
        "verification does not tell strangers the reason"
    );

    // A freeze is lifted with a reason: a ledger entry, an audit row and a mail.
    assert_eq!(decide("unfreeze", "核查无误").await, StatusCode::SEE_OTHER);
    assert_eq!(
        query::<String>(&server, &format!("SELECT status FROM tokens WHERE id = {token}")).await,
        "active"
    );
    let unfrozen = entries_where(&server, 1, |e| e["type"] == "token_unfrozen").await;
    assert_eq!(unfrozen[0]["fields"]["serial"], 1);
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'token.unfrozen' AND reason = '核查无误'"
        )
        .await,
        1
    );
    let mails = server.mailbox().wait_for("collector1@example.com", 4).await;
    assert!(
        mails
            .iter()
            .any(|m| m.subject.contains("解除冻结") && m.text.contains("核查无误")),
        "the holder is told the freeze is lifted"
    );
    assert_eq!(
        decide("unfreeze", "again").await,
        StatusCode::CONFLICT,
        "only a frozen token is unfrozen"
    );

    // Revoking needs its confirmation; without it nothing changes.
    let unconfirmed = reviewer
        .post_form(
            &target,
            &format!("/review/tokens/{token}/decision"),
            &[("action", "revoke"), ("reason", "侵权")],
        )
        .await;
    assert_eq!(unconfirmed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unconfirmed.text().await.unwrap().contains("data-next-steps"),
        "the page says what to do"
    );
    assert_eq!(
        query::<String>(&server, &format!("SELECT status FROM tokens WHERE id = {token}")).await,
        "active"
    );
    for unknown in ["999999", "not-a-number"] {
        let (status, page) = server.client().get_text(&format!("/verify?entry={unknown}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(page.contains("账本中没有这个编号的条目"), "the page says why");
    }
    assert_eq!(decide("revoke", "侵权").await, StatusCode::SEE_OTHER);
    assert_eq!(
        query::<String>(&server, &format!("SELECT status FROM tokens WHERE id = {token}")).await,
        "revoked"
    );
    let (status, etag, body) = fetch_if_changed(frozen_etag.clone()).await;
    assert_eq!(status, StatusCode::OK, "the revocation changed the image");
    assert_ne!(etag, frozen_etag);
    assert_ne!(body, frozen_png);
    assert_eq!(qr_link(&body), verify_link, "the same entry to verify");
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('token.frozen', 'token.revoked')"
        )
        .await,
        2
    );

    // Transfers do not exist: the endpoint refuses, and the attempt is audited.
    let response = reqwest::Client::new()
        .post(server.url(&format!("/api/v1/tokens/{token}/transfer")))
        .json(&serde_json::json!({ "to": "someone@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "transfers_prohibited");
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'token.transfer_refused'"
        )
        .await,
        1
    );
    let holder: i64 = scalar(
        &server,
        &format!("SELECT holder_user_id FROM tokens WHERE id = {token}"),
    )
    .await;
    let collector_id = scalar(&server, "SELECT id FROM users WHERE email = 'collector1@example.com'").await;
    assert_eq!(holder, collector_id, "the holder never changes");
}

async fn concurrent_claims_never_exceed_supply(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let people = collectors(&server, &reviewer, 10, 4).await;

    // 200 claims for 50 tokens, from four people allowed up to 50 each.
    let id = published_collection(&founder, &reviewer, issuer, "限量五十", open(50, 50)).await;
    let page = format!("/collections/{id}");
    let mut tokens = Vec::new();
    for person in &people {
        tokens.push(person.csrf(&page).await);
    }
    let attempts = (0..200)
        .map(|n| {
            let who = n % people.len();
            (
                people[who].clone(),
                tokens[who].clone(),
                format!("burst-claim-key-{n:05}"),
            )
        })
        .collect();
    let outcomes = burst(id, attempts).await;
    let minted = outcomes.iter().filter(|(s, _)| *s == StatusCode::SEE_OTHER).count();
    let sold_out = outcomes.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
    assert_eq!((minted, sold_out), (50, 150), "{outcomes:?}");
    let serials: BTreeSet<i64> = {
        let db = server.db().await;
        use sea_orm::{ConnectionTrait, Statement};
        db.query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT CAST(serial AS BIGINT) FROM tokens WHERE collection_id = {id}"),
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0).unwrap())
        .collect()
    };
    assert_eq!(serials, (1..=50).collect(), "serials 1..50, each once");
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT claimed_count FROM collections WHERE id = {id}")
        )
        .await,
        50
    );
    assert_eq!(
        minted_entries(&server, id, 50).await.len(),
        50,
        "one ledger entry per token"
    );

    // One person firing twenty claims at once at a one-per-person collection gets one token.
    let single = published_collection(&founder, &reviewer, issuer, "每人一件", open(10, 1)).await;
    let person = &people[0];
    let csrf = person.csrf(&format!("/collections/{single}")).await;
    let attempts = (0..20)
        .map(|n| (person.clone(), csrf.clone(), format!("single-claim-key-{n:05}")))
        .collect();
    let outcomes = burst(single, attempts).await;
    assert_eq!(
        outcomes.iter().filter(|(s, _)| *s == StatusCode::SEE_OTHER).count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {single}")
        )
        .await,
        1
    );

    // One claim key sent to two collections at once, among other people's claims: whichever
    // mints first owns the key, and the other is told the key was already used elsewhere.
    let other = published_collection(&founder, &reviewer, issuer, "同键两投", open(10, 1)).await;
    let mut running = tokio::task::JoinSet::new();
    for (n, person) in people.iter().enumerate() {
        for target in [single, other] {
            let (person, page) = (person.clone(), format!("/collections/{target}"));
            let key = match n {
                1 => "one-key-two-collections".to_owned(),
                _ => format!("cross-claim-{n}-{target}"),
            };
            running.spawn(async move {
                let csrf = person.csrf(&page).await;
                (n, claim(&person, &csrf, target, &key).await)
            });
        }
    }
    let answers: Vec<(usize, (StatusCode, String))> = running.join_all().await;
    let mut shared: Vec<StatusCode> = answers
        .iter()
        .filter(|(n, _)| *n == 1)
        .map(|(_, (status, _))| *status)
        .collect();
    shared.sort();
    assert_eq!(
        shared,
        [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY],
        "one claim mints, the other is refused: {answers:?}"
    );
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM tokens WHERE claim_key = 'one-key-two-collections'"
        )
        .await,
        1
    );
}

/// Generates `count` codes for a claim-code collection and follows the answer to the batch's
/// sheet or CSV file, as a browser does.
async fn generate_codes(founder: &Client, issuer: i64, collection: i64, count: u32, format: &str) -> reqwest::Response {
    let detail = format!("/console/{issuer}/collections/{collection}");
    let response = founder
        .post_form(
            &detail,
            &format!("{detail}/codes"),
            &[("count", &count.to_string()), ("format", format)],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a new batch answers with a redirect"
    );
    founder.get(&support::location(&response)).await
}

async fn claim_codes_work_once_each(db: Db) {
    let server = Server::start(db).await;
    let (issuer, key, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 5,
        per_person_limit: 2,
        claim_mode: "claim_codes",
    };
    let id = published_collection(&founder, &reviewer, issuer, "以实带虚", terms).await;
    let response = generate_codes(&founder, issuer, id, 3, "csv").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let csv = response.text().await.unwrap();
    let rows: Vec<(String, String)> = csv
        .lines()
        .skip(1)
        .map(|line| {
            let (code, link) = line.split_once(',').unwrap();
            (code.to_owned(), link.to_owned())
        })
        .collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(
        rows.iter()
            .all(|(code, link)| code.len() == 19 && link.ends_with(&format!("/c/{}", code.replace('-', ""))))
    );
    let sheet = generate_codes(&founder, issuer, id, 2, "sheet")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(sheet.matches("data-code=").count(), 2);
    assert_eq!(sheet.matches("<svg").count(), 2, "a QR code per code");
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM claim_codes WHERE collection_id = {id}")
        )
        .await,
        5
    );
    // The form sent twice (a reload, a double tap) makes one batch, and its sheet can be
    // opened again by the member who made it, and by nobody else.
    let detail = format!("/console/{issuer}/collections/{id}");
    let action = format!("{detail}/codes");
    let form_key = founder.form_key(&detail, &action).await;
    let fields = [("count", "4"), ("format", "sheet"), ("form_key", form_key.as_str())];
    let first = founder.post_form(&detail, &action, &fields).await;
    let again = founder.post_form(&detail, &action, &fields).await;
    assert_eq!(support::location(&first), support::location(&again), "the same result");
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM claim_codes WHERE collection_id = {id}")
        )
        .await,
        9,
        "one batch of four"
    );
    let sheet_path = support::location(&first);
    let (status, again_sheet) = founder.get_text(&sheet_path).await;
    assert_eq!((status, again_sheet.matches("data-code=").count()), (StatusCode::OK, 4));
    let stranger = server.verified_user("stranger@example.com", PASSWORD).await;
    assert_eq!(
        stranger.get(&sheet_path).await.status(),
        StatusCode::NOT_FOUND,
        "not a member"
    );
    let signed_out = server.client().get(&sheet_path).await;
    assert_eq!(
        signed_out.status(),
        StatusCode::SEE_OTHER,
        "signed out, the sheet asks to log in"
    );
    let stored_plain = scalar(
        &server,
        &format!("SELECT COUNT(*) FROM claim_codes WHERE code_hash = '{}'", rows[0].0),
    )
    .await;
    assert_eq!(stored_plain, 0, "codes are stored hashed");

    let people = collectors(&server, &reviewer, 20, 2).await;
    let (alice, bob) = (&people[0], &people[1]);
    let page = format!("/collections/{id}");
    let csrf = alice.csrf(&page).await;
    let (status, _) = claim(alice, &csrf, id, "no-code-claim-key-0001").await;
    assert_eq!(status, StatusCode::CONFLICT, "this collection needs a code");

    // Typed with dashes in lower case, the code finds its page.
    let typed = alice.get(&format!("/c?code={}", rows[0].0.to_lowercase())).await;
    let canonical = format!("/c/{}", rows[0].0.replace('-', ""));
    assert_eq!(support::location(&typed), canonical);
    let redeem = |client: &Client, code_path: String, key: &'static str| {
        let client = client.clone();
        async move {
            let token = client.csrf(&code_path).await;
            let response = client
                .http
                .post(client.url(&code_path))
                .form(&[("csrf", token.as_str()), ("claim_key", key)])
                .send()
                .await
                .unwrap();
            (response.status(), support::location(&response))
        }
    };
    let (status, target) = redeem(alice, canonical.clone(), "code-claim-key-00001").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    token_of(&target);
    let (_, page_after) = bob.get_text(&canonical).await;
    assert!(
        page_after.contains("data-claim-state=\"code_used\""),
        "the code's page says it is used"
    );
    let response = bob
        .http
        .post(bob.url(&canonical))
        .form(&[
            ("csrf", bob.csrf(&page).await.as_str()),
            ("claim_key", "code-claim-key-00002"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT, "a code works once");
    let (_, unknown) = bob.get_text("/c/0000000000000000").await;
    assert!(unknown.contains("data-problem=\"redeem.unknown\""));
    let (status, _) = redeem(
        bob,
        format!("/c/{}", rows[1].0.replace('-', "")),
        "code-claim-key-00003",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "another code works for another person");
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM claim_codes WHERE collection_id = {id} AND used_at IS NOT NULL")
        )
        .await,
        2
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {id}")
        )
        .await,
        2
    );

    // The issuer API: codes, statistics and claims with the key; nothing without it.
    let api = reqwest::Client::new();
    let endpoint = |path: &str| server.url(&format!("/api/v1/collections/{id}/{path}"));
    let created = api
        .post(endpoint("codes"))
        .bearer_auth(&key)
        .json(&serde_json::json!({ "count": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["codes"].as_array().unwrap().len(), 2);
    let api_link = created["codes"][0]["link"].as_str().unwrap();
    let api_code_path = api_link[api_link.find("/c/").unwrap()..].to_owned();
    let carol = &collectors(&server, &reviewer, 22, 1).await[0];
    let (status, _) = redeem(carol, api_code_path, "code-claim-key-00004").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "a code from the API redeems");
    let get = |path: &'static str| {
        let request = api.get(endpoint(path)).bearer_auth(&key);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let stats = get("stats").await;
    assert_eq!(
        (stats["claimed"].as_u64(), stats["remaining"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        (stats["codes"]["generated"].as_u64(), stats["codes"]["used"].as_u64()),
        (Some(11), Some(3))
    );
    let listed = get("claims").await;
    let holders: Vec<&str> = listed["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["holder"].as_str().unwrap())
        .collect();
    assert_eq!(holders, ["c***@example.com"; 3]);
    assert_eq!(
        api.get(endpoint("stats")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let malformed = api
        .post(endpoint("codes"))
        .bearer_auth(&key)
        .body("{\"count\": \"many\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
}

/// Claims up to `count` times as `client` (a new claim key each time) until its server stops
/// answering; the task returns the tokens of the claims that were answered.
fn claim_until_cut_off(
    running: &mut tokio::task::JoinSet<Vec<i64>>,
    client: Client,
    csrf: String,
    collection: i64,
    tag: String,
    count: usize,
) {
    running.spawn(async move {
        let mut answered = Vec::new();
        for attempt in 0..count {
            let key = format!("crash-claim-{tag}-{attempt:04}");
            let sent = client
                .http
                .post(client.url(&format!("/collections/{collection}/claim")))
                .form(&[("csrf", csrf.as_str()), ("claim_key", key.as_str())])
                .send()
                .await;
            match sent {
                Ok(response) if response.status() == StatusCode::SEE_OTHER => {
                    answered.push(token_of(&support::location(&response)));
                }
                Ok(response) => panic!("claim refused: {}", response.status()),
                // The killed server: no answer, so nothing was promised.
                Err(_) => break,
            }
        }
        answered
    });
}

/// Waits until `collection` holds at least `count` tokens.
async fn wait_for_tokens(server: &Server, collection: i64, count: i64) {
    let sql = format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {collection}");
    for _ in 0..400 {
        if scalar(server, &sql).await >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the burst never reached {count} tokens");
}

/// After a crash: every acknowledged token exists, serials run 1..n once each, the collection's
/// count matches, and (once `server` has sequenced what was queued) every token has its entry.
/// Returns how many were minted.
pub(crate) async fn assert_claims_consistent(server: &Server, collection: i64, acknowledged: &[i64]) -> i64 {
    let minted = scalar(
        server,
        &format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {collection}"),
    )
    .await;
    for token in acknowledged {
        assert_eq!(
            scalar(server, &format!("SELECT COUNT(*) FROM tokens WHERE id = {token}")).await,
            1,
            "acknowledged token {token} exists"
        );
    }
    assert!(minted >= acknowledged.len() as i64);
    assert_eq!(
        scalar(
            server,
            &format!("SELECT CAST(MAX(serial) AS BIGINT) FROM tokens WHERE collection_id = {collection}")
        )
        .await,
        minted,
        "serials 1..n without gaps"
    );
    assert_eq!(
        scalar(
            server,
            &format!("SELECT COUNT(DISTINCT serial) FROM tokens WHERE collection_id = {collection}")
        )
        .await,
        minted
    );
    assert_eq!(
        scalar(
            server,
            &format!("SELECT claimed_count FROM collections WHERE id = {collection}")
        )
        .await,
        minted
    );
    assert_eq!(
        minted_entries(server, collection, minted as usize).await.len(),
        minted as usize
    );
    minted
}

/// One server is SIGKILLed in the middle of a burst of claims and started again on the same
/// database: every claim that was answered has its token and ledger entry, the invariants hold,
/// and the next claim gets the next serial.
async fn acknowledged_claims_survive_a_crash_and_restart(db: Db) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let people = collectors(&server, &reviewer, 60, 4).await;
    let id = published_collection(&founder, &reviewer, issuer, "重启测试", open(500, 500)).await;
    let page = format!("/collections/{id}");
    let mut running = tokio::task::JoinSet::new();
    for (n, person) in people.iter().enumerate() {
        let csrf = person.csrf(&page).await;
        claim_until_cut_off(&mut running, person.clone(), csrf, id, n.to_string(), 100);
    }
    wait_for_tokens(&server, id, 30).await;
    let server = server.crash_and_restart().await;
    let acknowledged: Vec<i64> = running.join_all().await.into_iter().flatten().collect();
    assert!((acknowledged.len() as i64) < 400, "the kill cut the burst short");
    let minted = assert_claims_consistent(&server, id, &acknowledged).await;
    let person = people[0].at(&server);
    let csrf = person.csrf(&page).await;
    let (status, _) = claim(&person, &csrf, id, "after-the-restart-0001").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the restarted server takes claims");
    let next = scalar(
        &server,
        &format!("SELECT CAST(MAX(serial) AS BIGINT) FROM tokens WHERE collection_id = {id}"),
    )
    .await;
    assert_eq!(next, minted + 1);
}

/// Two servers share one database; claims pour into both and one is killed with SIGKILL in the
/// middle. Every claim that was answered with its token has that token and its ledger entry,
/// and supply, serials and counts stay consistent.
async fn acknowledged_claims_survive_a_killed_server(db: Db) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let people = collectors(&server, &reviewer, 30, 2).await;
    let id = published_collection(&founder, &reviewer, issuer, "断电测试", open(500, 500)).await;
    let page = format!("/collections/{id}");
    let doomed = server.start_sibling().await;
    let mut running = tokio::task::JoinSet::new();
    for (n, person) in people.iter().enumerate() {
        for (target, client) in [(0, person.clone()), (1, person.at(&doomed))] {
            let csrf = client.csrf(&page).await;
            claim_until_cut_off(&mut running, client, csrf, id, format!("{n}-{target}"), 60);
        }
    }
    wait_for_tokens(&server, id, 40).await;
    doomed.kill().await;
    let acknowledged: Vec<i64> = running.join_all().await.into_iter().flatten().collect();
    assert!(
        (acknowledged.len() as i64) < 240,
        "the kill cut the doomed server's claims short"
    );
    // The survivor sequences what the killed server queued: every token gets its entry.
    assert_claims_consistent(&server, id, &acknowledged).await;
}

/// A reviewer freezes, then revokes, every token of a collection at once: each token gets its
/// ledger entry and audit row, every holder one mail naming their tokens, and verification
/// reports the status. The revoke takes tokens in both states: frozen ones and one claimed
/// after the freeze; it closes the collection for good and records its revocation.
async fn reviewers_freeze_and_revoke_a_whole_collection(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let id = published_collection(&founder, &reviewer, issuer, "整体处置测试", open(6, 2)).await;
    let people = collectors(&server, &reviewer, 80, 4).await;
    let page = format!("/collections/{id}");
    let claim_as = |n: usize, key: &'static str| {
        let person = people[n].clone();
        let page = page.clone();
        async move {
            let csrf = person.csrf(&page).await;
            let (status, _) = claim(&person, &csrf, id, &format!("whole-collection-{n:04}-{key}")).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
        }
    };
    // The first collector holds two: serials 1 and 2.
    for (n, key) in [(0, "first"), (0, "second"), (1, "first"), (2, "first")] {
        claim_as(n, key).await;
    }
    let case = format!("/review/collections/{id}");
    let decide = |action: &'static str, reason: &'static str| {
        let (reviewer, case) = (reviewer.clone(), case.clone());
        async move {
            reviewer
                .post_form(
                    &case,
                    &format!("{case}/tokens"),
                    &[("action", action), ("reason", reason), ("confirm", "yes")],
                )
                .await
                .status()
        }
    };
    let statuses = |wanted: &'static str| {
        let server = &server;
        async move {
            scalar(
                server,
                &format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {id} AND status = '{wanted}'"),
            )
            .await
        }
    };
    assert_eq!(
        decide("freeze", " ").await,
        StatusCode::BAD_REQUEST,
        "a reason is required"
    );
    assert_eq!(decide("sell", "x").await, StatusCode::BAD_REQUEST);
    assert_eq!(statuses("active").await, 4, "nothing changed");
    let (_, case_page) = reviewer.get_text(&case).await;
    assert!(case_page.contains("data-collection-tokens"), "the case page offers it");
    let member = founder
        .post_form(
            &page,
            &format!("{case}/tokens"),
            &[("action", "freeze"), ("reason", "x")],
        )
        .await;
    assert_eq!(member.status(), StatusCode::FORBIDDEN, "issuers are not reviewers");

    assert_eq!(decide("freeze", "批量核查").await, StatusCode::SEE_OTHER);
    assert_eq!(statuses("frozen").await, 4);
    let frozen = entries_where(&server, 4, |e| {
        e["type"] == "token_frozen" && e["fields"]["collection_id"] == id
    })
    .await;
    let serials: BTreeSet<u64> = frozen.iter().map(|e| e["fields"]["serial"].as_u64().unwrap()).collect();
    assert_eq!(serials, BTreeSet::from([1, 2, 3, 4]));
    let told_of_freeze = query::<String>(
        &server,
        "SELECT subject FROM outbox WHERE recipient = 'collector80@example.com' AND text_body LIKE '%批量核查%'",
    )
    .await;
    assert!(
        told_of_freeze.contains("#1, #2"),
        "one mail names both of the first collector's tokens"
    );
    for n in 80..83 {
        let mails = server.mailbox().wait_for(&format!("collector{n}@example.com"), 3).await;
        assert!(
            mails.iter().any(|m| m.text.contains("批量核查")),
            "holder {n} is told, with the reason"
        );
    }

    // The whole freeze can be lifted, each token with its ledger entry, then put back.
    assert_eq!(decide("unfreeze", "批量核查完毕").await, StatusCode::SEE_OTHER);
    assert_eq!(statuses("active").await, 4);
    let unfrozen = entries_where(&server, 4, |e| {
        e["type"] == "token_unfrozen" && e["fields"]["collection_id"] == id
    })
    .await;
    assert_eq!(unfrozen.len(), 4);
    assert_eq!(decide("freeze", "再次核查").await, StatusCode::SEE_OTHER);
    assert_eq!(statuses("frozen").await, 4);

    claim_as(3, "late").await;
    assert_eq!(statuses("active").await, 1, "claims go on: the freeze was of tokens");
    assert_eq!(decide("revoke", "侵权下架").await, StatusCode::SEE_OTHER);
    assert_eq!(statuses("revoked").await, 5);
    assert_eq!(decide("revoke", "again").await, StatusCode::SEE_OTHER);
    let revoked = entries_where(&server, 5, |e| {
        e["type"] == "token_revoked" && e["fields"]["collection_id"] == id
    })
    .await;
    assert_eq!(revoked.len(), 5, "a second revoke of revoked tokens writes nothing");
    let ended = entries_where(&server, 1, |e| {
        e["type"] == "collection_revoked" && e["fields"]["collection_id"] == id
    })
    .await;
    assert_eq!(ended.len(), 1, "the collection's revocation is on the ledger once");
    assert!(
        ended[0]["index"].as_u64() > revoked.iter().map(|e| e["index"].as_u64()).max().flatten(),
        "after its tokens'"
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM collections WHERE id = {id} AND status = 'closed'")
        )
        .await,
        1,
        "a revoked collection is closed for good"
    );
    let csrf = people[2].csrf(&page).await;
    let (status, _) = claim(&people[2], &csrf, id, "whole-collection-after-revoke").await;
    assert_ne!(status, StatusCode::SEE_OTHER, "no claim after the revocation");
    assert_eq!(statuses("revoked").await, 5, "nothing minted after it");
    let revoked_from = |before: &'static str| {
        let server = &server;
        async move {
            scalar(
                server,
                &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'token.revoked' AND before_state = '{before}'"),
            )
            .await
        }
    };
    assert_eq!((revoked_from("frozen").await, revoked_from("active").await), (4, 1));
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM audit_log WHERE action = 'token.frozen'").await,
        8,
        "two freezes of four tokens"
    );
    let told = server.mailbox().wait_for("collector83@example.com", 3).await;
    assert!(
        told.iter().any(|m| m.text.contains("侵权下架")),
        "the late claimant is told too"
    );
    let minted = minted_entries(&server, id, 3).await;
    let index = minted[0]["index"].as_u64().expect("entries name their index");
    let (status, verified) = server.client().get_text(&format!("/verify?entry={index}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        verified.contains("data-token-status=\"revoked\""),
        "verification reports it"
    );
}

/// A whole-collection decision reads and writes a large edition a thousand tokens at a time,
/// in its one transaction: every token changes with its ledger entry and audit row, and a
/// holder whose tokens span the pages still gets one mail naming them all.
async fn a_whole_collection_decision_pages_through_a_large_edition(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let id = published_collection(&founder, &reviewer, issuer, "大批量处置", open(1_002, 1_001)).await;
    let people = collectors(&server, &reviewer, 90, 2).await;
    let page = format!("/collections/{id}");
    let claims = |person: usize, keys: std::ops::Range<usize>| {
        let person = people[person].clone();
        let page = page.clone();
        async move {
            let csrf = person.csrf(&page).await;
            let claimed = futures_util::stream::iter(keys)
                .map(|n| {
                    let (person, csrf) = (&person, &csrf);
                    async move { claim(person, csrf, id, &format!("large-edition-claim-{n:05}")).await.0 }
                })
                .buffer_unordered(8)
                .collect::<Vec<StatusCode>>()
                .await;
            assert!(
                claimed.iter().all(|s| *s == StatusCode::SEE_OTHER),
                "every claim succeeds"
            );
        }
    };
    // The first collector holds serials 1 to 600 and 602 to 1 002, across both pages.
    claims(0, 0..600).await;
    claims(1, 600..601).await;
    claims(0, 601..1_002).await;
    let logged = "SELECT (SELECT COUNT(*) FROM ledger_pending) + (SELECT COUNT(*) FROM ledger_entries)";
    let entries_before = scalar(&server, logged).await;

    let case = format!("/review/collections/{id}");
    let revoked = reviewer
        .post_form(
            &case,
            &format!("{case}/tokens"),
            &[("action", "revoke"), ("reason", "大批量下架"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {id} AND status = 'revoked'")
        )
        .await,
        1_002
    );
    assert_eq!(
        scalar(&server, logged).await - entries_before,
        1_003,
        "an entry each, and the collection's revocation"
    );
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'token.revoked' AND reason = '大批量下架'"
        )
        .await,
        1_002,
        "an audit row each"
    );
    let told = |who: &'static str| {
        let server = &server;
        async move {
            let sql =
                format!("SELECT COUNT(*) FROM outbox WHERE recipient = '{who}' AND text_body LIKE '%大批量下架%'");
            let count = scalar(server, &sql).await;
            let sql = format!("SELECT subject FROM outbox WHERE recipient = '{who}' AND text_body LIKE '%大批量下架%'");
            (count, query::<String>(server, &sql).await)
        }
    };
    let (mails, subject) = told("collector90@example.com").await;
    assert_eq!(mails, 1, "one mail for a holder whose tokens span the pages");
    assert!(
        subject.contains("#1, #2") && subject.contains("#600, #602") && subject.contains("#1001, #1002"),
        "{subject}"
    );
    let (mails, subject) = told("collector91@example.com").await;
    assert_eq!(mails, 1);
    assert!(subject.contains("#601") && !subject.contains("#600"), "{subject}");
}

async fn allowlists_decide_who_claims(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 10,
        per_person_limit: 1,
        claim_mode: "allowlist",
    };
    let id = published_collection(&founder, &reviewer, issuer, "会员专享", terms).await;
    let people = collectors(&server, &reviewer, 40, 2).await;
    let (listed, unlisted) = (&people[0], &people[1]);
    let detail = format!("/console/{issuer}/collections/{id}");
    let token = founder.csrf(&detail).await;
    let form_key = founder.form_key(&detail, &format!("{detail}/allowlist")).await;
    let csv = "email,name\nCollector40@Example.com,张三\nnot-an-email,李四\ncollector40@example.com,again\nvip@example.com,\n";
    let upload = || {
        founder
            .http
            .post(founder.url(&format!("{detail}/allowlist?csrf={token}")))
            .multipart(reqwest::multipart::Form::new().text("form_key", form_key.clone()).part(
                "file",
                reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("vip.csv"),
            ))
            .send()
    };
    let response = upload().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "the report is its own page");
    let report_path = support::location(&response);
    let again = upload().await.unwrap();
    assert_eq!(
        support::location(&again),
        report_path,
        "sent twice, one upload and one report"
    );
    let (status, report) = founder.get_text(&report_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(report.contains("data-added=\"2\" data-bad=\"2\""), "{report}");
    assert!(report.contains("data-bad-line=\"3\"") && report.contains("data-bad-line=\"4\""));
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM claim_allowlist WHERE collection_id = {id}")
        )
        .await,
        2
    );

    let page = format!("/collections/{id}");
    let csrf = unlisted.csrf(&page).await;
    let refused = unlisted
        .http
        .post(unlisted.url(&format!("{page}/claim")))
        .header("accept", "application/json")
        .form(&[("csrf", csrf.as_str()), ("claim_key", "unlisted-claim-key-01")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_on_allowlist");
    let csrf = listed.csrf(&page).await;
    let (status, target) = claim(listed, &csrf, id, "listed-claim-key-0001").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the listed person claims");
    token_of(&target);
}
