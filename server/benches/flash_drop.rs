//! The flash drop: many verified people claim a limited open collection at the same moment.
//!
//! Starts the real server (the release build under `cargo bench`) with a fresh SQLite database,
//! and again on PostgreSQL when `TEST_DATABASE_URL` is set. Sets up an approved issuer and a
//! published open collection over HTTP, then seeds the verified people straight into the
//! database (signing up 20 000 people through Argon2 and a reviewer would take hours and
//! measure nothing of interest): users, verified identities with distinct blind indexes, and
//! live sessions. Every person's claim is then sent at once through the claim API
//! (`POST /api/v1/collections/{id}/claims`, session cookie and `Idempotency-Key`) over
//! keep-alive connections, at most `KEEPSAKE_BENCH_CONNECTIONS` (default 512) in flight.
//!
//! Checks, after the drop: exactly the edition size minted (or one token per person when the
//! edition is larger than the crowd), serials unique, nobody with two,
//! every answered claim's token among them, and every `token_minted` entry's receipt verifying
//! against the latest signed checkpoint. Prints claims per second, latency percentiles and the
//! server's resident memory before, at its peak during and after the drop.
//! Then a reviewer revokes the whole edition in one decision, and the time that takes.
//!
//! Run: `cargo bench -p keepsake --bench flash_drop`. `KEEPSAKE_BENCH_PEOPLE` (default 20 000)
//! and `KEEPSAKE_BENCH_EDITION` (default 10 000) size it; `KEEPSAKE_BENCH_SERVER_PRELOAD` names a
//! library preloaded into the server alone (an allocator, for a comparison). Without `--bench`
//! (`cargo test --benches`) it runs 200 people for 100 tokens on SQLite.

// The end-to-end harness: starting the binary, the approved issuer, the published collection.
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::StreamExt;
use keepsake::ledger::entry::EntryBody;
use keepsake::ledger::receipt::{Receipt, Trust};
use reqwest::StatusCode;
use sea_orm::DatabaseConnection;
use serde_json::Value;
use support::collections::{Terms, published_collection};
use support::kyb::{approved_issuer_with_key, scalar};
use support::seed::{self, env_number, percentile};
use support::{Db, Options, Server};

/// Seeds `people` verified people with live sessions; returns their session tokens.
async fn seed_people(server: &Server, db: &DatabaseConnection, people: u64) -> Vec<String> {
    let now = Utc::now();
    let ids = seed::people(db, &server.vault(), "flash", people, true, now).await;
    seed::sessions(db, &ids, now).await
}

/// What the drop answered.
#[derive(Default)]
struct Outcome {
    minted: Vec<i64>,
    sold_out: u64,
    failed: Vec<String>,
    latencies: Vec<Duration>,
}

async fn drop_claims(server: &Server, collection: i64, sessions: Vec<String>, connections: usize) -> Outcome {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let url = server.url(&format!("/api/v1/collections/{collection}/claims"));
    let gate = Arc::new(tokio::sync::Semaphore::new(connections));
    let mut claims = tokio::task::JoinSet::new();
    for (n, session) in sessions.into_iter().enumerate() {
        let (http, url, gate) = (http.clone(), url.clone(), gate.clone());
        claims.spawn(async move {
            let _slot = gate.acquire_owned().await.unwrap();
            let start = Instant::now();
            let response = http
                .post(&url)
                .header("cookie", format!("ks_session={session}"))
                .header("idempotency-key", format!("flash-drop-claim-{n:08}"))
                .send()
                .await;
            let latency = start.elapsed();
            let outcome = match response {
                Ok(r) if r.status() == StatusCode::CREATED => {
                    Ok(r.json::<Value>().await.unwrap()["token"].as_i64().unwrap())
                }
                Ok(r) => Err((r.status(), r.text().await.unwrap_or_default())),
                Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
            };
            (outcome, latency)
        });
    }
    let mut outcome = Outcome::default();
    for (answer, latency) in claims.join_all().await {
        outcome.latencies.push(latency);
        match answer {
            Ok(token) => outcome.minted.push(token),
            Err((StatusCode::CONFLICT, body)) if body.contains("sold_out") => outcome.sold_out += 1,
            Err((status, body)) => outcome.failed.push(format!("{status}: {body}")),
        }
    }
    outcome.latencies.sort();
    outcome
}

