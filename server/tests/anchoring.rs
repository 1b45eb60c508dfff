//! Checkpoints anchored on a real local EVM chain (anvil, started by `.ci/run`): the anchor is
//! listed at `/api/v1/ledger/anchors` and carried by the receipts it covers, and
//! `keepsake verify --rpc` finds its transaction on the chain; an altered anchor is refused. A
//! chain that cannot be reached delays anchoring and nothing else.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::ledger::{attested, get_json, get_text_of};
use crate::support::kyb::approved_issuer_with_key;
use crate::support::{Db, Options, Server, service_var, stranger_verifies};

/// Private keys of anvil's funded development accounts (its default mnemonic), one per test
/// so that no two tests send from one account at once.
const SQLITE_ACCOUNT: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const POSTGRES_ACCOUNT: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const DOWN_ACCOUNT: &str = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";

/// The settings that anchor on `rpc` every second from the account whose key is in `dir`.
fn anchoring(options: Options, dir: &Path, rpc: &str, key: &str) -> Options {
    let key_file = dir.join("anchor.key");
    std::fs::write(&key_file, key).unwrap();
    options
        .env("KEEPSAKE_LEDGER_ANCHOR_RPC_URL", rpc)
        .env("KEEPSAKE_LEDGER_ANCHOR_CHAIN_ID", "31337")
        .env("KEEPSAKE_LEDGER_ANCHOR_KEY_FILE", key_file.to_str().unwrap())
        .env("KEEPSAKE_LEDGER_ANCHOR_INTERVAL_S", "1")
}

/// Polls `/api/v1/ledger/anchors` until an included anchor covers entry `index`; returns it.
async fn anchor_covering(server: &Server, index: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let listed = get_json(server, "/api/v1/ledger/anchors").await;
        let found = listed["anchors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|anchor| anchor["tree_size"].as_u64().unwrap() > index)
            .cloned();
        if let Some(anchor) = found {
            return anchor;
        }
        assert!(
            Instant::now() < deadline,
            "no anchor ever covered entry {index}: {listed}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn verify(receipt: &Value, args: &[&str]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("receipt.json"), receipt.to_string()).unwrap();
    let mut all = vec!["receipt.json"];
    all.extend_from_slice(args);
    let out = stranger_verifies(dir.path(), &all).await;
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), said)
}

