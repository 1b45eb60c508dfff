//! `keepsake monitor` against a real server's tiles: an honest log passes, run after run,
//! each run reading only what is new; a log whose served entries were altered, one whose
//! operator signed a mint for a collection never published, one rolled back and one forked
//! (the whole installation restored from an older backup, then grown) are each reported by
//! what they did, with exit code 3, and the state file stays at the last good checkpoint.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::ledger::{attested, get_text_of};
use crate::support::collections::{Terms, claim, collectors, published_collection};
use crate::support::kyb::approved_issuer_with_key;
use crate::support::{Db, Options, Server, copy_dir, stranger_runs};

/// Runs `keepsake monitor --once` on `server`'s log with `state` as its state file and
/// `more` arguments; answers its exit code and what it said.
pub(crate) async fn monitor(server: &Server, log_key: &str, state: &Path, more: &[&str]) -> (Option<i32>, String) {
    let url = server.url("/ledger");
    let state_arg = state.to_str().unwrap();
    let mut args = vec!["monitor", &url, "--key", log_key, "--once", "--state", state_arg];
    args.extend_from_slice(more);
    let out = stranger_runs(state.parent().unwrap(), &args).await;
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), said)
}

/// Polls the published checkpoint until it holds at least `size` entries; returns its size.
async fn published(server: &Server, size: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let note = get_text_of(server, "/ledger/checkpoint").await;
        let now: u64 = note.lines().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        if now >= size {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the log never published {size} entries: {note}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn attest(server: &Server, key: &str, content: &[u8]) -> u64 {
    attested(server, key, content).await["entry"]["index"].as_u64().unwrap() + 1
}

/// An honest log with issuers, a collection, claims and attestations passes, and later runs
/// read only the new entries; a mint the operator signed for a collection never published is
/// reported with its index, and the state stays where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_passes_an_honest_log_and_names_a_broken_rule() {
    let server = Server::start(Db::Sqlite).await;
    let (issuer, key, founder, reviewer) = approved_issuer_with_key(&server).await;
    let log_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    let terms = Terms {
        edition_size: 10,
        per_person_limit: 2,
        claim_mode: "open",
    };
    let id = published_collection(&founder, &reviewer, issuer, "监测测试", terms).await;
    let people = collectors(&server, &reviewer, 40, 2).await;
    for (n, person) in people.iter().enumerate() {
        let csrf = person.csrf(&format!("/collections/{id}")).await;
        claim(person, &csrf, id, &format!("monitor-{n}")).await;
    }
    let size = attest(&server, &key, b"honest").await;
    let size = published(&server, size).await;

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let (code, said) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("entries 0 to") && said.contains("every rule kept"),
        "{said}"
    );
    kept_after(&state, size);

    let grown = attest(&server, &key, b"honest, later").await;
    let grown = published(&server, grown).await;
    let (code, said) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(code, Some(0), "{said}");
    let first_new = said
        .split("entries ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap();
    assert!(
        first_new.parse::<u64>().unwrap() >= size,
        "only the new entries are read: {said}"
    );
    let (code, said) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(
        (code, said.contains(&format!("unchanged at {grown} entries"))),
        (Some(0), true),
        "{said}"
    );

    // The operator signs what the platform's rules forbid: a mint in a collection never published.
    let forged = keepsake::ledger::entry::Entry::at(
        chrono::Utc::now(),
        keepsake::ledger::entry::EntryBody::TokenMinted {
            collection_id: 999_999,
            serial: 1,
            content_hash: [7; 32],
            holder_commitment: [8; 32],
        },
    );
    keepsake::store::ledger::enqueue(&server.db().await, forged.encode().unwrap(), chrono::Utc::now())
        .await
        .unwrap();
    published(&server, grown + 1).await;
    let (code, said) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(code, Some(3), "{said}");
    assert!(
        said.contains(&format!(
            "entry {grown} (token_minted) is for collection 999999, which the log never published"
        )),
        "{said}"
    );
    kept_after(&state, grown);
    let (code, _) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(code, Some(3), "it keeps saying so");

    let origin = log_key.split('+').next().unwrap().to_owned();
    let impostor = keepsake::ledger::signer::CheckpointSigner::load(&dir.path().join("impostor.key"), origin).unwrap();
    let other = dir.path().join("other.json");
    let (code, said) = monitor(&server, &impostor.verifier_key(), &other, &[]).await;
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains("not signed by the log's key"), "{said}");
    let (code, said) = monitor(&server, "example.test/ledger+00000000+AAAA", &other, &[]).await;
    assert_eq!(code, Some(1), "a key that is not one is the caller's mistake: {said}");
}

/// Checks that the state file is still at `size` entries.
fn kept_after(state: &Path, size: u64) {
    let kept: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    assert_eq!(kept["size"], size, "the state did not move past what broke");
}

/// Entries served altered: the monitor rebuilds the tree from them and finds the signed root
/// does not come out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_catches_altered_entries() {
    let options = Options::new(Db::Sqlite).env("KEEPSAKE_LEDGER_TILE_CACHE_MB", "0");
    let server = Server::start_with(options).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let log_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    let size = attest(&server, &key, b"to be altered").await;
    let size = published(&server, size).await;
    assert!(size < 256, "one partial bundle");
    let bundle = server.data_dir.join(format!("blobs/ledger/tile/entries/000.p/{size}"));
    let mut bytes = std::fs::read(&bundle).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&bundle, bytes).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (code, said) = monitor(&server, &log_key, &dir.path().join("state.json"), &[]).await;
    assert_eq!(code, Some(3), "{said}");
    assert!(
        said.contains("tampered with") && said.contains("do not hash to the root its checkpoint signs"),
        "{said}"
    );
    assert!(
        !dir.path().join("state.json").exists(),
        "nothing of a broken log is kept"
    );
}

/// The whole installation restored from an older backup: first the log is shorter than what
/// the monitor saw (rolled back), then it grows past it with other entries (forked); the
/// report carries both checkpoints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_catches_a_rollback_and_a_fork() {
    let server = Server::start(Db::Sqlite).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let log_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    let backed_up = attest(&server, &key, b"in the backup").await;
    published(&server, backed_up).await;
    let backup_dir = tempfile::tempdir().unwrap();
    let backup = backup_dir.path().to_owned();
    let (server, ()) = server
        .restart_after(|db, data_dir| async move {
            db.close().await.unwrap();
            copy_dir(&data_dir, &backup);
        })
        .await;
    let mut seen = 0;
    for n in 0..3u8 {
        seen = attest(&server, &key, &[b'a', n]).await;
    }
    let seen = published(&server, seen).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let (code, said) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(code, Some(0), "{said}");

    let (server, ()) = server
        .restart_after(|db, data_dir| async move {
            db.close().await.unwrap();
            std::fs::remove_dir_all(&data_dir).unwrap();
            copy_dir(backup_dir.path(), &data_dir);
        })
        .await;
    let (code, said) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(code, Some(3), "{said}");
    assert!(
        said.contains(&format!(
            "the log was rolled back: it published a checkpoint of {backed_up} entries after one of {seen}"
        )),
        "{said}"
    );

    let mut fork = 0;
    for n in 0..6u8 {
        fork = attest(&server, &key, &[b'b', n]).await;
    }
    published(&server, fork).await;
    assert!(fork > seen);
    let (code, said) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(code, Some(3), "{said}");
    assert!(
        said.contains("the log forked") && said.contains(&format!("\n{seen}\n")),
        "{said}"
    );
    kept_after(&state, seen);
}
