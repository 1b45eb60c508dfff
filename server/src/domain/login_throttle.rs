//! Log-in throttling, decided before the password is even checked.
//!
//! Wrong passwords slow down the address that sends them, not the account's owner elsewhere:
//! failures are counted per (account, client address), and after [`FREE_ATTEMPTS`] each
//! further failure doubles the wait before that address may try that account again. Two
//! ceilings stop what back-off alone would not: an address that fails too often on any
//! accounts ([`PER_IP`]), and an account failed too often from everywhere
//! ([`ACCOUNT_CEILING`]), which locks it for everyone until the failures age out or its owner
//! follows the unlock link mailed when the ceiling is reached.

use chrono::{DateTime, Duration, Utc};

/// Failures counted within this window.
pub const WINDOW: Duration = Duration::hours(1);
/// Failures one address may make on one account before it has to wait.
pub const FREE_ATTEMPTS: u64 = 5;
/// The first wait; each further failure doubles it, up to [`MAX_DELAY`].
pub const BASE_DELAY: Duration = Duration::seconds(30);
/// The longest wait back-off imposes.
pub const MAX_DELAY: Duration = Duration::hours(1);
/// Failures on one account, from all addresses, that lock it for everyone.
pub const ACCOUNT_CEILING: u64 = 100;
/// Failures from one address, on all accounts, that stop it (shared NATs are common).
pub const PER_IP: u64 = 120;

/// The failures recorded within [`WINDOW`] that bear on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Failures {
    /// By this address on this account, and when the last of them was.
    pub pair: u64,
    pub pair_last: Option<DateTime<Utc>>,
    /// On this account from every address.
    pub account: u64,
    /// From this address on every account.
    pub ip: u64,
}

/// Why an attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleReason {
    /// This address failed this account too often just now.
    Backoff,
    /// The account failed too often from everywhere: locked until unlocked by mail.
    AccountLocked,
    /// This address failed too often on any accounts.
    Ip,
}

/// A refused attempt, and how long to wait before the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed log-in attempts; try again in {} s", .retry_after.num_seconds())]
pub struct Throttled {
    pub reason: ThrottleReason,
    pub retry_after: Duration,
}

/// The wait after `pair_failures` failures by one address on one account.
pub fn backoff(pair_failures: u64) -> Duration {
    if pair_failures < FREE_ATTEMPTS {
        return Duration::zero();
    }
    let doublings = (pair_failures - FREE_ATTEMPTS).min(20) as u32;
    (BASE_DELAY * 2_i32.pow(doublings)).min(MAX_DELAY)
}

/// Decides whether another attempt may be made at `now`.
pub fn check(failures: &Failures, now: DateTime<Utc>) -> Result<(), Throttled> {
    if failures.account >= ACCOUNT_CEILING {
        return Err(Throttled {
            reason: ThrottleReason::AccountLocked,
            retry_after: WINDOW,
        });
    }
    if failures.ip >= PER_IP {
        return Err(Throttled {
            reason: ThrottleReason::Ip,
            retry_after: WINDOW,
        });
    }
    if let Some(last) = failures.pair_last {
        let free_at = last + backoff(failures.pair);
        if now < free_at {
            return Err(Throttled {
                reason: ThrottleReason::Backoff,
                // Rounded up, so that a client that waits this long is let in.
                retry_after: Duration::seconds(((free_at - now).num_milliseconds() + 999) / 1000),
            });
        }
    }
    Ok(())
}

/// Whether the failure that made the account's count `account_failures` is the one that
/// reached the ceiling (and so the owner is mailed an unlock link, once).
pub fn reaches_ceiling(account_failures: u64) -> bool {
    account_failures == ACCOUNT_CEILING
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().to_utc()
    }

    #[test]
    fn the_first_failures_cost_nothing_and_then_the_wait_doubles() {
        for n in 0..FREE_ATTEMPTS {
            assert_eq!(backoff(n), Duration::zero());
        }
        assert_eq!(backoff(FREE_ATTEMPTS), Duration::seconds(30));
        assert_eq!(backoff(FREE_ATTEMPTS + 1), Duration::seconds(60));
        assert_eq!(backoff(FREE_ATTEMPTS + 2), Duration::seconds(120));
        assert_eq!(backoff(FREE_ATTEMPTS + 10), MAX_DELAY);
        assert_eq!(backoff(u64::MAX), MAX_DELAY);
    }

    #[test]
    fn an_address_waits_out_its_back_off() {
        let failures = Failures {
            pair: FREE_ATTEMPTS + 1,
            pair_last: Some(now()),
            account: FREE_ATTEMPTS + 1,
            ip: FREE_ATTEMPTS + 1,
        };
        let refused = check(&failures, now() + Duration::seconds(15)).unwrap_err();
        assert_eq!(refused.reason, ThrottleReason::Backoff);
        assert_eq!(refused.retry_after, Duration::seconds(45));
        assert_eq!(check(&failures, now() + Duration::seconds(60)), Ok(()));
    }

    #[test]
    fn another_address_is_not_slowed_by_the_failures_of_the_first() {
        let elsewhere = Failures {
            pair: 0,
            pair_last: None,
            account: 40,
            ip: 0,
        };
        assert_eq!(check(&elsewhere, now()), Ok(()));
    }

    #[test]
    fn the_ceilings_stop_everyone() {
        let locked = Failures {
            account: ACCOUNT_CEILING,
            ..Failures::default()
        };
        assert_eq!(check(&locked, now()).unwrap_err().reason, ThrottleReason::AccountLocked);
        let noisy = Failures {
            ip: PER_IP,
            ..Failures::default()
        };
        assert_eq!(check(&noisy, now()).unwrap_err().reason, ThrottleReason::Ip);
        assert!(reaches_ceiling(ACCOUNT_CEILING));
        assert!(!reaches_ceiling(ACCOUNT_CEILING + 1));
    }
}
