//! Runs the ledger sequencer: immediately when a request in this process queued an entry,
//! otherwise every `ledger.interval_ms` (entries queued by other servers, and take-over when
//! another sequencing server died).
//!
//! Each batch runs supervised: a failure or a panic is logged, shown by `/readyz` (503 with
//! the reason) and retried after a wait that doubles with each failure in a row (up to
//! [`MAX_WAIT`]); requests do not cut the wait short while it fails.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::supervised;
use crate::services::ledger::sequencer::{self, Sequenced};
use crate::state::AppState;

/// The longest wait between two attempts while sequencing fails.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let config = &state.config.ledger;
    loop {
        let batch = {
            let state = state.clone();
            supervised::step(async move {
                let signer = &state.services.checkpoint_signer;
                sequencer::sequence_once(&state.services.db, signer, state.config.ledger.batch_size, Utc::now()).await
            })
        };
        let failures = match batch.await {
            Ok(batch) => {
                if state.sequencer_health.failing().is_some() {
                    tracing::info!("ledger sequencing works again");
                }
                state.sequencer_health.succeeded();
                let appended = batch.as_ref().map_or(0, Sequenced::len);
                if let Some(batch) = batch {
                    state.services.ledger_sequenced.send_replace(Some(Arc::new(batch)));
                }
                // A full batch means more is queued; a stop leaves it queued for the next start.
                if appended as u64 == config.batch_size && !shutdown.is_cancelled() {
                    continue;
                }
                0
            }
            Err(reason) => {
                let failures = state.sequencer_health.failed(reason.clone(), Utc::now());
                tracing::error!(error = %reason, failures, "ledger sequencing failed; retrying");
                failures
            }
        };
        let wait = supervised::back_off(config.interval, failures, MAX_WAIT);
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.services.ledger_wakeup.notified(), if failures == 0 => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}
