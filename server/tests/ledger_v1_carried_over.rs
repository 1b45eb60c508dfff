//! A log still in ledger format v1 (a SHA3-256 tree, checkpoints named
//! `<host>/ledger/sha3-256`) is carried over into format v2 at the next start: v1 is closed at
//! its final checkpoint, the same entries keep their indices in the SHA-256 tree, the first v2
//! entry commits to v1's final checkpoint, receipts the v1 server handed out keep verifying,
//! and the audit covers both.

use std::path::PathBuf;

use crate::ledger::{attested, audit, get_json, get_text_of};
use crate::support::{self, Db, Options, Server};
use chrono::Utc;
use keepsake::ledger::checkpoint;
use keepsake::ledger::merkle::{self, TreeHash};
use keepsake::ledger::receipt::{self, InclusionProof, Receipt, ReceiptEntry};
use keepsake::ledger::signer::CheckpointSigner;
use keepsake::services::ledger::sequencer::sequence_once;
use keepsake::store;
use sea_orm::DatabaseConnection;

on_both_databases!(a_v1_log_is_closed_and_continued_in_v2);

const V1_ORIGIN: &str = "keepsake.localhost/ledger/sha3-256";

/// What the v1 log held when it was closed.
struct V1Log {
    size: u64,
    verifier_key: String,
    final_root: merkle::Hash,
    /// A receipt for entry 2, as the v1 server handed it out.
    receipt: Receipt,
}

/// Turns the stored log into the one a v1 server would have kept for the same entries: the
/// entries queued again under their own queue rows and sequenced by the v1 sequencer (in
/// batches of 3, so v1 has several checkpoints) into a SHA3-256 tree signed under the v1 name,
/// which is pinned; the signer's record is v1's.
async fn as_v1_log(db: DatabaseConnection, data_dir: PathBuf) -> V1Log {
    use keepsake::store::entities::{installation, ledger_checkpoints, ledger_entries, ledger_nodes, ledger_pending};
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let size = store::ledger::state(&db).await.unwrap().size;
    let entries = store::ledger::entries(&db, 0, size).await.unwrap();
    ledger_checkpoints::Entity::delete_many().exec(&db).await.unwrap();
    ledger_nodes::Entity::delete_many().exec(&db).await.unwrap();
    ledger_entries::Entity::delete_many().exec(&db).await.unwrap();
    for row in &entries {
        ledger_pending::ActiveModel {
            id: Set(row.source_id),
            entry: Set(row.entry.clone()),
            created_at: Set(row.sequenced_at),
        }
        .insert(&db)
        .await
        .unwrap();
    }
    keepsake::store::entities::ledger_state::ActiveModel {
        id: Set(1),
        tree_size: Set(0),
        root_hash: Set(TreeHash::Sha3_256.empty_root().to_vec()),
        format: Set(1),
        closed_v1_size: Set(None),
    }
    .update(&db)
    .await
    .unwrap();
    let key_file = data_dir.join("keys").join("ledger-signing.key");
    std::fs::remove_file(key_file.with_extension("checkpoint")).unwrap();
    let v1 = CheckpointSigner::load(&key_file, V1_ORIGIN.into()).unwrap();
    installation::ActiveModel {
        name: Set("ledger.verifier_key".into()),
        value: Set(v1.verifier_key()),
        set_at: Set(Utc::now()),
    }
    .update(&db)
    .await
    .unwrap();
    while sequence_once(&db, &v1, 3, Utc::now()).await.unwrap().is_some() {}

    let h = TreeHash::Sha3_256;
    let latest = store::ledger::latest_checkpoint(&db).await.unwrap().unwrap();
    let v1_size = latest.tree_size as u64;
    assert_eq!(v1_size, size);
    let row = store::ledger::entry(&db, 2).await.unwrap().unwrap();
    let ids = merkle::inclusion_nodes(2, v1_size).unwrap();
    let nodes = store::ledger::nodes(&db, &ids).await.unwrap();
    let receipt = Receipt {
        format: receipt::FORMAT_V1.into(),
        entry: ReceiptEntry::new(2, &row.entry, &h.leaf(&row.entry)).unwrap(),
        inclusion_proof: InclusionProof::new(v1_size, &merkle::inclusion_proof(h, 2, v1_size, &nodes).unwrap()),
        checkpoint: latest.note.clone(),
        verifier_key: v1.verifier_key(),
        holder: None,
        anchor: None,
    };
    V1Log {
        size: v1_size,
        verifier_key: v1.verifier_key(),
        final_root: checkpoint::verify(&latest.note, &v1.verifier_key()).unwrap().root,
        receipt,
    }
}

