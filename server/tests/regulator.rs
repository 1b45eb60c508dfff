//! The regulator's view, end to end: an admin grants the role (audited); the console reads
//! every issuer, collection and audit row and changes nothing; a reveal of one identity needs a
//! legal request and a reason, is audited and mailed to the admins, shows the identity to its
//! regulator alone and closes; an export bundle verifies offline with `keepsake verify-export`
//! and fails it once anything in it is altered.

use std::io::Read;

use chrono::{Duration, FixedOffset, Utc};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::support::collections::{Terms, claim, collectors, id_number, published_collection};
use crate::support::kyb::{PASSWORD, approved_issuer_with_key, scalar};
use crate::support::{Client, Db, Options, Server, location, stranger_runs};

on_both_databases!(a_regulator_reads_everything_and_changes_nothing);
on_both_databases!(a_reveal_answers_a_legal_request_is_audited_mailed_and_closes);
on_both_databases!(an_export_bundle_verifies_offline_and_fails_once_altered);

/// `server` with an approved issuer, a published collection and one claimed token:
/// (server, issuer, collection, token, the collector's account, the admin, the regulator).
async fn platform(server: Server) -> (Server, i64, i64, i64, i64, Client, Client) {
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 10,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "监管抽查样本", terms).await;
    let collector = collectors(&server, &reviewer, 1, 1).await.remove(0);
    let csrf = collector.csrf(&format!("/collections/{collection}")).await;
    let (status, _) = claim(&collector, &csrf, collection, "regulator-claim-key-0001").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "claimed");
    let token = scalar(
        &server,
        &format!("SELECT id FROM tokens WHERE collection_id = {collection}"),
    )
    .await;
    let holder = scalar(&server, "SELECT id FROM users WHERE email = 'collector1@example.com'").await;
    let admin = server.client();
    admin.login("boss@example.com", "root password 123").await;
    let regulator = server.verified_user("regulator@example.com", PASSWORD).await;
    assert_eq!(
        regulator.get("/regulator").await.status(),
        StatusCode::FORBIDDEN,
        "not yet a regulator"
    );
    let id = scalar(&server, "SELECT id FROM users WHERE email = 'regulator@example.com'").await;
    let response = admin
        .post_form(
            "/admin/users",
            &format!("/admin/users/{id}/roles"),
            &[("role", "regulator"), ("change", "grant")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    regulator.set_up_second_factor("regulator@example.com").await;
    let granted = scalar(
        &server,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'role.granted' AND subject_id = '{id}' AND after_state = \
             'regulator'"
        ),
    )
    .await;
    assert_eq!(granted, 1, "the grant is audited");
    (server, issuer, collection, token, holder, admin, regulator)
}

