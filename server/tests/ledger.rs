//! The ledger end to end: issuer decisions and hash attestations are sequenced into the log,
//! receipts verify offline against the signed checkpoint, proofs from the API verify, and bad
//! attestation requests are refused without writing anything.

use crate::support;

use std::time::{Duration, Instant};

use crate::support::kyb::{approved_issuer_with_key, version_in};
use crate::support::{Db, Options, Server, location};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keepsake::ledger::checkpoint;
use keepsake::ledger::merkle::{Hash, LOG_HASH, verify_consistency, verify_inclusion};
use reqwest::StatusCode;
use serde_json::{Value, json};

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

pub(crate) async fn get_json(server: &Server, path: &str) -> Value {
    reqwest::get(server.url(path)).await.unwrap().json().await.unwrap()
}

async fn attest(server: &Server, key: Option<&str>, body: Value) -> reqwest::Response {
    attest_at(server, "/api/v1/attestations", key, body).await
}

async fn attest_file(server: &Server, key: &str, form: reqwest::multipart::Form) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.url("/api/v1/attestations"))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn attest_at(server: &Server, path: &str, key: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(server.url(path)).json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

on_both_databases!(
    attestations_get_receipts_that_verify_offline,
    the_audit_names_a_tampered_entry,
    the_audit_catches_every_tamper_and_a_rollback,
    a_failing_sequencer_says_so_and_recovers,
    a_rolled_back_database_is_not_signed_again,
    a_rotated_key_keeps_old_receipts_verifying,
    a_burst_of_attestations_is_answered_from_its_batches,
    the_log_keeps_its_name_and_key,
    a_stranger_verifies_an_attested_file
);

async fn a_stranger_verifies_an_attested_file(db: Db) {
    use reqwest::multipart::{Form, Part};

    let server = Server::start(db).await;
    let (issuer, key, founder, _) = approved_issuer_with_key(&server).await;
    let document = "采购合同 第 7 版\nsigned 2026-11-25\n".repeat(300).into_bytes();
    let digest = keepsake::crypto::sha3_hex(&document);
    let form = Form::new()
        .part("file", Part::bytes(document.clone()).file_name("contract.pdf"))
        .text("label", "采购合同 v7");
    let response = attest_file(&server, &key, form).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: Value = response.json().await.unwrap();
    assert_eq!(
        receipt["entry"]["fields"]["sha3_256"], digest,
        "the server hashed the file"
    );
    assert_eq!(
        receipt["entry"]["fields"]["label_sha3_256"],
        keepsake::crypto::sha3_hex("采购合同 v7".as_bytes()),
        "the leaf holds the label's digest"
    );
    let leaf_bytes = STANDARD.decode(receipt["entry"]["entry"].as_str().unwrap()).unwrap();
    assert!(
        !leaf_bytes.windows("采购合同".len()).any(|w| w == "采购合同".as_bytes()),
        "no free text in a leaf, where it could never be erased"
    );
    let index = receipt["entry"]["index"].as_u64().unwrap();
    let stored = support::kyb::scalar(&server, "SELECT COUNT(*) FROM issuer_documents").await;

    // Monitors fetch the checkpoint of any size a batch ended at; it never changes.
    let size = receipt["inclusion_proof"]["size"].as_u64().unwrap();
    let response = reqwest::get(server.url(&format!("/api/v1/ledger/checkpoints/{size}")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response.headers()[reqwest::header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cache.contains("immutable"), "{cache}");
    assert_eq!(response.text().await.unwrap(), receipt["checkpoint"].as_str().unwrap());
    for bad in ["999999", "-1", "abc"] {
        let response = reqwest::get(server.url(&format!("/api/v1/ledger/checkpoints/{bad}")))
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{bad}: {}", response.status());
        let body: Value = response.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{bad}: {body}");
    }

    // Offline, with the operator's published key.
    let verifier_key = reqwest::get(server.url("/api/v1/ledger/key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let verifier_key = verifier_key.trim();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("receipt.json"), receipt.to_string()).unwrap();
    std::fs::write(dir.path().join("contract.pdf"), &document).unwrap();
    std::fs::write(dir.path().join("other.pdf"), b"another document").unwrap();
    let ok = support::stranger_verifies(
        dir.path(),
        &["receipt.json", "--key", verifier_key, "--file", "contract.pdf"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{stdout}{}", String::from_utf8_lossy(&ok.stderr));
    assert!(stdout.contains("Receipt verified."), "{stdout}");
    assert!(stdout.contains("contract.pdf has the attested SHA3-256"), "{stdout}");
    assert!(stdout.contains(&format!("#{index} hash_attestation")), "{stdout}");
    assert!(stdout.contains("by the verifier key you gave"), "{stdout}");

    let failures = [
        (
            vec!["receipt.json", "--key", verifier_key, "--file", "other.pdf"],
            "but the entry attests",
        ),
        (vec!["missing.json"], "cannot read the receipt"),
    ];
    for (args, reason) in failures {
        let out = support::stranger_verifies(dir.path(), &args).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("receipt NOT verified") && stderr.contains(reason),
            "{args:?}: {stderr}"
        );
    }

    // Tampered receipts are refused with the reason.
    let mut relabelled = receipt.clone();
    let mut bytes = STANDARD.decode(receipt["entry"]["entry"].as_str().unwrap()).unwrap();
    // The label's last character: "v7" becomes "v6".
    *bytes.last_mut().unwrap() ^= 0x01;
    relabelled["entry"]["entry"] = json!(STANDARD.encode(&bytes));
    let mut moved = receipt.clone();
    moved["entry"]["index"] = json!(index.saturating_sub(1));
    let mut forged_checkpoint = receipt.clone();
    let note = receipt["checkpoint"].as_str().unwrap();
    let size = receipt["inclusion_proof"]["size"].as_u64().unwrap();
    forged_checkpoint["checkpoint"] = json!(note.replacen(&format!("\n{size}\n"), &format!("\n{}\n", size + 1), 1));
    for (tampered, reason) in [
        (relabelled, "do not hash to the receipt's leaf hash"),
        (moved, "does not lead from the entry"),
        (forged_checkpoint, "no valid signature"),
    ] {
        std::fs::write(dir.path().join("tampered.json"), tampered.to_string()).unwrap();
        let out = support::stranger_verifies(dir.path(), &["tampered.json", "--key", verifier_key]).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(reason), "{reason}: {stderr}");
    }
    let other_dir = tempfile::tempdir().unwrap();
    let other_key = keepsake::ledger::signer::CheckpointSigner::load(
        &other_dir.path().join("k"),
        "keepsake.localhost/ledger".into(),
    )
    .unwrap()
    .verifier_key();
    let out = support::stranger_verifies(dir.path(), &["receipt.json", "--key", &other_key]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no valid signature by the verifier key"));

    // A later checkpoint from the log: the receipt's proof is for the earlier size.
    let later = attest(
        &server,
        Some(&key),
        json!({ "sha3_256": keepsake::crypto::sha3_hex(b"later") }),
    )
    .await;
    assert_eq!(later.status(), StatusCode::CREATED);
    let latest = checkpoint_with(&server, size + 1).await;
    std::fs::write(dir.path().join("latest.note"), &latest).unwrap();
    let out = support::stranger_verifies(dir.path(), &["receipt.json", "--checkpoint", "latest.note"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("the proof is for a tree of {size} entries")));
    // ...and a fresh receipt for the same entry verifies against it.
    let fresh: Value = get_json(&server, &format!("/api/v1/ledger/entries/{index}/receipt")).await;
    std::fs::write(dir.path().join("fresh.json"), fresh.to_string()).unwrap();
    let out = support::stranger_verifies(
        dir.path(),
        &["fresh.json", "--checkpoint", "latest.note", "--key", verifier_key],
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The public lookup lists who attested the hash, with a receipt that verifies.
    let found: Value = get_json(&server, &format!("/api/v1/attestations/{digest}")).await;
    let list = found["attestations"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{found}");
    assert_eq!(list[0]["issuer"]["id"], issuer);
    assert_eq!(list[0]["issuer"]["legal_name"], "新华文创（北京）有限公司");
    assert_eq!(list[0]["label"], "采购合同 v7");
    assert_eq!(list[0]["index"], index);
    let public_receipt = keepsake::ledger::receipt::Receipt::parse(&list[0]["receipt"].to_string()).unwrap();
    let keys = [verifier_key.to_owned()];
    let trust = keepsake::ledger::receipt::Trust {
        keys: &keys,
        checkpoint: None,
        ..keepsake::ledger::receipt::Trust::default()
    };
    assert_eq!(public_receipt.verify(trust).unwrap().index, index);
    let unknown: Value = get_json(
        &server,
        &format!("/api/v1/attestations/{}", keepsake::crypto::sha3_hex(b"never")),
    )
    .await;
    assert_eq!(unknown["attestations"], json!([]));
    let malformed = reqwest::get(server.url("/api/v1/attestations/ABC")).await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let error: Value = malformed.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_digest");

    // Bad uploads are refused and write nothing.
    let before = checkpoint_with(&server, size + 1).await;
    let bad_forms: Vec<(Form, StatusCode, &str)> = vec![
        (
            Form::new().part("file", Part::bytes(Vec::new()).file_name("empty.pdf")),
            StatusCode::BAD_REQUEST,
            "invalid_attestation",
        ),
        (
            Form::new()
                .part("file", Part::bytes(b"x".to_vec()).file_name("a.pdf"))
                .text("price", "100"),
            StatusCode::BAD_REQUEST,
            "invalid_attestation",
        ),
        (
            Form::new()
                .part("file", Part::bytes(b"x".to_vec()).file_name("a.pdf"))
                .text("label", "x".repeat(201)),
            StatusCode::BAD_REQUEST,
            "invalid_attestation",
        ),
        (
            Form::new().text("label", "no file"),
            StatusCode::BAD_REQUEST,
            "invalid_attestation",
        ),
        (
            Form::new().part(
                "file",
                Part::bytes(vec![7u8; 64 * 1024 * 1024 + 1]).file_name("huge.bin"),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
        ),
    ];
    for (form, status, code) in bad_forms {
        let response = attest_file(&server, &key, form).await;
        assert_eq!(response.status(), status, "{code}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code);
    }
    assert_eq!(checkpoint_with(&server, size + 1).await, before, "nothing was written");
    assert_eq!(
        support::kyb::scalar(&server, "SELECT COUNT(*) FROM issuer_documents").await,
        stored,
        "attested files are never stored"
    );

    // The /verify page, for people: by hash, by file, by receipt.
    let visitor = server.client();
    visitor.get("/lang/en?next=%2Fverify").await;
    let (status, html) = visitor.get_text(&format!("/verify?sha3_256={digest}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("新华文创（北京）有限公司") && html.contains("采购合同 v7"),
        "{html}"
    );
    assert!(html.contains(&format!("#{index} ")), "entry index shown");
    assert!(html.contains("signature is valid for this operator"), "{html}");
    let (status, html) = visitor.get_text("/verify?sha3_256=not-a-hash").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("64 hex digits"));
    let (_, page) = visitor.get_text("/verify").await;
    let token = page.split("/verify/file?csrf=").nth(1).unwrap();
    let token = token[..token.find('"').unwrap()].to_owned();
    let by_file = visitor
        .http
        .post(server.url(&format!("/verify/file?csrf={token}")))
        .multipart(Form::new().part("file", Part::bytes(document.clone()).file_name("contract.pdf")))
        .send()
        .await
        .unwrap();
    // A file becomes its hash's page: reloading it or switching language shows it again.
    assert_eq!(by_file.status(), StatusCode::SEE_OTHER);
    let by_hash = location(&by_file);
    assert!(by_hash.starts_with(&format!("/verify?sha3_256={digest}")), "{by_hash}");
    let (status, html) = visitor.get_text(&by_hash).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&digest) && html.contains("新华文创（北京）有限公司") && html.contains("contract.pdf"));
    // A receipt is kept for the visitor who sent it, and checked each time its page is shown.
    let send_receipt = |form: Form| {
        let (visitor, server, token) = (visitor.clone(), &server, &token);
        async move {
            let form_key = visitor.form_key("/verify", "/verify/receipt").await;
            visitor
                .http
                .post(server.url(&format!("/verify/receipt?csrf={token}")))
                .multipart(form.text("form_key", form_key))
                .send()
                .await
                .unwrap()
        }
    };
    let by_receipt = send_receipt(Form::new().text("receipt_text", receipt.to_string())).await;
    assert_eq!(by_receipt.status(), StatusCode::SEE_OTHER);
    let checked = location(&by_receipt);
    let (status, html) = visitor.get_text(&checked).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("This receipt is valid"));
    assert_eq!(
        server.client().get(&checked).await.status(),
        StatusCode::GONE,
        "another visitor does not see it"
    );
    let forged = send_receipt(Form::new().part(
        "receipt_file",
        Part::bytes(std::fs::read(dir.path().join("tampered.json")).unwrap()).file_name("receipt.json"),
    ))
    .await;
    let (status, html) = visitor.get_text(&location(&forged)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("This receipt is not valid"));
    let no_csrf = visitor
        .http
        .post(server.url("/verify/file"))
        .multipart(Form::new().part("file", Part::bytes(document.clone()).file_name("contract.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);

    // The issuer's console lists its attestations with receipts.
    let (_, console) = founder.get_text(&format!("/console/{issuer}")).await;
    assert!(console.contains("采购合同 v7"), "{console}");
    assert!(console.contains(&format!("/api/v1/ledger/entries/{index}/receipt")));

    // Without waiting: 202 at once, and the attestation turns up in the public lookup.
    let unhurried = keepsake::crypto::sha3_hex(b"no need to wait");
    let body = json!({ "sha3_256": unhurried });
    let queued = attest_at(&server, "/api/v1/attestations?wait=false", Some(&key), body.clone()).await;
    assert_eq!(queued.status(), StatusCode::ACCEPTED);
    let queued: Value = queued.json().await.unwrap();
    assert_eq!(
        (queued["status"].as_str(), queued["sha3_256"].as_str()),
        (Some("queued"), Some(unhurried.as_str()))
    );
    let start = Instant::now();
    while get_json(&server, &format!("/api/v1/attestations/{unhurried}")).await["attestations"] == json!([]) {
        assert!(start.elapsed() < Duration::from_secs(20), "never sequenced");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let odd = attest_at(&server, "/api/v1/attestations?wait=maybe", Some(&key), body).await;
    assert_eq!(odd.status(), StatusCode::BAD_REQUEST);
}

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
            Expr::value(LOG_HASH.leaf(&altered).to_vec()),
        )
        .filter(ledger_entries::Column::Idx.eq(3))
        .exec(&db)
        .await
        .unwrap();
    let forged = server.run_cli(&["ledger", "audit"], "").await;
    assert!(!forged.status.success());
    assert!(
        String::from_utf8_lossy(&forged.stderr).contains("tree node at level 0, index 3 was altered"),
        "{}",
        String::from_utf8_lossy(&forged.stderr)
    );
}

/// Runs `keepsake ledger audit` with `args` and returns whether it passed and what it said.
pub(crate) async fn audit(server: &Server, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["ledger", "audit"];
    all.extend_from_slice(args);
    let out = server.run_cli(&all, "").await;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), said)
}

/// Every way of altering the stored log is caught and named: an interior node changed or
/// deleted (no panic), the recorded root, a deleted checkpoint; and a log rolled back whole,
/// which no stored row betrays, is caught by a checkpoint saved outside the database.
async fn the_audit_catches_every_tamper_and_a_rollback(db: Db) {
    use keepsake::store::entities::{ledger_checkpoints, ledger_nodes, ledger_state};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

    let server = Server::start(db).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let checkpoint_at = |size: usize| {
        let server = &server;
        async move {
            let note = reqwest::get(server.url("/api/v1/ledger/checkpoint"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(note.contains(&format!("\n{size}\n")), "{note}");
            note
        }
    };
    let mut saved = None;
    for n in 0..7u8 {
        let digest = keepsake::crypto::sha3_hex(&[n, 7]);
        let response = attest(&server, Some(&key), json!({ "sha3_256": digest })).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        if n == 5 {
            // A client keeps the checkpoint of size 7.
            let path = server.data_dir.join("kept-checkpoint.txt");
            std::fs::write(&path, checkpoint_at(7).await).unwrap();
            saved = Some(path);
        }
    }
    let saved = saved.unwrap();
    let saved = saved.to_str().unwrap();
    let (code, said) = audit(&server, &["--checkpoint", saved]).await;
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains("8 entries") && said.contains("1 outside"), "{said}");
    let missing = server.data_dir.join("no-such-checkpoint.txt");
    let (code, said) = audit(&server, &["--checkpoint", missing.to_str().unwrap()]).await;
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("cannot read the checkpoint"), "{said}");
    let forged = server.data_dir.join("forged-checkpoint.txt");
    std::fs::write(
        &forged,
        std::fs::read_to_string(saved).unwrap().replacen("\n7\n", "\n9\n", 1),
    )
    .unwrap();
    let (code, said) = audit(&server, &["--checkpoint", forged.to_str().unwrap()]).await;
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("is not validly signed by this log's key"), "{said}");

    let db = server.db().await;
    let node = || {
        ledger_nodes::Entity::find()
            .filter(ledger_nodes::Column::Level.eq(1))
            .filter(ledger_nodes::Column::Idx.eq(1))
    };
    let original = node().one(&db).await.unwrap().expect("node (1, 1) is stored");
    let set_node = |hash: Vec<u8>| {
        ledger_nodes::Entity::update_many()
            .col_expr(ledger_nodes::Column::Hash, Expr::value(hash))
            .filter(ledger_nodes::Column::Level.eq(1))
            .filter(ledger_nodes::Column::Idx.eq(1))
            .exec(&db)
    };
    set_node(vec![7; 32]).await.unwrap();
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("tree node at level 1, index 1 was altered"), "{said}");
    ledger_nodes::Entity::delete_many()
        .filter(ledger_nodes::Column::Level.eq(1))
        .filter(ledger_nodes::Column::Idx.eq(1))
        .exec(&db)
        .await
        .unwrap();
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(code, Some(1), "a deleted node is reported, not a panic: {said}");
    assert!(said.contains("tree node at level 1, index 1 is missing"), "{said}");
    ledger_nodes::Entity::insert(ledger_nodes::ActiveModel::from(original).reset_all())
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(audit(&server, &[]).await.0, Some(0));

    let state = ledger_state::Entity::find_by_id(1).one(&db).await.unwrap().unwrap();
    let set_root = |root: Vec<u8>| {
        ledger_state::Entity::update_many()
            .col_expr(ledger_state::Column::RootHash, Expr::value(root))
            .exec(&db)
    };
    set_root(vec![9; 32]).await.unwrap();
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("ledger_state"), "{said}");
    set_root(state.root_hash.clone()).await.unwrap();

    let latest = ledger_checkpoints::Entity::find_by_id(8)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    ledger_checkpoints::Entity::delete_by_id(8).exec(&db).await.unwrap();
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("the latest checkpoint (for size 7) is not for the recorded tree size 8"),
        "{said}"
    );
    ledger_checkpoints::Entity::insert(ledger_checkpoints::ActiveModel::from(latest).reset_all())
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(audit(&server, &[]).await.0, Some(0));

    // Rolled back whole to size 4: entries, nodes, checkpoints and state cut back together.
    roll_back(&db, 4).await;
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(
        code,
        Some(0),
        "from inside, a whole rollback looks like a shorter log: {said}"
    );
    let (code, said) = audit(&server, &["--checkpoint", saved]).await;
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("the log was rolled back") && said.contains("signed for size 7, but the log now has 4 entries"),
        "{said}"
    );
}

/// Cuts the stored log back to its first `size` entries the way a restore from an older
/// backup would: entries, tree nodes, checkpoints and state together, leaving no trace.
async fn roll_back(db: &sea_orm::DatabaseConnection, size: i64) {
    use keepsake::store::entities::{ledger_checkpoints, ledger_entries, ledger_nodes, ledger_state};
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let root = ledger_checkpoints::Entity::find_by_id(size)
        .one(db)
        .await
        .unwrap()
        .expect("a checkpoint for the size rolled back to")
        .root_hash;
    ledger_entries::Entity::delete_many()
        .filter(ledger_entries::Column::Idx.gte(size))
        .exec(db)
        .await
        .unwrap();
    for level in 0..8i32 {
        ledger_nodes::Entity::delete_many()
            .filter(ledger_nodes::Column::Level.eq(level))
            .filter(Expr::col(ledger_nodes::Column::Idx).add(1).mul(1i64 << level).gt(size))
            .exec(db)
            .await
            .unwrap();
    }
    ledger_checkpoints::Entity::delete_many()
        .filter(ledger_checkpoints::Column::TreeSize.gt(size))
        .exec(db)
        .await
        .unwrap();
    ledger_state::Entity::update_many()
        .col_expr(ledger_state::Column::TreeSize, Expr::value(size))
        .col_expr(ledger_state::Column::RootHash, Expr::value(root))
        .exec(db)
        .await
        .unwrap();
}

/// A database rolled back behind the server's back is never signed again: the signer's own
/// record (beside its key, outside the database) still says size 8, so the sequencer refuses
/// to sign a second history from size 4, while running and after a restart, and says why in
/// the log, in `/readyz` and to administrators; the audit, given that record, names the rollback.
async fn a_rolled_back_database_is_not_signed_again(db: Db) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    for n in 0..7u8 {
        attested(&server, &key, &[n, 8]).await;
    }
    let record = server.data_dir.join("keys").join("ledger-signing.checkpoint");
    let recorded = std::fs::read_to_string(&record).expect("the signer keeps its record");
    assert!(recorded.contains("\n8\n"), "{recorded}");

    roll_back(&server.db().await, 4).await;
    let digest = keepsake::crypto::sha3_hex(b"after the rollback");
    let response = attest(&server, Some(&key), json!({ "sha3_256": digest })).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED, "queued, not signed");
    let reason = readyz_becomes(&server, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        reason.contains("this server signed a checkpoint for size 8, but the database holds 4 entries"),
        "{reason}"
    );
    let server = server.restart_with(&[]).await;
    let reason = readyz_becomes(&server, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(reason.contains("rolled back"), "refused after a restart too: {reason}");
    let latest = get_text_of(&server, "/api/v1/ledger/checkpoint").await;
    assert!(
        latest.contains("\n4\n"),
        "nothing was signed past the rollback: {latest}"
    );
    assert!(server.log().contains("the database holds 4 entries"));

    let admin = server.client();
    admin.login("boss@example.com", "root password 123").await;
    let (_, page) = admin.get_text("/admin/users").await;
    assert!(page.contains("data-ledger-failing") && page.contains("the database holds 4 entries"));
    let (_, page) = server.client().get_text("/").await;
    assert!(!page.contains("data-ledger-failing"), "only administrators are told");

    let (code, said) = audit(&server, &["--checkpoint", record.to_str().unwrap()]).await;
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("the log was rolled back"), "{said}");
}

