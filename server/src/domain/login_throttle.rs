//! Login rate limiting: too many recent failures for one account or from one address block
//! further attempts for a while, before the password is even checked.

use chrono::Duration;

/// Failures counted within this window.
pub const WINDOW: Duration = Duration::minutes(15);
/// Failed attempts allowed per account within the window.
pub const PER_ACCOUNT: u64 = 5;
/// Failed attempts allowed per client address within the window (shared NATs are common).
pub const PER_IP: u64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Throttled {
    #[error("too many failed log-in attempts for this account; try again later")]
    Account,
    #[error("too many failed log-in attempts from your network; try again later")]
    Ip,
}

/// Decides whether another attempt may be made, given the failures recorded in [`WINDOW`].
pub fn check(account_failures: u64, ip_failures: u64) -> Result<(), Throttled> {
    if account_failures >= PER_ACCOUNT {
        return Err(Throttled::Account);
    }
    if ip_failures >= PER_IP {
        return Err(Throttled::Ip);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_below_the_limits_are_allowed() {
        assert_eq!(check(0, 0), Ok(()));
        assert_eq!(check(PER_ACCOUNT - 1, PER_IP - 1), Ok(()));
    }

    #[test]
    fn account_limit_blocks() {
        assert_eq!(check(PER_ACCOUNT, 0), Err(Throttled::Account));
    }

    #[test]
    fn ip_limit_blocks_even_for_fresh_accounts() {
        assert_eq!(check(0, PER_IP), Err(Throttled::Ip));
    }
}
