//! The clean-up worker: runs [`housekeeping::prune`] every ten minutes.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::services::housekeeping;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(600);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        housekeeping::prune(&state.services, Utc::now()).await;
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
