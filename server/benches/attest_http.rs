//! HTTP attestation throughput: a load generator against the real `keepsake` server.
//!
//! Starts the server binary with a fresh data directory (the end-to-end test harness in
//! `tests/support`), on SQLite and, when `TEST_DATABASE_URL` names a PostgreSQL server, again
//! on a fresh PostgreSQL database created there. It sets up an approved issuer with an API key,
//! then keeps a fixed number of `POST /api/v1/attestations` requests in flight until all are
//! answered, and prints attestations per second and latency percentiles. Each `201` is a
//! receipt, so it counts only once its entry is sequenced; one receipt is verified offline.
//!
//! Run: `cargo bench -p keepsake --bench attest_http` (SQLite only), or with
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres` for both databases.
//! `KEEPSAKE_BENCH_ATTESTATIONS` (default 20 000) and `KEEPSAKE_BENCH_CONCURRENCY` (default 512)
//! size the run; `KEEPSAKE_BENCH_SERVER_<SETTING>=v` starts the server with `KEEPSAKE_<SETTING>=v`
//! (e.g. `KEEPSAKE_BENCH_SERVER_LEDGER_BATCH_SIZE=1024`). The server and the load generator
//! share the machine. Without `--bench` (`cargo test --benches`) it sends 50 requests on SQLite.

// The end-to-end harness: starting the binary, the approved issuer with a key. It holds helpers
// this load generator does not use (and declares `#![allow(dead_code)]` itself for that reason).
#[path = "../../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keepsake::ledger::checkpoint;
use keepsake::ledger::merkle::{Hash, LOG_HASH, verify_inclusion};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::kyb::approved_issuer_with_key;
use support::{Db, Options, Server};

/// What one load run saw.
#[derive(Default)]
struct Outcome {
    created: u64,
    queued: u64,
    failed: u64,
    latencies: Vec<Duration>,
    sample_receipt: Option<Value>,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} must be a number")))
        .unwrap_or(default)
}

/// Server settings passed through as `KEEPSAKE_BENCH_SERVER_<SETTING>`.
fn server_options(db: Db) -> Options {
    let mut options = Options::new(db);
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
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

async fn run(name: &str, db: Db, total: u64, concurrency: u64) {
    let server = Server::start_with(server_options(db)).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;

    // Warm up connections, caches and the database, not counted.
    let warm_up = concurrency.min(total);
    let outcome = fire(&server, &key, 0, warm_up, concurrency).await;
    assert_eq!(outcome.failed, 0, "warm-up requests failed; log:\n{}", server.log());

    let start = Instant::now();
    let outcome = fire(&server, &key, warm_up, total, concurrency).await;
    let elapsed = start.elapsed();
    let l = &outcome.latencies;
    println!(
        "attest_http/{name}: {total} attestations, {concurrency} in flight: {:.2} s, {:.0} attestations/s \
         (201: {}, 202: {}, failed: {}); latency p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        elapsed.as_secs_f64(),
        outcome.created as f64 / elapsed.as_secs_f64(),
        outcome.created,
        outcome.queued,
        outcome.failed,
        percentile(l, 0.50).as_secs_f64() * 1e3,
        percentile(l, 0.90).as_secs_f64() * 1e3,
        percentile(l, 0.99).as_secs_f64() * 1e3,
        percentile(l, 1.0).as_secs_f64() * 1e3,
    );
    if let Some(receipt) = &outcome.sample_receipt {
        verify_receipt(receipt);
    }
    assert_eq!(outcome.failed, 0, "requests failed; log:\n{}", server.log());
    server.terminate().await;
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke test.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (total, concurrency) = if quick {
        (50, 8)
    } else {
        (
            env_number("KEEPSAKE_BENCH_ATTESTATIONS", 20_000),
            env_number("KEEPSAKE_BENCH_CONCURRENCY", 512).max(1),
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        run("sqlite", Db::Sqlite, total, concurrency).await;
        if !quick && let Some(db) = Db::postgres().await {
            run("postgres", db, total, concurrency).await;
        }
    });
}