/// Waits until the log has sequenced everything, then verifies every `token_minted` receipt of
/// the collection against the latest checkpoint, a few requests at a time; returns the serials
/// seen.
async fn verify_ledger(server: &Server, collection: i64) -> Vec<u32> {
    for _ in 0..1200 {
        if scalar(server, "SELECT COUNT(*) FROM ledger_pending").await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let size = scalar(server, "SELECT MAX(tree_size) FROM ledger_checkpoints").await as u64;
    let entries = scalar(server, "SELECT COUNT(*) FROM ledger_entries").await as u64;
    assert_eq!(size, entries, "the latest checkpoint covers the whole log");
    let http = reqwest::Client::new();
    let receipts = futures_util::stream::iter(0..size).map(|index| {
        let request = http.get(server.url(&format!("/api/v1/ledger/entries/{index}/receipt")));
        async move { request.send().await.unwrap().text().await.unwrap() }
    });
    let mut receipts = receipts.buffer_unordered(8);
    let mut serials = Vec::new();
    while let Some(text) = receipts.next().await {
        let verified = Receipt::parse(&text).unwrap().verify(Trust::default()).unwrap();
        assert_eq!(verified.checkpoint.size, size);
        if let EntryBody::TokenMinted {
            collection_id, serial, ..
        } = verified.entry.body
            && collection_id == collection as u64
        {
            serials.push(serial);
        }
    }
    serials
}

async fn run(name: &str, db: Db, people: u64, edition: u32, connections: usize) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: edition,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "限时抢领", terms).await;
    let seeding = Instant::now();
    let sessions = seed_people(&server, &server.db().await, people).await;
    eprintln!(
        "flash_drop/{name}: seeded {people} verified people in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let checkpoints_before = scalar(&server, "SELECT COUNT(*) FROM ledger_checkpoints").await;
    let before = server.memory().resident_kib;
    server.reset_peak_memory();
    let start = Instant::now();
    let outcome = drop_claims(&server, collection, sessions, connections).await;
    let elapsed = start.elapsed();
    let memory = server.memory();
    // Everyone claims once, so a larger edition than the crowd is claimed by all of it.
    let minted = edition.min(u32::try_from(people).expect("people fit in u32"));
    let l = &outcome.latencies;
    println!(
        "flash_drop/{name}: {people} claims for {edition} tokens, {connections} connections: {:.2} s, \
         {:.0} claims/s (minted {}, sold out {}, failed {}); latency p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, p99.9 {:.0} ms, max {:.0} ms \
         ({} over 1 s); server memory {} MB before, peak {} MB, {} MB after",
        elapsed.as_secs_f64(),
        people as f64 / elapsed.as_secs_f64(),
        outcome.minted.len(),
        outcome.sold_out,
        outcome.failed.len(),
        percentile(l, 0.50).as_secs_f64() * 1e3,
        percentile(l, 0.95).as_secs_f64() * 1e3,
        percentile(l, 0.99).as_secs_f64() * 1e3,
        percentile(l, 0.999).as_secs_f64() * 1e3,
        percentile(l, 1.0).as_secs_f64() * 1e3,
        l.iter().filter(|d| d.as_secs() >= 1).count(),
        before / 1024,
        memory.peak_kib / 1024,
        memory.resident_kib / 1024,
    );
    assert!(
        outcome.failed.is_empty(),
        "failed claims: {:?}",
        &outcome.failed[..outcome.failed.len().min(5)]
    );
    assert_eq!(
        outcome.minted.len() as u64,
        u64::from(minted),
        "exactly the edition is minted, or one token for everyone"
    );
    let where_collection = format!("FROM tokens WHERE collection_id = {collection}");
    assert_eq!(
        scalar(&server, &format!("SELECT COUNT(*) {where_collection}")).await,
        i64::from(minted)
    );
    assert_eq!(
        scalar(&server, &format!("SELECT COUNT(DISTINCT serial) {where_collection}")).await,
        i64::from(minted)
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(DISTINCT holder_index) {where_collection}")
        )
        .await,
        i64::from(minted),
        "nobody holds two"
    );
    let answered: HashSet<i64> = outcome.minted.iter().copied().collect();
    assert_eq!(answered.len(), outcome.minted.len(), "every answer names its own token");
    let verifying = Instant::now();
    let mut serials = verify_ledger(&server, collection).await;
    serials.sort_unstable();
    assert_eq!(
        serials,
        (1..=minted).collect::<Vec<_>>(),
        "one verified entry per serial"
    );
    let checkpoints = scalar(&server, "SELECT COUNT(*) FROM ledger_checkpoints").await - checkpoints_before;
    eprintln!(
        "flash_drop/{name}: {} token entries, signed in {checkpoints} checkpoints, verified against the latest \
         checkpoint in {:.1} s",
        serials.len(),
        verifying.elapsed().as_secs_f64()
    );

    // The take-down: a reviewer revokes the whole edition in one decision.
    let case = format!("/review/collections/{collection}");
    let taking_down = Instant::now();
    let response = reviewer
        .post_form(
            &case,
            &format!("{case}/tokens"),
            &[("action", "revoke"), ("reason", "活动下架"), ("confirm", "yes")],
        )
        .await;
    let took = taking_down.elapsed();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) {where_collection} AND status = 'revoked'")
        )
        .await,
        i64::from(minted)
    );
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM outbox WHERE recipient LIKE 'flash%@example.com'"
        )
        .await,
        i64::from(minted),
        "every holder is told"
    );
    println!(
        "flash_drop/{name}: a reviewer revoked all {minted} tokens (a ledger entry, an audit row and a mail each) in {:.2} s",
        took.as_secs_f64()
    );
    server.terminate().await;
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke test.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (people, edition) = if quick {
        (200, 100)
    } else {
        (
            env_number("KEEPSAKE_BENCH_PEOPLE", 20_000),
            env_number("KEEPSAKE_BENCH_EDITION", 10_000),
        )
    };
    let connections = env_number("KEEPSAKE_BENCH_CONNECTIONS", 512).max(1) as usize;
    let edition = u32::try_from(edition).expect("an edition fits in u32");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        run("sqlite", Db::Sqlite, people, edition, connections).await;
        if !quick && let Some(db) = Db::postgres().await {
            run("postgres", db, people, edition, connections).await;
        }
    });
}
