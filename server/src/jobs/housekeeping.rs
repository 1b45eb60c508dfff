//! Periodic clean-up: expired sessions, old login failures, expired form results and the
//! transfer-attempt allowances that are full again.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::domain::login_throttle;
use crate::state::AppState;
use crate::store;

const EVERY: Duration = Duration::from_secs(600);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        let now = Utc::now();
        if let Err(err) = store::sessions::prune_expired(&state.services.db, now).await {
            tracing::warn!(error = %err, "pruning sessions failed");
        }
        if let Err(err) = store::login_failures::prune(&state.services.db, now - login_throttle::WINDOW).await {
            tracing::warn!(error = %err, "pruning login failures failed");
        }
        if let Err(err) = store::form_results::prune(&state.services.db, now).await {
            tracing::warn!(error = %err, "pruning form results failed");
        }
        if let Err(err) = store::transfer_attempts::prune_allowances(&state.services.db, now).await {
            tracing::warn!(error = %err, "pruning transfer allowances failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
