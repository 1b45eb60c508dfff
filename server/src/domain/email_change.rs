//! Changing an account's email address.
//!
//! ```text
//! pending -> confirmed (from the new address) -> undone (from the old address, for a while)
//! pending -> superseded (a newer request replaced it)
//! ```
//!
//! The request needs the account's password; the change happens only when the link mailed to
//! the new address is used, so an address nobody reads never becomes an account's. The old
//! address is then told, with a link that puts it back while [`TokenPurpose::UndoEmailChange`]
//! lasts: whoever took over a session cannot keep the account by changing its address. Nor by
//! changing it twice: while that link lasts, the address cannot change again (the second
//! change would leave the first address's link undoing only to the middle one).
//!
//! [`TokenPurpose::UndoEmailChange`]: super::email_token::TokenPurpose::UndoEmailChange

use chrono::{DateTime, Utc};

use super::account::Email;
use super::email_token::TokenPurpose;
use super::ids::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChangeStatus {
    Pending,
    Confirmed,
    Undone,
    Superseded,
}

impl EmailChangeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailChangeStatus::Pending => "pending",
            EmailChangeStatus::Confirmed => "confirmed",
            EmailChangeStatus::Undone => "undone",
            EmailChangeStatus::Superseded => "superseded",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => EmailChangeStatus::Pending,
            "confirmed" => EmailChangeStatus::Confirmed,
            "undone" => EmailChangeStatus::Undone,
            "superseded" => EmailChangeStatus::Superseded,
            _ => return None,
        })
    }

    /// The status after the new address confirmed the change.
    pub fn confirm(self) -> Result<Self, EmailChangeError> {
        match self {
            EmailChangeStatus::Pending => Ok(EmailChangeStatus::Confirmed),
            _ => Err(EmailChangeError::NotPending),
        }
    }

    /// The status after the old address took the change back.
    pub fn undo(self) -> Result<Self, EmailChangeError> {
        match self {
            EmailChangeStatus::Confirmed => Ok(EmailChangeStatus::Undone),
            _ => Err(EmailChangeError::NotConfirmed),
        }
    }
}

/// A change of address, as recorded.
#[derive(Debug, Clone)]
pub struct EmailChange {
    pub id: i64,
    pub user: UserId,
    pub old_email: Email,
    pub new_email: Email,
    pub status: EmailChangeStatus,
    /// When the new address confirmed it.
    pub confirmed_at: Option<DateTime<Utc>>,
}

/// Whether an account whose latest confirmed change was `confirmed_at` may change its address
/// at `now`: `Err` with the time from which it may, while the old address can still undo.
pub fn may_change(confirmed_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
    match confirmed_at.map(|at| TokenPurpose::UndoEmailChange.expires_at(at)) {
        Some(until) if now < until => Err(until),
        _ => Ok(()),
    }
}

/// A move the change's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailChangeError {
    #[error("this change of address was already confirmed, replaced or undone")]
    NotPending,
    #[error("this change of address was not confirmed, or was already undone")]
    NotConfirmed,
}

/// Why a requested address cannot be the account's new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewAddressRefusal {
    /// Not an email address.
    Malformed,
    /// It is the account's address already (in its normal form).
    Unchanged,
}

/// Reads the new address typed for an account whose address is `current`.
pub fn new_address(current: &Email, raw: &str) -> Result<Email, NewAddressRefusal> {
    let new = Email::parse(raw).map_err(|_| NewAddressRefusal::Malformed)?;
    if &new == current {
        return Err(NewAddressRefusal::Unchanged);
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_confirmed_once_and_undone_only_after_confirmation() {
        let confirmed = EmailChangeStatus::Pending.confirm().unwrap();
        assert_eq!(confirmed, EmailChangeStatus::Confirmed);
        assert_eq!(confirmed.confirm(), Err(EmailChangeError::NotPending));
        assert_eq!(EmailChangeStatus::Pending.undo(), Err(EmailChangeError::NotConfirmed));
        let undone = confirmed.undo().unwrap();
        assert_eq!(undone.undo(), Err(EmailChangeError::NotConfirmed));
        assert_eq!(
            EmailChangeStatus::Superseded.confirm(),
            Err(EmailChangeError::NotPending)
        );
        for status in [
            EmailChangeStatus::Pending,
            EmailChangeStatus::Confirmed,
            EmailChangeStatus::Undone,
            EmailChangeStatus::Superseded,
        ] {
            assert_eq!(EmailChangeStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn the_address_changes_again_only_once_the_old_one_can_no_longer_undo() {
        let confirmed = DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z").unwrap().to_utc();
        let week = chrono::Duration::days(7);
        assert_eq!(may_change(None, confirmed), Ok(()));
        assert_eq!(
            may_change(Some(confirmed), confirmed + week - chrono::Duration::seconds(1)),
            Err(confirmed + week)
        );
        assert_eq!(may_change(Some(confirmed), confirmed + week), Ok(()));
    }

    #[test]
    fn the_new_address_is_read_in_its_normal_form_and_must_differ() {
        let current = Email::parse("li.lei@example.cn").unwrap();
        assert_eq!(
            new_address(&current, " LI.LEI@example.cn "),
            Err(NewAddressRefusal::Unchanged)
        );
        assert_eq!(
            new_address(&current, "not an address"),
            Err(NewAddressRefusal::Malformed)
        );
        assert_eq!(
            new_address(&current, "Lei.Li@Example.cn").unwrap().as_str(),
            "lei.li@example.cn"
        );
    }
}
