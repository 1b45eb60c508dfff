//! The mail worker: delivers queued mail ([`outbox::deliver_due`]) when a request in this
//! process queued a message, and polls otherwise (other servers and retries).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::services::outbox;
use crate::state::AppState;

const POLL: Duration = Duration::from_secs(2);

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        let delivered = outbox::deliver_due(
            &state.services,
            &state.mail_transport,
            &state.config.mail.from,
            &shutdown,
        )
        .await;
        if let Err(err) = delivered {
            tracing::error!(error = %err, "mail outbox pass failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.services.mail_wakeup.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
