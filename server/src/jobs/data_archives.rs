//! The archive builder: builds the copies of people's data they asked for, one after another,
//! as soon as a request in this process asks and by polling otherwise (other servers' requests,
//! and archives whose builder died, once its lease ran out).

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::services::data_export;
use crate::state::AppState;

const POLL: Duration = Duration::from_secs(5);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        loop {
            match data_export::build_next(&state.services, Utc::now()).await {
                Ok(true) if !shutdown.is_cancelled() => continue,
                Ok(_) => break,
                Err(err) => {
                    tracing::error!(error = %err, "archive builder pass failed");
                    break;
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.services.archive_wakeup.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
