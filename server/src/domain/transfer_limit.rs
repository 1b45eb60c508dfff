//! Refused transfer attempts, bounded.
//!
//! Collectibles cannot be transferred, and `POST /api/v1/tokens/{id}/transfer` exists only to
//! refuse. Anyone may call it, so what it stores must not grow with the number of calls:
//!
//! - each client address has an allowance of [`LIMIT`] refused attempts that refills at one per
//!   [`SPACING`] (so at most [`LIMIT`] in a burst and [`LIMIT`] more in every [`WINDOW`]; a
//!   generic cell rate algorithm, one row per address that is not at its full allowance);
//!   beyond it the answer is `429` with `Retry-After` and nothing is written;
//! - attempts are counted per (token, clock hour) in one counter row, and only the first
//!   attempt of that hour on that token writes an audit row.
//!
//! Addresses are grouped as [`client_key`](super::client_address::client_key) says.

use chrono::{DateTime, Duration, DurationRound, Utc};

/// Refused attempts an address may make at once, and in any [`WINDOW`] after a full allowance.
pub const LIMIT: i32 = 30;
/// The time in which a used-up allowance refills completely.
pub const WINDOW: Duration = Duration::minutes(10);
/// One attempt's share of the allowance: the allowance refills by one every 20 s.
pub const SPACING: Duration = Duration::seconds(WINDOW.num_seconds() / LIMIT as i64);
/// The period one counter row of attempts on a token covers.
pub const PERIOD: Duration = Duration::hours(1);

/// An attempt over the address's allowance, and how long to wait before the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many refused transfer attempts; try again in {} s", .retry_after.num_seconds())]
pub struct TransferLimited {
    pub retry_after: Duration,
}

/// When an address's allowance is full again once one more attempt is counted at `now`, given
/// when it was full again before (`None`: it is full). The store computes the same in SQL, in
/// milliseconds, so that concurrent attempts each take their share.
pub fn next_full_at(full_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    full_at.map_or(now, |at| at.max(now)) + SPACING
}

/// Whether an attempt that made the allowance full again only at `full_at` stayed within it.
pub fn admitted(full_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), TransferLimited> {
    let over = full_at - now - WINDOW;
    if over <= Duration::zero() {
        return Ok(());
    }
    // Rounded up, so that a client that waits this long is answered.
    Err(TransferLimited {
        retry_after: Duration::seconds((over.num_milliseconds() + 999) / 1000),
    })
}

/// Decides, before anything is written, whether an address whose allowance is full again at
/// `full_at` may make another attempt at `now`.
pub fn check(full_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), TransferLimited> {
    admitted(next_full_at(full_at, now), now)
}

/// The start of the counting period `now` falls in.
pub fn period_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(PERIOD).expect("an hour divides any time")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:34:56.789Z")
            .unwrap()
            .to_utc()
    }

    /// Counts `n` admitted attempts at `at`, as the store does.
    fn attempts(mut full_at: Option<DateTime<Utc>>, n: i32, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        for _ in 0..n {
            check(full_at, at).unwrap();
            full_at = Some(next_full_at(full_at, at));
        }
        full_at
    }

    #[test]
    fn a_burst_of_the_limit_is_admitted_and_the_next_attempt_waits_one_spacing() {
        assert_eq!(SPACING, Duration::seconds(20));
        let full_at = attempts(None, LIMIT, now());
        assert_eq!(full_at, Some(now() + WINDOW));
        let refused = check(full_at, now()).unwrap_err();
        assert_eq!(refused.retry_after, SPACING);
        let later = now() + Duration::milliseconds(12_500);
        assert_eq!(check(full_at, later).unwrap_err().retry_after, Duration::seconds(8));
        assert_eq!(check(full_at, now() + SPACING), Ok(()), "one more after 20 s");
    }

    #[test]
    fn the_allowance_refills_at_one_per_spacing_and_never_beyond_the_limit() {
        let full_at = attempts(None, LIMIT, now());
        // Two spacings later, two more and no third.
        let later = now() + SPACING * 2;
        let full_at = attempts(full_at, 2, later);
        assert!(check(full_at, later).is_err());
        // Long after, the allowance is full again, but no fuller than the limit.
        let much_later = now() + Duration::days(1);
        let full_at = attempts(full_at, LIMIT, much_later);
        assert!(check(full_at, much_later).is_err());
    }

    #[test]
    fn over_a_window_an_address_gets_at_most_twice_the_limit() {
        let mut full_at = None;
        let mut admitted = 0;
        for second in 0..WINDOW.num_seconds() {
            let at = now() + Duration::seconds(second);
            while check(full_at, at).is_ok() {
                full_at = Some(next_full_at(full_at, at));
                admitted += 1;
            }
        }
        assert_eq!(admitted, LIMIT + LIMIT - 1);
    }

    #[test]
    fn attempts_are_counted_by_the_clock_hour() {
        let start = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().to_utc();
        assert_eq!(period_start(now()), start);
        assert_eq!(period_start(start), start);
        assert_eq!(period_start(start - Duration::nanoseconds(1)), start - PERIOD);
    }
}
