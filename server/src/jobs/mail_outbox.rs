//! Delivers queued mail. Wakes when a request in this process queued a message, and polls
//! otherwise (other servers and retries). A message is claimed before it is sent and marked
//! after, so a crash between the two leaves it `sending`; [`store::outbox::park_abandoned`]
//! then parks it as `uncertain` instead of sending it twice.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::domain::outbox::{AfterFailure, after_failure};
use crate::mail::Transport;
use crate::state::AppState;
use crate::store;

const POLL: Duration = Duration::from_secs(2);
const BATCH: u64 = 20;

pub async fn run(state: AppState, shutdown: CancellationToken) {
    loop {
        if let Err(err) = deliver_due(&state).await {
            tracing::error!(error = %err, "mail outbox pass failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.services.mail_wakeup.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One pass: park abandoned messages, then claim and deliver what is due.
pub async fn deliver_due(state: &AppState) -> Result<usize, store::StoreError> {
    let parked = store::outbox::park_abandoned(&state.services.db, Utc::now()).await?;
    if parked > 0 {
        tracing::warn!(count = parked, "mail interrupted mid-delivery parked as uncertain");
    }
    let mut delivered = 0;
    loop {
        let batch = store::outbox::claim_due(&state.services.db, Utc::now(), BATCH).await?;
        if batch.is_empty() {
            return Ok(delivered);
        }
        for queued in batch {
            let result = match Transport::build(&state.config.mail.from, &queued) {
                Ok(message) => state.mail_transport.send(message).await,
                Err(e) => Err(e),
            };
            let now = Utc::now();
            match result {
                Ok(()) => {
                    store::outbox::mark_sent(&state.services.db, queued.id, now).await?;
                    tracing::info!(outbox_id = queued.id, "mail delivered");
                    delivered += 1;
                }
                Err(err) => match after_failure(queued.attempts, err.permanent, now) {
                    AfterFailure::RetryAt(at) => {
                        tracing::warn!(outbox_id = queued.id, attempt = queued.attempts, error = %err, "mail delivery failed; will retry");
                        store::outbox::mark_retry(&state.services.db, queued.id, at, err.message).await?;
                    }
                    AfterFailure::GiveUp => {
                        tracing::error!(outbox_id = queued.id, attempt = queued.attempts, error = %err, "mail delivery failed for good");
                        store::outbox::mark_failed(&state.services.db, queued.id, err.message).await?;
                    }
                },
            }
        }
    }
}