/// An attested entry's checkpoint is anchored; its receipt carries the anchor, which verifies
/// offline and on the chain, and every alteration of it is refused.
async fn an_anchored_receipt_verifies_on_the_chain(db: Db) {
    let Some(rpc) = service_var("TEST_ANVIL_URL") else {
        return;
    };
    let account = match db {
        Db::Sqlite => SQLITE_ACCOUNT,
        Db::Postgres(_) => POSTGRES_ACCOUNT,
    };
    let dir = tempfile::tempdir().unwrap();
    let options = anchoring(Options::new(db).subprocess(), dir.path(), &rpc, account);
    let server = Server::start_with(options).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let log_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    let answered = attested(&server, &key, b"anchored").await;
    let (ok, said) = verify(&answered, &["--key", &log_key, "--rpc", &rpc]).await;
    assert!(
        !ok && said.contains("the receipt carries no anchor"),
        "a fresh receipt: {said}"
    );

    let index = answered["entry"]["index"].as_u64().unwrap();
    let listed = anchor_covering(&server, index).await;
    assert_eq!(listed["chain_id"], 31337);
    assert!(listed["block_number"].as_u64().is_some(), "{listed}");
    let receipt = get_json(&server, &format!("/api/v1/ledger/entries/{index}/receipt")).await;
    let anchor = &receipt["anchor"];
    assert_eq!(anchor["transaction"], listed["transaction"], "{receipt}");
    let (ok, said) = verify(&receipt, &["--key", &log_key, "--rpc", &rpc]).await;
    assert!(ok, "{said}");
    assert!(
        said.contains(&format!(
            "anchor      the checkpoint of size {} is on chain 31337 in block {}",
            listed["tree_size"], listed["block_number"]
        )),
        "{said}"
    );
    let (ok, said) = verify(&receipt, &["--key", &log_key]).await;
    assert!(ok && said.contains("pass --rpc URL to check it on the chain"), "{said}");
    let (_, page) = server.client().get_text(&format!("/verify?entry={index}")).await;
    let transaction = listed["transaction"].as_str().unwrap();
    assert!(
        page.contains("data-anchor") && page.contains(transaction),
        "the verify page shows the anchor"
    );

    let altered = |change: &dyn Fn(&mut Value)| {
        let mut altered = receipt.clone();
        change(&mut altered["anchor"]);
        altered
    };
    let later_block = altered(&|anchor| anchor["block_number"] = (anchor["block_number"].as_u64().unwrap() + 1).into());
    let (ok, said) = verify(&later_block, &["--key", &log_key, "--rpc", &rpc]).await;
    assert!(!ok && said.contains("not block"), "{said}");
    let other_transaction = altered(&|anchor| anchor["transaction"] = format!("0x{}", "ab".repeat(32)).into());
    let (ok, said) = verify(&other_transaction, &["--key", &log_key, "--rpc", &rpc]).await;
    assert!(!ok && said.contains("is not on the chain"), "{said}");
    let other_chain = altered(&|anchor| anchor["chain_id"] = 1.into());
    let (ok, said) = verify(&other_chain, &["--key", &log_key, "--rpc", &rpc]).await;
    assert!(!ok && said.contains("serves chain 31337, not chain 1"), "{said}");
    // A later checkpoint, validly signed and holding the entry, is not the anchored one.
    let later = attested(&server, &key, b"after the anchor").await;
    let size = later["inclusion_proof"]["size"].as_u64().unwrap();
    let note = get_text_of(&server, &format!("/api/v1/ledger/checkpoints/{size}")).await;
    let proof = get_json(
        &server,
        &format!("/api/v1/ledger/proofs/inclusion?index={index}&size={size}"),
    )
    .await;
    let other_checkpoint = altered(&|anchor| {
        anchor["checkpoint"] = note.clone().into();
        anchor["inclusion_proof"] = serde_json::json!({ "size": size, "hashes": proof["proof"] });
    });
    let (ok, said) = verify(&other_checkpoint, &["--key", &log_key]).await;
    assert!(ok, "the altered anchor is still a valid proof offline: {said}");
    let (ok, said) = verify(&other_checkpoint, &["--key", &log_key, "--rpc", &rpc]).await;
    assert!(!ok && said.contains("does not carry the hash"), "{said}");
    let bad_proof = altered(&|anchor| anchor["inclusion_proof"]["size"] = 1_000.into());
    let (ok, said) = verify(&bad_proof, &["--key", &log_key]).await;
    assert!(!ok && said.contains("anchor's inclusion proof"), "{said}");
}

on_both_databases!(an_anchored_receipt_verifies_on_the_chain);

/// With the chain unreachable, entries are sequenced and answered with receipts as ever and
/// nothing is anchored; once the chain is there, the waiting checkpoint is anchored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_that_is_down_delays_anchoring_only() {
    let Some(rpc) = service_var("TEST_ANVIL_URL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let nowhere = "http://127.0.0.1:9";
    let options = anchoring(Options::new(Db::Sqlite).subprocess(), dir.path(), nowhere, DOWN_ACCOUNT);
    let server = Server::start_with(options).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let receipt = attested(&server, &key, b"while the chain is down").await;
    let index = receipt["entry"]["index"].as_u64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.log().contains("ledger anchoring failed") {
        assert!(
            Instant::now() < deadline,
            "the failure was never logged:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let listed = get_json(&server, "/api/v1/ledger/anchors").await;
    assert_eq!(listed["anchors"], serde_json::json!([]), "{listed}");
    assert!(
        get_text_of(&server, "/readyz").await.starts_with("ready"),
        "a chain that is down does not make the server unready"
    );

    let server = server.restart_with(&[("KEEPSAKE_LEDGER_ANCHOR_RPC_URL", &rpc)]).await;
    let anchor = anchor_covering(&server, index).await;
    assert!(anchor["tree_size"].as_u64().unwrap() > index);
}
