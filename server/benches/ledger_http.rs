//! HTTP attestation and tile-read throughput: a load generator against the real `keepsake`
//! server.
//!
//! Starts the server binary with a fresh data directory (the end-to-end test harness in
//! `tests/support`), on SQLite and, when `TEST_DATABASE_URL` names a PostgreSQL server, again
//! on a fresh PostgreSQL database created there. It sets up an approved issuer with an API key,
//! then keeps a fixed number of `POST /api/v1/attestations` requests in flight until all are
//! answered, and prints attestations per second and latency percentiles. Each `201` is a
//! receipt, so it counts only once its entry is sequenced; one receipt is verified offline.
//! Then, once the tile publisher has caught up with the log those attestations made, it keeps
//! `KEEPSAKE_BENCH_TILE_CONCURRENCY` (default 64) `GET /ledger/tile/...` requests in flight,
//! cycling through every tile and entry bundle of the tree (full and partial, all levels), until
//! `KEEPSAKE_BENCH_TILE_READS` (default 200 000) are answered, each checked for its status and
//! length; tiles are served from the blob store (the filesystem by default), never the database.
//! Each run also prints the CPU time the server process spent per request (from `/proc`; on
//! PostgreSQL the database's own CPU is not counted), which the shared cores do not distort.
//!
//! Run: `cargo bench -p keepsake --bench ledger_http` (SQLite only), or with
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres` for both databases.
//! `KEEPSAKE_BENCH_ATTESTATIONS` (default 20 000) and `KEEPSAKE_BENCH_CONCURRENCY` (default 512)
//! size the run; `KEEPSAKE_BENCH_SERVER_<SETTING>=v` starts the server with `KEEPSAKE_<SETTING>=v`
//! (e.g. `KEEPSAKE_BENCH_SERVER_LEDGER_BATCH_SIZE=1024`). The server and the load generator
//! share the machine. Without `--bench` (`cargo test --benches`) it sends 50 attestations and
//! 500 tile reads on SQLite.

// The end-to-end harness: starting the binary, the approved issuer with a key. It holds helpers
// this load generator does not use (and declares `#![allow(dead_code)]` itself for that reason).
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keepsake::ledger::checkpoint;
use keepsake::ledger::merkle::{Hash, LOG_HASH, verify_inclusion};
use keepsake::ledger::tiles::{Tile, TileKind};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::kyb::approved_issuer_with_key;
use support::seed::{env_number, percentile};
use support::{Db, Options, Server};

/// What one load run saw.
#[derive(Default)]
struct Outcome {
    /// Answered in full: a `201` with a receipt, or a tile of the right length.
    created: u64,
    queued: u64,
    failed: u64,
    latencies: Vec<Duration>,
    sample_receipt: Option<Value>,
}

/// Server settings passed through as `KEEPSAKE_BENCH_SERVER_<SETTING>`.
fn server_options(db: Db) -> Options {
    let mut options = Options::new(db).subprocess();
    for (key, value) in std::env::vars() {
        if let Some(setting) = key.strip_prefix("KEEPSAKE_BENCH_SERVER_") {
            options = options.env(&format!("KEEPSAKE_{setting}"), &value);
        }
    }
    options
}

/// Sends `total` attestations, `concurrency` at a time, numbering documents from `first`.
async fn fire(server: &Server, key: &str, first: u64, total: u64, concurrency: u64) -> Outcome {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let url = server.url("/api/v1/attestations");
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(total) {
        let (http, url, key, next) = (http.clone(), url.clone(), key.to_owned(), next.clone());
        workers.spawn(async move {
            let mut outcome = Outcome::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return outcome;
                }
                let document = first + n;
                let body = json!({
                    "sha3_256": keepsake::crypto::sha3_hex(&document.to_be_bytes()),
                    "label": format!("benchmark document {document}"),
                });
                let start = Instant::now();
                let response = http.post(&url).bearer_auth(&key).json(&body).send().await;
                let (status, bytes) = match response {
                    Ok(response) => {
                        let status = response.status();
                        (Some(status), response.bytes().await.ok())
                    }
                    Err(_) => (None, None),
                };
                outcome.latencies.push(start.elapsed());
                match (status, bytes) {
                    (Some(StatusCode::CREATED), Some(bytes)) => {
                        outcome.created += 1;
                        if outcome.sample_receipt.is_none() {
                            outcome.sample_receipt = serde_json::from_slice(&bytes).ok();
                        }
                    }
                    (Some(StatusCode::ACCEPTED), Some(_)) => outcome.queued += 1,
                    _ => outcome.failed += 1,
                }
            }
        });
    }
    let mut all = Outcome::default();
    while let Some(done) = workers.join_next().await {
        let done = done.expect("a load worker panicked");
        all.created += done.created;
        all.queued += done.queued;
        all.failed += done.failed;
        all.latencies.extend(done.latencies);
        all.sample_receipt = all.sample_receipt.or(done.sample_receipt);
    }
    all.latencies.sort_unstable();
    all
}

