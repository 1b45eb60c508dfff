//! Has the ledger's checkpoints cosigned by its witnesses (`ledger.witnesses`): after the
//! batches this server sequences and every `ledger.interval_ms` (batches of other servers), the
//! latest checkpoint goes to every witness that has not cosigned it. A witness that cannot be
//! reached is asked again after a growing wait; one that refuses this log's history is logged
//! as an error each time, naming what it saw. Only servers with witnesses configured run it.

use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::supervised;
use crate::services::ledger::witnessing::{self, WitnessSizes};
use crate::state::AppState;

/// The longest wait between two rounds while a witness does not answer.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut sequenced = state.services.ledger_sequenced.subscribe();
    let http = reqwest::Client::new();
    let mut sizes = WitnessSizes::new();
    let mut failures = 0u32;
    loop {
        let started = Instant::now();
        match witnessing::round(&state.services, &http, &mut sizes).await {
            Ok(Some(round)) => {
                for (witness, trouble) in &round.troubles {
                    if trouble.is_refusal() {
                        tracing::error!(witness = %witness, size = round.size, reason = %trouble, "a witness refused the ledger's checkpoint");
                    } else {
                        tracing::warn!(witness = %witness, size = round.size, reason = %trouble, "a witness did not cosign the ledger's checkpoint; asking again later");
                    }
                }
                failures = if round.troubles.is_empty() { 0 } else { failures + 1 };
            }
            Ok(None) => failures = 0,
            Err(err) => {
                failures += 1;
                tracing::error!(error = %err, "witnessing the ledger's checkpoint failed; retrying");
            }
        }
        let interval = state.config.ledger.interval;
        if !supervised::until_next_batch(&mut sequenced, &shutdown, started, interval, failures, MAX_WAIT).await {
            break;
        }
    }
}
