//! Running one step of a background worker so that its failure, a panic included, is an
//! answer the worker can log, show and retry, instead of the end of the worker. What a worker
//! shows to `/readyz` while its steps fail is its [`crate::health::Health`].

use std::future::Future;
use std::time::Duration;

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
