//! Deleting an account (PIPL Art. 47). What names the person is erased at once: their identity
//! (its key deleted, so every copy stays unreadable), address, sessions and links. Their tokens
//! stay on the ledger as commitments nobody can link to anyone any more. The records a law
//! requires to be kept (logs for six months, Cybersecurity Law Art. 21) are kept for
//! [`RECORDS_KEPT`] under an account that names no one, then purged.

use chrono::{DateTime, TimeDelta, Utc};

use super::account::Email;
use super::ids::UserId;
use super::role::Role;

/// How long the records about a deleted account are kept before they are purged.
pub const RECORDS_KEPT: TimeDelta = TimeDelta::days(183);

/// Why an account cannot be deleted by its owner as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeletionRefused {
    /// Reviewers, admins and regulators answer for what they decided: another admin revokes
    /// their roles first.
    #[error("a staff account is closed by another admin revoking its roles first")]
    Staff,
    /// An issuer must keep an accountable person: the member leaves the issuer first.
    #[error("leave every issuer you belong to first")]
    IssuerMember,
}

/// Whether an account holding `roles` (and belonging to an issuer or not) may be deleted.
pub fn may_delete(roles: &[Role], issuer_member: bool) -> Result<(), DeletionRefused> {
    if roles
        .iter()
        .any(|role| matches!(role, Role::Reviewer | Role::Admin | Role::Regulator))
    {
        return Err(DeletionRefused::Staff);
    }
    if issuer_member {
        return Err(DeletionRefused::IssuerMember);
    }
    Ok(())
}

/// The address a deleted account keeps: unique, valid, and naming no one.
pub fn placeholder_email(user: UserId) -> Email {
    Email::parse(&format!("deleted-{user}@deleted.invalid")).expect("a valid address")
}

/// Whether the records of an account deleted at `deleted_at` are due to be purged at `now`.
pub fn purge_due(deleted_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= deleted_at + RECORDS_KEPT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_and_issuer_members_cannot_delete_themselves() {
        assert_eq!(may_delete(&[], false), Ok(()));
        assert_eq!(may_delete(&[Role::Collector], false), Ok(()));
        for staff in [Role::Reviewer, Role::Admin, Role::Regulator] {
            assert_eq!(may_delete(&[staff], false), Err(DeletionRefused::Staff));
        }
        assert_eq!(may_delete(&[], true), Err(DeletionRefused::IssuerMember));
    }

    #[test]
    fn the_placeholder_names_no_one_and_is_unique() {
        let one = placeholder_email(UserId(41));
        assert_eq!(one.as_str(), "deleted-41@deleted.invalid");
        assert_ne!(one, placeholder_email(UserId(42)));
    }

    #[test]
    fn records_are_purged_after_six_months() {
        let deleted = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 1, 0, 0, 0).unwrap();
        assert!(!purge_due(deleted, deleted + TimeDelta::days(182)));
        assert!(purge_due(deleted, deleted + RECORDS_KEPT));
    }
}
