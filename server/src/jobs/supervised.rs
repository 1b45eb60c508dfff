//! Running one step of a background worker so that its failure, a panic included, is an
//! answer the worker can log, show and retry, instead of the end of the worker. What a worker
//! shows to `/readyz` while its steps fail is its [`crate::health::Health`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::services::ledger::sequencer::Sequenced;

/// Runs `step` as a task of its own and returns its result, or the message of its panic.
pub async fn step<T, E>(step: impl Future<Output = Result<T, E>> + Send + 'static) -> Result<T, String>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    match tokio::spawn(step).await {
        Ok(result) => result.map_err(|err| err.to_string()),
        Err(join) if join.is_panic() => {
            let panic = join.into_panic();
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            Err(format!("panicked: {message}"))
        }
        Err(join) => Err(format!("stopped: {join}")),
    }
}

/// The wait of a worker that follows the sequencer's batches (tile publishing, witnessing):
/// runs are at least `interval` apart; after a good run the next starts with the next batch
/// this server sequences (or after `interval`, for other servers' batches), after failures
/// once the [`back_off`] wait is over. False when the worker is to stop.
pub async fn until_next_batch(
    batches: &mut watch::Receiver<Option<Arc<Sequenced>>>,
    shutdown: &CancellationToken,
    started: Instant,
    interval: Duration,
    failures: u32,
    cap: Duration,
) -> bool {
    if failures == 0 {
        tokio::select! {
            () = shutdown.cancelled() => return false,
            () = tokio::time::sleep_until(started + interval) => {}
        }
    }
    tokio::select! {
        () = shutdown.cancelled() => false,
        changed = batches.changed(), if failures == 0 => changed.is_ok(),
        () = tokio::time::sleep(back_off(interval, failures, cap)) => true,
    }
}

/// How long to wait after `failures` failures in a row: `base`, doubling, at most `cap`.
pub fn back_off(base: Duration, failures: u32, cap: Duration) -> Duration {
    base.saturating_mul(1 << failures.min(16)).min(cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_step_is_an_error_with_its_message() {
        let panicked = step(async {
            let nodes: Vec<u8> = Vec::new();
            if nodes.is_empty() {
                panic!("node (1, 1) was not fetched");
            }
            Ok::<_, String>(())
        })
        .await;
        assert_eq!(panicked, Err("panicked: node (1, 1) was not fetched".to_owned()));
        assert_eq!(
            step(async { Err::<(), _>("database gone") }).await,
            Err("database gone".to_owned())
        );
        assert_eq!(step(async { Ok::<_, String>(7) }).await, Ok(7));
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let base = Duration::from_millis(250);
        let cap = Duration::from_secs(30);
        assert_eq!(back_off(base, 0, cap), base);
        assert_eq!(back_off(base, 3, cap), Duration::from_secs(2));
        assert_eq!(back_off(base, 40, cap), cap);
    }
}
