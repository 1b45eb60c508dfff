//! One-time links sent by email: address verification, password reset, unlocking an account
//! that failed log-ins locked, and confirming or undoing a change of address.
//!
//! A link carries a random token; only its hash is stored. Each purpose has its own lifetime,
//! and a token is good for one use before it expires.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
    /// Unlocks an account that failed log-ins locked for everyone.
    UnlockLogin,
    /// Sent to a new address: makes it the account's.
    ConfirmEmailChange,
    /// Sent to the old address once the change is made: puts it back.
    UndoEmailChange,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
            TokenPurpose::UnlockLogin => "unlock_login",
            TokenPurpose::ConfirmEmailChange => "confirm_email_change",
            TokenPurpose::UndoEmailChange => "undo_email_change",
        }
    }

    /// The page the link opens, before its token.
    pub fn path(self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "/verify-email",
            TokenPurpose::ResetPassword => "/password/reset",
            TokenPurpose::UnlockLogin => "/login/unlock",
            TokenPurpose::ConfirmEmailChange => "/account/email/confirm",
            TokenPurpose::UndoEmailChange => "/account/email/undo",
        }
    }

    /// How long a link stays valid. Reset links are short-lived because they grant access;
    /// the old address can take a change back for a week, long enough to notice a hijack.
    pub fn lifetime(self) -> Duration {
        match self {
            TokenPurpose::VerifyEmail => Duration::hours(48),
            TokenPurpose::ResetPassword => Duration::hours(1),
            TokenPurpose::UnlockLogin => Duration::hours(24),
            TokenPurpose::ConfirmEmailChange => Duration::hours(24),
            TokenPurpose::UndoEmailChange => Duration::days(7),
        }
    }

    pub fn expires_at(self, issued_at: DateTime<Utc>) -> DateTime<Utc> {
        issued_at + self.lifetime()
    }
}

impl fmt::Display for TokenPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenPurpose {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "verify_email" => Ok(TokenPurpose::VerifyEmail),
            "reset_password" => Ok(TokenPurpose::ResetPassword),
            "unlock_login" => Ok(TokenPurpose::UnlockLogin),
            "confirm_email_change" => Ok(TokenPurpose::ConfirmEmailChange),
            "undo_email_change" => Ok(TokenPurpose::UndoEmailChange),
            other => Err(format!("unknown token purpose `{other}`")),
        }
    }
}

/// Why a link could not be used. The page shows the same message for all three, so that a
/// guessed token reveals nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("this link is not valid")]
    Unknown,
    #[error("this link has expired")]
    Expired,
    #[error("this link has already been used")]
    AlreadyUsed,
}

/// The stored facts about a token, as read back from the database.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub purpose: TokenPurpose,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

impl IssuedToken {
    /// Decides whether the token may be redeemed for `purpose` at `now`.
    pub fn check(&self, purpose: TokenPurpose, now: DateTime<Utc>) -> Result<(), TokenError> {
        if self.purpose != purpose {
            return Err(TokenError::Unknown);
        }
        if self.used_at.is_some() {
            return Err(TokenError::AlreadyUsed);
        }
        if now >= self.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(purpose: TokenPurpose, at: DateTime<Utc>) -> IssuedToken {
        IssuedToken {
            purpose,
            expires_at: purpose.expires_at(at),
            used_at: None,
        }
    }

    #[test]
    fn a_fresh_token_is_accepted() {
        let now = Utc::now();
        assert_eq!(
            issued(TokenPurpose::VerifyEmail, now).check(TokenPurpose::VerifyEmail, now),
            Ok(())
        );
    }

    #[test]
    fn reset_links_expire_after_an_hour() {
        let t0 = Utc::now();
        let token = issued(TokenPurpose::ResetPassword, t0);
        assert_eq!(
            token.check(TokenPurpose::ResetPassword, t0 + Duration::minutes(59)),
            Ok(())
        );
        assert_eq!(
            token.check(TokenPurpose::ResetPassword, t0 + Duration::hours(1)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn verification_links_last_two_days() {
        let t0 = Utc::now();
        let token = issued(TokenPurpose::VerifyEmail, t0);
        assert_eq!(token.check(TokenPurpose::VerifyEmail, t0 + Duration::hours(47)), Ok(()));
        assert_eq!(
            token.check(TokenPurpose::VerifyEmail, t0 + Duration::hours(49)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn an_address_change_is_confirmed_within_a_day_and_undone_within_a_week() {
        let t0 = Utc::now();
        let confirm = issued(TokenPurpose::ConfirmEmailChange, t0);
        assert_eq!(
            confirm.check(TokenPurpose::ConfirmEmailChange, t0 + Duration::hours(23)),
            Ok(())
        );
        assert_eq!(
            confirm.check(TokenPurpose::ConfirmEmailChange, t0 + Duration::hours(24)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            confirm.check(TokenPurpose::UndoEmailChange, t0),
            Err(TokenError::Unknown),
            "a confirmation link does not undo"
        );
        let undo = issued(TokenPurpose::UndoEmailChange, t0);
        assert_eq!(
            undo.check(TokenPurpose::UndoEmailChange, t0 + Duration::days(6)),
            Ok(())
        );
        assert_eq!(
            undo.check(TokenPurpose::UndoEmailChange, t0 + Duration::days(7)),
            Err(TokenError::Expired)
        );
        for purpose in [TokenPurpose::ConfirmEmailChange, TokenPurpose::UndoEmailChange] {
            assert_eq!(purpose.as_str().parse(), Ok(purpose));
        }
    }

    #[test]
    fn a_used_token_is_refused_even_before_expiry() {
        let t0 = Utc::now();
        let mut token = issued(TokenPurpose::ResetPassword, t0);
        token.used_at = Some(t0);
        assert_eq!(
            token.check(TokenPurpose::ResetPassword, t0),
            Err(TokenError::AlreadyUsed)
        );
    }

    #[test]
    fn a_token_only_works_for_its_purpose() {
        let t0 = Utc::now();
        let token = issued(TokenPurpose::VerifyEmail, t0);
        assert_eq!(token.check(TokenPurpose::ResetPassword, t0), Err(TokenError::Unknown));
    }

    #[test]
    fn purposes_round_trip() {
        for p in [TokenPurpose::VerifyEmail, TokenPurpose::ResetPassword] {
            assert_eq!(p.as_str().parse::<TokenPurpose>().unwrap(), p);
        }
    }
}
