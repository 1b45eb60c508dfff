//! The SMS worker: texts queued codes ([`phone::deliver_due`]) when a request in this process
//! queued one, and polls otherwise (other servers and retries).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::services::phone;
use crate::state::AppState;

const POLL: Duration = Duration::from_secs(2);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        if let Err(err) = phone::deliver_due(&state.services, &state.sms_transport).await {
            tracing::error!(error = %err, "SMS outbox pass failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.services.sms_wakeup.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
