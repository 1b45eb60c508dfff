//! The ledger under outside eyes: two `keepsake witness` processes cosign the log's
//! checkpoints, receipts carry their cosignatures and `keepsake verify --witness` requires
//! them; a witness that is down delays cosigning and loses nothing; and an installation
//! restored whole from an older backup, which the server alone cannot tell, is refused by the
//! witnesses and never published.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::ledger::{attested, get_text_of};
use crate::monitor::monitor;
use crate::support::kyb::approved_issuer_with_key;
use crate::support::witness::Witness;
use crate::support::{Db, Options, Server, copy_dir, stranger_verifies};

/// The tree size a signed note is for.
fn size_of(note: &str) -> u64 {
    note.lines().nth(1).and_then(|size| size.parse().ok()).unwrap_or(0)
}

/// Polls the published checkpoint (`/ledger/checkpoint`, the tiles') until `done` holds, for
/// at most 40 s; returns it.
async fn published_until(server: &Server, what: &str, done: impl Fn(&str) -> bool) -> String {
    checkpoint_until(server, "/ledger/checkpoint", what, done).await
}

/// Polls the checkpoint at `path` until `done` holds, for at most 40 s; returns it.
async fn checkpoint_until(server: &Server, path: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let response = reqwest::get(server.url(path)).await.unwrap();
        let note = if response.status() == StatusCode::OK {
            response.text().await.unwrap()
        } else {
            String::new()
        };
        if done(&note) {
            return note;
        }
        assert!(
            Instant::now() < deadline,
            "the published checkpoint never {what}: {note}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `note` carries a signature line by `witness`.
fn cosigned_by(note: &str, witness: &Witness) -> bool {
    note.contains(&format!("\u{2014} {} ", witness.name))
}

/// Runs `keepsake verify` on `receipt` with the log's key and the witnesses' keys.
async fn verify_with_witnesses(
    receipt: &Value,
    log_key: &str,
    witnesses: &[&str],
    quorum: Option<&str>,
) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("receipt.json"), receipt.to_string()).unwrap();
    let mut args = vec!["receipt.json", "--key", log_key];
    for key in witnesses {
        args.extend(["--witness", key]);
    }
    if let Some(quorum) = quorum {
        args.extend(["--quorum", quorum]);
    }
    let out = stranger_verifies(dir.path(), &args).await;
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), said)
}

async fn receipt_of(server: &Server, index: u64) -> Value {
    crate::ledger::get_json(server, &format!("/api/v1/ledger/entries/{index}/receipt")).await
}

fn index_of(receipt: &Value) -> u64 {
    receipt["entry"]["index"].as_u64().unwrap()
}

