//! Delivering the mail the services queued in the outbox. A message is claimed before it is
//! sent and marked after, so a crash between the two leaves it `sending`, and the next pass
//! parks it as `uncertain` instead of sending it twice; a failure is retried with back-off or
//! given up, as `domain::outbox` decides.

use chrono::Utc;
use lettre::message::Mailbox;
use tokio_util::sync::CancellationToken;

use super::{ServiceResult, Services};
use crate::domain::outbox::{AfterFailure, after_failure};
use crate::mail::Transport;
use crate::store;

/// Messages claimed per statement.
const BATCH: u64 = 20;

/// One pass: park abandoned messages, then claim and deliver what is due, a batch at a time,
/// until nothing is due or `shutdown` is cancelled. It stops only between batches, since a
/// claimed message left unsent would be parked as uncertain; what is left waits for the next
/// pass (a revoked edition queues a mail per holder, far more than a stop can wait for).
pub async fn deliver_due(
    services: &Services,
    transport: &Transport,
    from: &Mailbox,
    shutdown: &CancellationToken,
) -> ServiceResult<usize> {
    let parked = store::outbox::park_abandoned(&services.db, Utc::now()).await?;
    if parked > 0 {
        tracing::warn!(count = parked, "mail interrupted mid-delivery parked as uncertain");
    }
    let mut delivered = 0;
    while !shutdown.is_cancelled() {
        let batch = store::outbox::claim_due(&services.db, Utc::now(), BATCH).await?;
        if batch.is_empty() {
            return Ok(delivered);
        }
        for queued in batch {
            let result = match Transport::build(from, &queued) {
                Ok(message) => transport.send(message).await,
                Err(e) => Err(e),
            };
            let now = Utc::now();
            match result {
                Ok(()) => {
                    store::outbox::mark_sent(&services.db, queued.id, now).await?;
                    tracing::info!(outbox_id = queued.id, "mail delivered");
                    delivered += 1;
                }
                Err(err) => match after_failure(queued.attempts, err.permanent, now) {
                    AfterFailure::RetryAt(at) => {
                        tracing::warn!(outbox_id = queued.id, attempt = queued.attempts, error = %err, "mail delivery failed; will retry");
                        store::outbox::mark_retry(&services.db, queued.id, at, err.message).await?;
                    }
                    AfterFailure::GiveUp => {
                        tracing::error!(outbox_id = queued.id, attempt = queued.attempts, error = %err, "mail delivery failed for good");
                        store::outbox::mark_failed(&services.db, queued.id, err.message).await?;
                    }
                },
            }
        }
    }
    Ok(delivered)
}