/// A rotated key takes over signing while the one it replaces stays listed: the new key
/// cosigned the latest checkpoint, later checkpoints are the new key's alone and consistent
/// with the old ones, a receipt the old key signed still verifies (offline with the listed
/// keys, and on the /verify page), and the audit covers the whole log.
async fn a_rotated_key_keeps_old_receipts_verifying(db: Db) {
    let server = Server::start(db).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let old_receipt = attested(&server, &key, b"before the rotation").await;
    let old_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();

    let (server, out) = server.restart_after_command(&["ledger", "rotate-key"]).await;
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains(&format!("Retired {old_key}")), "{said}");
    let new_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    assert_ne!(new_key, old_key);
    assert_eq!(
        new_key.split('+').next(),
        old_key.split('+').next(),
        "the log keeps its name"
    );
    let keys = get_json(&server, "/api/v1/ledger/keys").await;
    assert_eq!(keys["current"], new_key.as_str());
    assert_eq!(keys["retired"][0]["verifier_key"], old_key.as_str(), "{keys}");
    let cosigned = get_text_of(&server, "/api/v1/ledger/checkpoint").await;
    assert!(
        checkpoint::verify(&cosigned, &old_key).is_ok() && checkpoint::verify(&cosigned, &new_key).is_ok(),
        "both keys signed the checkpoint the rotation found: {cosigned}"
    );

    let new_receipt = attested(&server, &key, b"after the rotation").await;
    let note = new_receipt["checkpoint"].as_str().unwrap();
    assert!(checkpoint::verify(note, &new_key).is_ok());
    assert!(
        checkpoint::verify(note, &old_key).is_err(),
        "the old key signs nothing more"
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.json"), old_receipt.to_string()).unwrap();
    std::fs::write(dir.path().join("keys.txt"), format!("{new_key}\n{old_key}\n")).unwrap();
    let out = support::stranger_verifies(dir.path(), &["old.json", "--key", "keys.txt"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = support::stranger_verifies(dir.path(), &["old.json", "--key", &new_key]).await;
    assert!(!out.status.success(), "the old receipt is the old key's");
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(code, Some(0), "{said}");
    assert!(!server.data_dir.join("keys").join("ledger-signing.key.next").exists());

    // The /verify page knows the retired key too.
    let visitor = server.client();
    let (_, page) = visitor.get_text("/verify").await;
    let token = page.split("/verify/receipt?csrf=").nth(1).unwrap();
    let token = token[..token.find('"').unwrap()].to_owned();
    let form_key = visitor.form_key("/verify", "/verify/receipt").await;
    let response = visitor
        .http
        .post(server.url(&format!("/verify/receipt?csrf={token}")))
        .multipart(
            reqwest::multipart::Form::new()
                .text("receipt_text", old_receipt.to_string())
                .text("form_key", form_key),
        )
        .send()
        .await
        .unwrap();
    let (status, html) = visitor.get_text(&location(&response)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("回执有效"), "{html}");
}

pub(crate) async fn get_text_of(server: &Server, path: &str) -> String {
    reqwest::get(server.url(path)).await.unwrap().text().await.unwrap()
}

/// Attests the SHA3-256 of `content` and returns the receipt.
pub(crate) async fn attested(server: &Server, key: &str, content: &[u8]) -> Value {
    let digest = keepsake::crypto::sha3_hex(content);
    let response = attest(server, Some(key), json!({ "sha3_256": digest })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// Polls `/readyz` until its status is `want`, for at most 20 s; returns the body.
async fn readyz_becomes(server: &Server, want: StatusCode) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = reqwest::get(server.url("/readyz")).await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "/readyz stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sequencer that cannot append is retried and shown, not silently gone: with a tree node
/// it needs missing, `/readyz` answers 503 with the reason and the attestation waits; once
/// the node is back, a retry sequences it and `/readyz` is ready again.
async fn a_failing_sequencer_says_so_and_recovers(db: Db) {
    use keepsake::store::entities::ledger_nodes;
    use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};

    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    for n in 0..2u8 {
        let response = attest(
            &server,
            Some(&key),
            json!({ "sha3_256": keepsake::crypto::sha3_hex(&[n, 9]) }),
        )
        .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_eq!(readyz_becomes(&server, StatusCode::OK).await, "ready");
    // Appending entry 3 needs the leaf node of entry 2.
    let db = server.db().await;
    let leaf_2 = || {
        ledger_nodes::Entity::find()
            .filter(ledger_nodes::Column::Level.eq(0))
            .filter(ledger_nodes::Column::Idx.eq(2))
    };
    let saved = leaf_2().one(&db).await.unwrap().expect("entry 2 is the third entry");
    ledger_nodes::Entity::delete_many()
        .filter(ledger_nodes::Column::Level.eq(0))
        .filter(ledger_nodes::Column::Idx.eq(2))
        .exec(&db)
        .await
        .unwrap();
    let waiting = {
        let url = server.url("/api/v1/attestations");
        let key = key.clone();
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&json!({ "sha3_256": keepsake::crypto::sha3_hex(b"after the gap") }))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let reason = readyz_becomes(&server, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(
        reason.starts_with("ledger sequencer failing since ")
            && reason.contains("stored tree node at level 0, index 2 is missing"),
        "{reason}"
    );
    ledger_nodes::Entity::insert(ledger_nodes::ActiveModel::from(saved).reset_all())
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(readyz_becomes(&server, StatusCode::OK).await, "ready");
    let status = waiting.await.unwrap();
    assert!(
        status == StatusCode::CREATED || status == StatusCode::ACCEPTED,
        "{status}"
    );
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(code, Some(0), "nothing was lost or half-written: {said}");
    assert!(said.contains("4 entries"), "{said}");
    assert!(server.log().contains("ledger sequencing works again"));
}

/// The log keeps the name and key it started with: a public URL set later does not rename
/// it, and without its key file the server refuses to start instead of signing a second
/// history with a new key.
async fn the_log_keeps_its_name_and_key(db: Db) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    attested(&server, &key, b"named").await;
    let before = get_text_of(&server, "/api/v1/ledger/key").await;
    assert!(before.starts_with("keepsake.localhost/ledger+"), "{before}");

    let server = server
        .restart_with(&[("KEEPSAKE_PUBLIC_URL", "https://collect.example.cn")])
        .await;
    let after = get_text_of(&server, "/api/v1/ledger/key").await;
    assert_eq!(after, before, "the log was not renamed");
    assert!(server.log().contains("the ledger keeps the name it was started with"));
    attested(&server, &key, b"still named").await;
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(code, Some(0), "one history under one key: {said}");

    let key_file = server.data_dir.join("keys").join("ledger-signing.key");
    std::fs::remove_file(&key_file).unwrap();
    let mut server = server;
    let said = server.restart_refused().await;
    assert!(
        said.contains("the ledger signing key") && said.contains("is missing") && said.contains("restore"),
        "{said}"
    );
    assert!(!key_file.exists(), "no new key was made");
}

/// Attestations sent all at once are queued together and answered from the batches that
/// sequenced them: every one gets its own index and a receipt that verifies offline, with the
/// key pinned, and each is stored beside its entry.
async fn a_burst_of_attestations_is_answered_from_its_batches(db: Db) {
    use keepsake::ledger::receipt::{Receipt, Trust};
    let server = Server::start(db).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let server_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    let mut running = tokio::task::JoinSet::new();
    for n in 0..96u32 {
        let (url, key) = (server.url("/api/v1/attestations"), key.clone());
        running.spawn(async move {
            let digest = keepsake::crypto::sha3_hex(&n.to_be_bytes());
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&json!({ "sha3_256": digest, "label": format!("burst {n}") }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
            (digest, response.text().await.unwrap())
        });
    }
    let mut indices = std::collections::BTreeSet::new();
    for (digest, text) in running.join_all().await {
        let receipt = Receipt::parse(&text).unwrap();
        let keys = [server_key.clone()];
        let verified = receipt
            .verify(Trust {
                keys: &keys,
                checkpoint: None,
                ..Trust::default()
            })
            .unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(receipt.entry.fields["sha3_256"], digest.as_str());
        assert!(indices.insert(verified.index), "one index each");
        let listed = get_json(&server, &format!("/api/v1/attestations/{digest}")).await;
        assert_eq!(listed["attestations"].as_array().map(Vec::len), Some(1), "{listed}");
    }
    assert_eq!(indices.len(), 96);
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
    assert!(verifier_key.starts_with("keepsake.localhost/ledger+"));

    // The approval itself is in the log.
    let note = checkpoint_with(&server, 1).await;
    let first = checkpoint::verify(&note, verifier_key).unwrap();
    let approval: Value = get_json(&server, "/api/v1/ledger/entries/0").await;
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
    let leaf = LOG_HASH.leaf(&entry_bytes);
    assert_eq!(
        receipt["entry"]["leaf_hash"],
        leaf.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let index = receipt["entry"]["index"].as_u64().unwrap();
    let size = receipt["inclusion_proof"]["size"].as_u64().unwrap();
    let proof = proof_of(&receipt["inclusion_proof"]["hashes"]);
    let signed = checkpoint::verify(receipt["checkpoint"].as_str().unwrap(), verifier_key).unwrap();
    assert_eq!(signed.size, size);
    assert!(verify_inclusion(LOG_HASH, index, size, &leaf, &proof, &signed.root));
    let mut forged = entry_bytes.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(
        !verify_inclusion(LOG_HASH, index, size, &LOG_HASH.leaf(&forged), &proof, &signed.root),
        "tampering shows"
    );

    // The log only grew: the first checkpoint is consistent with the latest.
    let consistency: Value = get_json(
        &server,
        &format!(
            "/api/v1/ledger/proofs/consistency?from={}&to={}",
            first.size, signed.size
        ),
    )
    .await;
    assert!(verify_consistency(
        LOG_HASH,
        first.size,
        signed.size,
        &first.root,
        &signed.root,
        &proof_of(&consistency["proof"])
    ));
    let inclusion: Value = get_json(
        &server,
        &format!("/api/v1/ledger/proofs/inclusion?index={index}&size={size}"),
    )
    .await;
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
    // A file upload with a wrong key is answered, not cut off while the client is still
    // sending it.
    let big = reqwest::multipart::Part::bytes(vec![7u8; 4 * 1024 * 1024]).file_name("big.bin");
    let wrong_key = attest_file(
        &server,
        "ks_not-a-key",
        reqwest::multipart::Form::new().part("file", big),
    )
    .await;
    assert_eq!(wrong_key.status(), StatusCode::UNAUTHORIZED);
    let error: Value = wrong_key.json().await.unwrap();
    assert_eq!(error["error"]["code"], "api_key_required");

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
    let suspension: Value = get_json(&server, &format!("/api/v1/ledger/entries/{size}")).await;
    assert_eq!(suspension["type"], "issuer_suspended");
    let missing = reqwest::get(server.url("/api/v1/ledger/entries/999999")).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// What one attestation request to a server came to.
enum Outcome {
    /// `201` with a receipt: the entry's index.
    Acknowledged(u64),
    /// Anything else, such as a refused connection after the server was killed.
    Unacknowledged,
}

async fn attest_number(http: &reqwest::Client, base: &str, key: &str, n: usize) -> Outcome {
    let digest = keepsake::crypto::sha3_hex(format!("document {n}").as_bytes());
    let sent = http
        .post(format!("{base}/api/v1/attestations"))
        .bearer_auth(key)
        .json(&json!({ "sha3_256": digest, "label": format!("doc {n}") }))
        .send()
        .await;
    let Ok(response) = sent else {
        return Outcome::Unacknowledged;
    };
    if response.status() != StatusCode::CREATED {
        return Outcome::Unacknowledged;
    }
    match response.json::<Value>().await {
        Ok(receipt) => {
            assert_eq!(receipt["entry"]["fields"]["sha3_256"], digest);
            Outcome::Acknowledged(receipt["entry"]["index"].as_u64().unwrap())
        }
        Err(_) => Outcome::Unacknowledged,
    }
}

/// Sends attestations `numbers` to `base` with `concurrency` requests in flight; reports each
/// acknowledgement on `acks` as it happens.
async fn load(
    base: String,
    key: String,
    numbers: std::ops::Range<usize>,
    concurrency: usize,
    acks: tokio::sync::mpsc::UnboundedSender<()>,
) -> Vec<(usize, Outcome)> {
    let http = reqwest::Client::new();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for n in numbers {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (http, base, key, acks) = (http.clone(), base.clone(), key.clone(), acks.clone());
        tasks.spawn(async move {
            let outcome = attest_number(&http, &base, &key, n).await;
            if matches!(outcome, Outcome::Acknowledged(_)) {
                acks.send(()).ok();
            }
            drop(permit);
            (n, outcome)
        });
    }
    tasks.join_all().await
}

/// Two servers on one PostgreSQL take thousands of attestations; one is killed with SIGKILL
/// mid-way. Afterwards every acknowledged attestation is in the log exactly once at the index
/// its receipt named, indices are consecutive, nothing is left queued, and the audit passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_share_one_log_and_survive_a_kill() {
    use support::kyb::scalar;

    let Some(db) = Db::postgres().await else {
        return;
    };
    let first = Server::start_with(Options::new(db).subprocess()).await;
    let (_, key, _, _) = approved_issuer_with_key(&first).await;
    let second = first.start_sibling().await;
    let key_of = |server: &Server| reqwest::get(server.url("/api/v1/ledger/key"));
    assert_eq!(
        key_of(&first).await.unwrap().text().await.unwrap(),
        key_of(&second).await.unwrap().text().await.unwrap(),
        "one installation, one signing key"
    );

    const PER_SERVER: usize = 1_500;
    const KILL_AFTER: usize = 300;
    let (first_acks, _) = tokio::sync::mpsc::unbounded_channel();
    let (second_acks, mut second_acked) = tokio::sync::mpsc::unbounded_channel();
    let first_load = tokio::spawn(load(first.base.clone(), key.clone(), 0..PER_SERVER, 48, first_acks));
    let second_load = tokio::spawn(load(
        second.base.clone(),
        key.clone(),
        PER_SERVER..2 * PER_SERVER,
        48,
        second_acks,
    ));
    for _ in 0..KILL_AFTER {
        second_acked
            .recv()
            .await
            .expect("the second server acknowledges attestations");
    }
    second.kill().await;

    let mut outcomes = first_load.await.unwrap();
    let first_acknowledged = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Acknowledged(_)))
        .count();
    assert_eq!(
        first_acknowledged, PER_SERVER,
        "the surviving server acknowledged all it was sent"
    );
    outcomes.extend(second_load.await.unwrap());
    let acknowledged: Vec<(usize, u64)> = outcomes
        .iter()
        .filter_map(|(n, o)| match o {
            Outcome::Acknowledged(index) => Some((*n, *index)),
            Outcome::Unacknowledged => None,
        })
        .collect();
    assert!(acknowledged.len() >= PER_SERVER + KILL_AFTER);
    assert!(
        acknowledged.len() < 2 * PER_SERVER,
        "the kill cut the second server's load short"
    );

    // The survivor sequences whatever the killed server had queued but not sequenced.
    let start = Instant::now();
    while scalar(&first, "SELECT COUNT(*) FROM ledger_pending").await > 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "queue never drained");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let entries = scalar(&first, "SELECT COUNT(*) FROM ledger_entries").await;
    assert_eq!(scalar(&first, "SELECT MIN(idx) FROM ledger_entries").await, 0);
    assert_eq!(
        scalar(&first, "SELECT MAX(idx) FROM ledger_entries").await,
        entries - 1,
        "indices are consecutive"
    );
    assert_eq!(scalar(&first, "SELECT tree_size FROM ledger_state").await, entries);
    let attestations = scalar(&first, "SELECT COUNT(*) FROM attestations").await;
    assert_eq!(entries, attestations + 1, "every stored attestation plus the approval");
    assert_eq!(
        scalar(
            &first,
            "SELECT COUNT(*) FROM attestations a LEFT JOIN ledger_entries e ON e.source_id = a.queue_id \
             WHERE e.idx IS NULL"
        )
        .await,
        0,
        "no attestation lost"
    );
    assert_eq!(
        scalar(
            &first,
            "SELECT COUNT(*) FROM (SELECT digest FROM attestations GROUP BY digest HAVING COUNT(*) > 1) d"
        )
        .await,
        0,
        "no attestation duplicated"
    );
    assert!(attestations as usize >= acknowledged.len());
    for (n, index) in acknowledged.iter().step_by(37) {
        let entry: Value = get_json(&first, &format!("/api/v1/ledger/entries/{index}")).await;
        assert_eq!(
            entry["fields"]["sha3_256"],
            keepsake::crypto::sha3_hex(format!("document {n}").as_bytes()),
            "the receipt's index still holds its entry"
        );
    }
    let mut indices: Vec<u64> = acknowledged.iter().map(|(_, index)| *index).collect();
    indices.sort_unstable();
    indices.dedup();
    assert_eq!(indices.len(), acknowledged.len(), "no index given twice");

    let audit = first.run_cli(&["ledger", "audit"], "").await;
    let stdout = String::from_utf8_lossy(&audit.stdout);
    assert!(
        audit.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    assert!(stdout.contains(&format!("{entries} entries")), "{stdout}");
}