/// A log with two witnesses: what they cosign is published and carried by receipts, which
/// verify offline with the witnesses' keys; with one witness down, entries are still
/// sequenced and answered with receipts at once, the published checkpoint waits, and once the
/// witness is back the waiting entries are cosigned and published, none missing.
async fn two_witnesses_cosign_and_one_down_only_delays(db: Db) {
    let server = Server::start(db).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let log_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    let first = Witness::start("witness-one.example", &log_key).await;
    let mut second = Witness::start("witness-two.example", &log_key).await;
    let witnesses = format!("{},{}", first.setting(), second.setting());
    let server = server.restart_with(&[("KEEPSAKE_LEDGER_WITNESSES", &witnesses)]).await;

    let receipt = attested(&server, &key, b"witnessed").await;
    let index = index_of(&receipt);
    let published = published_until(&server, "was cosigned by both", |note| {
        size_of(note) > index && cosigned_by(note, &first) && cosigned_by(note, &second)
    })
    .await;
    assert!(
        keepsake::ledger::checkpoint::verify(&published, &log_key).is_ok(),
        "still the log's note: {published}"
    );
    let receipt = receipt_of(&server, index).await;
    let checkpoint = receipt["checkpoint"].as_str().unwrap();
    assert!(
        cosigned_by(checkpoint, &first) && cosigned_by(checkpoint, &second),
        "{checkpoint}"
    );
    let (ok, said) = verify_with_witnesses(&receipt, &log_key, &[&first.key, &second.key], None).await;
    assert!(ok, "{said}");
    assert!(
        said.contains("witness     witness-one.example cosigned it") && said.contains("witness-two.example"),
        "{said}"
    );
    let (_, page) = server.client().get_text(&format!("/verify?entry={index}")).await;
    assert!(
        page.contains("data-witnessed-by=\"witness-one.example\"")
            && page.contains("data-witnessed-by=\"witness-two.example\""),
        "the verify page names the witnesses"
    );
    let watch = tempfile::tempdir().unwrap();
    let state = watch.path().join("monitor.json");
    let witnessed = ["--witness", &first.key, "--witness", &second.key];
    let (code, said) = monitor(&server, &log_key, &state, &witnessed).await;
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.contains("cosigned by witness-one.example, witness-two.example"),
        "{said}"
    );
    let stranger = Witness::start("witness-three.example", &log_key).await;
    let (code, said) = monitor(&server, &log_key, &state, &["--witness", &stranger.key]).await;
    assert_eq!(code, Some(3), "a monitor that requires another witness: {said}");
    assert!(
        said.contains("cosigned by 0 of the witnesses given, 1 needed"),
        "{said}"
    );

    // One witness down: sequencing goes on, publishing waits.
    second.kill().await;
    let before = size_of(&published);
    let mut waiting = Vec::new();
    for n in 0..3u8 {
        waiting.push(index_of(&attested(&server, &key, &[b'w', n]).await));
    }
    let last = *waiting.last().unwrap();
    let what = "was signed past the entries and cosigned by the witness that is up";
    checkpoint_until(&server, "/api/v1/ledger/checkpoint", what, |note| {
        size_of(note) > last && cosigned_by(note, &first)
    })
    .await;
    let unwitnessed = receipt_of(&server, last).await;
    let (ok, said) = verify_with_witnesses(&unwitnessed, &log_key, &[&first.key, &second.key], None).await;
    assert!(
        !ok && said.contains("cosigned by 1 of the witnesses given, 2 needed"),
        "{said}"
    );
    let (ok, said) = verify_with_witnesses(&unwitnessed, &log_key, &[&first.key, &second.key], Some("1")).await;
    assert!(ok, "one witness is enough when one is asked for: {said}");
    assert_eq!(
        size_of(&get_text_of(&server, "/ledger/checkpoint").await),
        before,
        "nothing is published without the quorum"
    );

    second.start_again().await;
    let published = published_until(&server, "caught up once the witness was back", |note| {
        size_of(note) > last && cosigned_by(note, &second)
    })
    .await;
    for index in waiting {
        let receipt = receipt_of(&server, index).await;
        let (ok, said) = verify_with_witnesses(&receipt, &log_key, &[&first.key, &second.key], None).await;
        assert!(ok, "entry {index} was witnessed late, not lost: {said}");
    }
    assert!(cosigned_by(&published, &first));
}

on_both_databases!(two_witnesses_cosign_and_one_down_only_delays);

