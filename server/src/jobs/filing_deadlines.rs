//! The filings worker: runs [`filings::sweep`] at start and every hour. The pass is daily in
//! effect (each reminder and each lapse happens once); running it hourly puts a lapse within
//! an hour of the turn of the day in Beijing, and claims check the dates themselves meanwhile.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::services::filings;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(3600);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        filings::sweep(&state.services, Utc::now()).await;
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
