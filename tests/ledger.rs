//! The ledger end to end: issuer decisions and hash attestations are sequenced into the log,
//! receipts verify offline against the signed checkpoint, proofs from the API verify, and bad
//! attestation requests are refused without writing anything.

mod support;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keepsake::ledger::checkpoint;
use keepsake::ledger::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::kyb::{approved_issuer_with_key, version_in};
use support::{Db, Server};

fn hash_of(b64: &str) -> Hash {
    STANDARD.decode(b64).unwrap().try_into().unwrap()
}

fn proof_of(value: &Value) -> Vec<Hash> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_of(h.as_str().unwrap()))
        .collect()
}

/// Waits until the log holds at least `size` entries and returns the checkpoint note.
async fn checkpoint_with(server: &Server, size: u64) -> String {
    let start = Instant::now();
    loop {
        let response = reqwest::get(server.url("/api/v1/ledger/checkpoint")).await.unwrap();
        if response.status() == StatusCode::OK {
            let note = response.text().await.unwrap();
            let current: u64 = note.lines().nth(1).unwrap().parse().unwrap();
            if current >= size {
                return note;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "log never reached size {size}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn attest(server: &Server, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(server.url("/api/v1/attestations"))
        .json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

on_both_databases!(
    attestations_get_receipts_that_verify_offline,
    the_audit_names_a_tampered_entry
);

async fn the_audit_names_a_tampered_entry(db: Db) {
    use keepsake::store::entities::ledger_entries;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let server = Server::start(db).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    for n in 0..5u8 {
        let digest = keepsake::crypto::sha3_hex(&[n]);
        let response = attest(
            &server,
            Some(&key),
            json!({ "sha3_256": digest, "label": format!("doc {n}") }),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let clean = server.run_cli(&["ledger", "audit"], "").await;
    let stdout = String::from_utf8_lossy(&clean.stdout);
    assert!(
        clean.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert!(stdout.contains("6 entries"), "{stdout}");

    let db = server.db().await;
    let original = ledger_entries::Entity::find_by_id(3).one(&db).await.unwrap().unwrap();
    let mut altered = original.entry.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x20;
    ledger_entries::Entity::update_many()
        .col_expr(ledger_entries::Column::Entry, Expr::value(altered.clone()))
        .filter(ledger_entries::Column::Idx.eq(3))
        .exec(&db)
        .await
        .unwrap();
    let tampered = server.run_cli(&["ledger", "audit"], "").await;
    assert!(!tampered.status.success());
    let stderr = String::from_utf8_lossy(&tampered.stderr);
    assert!(stderr.contains("entry 3 was altered"), "{stderr}");

    // A careful forger also rewrites the leaf hash: the stored tree still gives it away.
    ledger_entries::Entity::update_many()
        .col_expr(
            ledger_entries::Column::LeafHash,
            Expr::value(leaf_hash(&altered).to_vec()),
        )
        .filter(ledger_entries::Column::Idx.eq(3))
        .exec(&db)
        .await
        .unwrap();
    let forged = server.run_cli(&["ledger", "audit"], "").await;
    assert!(!forged.status.success());
    assert!(
        String::from_utf8_lossy(&forged.stderr).contains("leaf 3"),
        "{}",
        String::from_utf8_lossy(&forged.stderr)
    );
}

async fn attestations_get_receipts_that_verify_offline(db: Db) {
    let server = Server::start(db).await;
    let (issuer, key, _founder, reviewer) = approved_issuer_with_key(&server).await;
    let verifier_key = reqwest::get(server.url("/api/v1/ledger/key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let verifier_key = verifier_key.trim();
    assert!(verifier_key.starts_with("keepsake.localhost/ledger/sha3-256+"));

    // The approval itself is in the log.
    let note = checkpoint_with(&server, 1).await;
    let first = checkpoint::verify(&note, verifier_key).unwrap();
    let approval: Value = reqwest::get(server.url("/api/v1/ledger/entries/0"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(approval["type"], "issuer_approved");
    assert_eq!(approval["fields"]["issuer_id"], issuer);
    assert_eq!(approval["fields"]["credit_code"], "91350100M000100Y43");

    let document = keepsake::crypto::sha3_hex(b"contract v2, signed 2026-11-25");
    let response = attest(&server, Some(&key), json!({ "sha3_256": document, "label": "合同 v2" })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(receipt["entry"]["type"], "hash_attestation");
    assert_eq!(receipt["entry"]["fields"]["sha3_256"], document);
    assert_eq!(receipt["entry"]["fields"]["issuer_id"], issuer);
    assert_eq!(receipt["verifier_key"], verifier_key);

    // Verify the receipt as a stranger would: leaf, proof, signed checkpoint.
    let entry_bytes = STANDARD.decode(receipt["entry"]["entry"].as_str().unwrap()).unwrap();
    let leaf = leaf_hash(&entry_bytes);
    assert_eq!(
        receipt["entry"]["leaf_hash"],
        leaf.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let index = receipt["entry"]["index"].as_u64().unwrap();
    let size = receipt["inclusion_proof"]["size"].as_u64().unwrap();
    let proof = proof_of(&receipt["inclusion_proof"]["hashes"]);
    let signed = checkpoint::verify(receipt["checkpoint"].as_str().unwrap(), verifier_key).unwrap();
    assert_eq!(signed.size, size);
    assert!(verify_inclusion(index, size, &leaf, &proof, &signed.root));
    let mut forged = entry_bytes.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(
        !verify_inclusion(index, size, &leaf_hash(&forged), &proof, &signed.root),
        "tampering shows"
    );

    // The log only grew: the first checkpoint is consistent with the latest.
    let consistency: Value = reqwest::get(server.url(&format!(
        "/api/v1/ledger/proofs/consistency?from={}&to={}",
        first.size, signed.size
    )))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(verify_consistency(
        first.size,
        signed.size,
        &first.root,
        &signed.root,
        &proof_of(&consistency["proof"])
    ));
    let inclusion: Value =
        reqwest::get(server.url(&format!("/api/v1/ledger/proofs/inclusion?index={index}&size={size}")))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(proof_of(&inclusion["proof"]), proof);
    let beyond = reqwest::get(server.url(&format!("/api/v1/ledger/proofs/inclusion?index=0&size={}", size + 100)))
        .await
        .unwrap();
    assert_eq!(beyond.status(), StatusCode::BAD_REQUEST);

    // Bad requests are refused with a stable code and write nothing.
    let before = checkpoint_with(&server, size).await;
    for body in [
        json!({ "sha3_256": "abc" }),
        json!({ "sha3_256": document.to_uppercase() }),
        json!({ "sha3_256": document, "label": "x".repeat(201) }),
        json!({ "sha3_256": document, "price": 100 }),
        json!({ "label": "no hash" }),
    ] {
        let response = attest(&server, Some(&key), body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "invalid_attestation", "{body}");
    }
    let unauthenticated = attest(&server, None, json!({ "sha3_256": document })).await;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    let wrong_key = attest(&server, Some("ks_not-a-key"), json!({ "sha3_256": document })).await;
    assert_eq!(wrong_key.status(), StatusCode::UNAUTHORIZED);

    // A suspended issuer cannot attest; the suspension is itself in the log.
    let case = format!("/review/issuers/{issuer}");
    let (_, html) = reviewer.get_text(&case).await;
    let response = reviewer
        .post_form(
            &case,
            &format!("{case}/decision"),
            &[
                ("action", "suspend"),
                ("reason", "licence expired"),
                ("version", &version_in(&html)),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let refused = attest(&server, Some(&key), json!({ "sha3_256": document })).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let after = checkpoint_with(&server, size + 1).await;
    let after = checkpoint::verify(&after, verifier_key).unwrap();
    assert_eq!(after.size, size + 1, "only the suspension was added: {before}");
    let suspension: Value = reqwest::get(server.url(&format!("/api/v1/ledger/entries/{size}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(suspension["type"], "issuer_suspended");
    let missing = reqwest::get(server.url("/api/v1/ledger/entries/999999")).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