async fn a_v1_log_is_closed_and_continued_in_v2(db: Db) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (_, key, _, _) = support::kyb::approved_issuer_with_key(&server).await;
    for n in 0..6u8 {
        attested(&server, &key, &[n, 17]).await;
    }
    let (server, v1) = server.restart_after(as_v1_log).await;
    assert!(
        v1.receipt.verify(Default::default()).is_ok(),
        "the v1 receipt as handed out"
    );
    assert!(
        server.log().contains("the ledger moved to format v2"),
        "{}",
        server.log()
    );

    let keys = get_json(&server, "/api/v1/ledger/keys").await;
    let current = keys["current"].as_str().unwrap().to_owned();
    assert!(current.starts_with("keepsake.localhost/ledger+"), "{keys}");
    assert!(
        keys["retired"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["verifier_key"] == v1.verifier_key.as_str()),
        "{keys}"
    );
    let latest = get_text_of(&server, "/api/v1/ledger/checkpoint").await;
    let signed = checkpoint::verify(&latest, &current).unwrap();
    assert_eq!(
        (signed.origin.as_str(), signed.size),
        ("keepsake.localhost/ledger", v1.size + 1)
    );
    let v1_final = get_text_of(&server, &format!("/api/v1/ledger/checkpoints/{}", v1.size)).await;
    assert_eq!(
        checkpoint::verify(&v1_final, &v1.verifier_key).unwrap().root,
        v1.final_root,
        "v1's final checkpoint stays published"
    );

    let continued = get_json(&server, &format!("/api/v1/ledger/entries/{}/receipt", v1.size)).await;
    assert_eq!(continued["format"], receipt::FORMAT);
    assert_eq!(continued["entry"]["type"], "log_continued");
    let fields = &continued["entry"]["fields"];
    assert_eq!(fields["previous_origin"], V1_ORIGIN);
    assert_eq!(fields["previous_size"], v1.size);
    assert_eq!(fields["previous_root"], base64_of(&v1.final_root));

    // The same entry, two receipts: v1's (SHA3-256 tree) and v2's (SHA-256), both verify.
    let v2_receipt = get_json(&server, "/api/v1/ledger/entries/2/receipt").await;
    assert_eq!(v2_receipt["entry"]["entry"], v1.receipt.entry.entry.as_str());
    assert_ne!(v2_receipt["entry"]["leaf_hash"], v1.receipt.entry.leaf_hash.as_str());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("v1.json"), serde_json::to_string(&v1.receipt).unwrap()).unwrap();
    std::fs::write(dir.path().join("v2.json"), v2_receipt.to_string()).unwrap();
    std::fs::write(dir.path().join("keys.txt"), format!("{current}\n{}\n", v1.verifier_key)).unwrap();
    for receipt in ["v1.json", "v2.json"] {
        let out = support::stranger_verifies(dir.path(), &[receipt, "--key", "keys.txt"]).await;
        assert!(
            out.status.success(),
            "{receipt}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let after = attested(&server, &key, b"after the carry-over").await;
    assert_eq!(after["format"], receipt::FORMAT);
    assert_eq!(after["entry"]["index"], v1.size + 1);
    let v1_record = server.data_dir.join("keys").join("ledger-signing.v1.checkpoint");
    let (code, said) = audit(&server, &["--checkpoint", v1_record.to_str().unwrap()]).await;
    assert_eq!(code, Some(0), "{said}");

    let server = server.restart_with(&[]).await;
    let again = get_text_of(&server, "/api/v1/ledger/checkpoint").await;
    assert!(
        again.contains(&format!("\n{}\n", v1.size + 2)),
        "carried over once: {again}"
    );

    let (server, ()) = server
        .restart_after(|db, _| async move {
            use keepsake::store::entities::ledger_checkpoints;
            use sea_orm::EntityTrait;
            ledger_checkpoints::Entity::delete_by_id(v1.size as i64)
                .exec(&db)
                .await
                .unwrap();
        })
        .await;
    let (code, said) = audit(&server, &[]).await;
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains(&format!("the v1 log was closed at size {}", v1.size)),
        "{said}"
    );
}

fn base64_of(hash: &merkle::Hash) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(hash)
}
