//! The platform at the market's volume: every page and API call a brand, a collector, a
//! reviewer and an administrator makes, and every export, timed and weighed at a small and at
//! a large volume, to show that they stay flat.
//!
//! For each volume, starts the real server (the release build under `cargo bench`) on a fresh
//! SQLite database, and again on PostgreSQL when `TEST_DATABASE_URL` is set; sets up an
//! approved issuer and a published open collection over HTTP, then seeds rows in the shape the
//! application writes straight into the database, a multi-row insert at a time: `tokens`
//! tokens of that one collection held by `tokens / 5` verified people, one of whom holds
//! `min(5 000, tokens / 10)`; claims counted per minute as the minter counts them; `tokens`
//! audit rows over thirty days; `tokens / 20` identity checks waiting for a reviewer. Seeded
//! tokens have no ledger entries (sequencing a million takes its own bench, `flash_drop`), so
//! their ledger index lookups find nothing, at the same cost.
//!
//! Then each page or call is requested `KEEPSAKE_SCALE_SAMPLES` times (default 100) one after
//! another, and the bench prints its median and 99th percentile latency and the server's peak
//! resident memory above its idle level while it ran (the peak is reset before each); each
//! export is downloaded once, with its time, size and peak memory.
//!
//! Run: `cargo bench -p keepsake --bench scale`. `KEEPSAKE_SCALE_TOKENS` (default 1 000 000)
//! sets the large volume; the small one is 10 000. Without `--bench` (`cargo test --benches`)
//! it runs 2 000 tokens on SQLite, a few samples each.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use keepsake::crypto;
use keepsake::domain::claim::holder_commitment;
use keepsake::domain::claim_stats::claim_minute;
use keepsake::kyc::PiiVault;
use keepsake::store::entities::{audit_log, claim_minutes, tokens};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::Value;
use support::collections::{Terms, published_collection};
use support::kyb::approved_issuer_with_key;
use support::seed::{self, env_number, insert_all, percentile};
use support::{Db, Options, Server};

/// What was seeded: the big holder's session and a token, for the collector's pages.
struct Seeded {
    collector_session: String,
    a_token: i64,
}

async fn seed(vault: &PiiVault, db: &DatabaseConnection, collection: i64, volume: u64) -> Seeded {
    let now = Utc::now();
    let people = seed::people(db, vault, "holder", (volume / 5).max(2), true, now).await;
    seed::people(db, vault, "waiting", (volume / 20).max(1), false, now).await;
    let big_holder = people[0];
    let big_holding = (volume / 10).clamp(1, 5_000);
    // Claims spread over the last three days, serial order being claim order.
    let span = TimeDelta::days(3).num_milliseconds();
    let claimed_at = |serial: u64| now - TimeDelta::milliseconds(span - span * serial as i64 / volume as i64);
    let holder_of = |serial: u64| {
        if serial <= big_holding {
            big_holder
        } else {
            people[1 + (serial as usize % (people.len() - 1))]
        }
    };
    insert_all(
        db,
        (1..=volume).map(|serial| {
            let salt = crypto::random_bytes();
            let holder = holder_of(serial);
            tokens::ActiveModel {
                collection_id: Set(collection),
                serial: Set(serial as i32),
                holder_user_id: Set(holder),
                holder_index: Set(format!("holder-person-{holder}")),
                salt: Set(salt.to_vec()),
                commitment: Set(holder_commitment(&salt).to_vec()),
                status: Set("active".to_owned()),
                status_reason: Set(None),
                claim_key: Set(format!("scale-claim-{serial:08}")),
                ledger_queue_id: Set(-(serial as i64)),
                claimed_at: Set(claimed_at(serial)),
                ..Default::default()
            }
        }),
    )
    .await;
    let mut minutes = std::collections::BTreeMap::<i64, i64>::new();
    for serial in 1..=volume {
        *minutes.entry(claim_minute(claimed_at(serial))).or_default() += 1;
    }
    insert_all(
        db,
        minutes.into_iter().map(|(minute, claims)| claim_minutes::ActiveModel {
            collection_id: Set(collection),
            minute: Set(minute),
            claims: Set(claims),
        }),
    )
    .await;
    keepsake::store::entities::collections::Entity::update_many()
        .col_expr(
            keepsake::store::entities::collections::Column::ClaimedCount,
            Expr::value(volume as i64),
        )
        .filter(keepsake::store::entities::collections::Column::Id.eq(collection))
        .exec(db)
        .await
        .unwrap();
    let month = TimeDelta::days(30).num_milliseconds();
    let actions = [
        "token_frozen",
        "token_unfrozen",
        "identity_verified",
        "collection_claimed",
    ];
    insert_all(
        db,
        (0..volume).map(|n| audit_log::ActiveModel {
            at: Set(now - TimeDelta::milliseconds(month - month * n as i64 / volume as i64)),
            actor_user_id: Set(Some(big_holder)),
            action: Set(actions[n as usize % actions.len()].to_owned()),
            subject_type: Set("token".to_owned()),
            subject_id: Set((n % volume + 1).to_string()),
            reason: Set(Some("规模测试".to_owned())),
            ..Default::default()
        }),
    )
    .await;
    let a_token = tokens::Entity::find()
        .select_only()
        .column(tokens::Column::Id)
        .filter(tokens::Column::CollectionId.eq(collection))
        .order_by_asc(tokens::Column::Id)
        .into_tuple()
        .one(db)
        .await
        .unwrap()
        .expect("a seeded token");
    Seeded {
        collector_session: seed::sessions(db, &[big_holder], now).await.remove(0),
        a_token,
    }
}

/// One measured page or call: its latencies, sorted, and the peak memory above idle.
struct Measured {
    latencies: Vec<Duration>,
    peak_above_idle_kib: u64,
    bytes: usize,
}

