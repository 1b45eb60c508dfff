//! The mail outbox's delivery rules: states, retries with back-off, and crash handling.
//!
//! A message is `pending` until a worker claims it (`sending`), then `sent`, or back to
//! `pending` after a failure that proves the server did not accept it, or `failed` once the
//! attempts are used up. A message found still `sending` after its lease (its worker died
//! mid-delivery) becomes `uncertain` and is never sent again automatically: sending it twice
//! is worse than asking a person to check.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

/// Attempts before a message is given up on.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a worker may hold a message in `sending` before it is presumed dead.
pub const LEASE: Duration = Duration::minutes(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
    Uncertain,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Uncertain => "uncertain",
        }
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutboxStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            OutboxStatus::Pending,
            OutboxStatus::Sending,
            OutboxStatus::Sent,
            OutboxStatus::Failed,
            OutboxStatus::Uncertain,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| format!("unknown outbox status `{s}`"))
    }
}

/// What to do after a delivery attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// Exponential back-off: 30 s, 1 min, 2 min, … capped at one hour; permanent errors (the
/// server refused the message for good) are not retried.
pub fn after_failure(attempts_made: i32, permanent: bool, now: DateTime<Utc>) -> AfterFailure {
    if permanent || attempts_made >= MAX_ATTEMPTS {
        return AfterFailure::GiveUp;
    }
    let exponent = attempts_made.clamp(1, 12) - 1;
    let delay = Duration::seconds(30 * (1_i64 << exponent)).min(Duration::hours(1));
    AfterFailure::RetryAt(now + delay)
}

/// Whether a message claimed at `claimed_at` has outlived its worker's lease.
pub fn lease_expired(claimed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - claimed_at >= LEASE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_and_is_capped() {
        let now = Utc::now();
        let delays: Vec<i64> = (1..MAX_ATTEMPTS)
            .map(|n| match after_failure(n, false, now) {
                AfterFailure::RetryAt(at) => (at - now).num_seconds(),
                AfterFailure::GiveUp => panic!("gave up after {n}"),
            })
            .collect();
        assert_eq!(delays, vec![30, 60, 120, 240, 480, 960, 1920]);
        assert!(delays.windows(2).all(|w| w[1] > w[0]));
    }

    #[test]
    fn gives_up_after_max_attempts_or_permanent_error() {
        let now = Utc::now();
        assert_eq!(after_failure(MAX_ATTEMPTS, false, now), AfterFailure::GiveUp);
        assert_eq!(after_failure(1, true, now), AfterFailure::GiveUp);
    }

    #[test]
    fn lease_expiry() {
        let t0 = Utc::now();
        assert!(!lease_expired(t0, t0 + Duration::minutes(9)));
        assert!(lease_expired(t0, t0 + LEASE));
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["pending", "sending", "sent", "failed", "uncertain"] {
            assert_eq!(s.parse::<OutboxStatus>().unwrap().as_str(), s);
        }
        assert!("lost".parse::<OutboxStatus>().is_err());
    }
}