async fn a_regulator_reads_everything_and_changes_nothing(db: Db) {
    let (server, issuer, collection, _, _, admin, regulator) = platform(Server::start(db).await).await;

    let (status, list) = regulator.get_text("/regulator").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("data-issuer=\"{issuer}\"")));
    assert!(list.contains("新华文创（北京）有限公司"));
    let (status, page) = regulator.get_text(&format!("/regulator/issuers/{issuer}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("京ICP备12345678号-1") && page.contains("京网信备11010819842097170019号"));
    assert!(page.contains(&format!("data-collection=\"{collection}\"")));
    assert!(page.contains("data-status=\"approved\""));
    let (status, page) = regulator
        .get_text(&format!("/regulator/collections/{collection}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("监管抽查样本") && page.contains("data-status=\"published\""));
    let (_, log) = regulator.get_text("/regulator/audit?action=collection.published").await;
    assert!(
        log.contains(&format!("/regulator/collections/{collection}")),
        "links stay in the console"
    );
    // A regulator's pages show no one's identity: only a reveal does.
    for page in [&list, &page, &log] {
        assert!(!page.contains(&id_number(1)) && !page.contains("测试用户"));
    }
    // Artwork of a collection that is not public is shown to regulators as to reviewers.
    let artwork = regulator
        .get(&format!("/collections/{collection}/artwork/original"))
        .await;
    assert_eq!(artwork.status(), StatusCode::OK);

    // Read-only: the reviewer's and the admin's pages and actions are not theirs.
    assert_eq!(regulator.get("/review").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(regulator.get("/admin/users").await.status(), StatusCode::FORBIDDEN);
    let response = regulator
        .post_form(
            "/regulator",
            &format!("/review/collections/{collection}/decision"),
            &[
                ("action", "freeze"),
                ("reason_code", "illegal_content"),
                ("note", "x"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let status: String = crate::support::kyb::query(
        &server,
        &format!("SELECT status FROM collections WHERE id = {collection}"),
    )
    .await;
    assert_eq!(status, "published", "nothing changed");
    // Overseers are kept apart from those who run the platform.
    for email in ["boss@example.com", "reviewer@example.com"] {
        let id = scalar(&server, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
        let response = admin
            .post_form(
                "/admin/users",
                &format!("/admin/users/{id}/roles"),
                &[("role", "regulator"), ("change", "grant")],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email} stays no regulator"
        );
    }
    // And nobody else reads the console, admins included.
    assert_eq!(admin.get("/regulator").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        server.client().get("/regulator/audit").await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn reveal(regulator: &Client, fields: &[(&str, &str)]) -> reqwest::Response {
    regulator
        .post_form("/regulator/reveals", "/regulator/reveals", fields)
        .await
}

async fn a_reveal_answers_a_legal_request_is_audited_mailed_and_closes(db: Db) {
    // A real process, whose log is read at the end.
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (server, _, _, token, holder, admin, regulator) = platform(server).await;
    let token_id = token.to_string();
    let reference = "(2026)京0105刑初123号";
    let reason = "法院调取诈骗案件当事人的身份信息";

    for (fields, message) in [
        (
            vec![
                ("subject_kind", "token"),
                ("subject_id", token_id.as_str()),
                ("reference", ""),
                ("reason", reason),
            ],
            "reference_missing",
        ),
        (
            vec![
                ("subject_kind", "token"),
                ("subject_id", token_id.as_str()),
                ("reference", reference),
                ("reason", "诈骗"),
            ],
            "reason_too_short",
        ),
        (
            vec![
                ("subject_kind", "token"),
                ("subject_id", "999999"),
                ("reference", reference),
                ("reason", reason),
            ],
            "subject_unknown",
        ),
        (
            vec![
                ("subject_kind", "token"),
                ("subject_id", "abc"),
                ("reference", reference),
                ("reason", reason),
            ],
            "subject_invalid",
        ),
    ] {
        let response = reveal(&regulator, &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let page = response.text().await.unwrap();
        assert!(page.contains("alert-error"), "{message}: the refusal says what to do");
    }
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM identity_reveals").await, 0);
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'identity.revealed'"
        )
        .await,
        0
    );

    let response = reveal(
        &regulator,
        &[
            ("subject_kind", "token"),
            ("subject_id", &token_id),
            ("reference", reference),
            ("reason", reason),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let shown = location(&response);
    let response = regulator.get(&shown).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    assert!(
        page.contains(&id_number(1)) && page.contains("测试用户"),
        "the identity, in clear"
    );
    let audited = scalar(
        &server,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'identity.revealed' AND subject_type = 'identity' AND \
             subject_id = '{holder}' AND reason = '{reason}' AND details LIKE '%{reference}%'"
        ),
    )
    .await;
    assert_eq!(audited, 1, "the reveal is audited with its reference and reason");
    let mails = server.mailbox().wait_for("boss@example.com", 1).await;
    assert!(
        mails.iter().any(|mail| mail.text.contains(reference)),
        "the admins are told of the reveal"
    );
    // Only its regulator sees it; a second regulator gets nothing.
    let other = server.verified_user("regulator2@example.com", PASSWORD).await;
    let other_id = scalar(&server, "SELECT id FROM users WHERE email = 'regulator2@example.com'").await;
    admin
        .post_form(
            "/admin/users",
            &format!("/admin/users/{other_id}/roles"),
            &[("role", "regulator"), ("change", "grant")],
        )
        .await;
    other.set_up_second_factor("regulator2@example.com").await;
    assert_eq!(other.get(&shown).await.status(), StatusCode::NOT_FOUND);
    // Half an hour on, the reveal is closed: the identity is no longer shown.
    let db = server.db().await;
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE identity_reveals SET created_at = $1",
        [(Utc::now() - Duration::minutes(31)).into()],
    ))
    .await
    .unwrap();
    let (_, page) = regulator.get_text(&shown).await;
    assert!(page.contains("data-reveal=\"closed\""));
    assert!(!page.contains(&id_number(1)), "a closed reveal shows no ID number");
    assert!(!server.log().contains(&id_number(1)), "no ID number in the log");
}

/// Waits until every queued ledger entry is in a signed checkpoint.
async fn ledger_settled(server: &Server) {
    let start = std::time::Instant::now();
    loop {
        let entries = scalar(server, "SELECT COUNT(*) FROM ledger_entries").await;
        let pending = scalar(server, "SELECT COUNT(*) FROM ledger_pending").await;
        let signed = scalar(server, "SELECT COALESCE(MAX(tree_size), 0) FROM ledger_checkpoints").await;
        if pending == 0 && signed == entries {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the ledger never settled"
        );
        tokio::task::yield_now().await;
    }
}

fn today() -> chrono::NaiveDate {
    Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
}

/// The bundle's files by path.
fn unpack(bundle: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(bundle);
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            (path, bytes)
        })
        .collect()
}

fn pack(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, path, bytes.as_slice()).unwrap();
    }
    tar.into_inner().unwrap()
}

async fn verify_export(dir: &std::path::Path, bundle: &[u8], key: &str) -> (bool, String) {
    std::fs::write(dir.join("bundle.tar"), bundle).unwrap();
    let out = stranger_runs(dir, &["verify-export", "bundle.tar", "--key", key]).await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

async fn an_export_bundle_verifies_offline_and_fails_once_altered(db: Db) {
    let (server, issuer, collection, token, _, _, regulator) = platform(Server::start(db).await).await;
    ledger_settled(&server).await;
    let today = today().to_string();
    let yesterday = (self::today() - Duration::days(1)).to_string();
    for (from, to, issuer_field, message) in [
        (today.as_str(), yesterday.as_str(), "", "scope_reversed"),
        (yesterday.as_str(), today.as_str(), "999999", "issuer_unknown"),
        ("yesterday", today.as_str(), "", "scope_days"),
    ] {
        let response = regulator
            .post_form(
                "/regulator/exports",
                "/regulator/exports",
                &[("from", from), ("to", to), ("issuer", issuer_field)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
    }
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM oversight_exports").await, 0);

    let issuer_field = issuer.to_string();
    let response = regulator
        .post_form(
            "/regulator/exports",
            "/regulator/exports",
            &[("from", &yesterday), ("to", &today), ("issuer", &issuer_field)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let export = scalar(&server, "SELECT id FROM oversight_exports").await;
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'oversight.exported'"
        )
        .await,
        1
    );
    let (_, list) = regulator.get_text(&location(&response)).await;
    let link = format!("/regulator/exports/{export}/bundle");
    assert!(list.contains(&link));
    let response = regulator.get(&link).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/x-tar");
    let bundle = response.bytes().await.unwrap().to_vec();

    let files = unpack(&bundle);
    let file = |name: &str| -> Value {
        serde_json::from_slice(&files.iter().find(|(path, _)| path == name).expect(name).1).unwrap()
    };
    let tokens = file("tokens.json");
    let minted = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == token)
        .expect("the token claimed");
    let index = minted["ledger_index"].as_u64().expect("its ledger entry");
    assert!(files.iter().any(|(path, _)| *path == format!("receipts/{index}.json")));
    let collections = file("collections.json");
    assert_eq!(collections[0]["id"], collection);
    assert!(collections[0]["ledger_index"].is_u64());
    assert!(
        file("audit.json")
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["action"] == "collection.published")
    );
    assert!(
        !String::from_utf8_lossy(&bundle).contains(&id_number(1)),
        "no ID number in a bundle"
    );

    let key = reqwest::get(server.url("/api/v1/ledger/key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .trim()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let (verified, said) = verify_export(dir.path(), &bundle, &key).await;
    assert!(verified, "{said}");
    assert!(
        said.contains("Export bundle verified") && said.contains("1 tokens"),
        "{said}"
    );

    // A record altered: its digest no longer matches the signed manifest.
    let mut altered = files.clone();
    for (path, bytes) in &mut altered {
        if path == "tokens.json" {
            *bytes = String::from_utf8_lossy(bytes)
                .replace("\"status\": \"active\"", "\"status\": \"revoked\"")
                .into_bytes();
        }
    }
    let (verified, said) = verify_export(dir.path(), &pack(&altered), &key).await;
    assert!(
        !verified && said.contains("tokens.json") && said.contains("altered"),
        "{said}"
    );
    // The manifest re-written to match: its signature no longer does.
    let mut rewritten = altered.clone();
    let digest = |bytes: &[u8]| keepsake::crypto::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes));
    let tokens_digest = digest(&altered.iter().find(|(p, _)| p == "tokens.json").unwrap().1);
    let tokens_len = altered.iter().find(|(p, _)| p == "tokens.json").unwrap().1.len();
    for (path, bytes) in &mut rewritten {
        if path == "manifest.json" {
            let mut manifest: Value = serde_json::from_slice(bytes).unwrap();
            for listed in manifest["files"].as_array_mut().unwrap() {
                if listed["path"] == "tokens.json" {
                    listed["sha256"] = tokens_digest.clone().into();
                    listed["bytes"] = tokens_len.into();
                }
            }
            *bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        }
    }
    let (verified, said) = verify_export(dir.path(), &pack(&rewritten), &key).await;
    assert!(!verified && said.contains("signature"), "{said}");
    // A receipt dropped: the record that names it has none.
    let dropped: Vec<_> = files
        .iter()
        .filter(|(path, _)| *path != format!("receipts/{index}.json"))
        .cloned()
        .collect();
    let (verified, said) = verify_export(dir.path(), &pack(&dropped), &key).await;
    assert!(!verified && said.contains(&format!("receipts/{index}.json")), "{said}");
    // Another operator's key: not signed by the key the checker trusts.
    let other_key = "other.example/ledger+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let (verified, _) = verify_export(dir.path(), &bundle, other_key).await;
    assert!(!verified);
}