/// An HTTP client that sends `header` with every request.
fn caller(name: reqwest::header::HeaderName, value: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(name, value.parse().expect("a header value"));
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn measure(server: &Server, client: &reqwest::Client, path: &str, samples: u64) -> Measured {
    let idle = server.memory().resident_kib;
    server.reset_peak_memory();
    let mut latencies = Vec::new();
    let mut bytes = 0;
    for _ in 0..samples {
        let start = Instant::now();
        let response = client.get(server.url(path)).send().await.expect("an answer");
        let status = response.status();
        let body = response.bytes().await.expect("the whole answer");
        latencies.push(start.elapsed());
        assert_eq!(
            status,
            StatusCode::OK,
            "{path}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        bytes = body.len();
    }
    latencies.sort();
    Measured {
        latencies,
        peak_above_idle_kib: server.memory().peak_kib.saturating_sub(idle),
        bytes,
    }
}

fn report(name: &str, volume: u64, what: &str, m: &Measured) {
    println!(
        "scale/{name}/{volume}: {what:<44} p50 {:>7.1} ms  p99 {:>7.1} ms  peak +{:>6.1} MB  {:>9} bytes",
        percentile(&m.latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&m.latencies, 0.99).as_secs_f64() * 1e3,
        m.peak_above_idle_kib as f64 / 1024.0,
        m.bytes,
    );
}

async fn run(name: &str, db: Db, volume: u64, samples: u64) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (issuer, key, founder, reviewer) = approved_issuer_with_key(&server).await;
    let admin = server.admin("scale-admin@example.com", "scale admin password").await;
    let terms = Terms {
        edition_size: 1_000_000,
        per_person_limit: 5_000,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "规模测试", terms).await;
    let seeding = Instant::now();
    let seeded = seed(&server.vault(), &server.db().await, collection, volume).await;
    eprintln!(
        "scale/{name}/{volume}: seeded in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let collector = caller(
        reqwest::header::COOKIE,
        &format!("ks_session={}", seeded.collector_session),
    );
    let api = caller(reqwest::header::AUTHORIZATION, &format!("Bearer {key}"));
    let (founder, reviewer, admin) = (founder.http, reviewer.http, admin.http);
    let last_page: Value = api
        .get(server.url(&format!(
            "/api/v1/collections/{collection}/claims?limit=1000&after={}",
            volume.saturating_sub(1_000)
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(last_page["next"].is_null(), "the page before the end is the last");
    let deep_token = seeded.a_token + (volume as i64 / 20).min(4_000);

    let pages: Vec<(&str, &reqwest::Client, String)> = vec![
        ("brand: console home", &founder, format!("/console/{issuer}")),
        (
            "brand: collection dashboard",
            &founder,
            format!("/console/{issuer}/collections/{collection}"),
        ),
        (
            "brand: API stats",
            &api,
            format!("/api/v1/collections/{collection}/stats"),
        ),
        (
            "brand: API claims, first page",
            &api,
            format!("/api/v1/collections/{collection}/claims"),
        ),
        (
            "brand: API claims, last page",
            &api,
            format!(
                "/api/v1/collections/{collection}/claims?after={}",
                volume.saturating_sub(100)
            ),
        ),
        (
            "collector: my collection (5 000 held)",
            &collector,
            "/me/collection".to_owned(),
        ),
        (
            "collector: my collection, deep page",
            &collector,
            format!("/me/collection?before={deep_token}"),
        ),
        (
            "collector: token page",
            &collector,
            format!("/tokens/{}", seeded.a_token),
        ),
        (
            "collector: collection page",
            &collector,
            format!("/collections/{collection}"),
        ),
        ("collector: explore", &collector, "/explore".to_owned()),
        ("reviewer: queue", &reviewer, "/review".to_owned()),
        ("reviewer: audit log", &reviewer, "/review/audit".to_owned()),
        (
            "reviewer: audit log by action",
            &reviewer,
            "/review/audit?action=token_frozen".to_owned(),
        ),
        ("admin: accounts", &admin, "/admin/users".to_owned()),
    ];
    for (what, client, path) in &pages {
        let measured = measure(&server, client, path, samples).await;
        report(name, volume, what, &measured);
    }
    let day = |at: DateTime<Utc>| at.format("%Y-%m-%d").to_string();
    let now = Utc::now();
    let exports = [
        (
            "export: claims CSV",
            &founder,
            format!("/console/{issuer}/collections/{collection}/claims.csv"),
        ),
        (
            "export: audit CSV, 30 days",
            &admin,
            format!(
                "/admin/audit.csv?from={}&to={}",
                day(now - TimeDelta::days(30)),
                day(now)
            ),
        ),
    ];
    for (what, client, path) in &exports {
        let measured = measure(&server, client, path, 1).await;
        report(name, volume, what, &measured);
    }
    let idle = server.memory();
    println!(
        "scale/{name}/{volume}: server resident memory after the run {:.1} MB (peak {:.1} MB)",
        idle.resident_kib as f64 / 1024.0,
        idle.peak_kib as f64 / 1024.0
    );
    server.terminate().await;
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke test.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (volumes, samples) = if quick {
        (vec![2_000], 3)
    } else {
        (
            vec![10_000, env_number("KEEPSAKE_SCALE_TOKENS", 1_000_000)],
            env_number("KEEPSAKE_SCALE_SAMPLES", 100),
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for volume in &volumes {
            run("sqlite", Db::Sqlite, *volume, samples).await;
        }
        for volume in volumes.iter().filter(|_| !quick) {
            if let Some(db) = Db::postgres().await {
                run("postgres", db, *volume, samples).await;
            }
        }
    });
}