fn hash_of(b64: &str) -> Hash {
    STANDARD.decode(b64).unwrap().try_into().unwrap()
}

/// Checks a receipt as a stranger would: leaf, inclusion proof, signed checkpoint.
fn verify_receipt(receipt: &Value) {
    let verifier_key = receipt["verifier_key"].as_str().unwrap();
    let signed = checkpoint::verify(receipt["checkpoint"].as_str().unwrap(), verifier_key).unwrap();
    let entry = STANDARD.decode(receipt["entry"]["entry"].as_str().unwrap()).unwrap();
    let proof: Vec<Hash> = receipt["inclusion_proof"]["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_of(h.as_str().unwrap()))
        .collect();
    let index = receipt["entry"]["index"].as_u64().unwrap();
    assert_eq!(receipt["inclusion_proof"]["size"].as_u64(), Some(signed.size));
    assert!(
        verify_inclusion(
            LOG_HASH,
            index,
            signed.size,
            &LOG_HASH.leaf(&entry),
            &proof,
            &signed.root
        ),
        "a receipt does not verify"
    );
}

/// How many tile reads to send, and how many at a time.
#[derive(Clone, Copy)]
struct TileLoad {
    reads: u64,
    concurrency: u64,
}

/// Waits until `/ledger/checkpoint` covers at least `size` entries and returns its tree size.
async fn published_size(http: &reqwest::Client, server: &Server, size: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let response = http.get(server.url("/ledger/checkpoint")).send().await.unwrap();
        if response.status() == StatusCode::OK {
            let note = response.text().await.unwrap();
            let published = note.lines().nth(1).and_then(|s| s.parse::<u64>().ok());
            if let Some(published) = published.filter(|&p| p >= size) {
                return published;
            }
        }
        assert!(
            Instant::now() < deadline,
            "tiles for size {size} never published; log:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads every tile of a tree of `size`, round and round, `load.concurrency` at a time.
async fn read_tiles(server: &Server, http: &reqwest::Client, size: u64, load: TileLoad) -> Outcome {
    let tiles: Arc<Vec<(String, Tile)>> = Arc::new(
        Tile::added_between(0, size)
            .into_iter()
            .map(|tile| (server.url(&format!("/ledger/{}", tile.path())), tile))
            .collect(),
    );
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..load.concurrency.min(load.reads) {
        let (http, tiles, next) = (http.clone(), tiles.clone(), next.clone());
        workers.spawn(async move {
            let mut outcome = Outcome::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= load.reads {
                    return outcome;
                }
                let (url, tile) = &tiles[(n % tiles.len() as u64) as usize];
                let start = Instant::now();
                let body = match http.get(url).send().await {
                    Ok(response) if response.status() == StatusCode::OK => response.bytes().await.ok(),
                    _ => None,
                };
                outcome.latencies.push(start.elapsed());
                let whole = body.is_some_and(|body| match tile.kind() {
                    TileKind::Hashes { .. } => body.len() as u64 == 32 * tile.width(),
                    TileKind::Entries => !body.is_empty(),
                });
                if whole {
                    outcome.created += 1;
                } else {
                    outcome.failed += 1;
                }
            }
        });
    }
    let mut all = Outcome::default();
    while let Some(done) = workers.join_next().await {
        let done = done.expect("a tile reader panicked");
        all.created += done.created;
        all.failed += done.failed;
        all.latencies.extend(done.latencies);
    }
    all.latencies.sort_unstable();
    all
}

async fn measure_tile_reads(name: &str, server: &Server, size: u64, load: TileLoad) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let size = published_size(&http, server, size).await;
    let tile_count = Tile::added_between(0, size).len();
    // Warm up: every tile once, so the run reads what a steady CDN origin would.
    let warm_up = TileLoad {
        reads: tile_count as u64,
        concurrency: load.concurrency,
    };
    let outcome = read_tiles(server, &http, size, warm_up).await;
    assert_eq!(outcome.failed, 0, "warm-up tile reads failed; log:\n{}", server.log());

    let (start, cpu) = (Instant::now(), server.cpu_time());
    let outcome = read_tiles(server, &http, size, load).await;
    let (elapsed, cpu) = (start.elapsed(), server.cpu_time() - cpu);
    let l = &outcome.latencies;
    println!(
        "tiles_http/{name}: {} reads of the {tile_count} tiles of a tree of {size}, {} in flight: {:.2} s, \
         {:.0} reads/s (failed: {}); server CPU {:.1} µs per read; \
         latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
        load.reads,
        load.concurrency,
        elapsed.as_secs_f64(),
        outcome.created as f64 / elapsed.as_secs_f64(),
        outcome.failed,
        cpu.as_secs_f64() * 1e6 / load.reads as f64,
        percentile(l, 0.50).as_secs_f64() * 1e3,
        percentile(l, 0.90).as_secs_f64() * 1e3,
        percentile(l, 0.99).as_secs_f64() * 1e3,
        percentile(l, 1.0).as_secs_f64() * 1e3,
    );
    assert_eq!(outcome.failed, 0, "tile reads failed; log:\n{}", server.log());
}

async fn run(name: &str, db: Db, total: u64, concurrency: u64, tile_load: TileLoad) {
    let server = Server::start_with(server_options(db)).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;

    // Warm up connections, caches and the database, not counted.
    let warm_up = concurrency.min(total);
    let outcome = fire(&server, &key, 0, warm_up, concurrency).await;
    assert_eq!(outcome.failed, 0, "warm-up requests failed; log:\n{}", server.log());

    let (start, cpu) = (Instant::now(), server.cpu_time());
    let outcome = fire(&server, &key, warm_up, total, concurrency).await;
    let (elapsed, cpu) = (start.elapsed(), server.cpu_time() - cpu);
    let l = &outcome.latencies;
    println!(
        "attest_http/{name}: {total} attestations, {concurrency} in flight: {:.2} s, {:.0} attestations/s \
         (201: {}, 202: {}, failed: {}); server CPU {:.0} µs per attestation; \
         latency p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        elapsed.as_secs_f64(),
        outcome.created as f64 / elapsed.as_secs_f64(),
        outcome.created,
        outcome.queued,
        outcome.failed,
        cpu.as_secs_f64() * 1e6 / total as f64,
        percentile(l, 0.50).as_secs_f64() * 1e3,
        percentile(l, 0.90).as_secs_f64() * 1e3,
        percentile(l, 0.99).as_secs_f64() * 1e3,
        percentile(l, 1.0).as_secs_f64() * 1e3,
    );
    if let Some(receipt) = &outcome.sample_receipt {
        verify_receipt(receipt);
    }
    assert_eq!(outcome.failed, 0, "requests failed; log:\n{}", server.log());
    measure_tile_reads(name, &server, warm_up + total, tile_load).await;
    server.terminate().await;
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke test.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (total, concurrency, tile_load) = if quick {
        (
            50,
            8,
            TileLoad {
                reads: 500,
                concurrency: 8,
            },
        )
    } else {
        (
            env_number("KEEPSAKE_BENCH_ATTESTATIONS", 20_000),
            env_number("KEEPSAKE_BENCH_CONCURRENCY", 512).max(1),
            TileLoad {
                reads: env_number("KEEPSAKE_BENCH_TILE_READS", 200_000),
                concurrency: env_number("KEEPSAKE_BENCH_TILE_CONCURRENCY", 64).max(1),
            },
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        run("sqlite", Db::Sqlite, total, concurrency, tile_load).await;
        if !quick && let Some(db) = Db::postgres().await {
            run("postgres", db, total, concurrency, tile_load).await;
        }
    });
}
