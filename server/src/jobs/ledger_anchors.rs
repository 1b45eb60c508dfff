//! Anchors the ledger's checkpoints on the configured EVM chain (`ledger.anchor_*`), looking
//! every second whether an anchor is due or one sent is included. A chain that cannot be
//! reached is tried again after a growing wait; sequencing and publishing never wait for it.
//! Only servers with anchoring configured run it.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::supervised;
use crate::chain::Anchorer;
use crate::services::ledger::anchoring;
use crate::state::AppState;

/// How often it looks.
const TICK: Duration = Duration::from_secs(1);

/// The longest wait between two attempts while the chain fails.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

pub async fn run(state: AppState, anchorer: Anchorer, shutdown: CancellationToken) {
    let Some(settings) = state.config.ledger.anchoring.clone() else {
        return;
    };
    let mut failures = 0u32;
    loop {
        match anchoring::step(&state.services, &anchorer, &settings, Utc::now()).await {
            Ok(anchored) => {
                if failures > 0 {
                    tracing::info!("ledger anchoring works again");
                }
                failures = 0;
                if let anchoring::Anchored::Included { size, block } = anchored {
                    tracing::info!(size, block, "ledger checkpoint anchor included");
                }
            }
            Err(err) => {
                failures += 1;
                tracing::warn!(error = %err, failures, "ledger anchoring failed; retrying");
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(supervised::back_off(TICK, failures, MAX_WAIT)) => {}
        }
    }
}