/// Polls the server's log until `done` holds, for at most 40 s.
async fn logged(server: &Server, what: &str, done: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(40);
    while !done(&server.log()) {
        assert!(
            Instant::now() < deadline,
            "the server never logged {what}:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The case the server alone cannot catch: the whole installation (database, signing key and
/// the signer's own record, blobs) restored from an older backup, then new entries. The
/// server signs them, a consistent history as far as it can see, but both witnesses hold a
/// later checkpoint of the first history: they refuse the fork (409 naming their size, then
/// 422 for the proof), the server says so and publishes nothing past the restored checkpoint,
/// and the fork's receipts fail `keepsake verify --witness`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn witnesses_refuse_a_fork_from_a_restored_backup() {
    let server = Server::start_with(Options::new(Db::Sqlite).subprocess()).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let log_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    let first = Witness::start("witness-one.example", &log_key).await;
    let second = Witness::start("witness-two.example", &log_key).await;
    let witnesses = format!("{},{}", first.setting(), second.setting());
    let server = server.restart_with(&[("KEEPSAKE_LEDGER_WITNESSES", &witnesses)]).await;
    let both = |note: &str| cosigned_by(note, &first) && cosigned_by(note, &second);

    let backed_up = index_of(&attested(&server, &key, b"in the backup").await) + 1;
    published_until(&server, "reached the backup's size", |note| {
        size_of(note) >= backed_up && both(note)
    })
    .await;
    let backup_dir = tempfile::tempdir().unwrap();
    let backup = backup_dir.path().to_owned();
    let (server, restored_size) = server
        .restart_after(|db, data_dir| async move {
            db.close().await.unwrap();
            copy_dir(&data_dir, &backup);
            size_of(&std::fs::read_to_string(data_dir.join("blobs/ledger/checkpoint")).unwrap())
        })
        .await;
    assert!(restored_size >= backed_up);

    // The first history grows and is witnessed.
    let mut first_history = 0;
    for n in 0..4u8 {
        first_history = index_of(&attested(&server, &key, &[b'a', n]).await) + 1;
    }
    let witnessed = published_until(&server, "was witnessed", |note| {
        size_of(note) >= first_history && both(note)
    })
    .await;
    let witnessed_size = size_of(&witnessed);
    let watch = tempfile::tempdir().unwrap();
    let state = watch.path().join("monitor.json");
    let (code, said) = monitor(
        &server,
        &log_key,
        &state,
        &["--witness", &first.key, "--witness", &second.key],
    )
    .await;
    assert_eq!(code, Some(0), "{said}");

    // Everything restored from the backup: nothing in it says a later history was signed.
    let (server, ()) = server
        .restart_after(|db, data_dir| async move {
            let backup = backup_dir.path();
            db.close().await.unwrap();
            std::fs::remove_dir_all(&data_dir).unwrap();
            copy_dir(backup, &data_dir);
        })
        .await;
    let mut fork = 0;
    for n in 0..8u8 {
        fork = index_of(&attested(&server, &key, &[b'b', n]).await) + 1;
    }
    assert!(fork > witnessed_size, "the fork outgrew what the witnesses saw");
    let forked = get_text_of(&server, "/api/v1/ledger/checkpoint").await;
    assert!(size_of(&forked) >= fork, "the server alone signs the fork: {forked}");

    logged(&server, "both witnesses refusing the fork", |log| {
        let refused = |name: &str| {
            log.lines().any(|line| {
                line.contains("a witness refused the ledger's checkpoint")
                    && line.contains(name)
                    && line.contains("422")
            })
        };
        refused("witness-one.example") && refused("witness-two.example")
    })
    .await;
    let published = get_text_of(&server, "/ledger/checkpoint").await;
    assert_eq!(
        size_of(&published),
        restored_size,
        "nothing published past the restore: {published}"
    );
    assert!(!cosigned_by(
        &get_text_of(&server, "/api/v1/ledger/checkpoint").await,
        &first
    ));

    // Asked directly, each witness names the size it holds, then refuses the proof.
    let http = reqwest::Client::new();
    let forked = get_text_of(&server, "/api/v1/ledger/checkpoint").await;
    for witness in [&first, &second] {
        let response = http
            .post(format!("{}/add-checkpoint", witness.url))
            .body(format!("old 0\n\n{forked}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(response.headers()["content-type"], "text/x.tlog.size");
        assert_eq!(response.text().await.unwrap(), format!("{witnessed_size}\n"));
        let proof = crate::ledger::get_json(
            &server,
            &format!(
                "/api/v1/ledger/proofs/consistency?from={witnessed_size}&to={}",
                size_of(&forked)
            ),
        )
        .await;
        let lines: String = proof["proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hash| format!("{}\n", hash.as_str().unwrap()))
            .collect();
        let response = http
            .post(format!("{}/add-checkpoint", witness.url))
            .body(format!("old {witnessed_size}\n{lines}\n{forked}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{}", witness.log());
    }

    let receipt = receipt_of(&server, fork - 1).await;
    let (ok, said) = verify_with_witnesses(&receipt, &log_key, &[&first.key, &second.key], None).await;
    assert!(!ok && said.contains("cosigned by 0 of the witnesses given"), "{said}");
    let (code, said) = monitor(&server, &log_key, &state, &[]).await;
    assert_eq!(code, Some(3), "a monitor that saw the first history: {said}");
    assert!(said.contains("the log was rolled back"), "{said}");
}
