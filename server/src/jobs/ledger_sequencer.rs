//! Runs the ledger sequencer: immediately when a request in this process queued an entry,
//! otherwise every `ledger.interval_ms` (entries queued by other servers, and take-over when
//! another sequencing server died).

use tokio_util::sync::CancellationToken;

use crate::app::AppState;
use crate::ledger::sequencer;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    let config = &state.config.ledger;
    loop {
        match sequencer::sequence_once(&state.db, &state.checkpoint_signer, config.batch_size).await {
            Ok(0) => {}
            Ok(appended) => {
                state.ledger_sequenced.notify_waiters();
                if appended == config.batch_size {
                    continue;
                }
            }
            Err(err) => tracing::error!(error = %err, "ledger sequencing failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.ledger_wakeup.notified() => {}
            () = tokio::time::sleep(config.interval) => {}
        }
    }
}
