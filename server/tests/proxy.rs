//! Two servers behind Debian's nginx, on one PostgreSQL database and one S3 store, as an
//! operator runs Keepsake at volume. A flash drop goes through the proxy; one server is killed
//! with SIGKILL in the middle of it. Clients retry what went unanswered with the same
//! `Idempotency-Key`, as the API asks, and nginx sends them to the survivor: every person ends
//! with one answer, every answered token exists once, the supply is exact and nobody holds two.
//!
//! Needs `TEST_DATABASE_URL`, the S3 variables and `TEST_NGINX` (the nginx binary; `.ci/run`
//! installs Debian's); skipped without them unless `KEEPSAKE_REQUIRE_SERVICES=1`.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::claims::assert_claims_consistent;
use crate::support::collections::{Terms, published_collection};
use crate::support::kyb::{approved_issuer_with_key, scalar};
use crate::support::{Client, Db, Options, Server, seed, service_var};

/// People in the drop, and the edition they compete for.
const PEOPLE: usize = 240;
const EDITION: u32 = 160;
/// Answers before one server is killed.
const KILL_AFTER: usize = 60;

/// nginx in the foreground with its files under `dir`, balancing `upstreams` on `port`; the
/// access log records which upstream answered each request. One process without a master, so
/// that dropping the handle (which kills it) leaves no worker behind.
async fn start_nginx(binary: &str, dir: &Path, port: u16, upstreams: &[&str]) -> Child {
    let servers: String = upstreams
        .iter()
        .map(|base| {
            let host = base.trim_start_matches("http://");
            format!("    server {host} max_fails=1 fail_timeout=60s;\n")
        })
        .collect();
    let d = dir.display();
    let config = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           log_format upstream '$upstream_addr $status $request_method $uri';\n  access_log {d}/access.log upstream;\n\
           upstream keepsake {{\n{servers}    keepalive 32;\n  }}\n\
           server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
               proxy_pass http://keepsake;\n      proxy_http_version 1.1;\n\
               proxy_set_header Connection \"\";\n      proxy_set_header Host $http_host;\n\
               proxy_set_header X-Forwarded-For $remote_addr;\n\
               proxy_next_upstream error timeout;\n    }}\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config).expect("nginx.conf");
    let child = Command::new(binary)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .kill_on_drop(true)
        .spawn()
        .expect("nginx starts");
    let base = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..200 {
        if reqwest::get(&base).await.is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "nginx did not come up: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
}

/// Claims with `session` and `key` through `base` until the platform answers: a connection cut
/// or a proxy error means nothing was promised, so the same key goes again.
async fn claim_until_answered(
    http: reqwest::Client,
    base: String,
    collection: i64,
    session: String,
    key: String,
) -> Value {
    for _ in 0..50 {
        let sent = http
            .post(format!("{base}/api/v1/collections/{collection}/claims"))
            .header("cookie", format!("ks_session={session}"))
            .header("idempotency-key", &key)
            .send()
            .await;
        match sent {
            Ok(response) if response.status() == StatusCode::CREATED => {
                return response.json().await.expect("a claim's answer");
            }
            Ok(response) if response.status() == StatusCode::CONFLICT => {
                let body: Value = response.json().await.expect("a refusal");
                assert_eq!(body["error"]["code"], "sold_out", "{body}");
                return body;
            }
            Ok(response) if response.status().is_server_error() => continue,
            Ok(response) => panic!(
                "claim refused: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            ),
            Err(_) => continue,
        }
    }
    panic!("claim {key} never answered");
}

async fn a_flash_drop_through_nginx_survives_a_killed_server() {
    let (Some(Db::Postgres(url)), Some(nginx), Some(endpoint), Some(access), Some(secret)) = (
        Db::postgres().await,
        service_var("TEST_NGINX"),
        service_var("TEST_S3_ENDPOINT"),
        service_var("TEST_S3_ACCESS_KEY_ID"),
        service_var("TEST_S3_SECRET_ACCESS_KEY"),
    ) else {
        return;
    };
    let bucket = format!("proxy-{}", uuid::Uuid::new_v4().simple());
    let options = Options::new(Db::Postgres(url))
        .subprocess()
        .env("KEEPSAKE_S3_ENDPOINT", &endpoint)
        .env("KEEPSAKE_S3_BUCKET", &bucket)
        .env("KEEPSAKE_S3_ACCESS_KEY_ID", &access)
        .env("KEEPSAKE_S3_SECRET_ACCESS_KEY", &secret);
    let first = Server::start_with(options).await;
    let second = first.start_sibling().await;
    let dir = tempfile::tempdir().expect("nginx directory");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let upstreams = [first.url(""), second.url("")];
    let _nginx = start_nginx(&nginx, dir.path(), port, &[&upstreams[0], &upstreams[1]]).await;
    let proxy = format!("http://127.0.0.1:{port}");

    // The issuer, the review and the collection go through the proxy too: the artwork uploaded
    // through one server is served by either, from the shared store.
    let through = Client::new(&proxy);
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&first).await;
    let (founder, reviewer) = (founder.at_url(&proxy), reviewer.at_url(&proxy));
    let terms = Terms {
        edition_size: EDITION,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "双机限时抢领", terms).await;
    for _ in 0..4 {
        let artwork = through.get(&format!("/collections/{collection}/artwork/256")).await;
        assert_eq!(
            artwork.status(),
            StatusCode::OK,
            "the artwork is served by both servers"
        );
    }

    let db = first.db().await;
    let now = Utc::now();
    let people = seed::people(&db, &first.vault(), "proxy", PEOPLE as u64, true, now).await;
    let sessions = seed::sessions(&db, &people, now).await;
    let answered = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let http = reqwest::Client::new();
    let mut drop = tokio::task::JoinSet::new();
    for (n, session) in sessions.into_iter().enumerate() {
        let (http, proxy, answered, enough) = (http.clone(), proxy.clone(), answered.clone(), enough.clone());
        drop.spawn(async move {
            let answer = claim_until_answered(http, proxy, collection, session, format!("proxy-claim-{n:06}")).await;
            if answered.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                enough.notify_one();
            }
            answer
        });
    }
    enough.notified().await;
    second.kill().await;
    let answers = drop.join_all().await;

    let tokens: Vec<i64> = answers.iter().filter_map(|a| a["token"].as_i64()).collect();
    let sold_out = answers.iter().filter(|a| a["error"]["code"] == "sold_out").count();
    assert_eq!(tokens.len() + sold_out, PEOPLE, "every person has one answer");
    assert_eq!(tokens.len(), EDITION as usize, "exactly the edition is minted");
    let mut distinct = tokens.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), tokens.len(), "no token answered twice");
    let minted = assert_claims_consistent(&first, collection, &tokens).await;
    assert_eq!(minted, i64::from(EDITION), "nothing minted beyond what was answered");
    assert_eq!(
        scalar(
            &first,
            &format!("SELECT COUNT(DISTINCT holder_index) FROM tokens WHERE collection_id = {collection}")
        )
        .await,
        minted,
        "nobody holds two"
    );
    // Both servers took claims through the proxy. Which of them minted before the kill is up
    // to their batches' race for the sequencer, so only the survivor is sure to have minted.
    let log = std::fs::read_to_string(dir.path().join("access.log")).expect("nginx access log");
    let claims_path = format!("/api/v1/collections/{collection}/claims");
    let claims_to = |upstream: &str, status: Option<&str>| {
        log.lines()
            .filter_map(|line| line.strip_prefix(&format!("{upstream} ")))
            .filter(|rest| rest.ends_with(&format!(" POST {claims_path}")))
            .filter(|rest| status.is_none_or(|status| rest.starts_with(status)))
            .count()
    };
    let [survivor, killed] = upstreams.map(|base| base.trim_start_matches("http://").to_owned());
    assert!(claims_to(&survivor, Some("201")) > 0, "the survivor minted:\n{log}");
    assert!(claims_to(&killed, None) > 0, "the killed server took claims:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flash_drop_through_nginx_with_a_server_killed() {
    a_flash_drop_through_nginx_survives_a_killed_server().await;
}
