//! Publishes the ledger's tiles: at start-up (repairing what a crash left unwritten), after
//! the batches this server sequences, and every `ledger.interval_ms` for batches of other
//! servers. Under load a batch is signed every few milliseconds, so runs are at least
//! `ledger.interval_ms` apart, each publishing the latest checkpoint: the cores go to
//! sequencing, not to rewriting the same partial tiles. Runs supervised like the sequencer: a
//! failure is logged, shown by `/readyz` and retried after a growing wait.

use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::supervised;
use crate::services::ledger::tile_publisher;
use crate::state::AppState;

/// The longest wait between two attempts while publishing fails.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut sequenced = state.services.ledger_sequenced.subscribe();
    let mut published: Option<u64> = None;
    loop {
        let started = Instant::now();
        let run = {
            let state = state.clone();
            supervised::step(async move {
                let from = match published {
                    Some(size) => size,
                    None => tile_publisher::published_size(&state.services.blobs).await?,
                };
                let witnessed_only = state.services.witnesses.required();
                tile_publisher::publish(&state.services.db, &state.services.blobs, from, witnessed_only).await
            })
        };
        let failures = match run.await {
            Ok((size, more)) => {
                if state.tile_health.failing().is_some() {
                    tracing::info!("ledger tiles are published again");
                }
                state.tile_health.succeeded();
                published = Some(size);
                if more && !shutdown.is_cancelled() {
                    continue;
                }
                0
            }
            Err(reason) => {
                // The store may have been emptied or restored meanwhile: read it afresh.
                published = None;
                let failures = state.tile_health.failed(reason.clone(), Utc::now());
                tracing::error!(error = %reason, failures, "publishing the ledger's tiles failed; retrying");
                failures
            }
        };
        let interval = state.config.ledger.interval;
        if !supervised::until_next_batch(&mut sequenced, &shutdown, started, interval, failures, MAX_WAIT).await {
            break;
        }
    }
}
