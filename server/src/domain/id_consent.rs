//! Separate consent to processing the ID number. A resident ID number is sensitive personal
//! information (PIPL Art. 28), which needs its own explicit consent (Art. 29), given apart from
//! the privacy policy and recorded with the policy version it was given under. Consent can be
//! withdrawn at any time (Art. 15); from then on the number is kept sealed and used for nothing,
//! so claims wait until it is given again.

use chrono::{DateTime, Utc};

use super::identity::IdentityStatus;

/// One giving of the consent, and its withdrawal if there was one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumberConsent {
    /// The privacy policy version the consent was given under.
    pub policy_version: u32,
    pub given_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl IdNumberConsent {
    /// Given and not withdrawn.
    pub fn live(&self) -> bool {
        self.withdrawn_at.is_none()
    }
}

/// A consent move the person's standing does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    #[error("there is no consent in force to withdraw")]
    NotGiven,
    #[error("the consent is already in force")]
    AlreadyGiven,
    #[error("a check in progress uses the ID number; withdraw once it is decided")]
    CheckPending,
    #[error("there is no ID number to consent to; submit one with the consent")]
    NothingHeld,
}

/// Whether the person may withdraw, given their latest consent and their check. A pending check
/// is being decided with the number, so withdrawal waits for the decision.
pub fn may_withdraw(latest: Option<&IdNumberConsent>, status: &IdentityStatus) -> Result<(), ConsentError> {
    if !latest.is_some_and(IdNumberConsent::live) {
        return Err(ConsentError::NotGiven);
    }
    if *status == IdentityStatus::Pending {
        return Err(ConsentError::CheckPending);
    }
    Ok(())
}

/// Whether the person may give consent again for the number they already submitted, without
/// submitting it again: only when the platform holds one and no consent is in force (withdrawn,
/// or a check made before consents were recorded).
pub fn may_give(latest: Option<&IdNumberConsent>, status: &IdentityStatus) -> Result<(), ConsentError> {
    if latest.is_some_and(IdNumberConsent::live) {
        return Err(ConsentError::AlreadyGiven);
    }
    if *status == IdentityStatus::Unverified {
        return Err(ConsentError::NothingHeld);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 7, hour, 0, 0).unwrap()
    }

    fn given() -> IdNumberConsent {
        IdNumberConsent {
            policy_version: 1,
            given_at: at(1),
            withdrawn_at: None,
        }
    }

    fn withdrawn() -> IdNumberConsent {
        IdNumberConsent {
            withdrawn_at: Some(at(2)),
            ..given()
        }
    }

    #[test]
    fn consent_in_force_can_be_withdrawn_except_during_a_check() {
        assert!(given().live());
        assert!(!withdrawn().live());
        assert_eq!(may_withdraw(Some(&given()), &IdentityStatus::Verified), Ok(()));
        let rejected = IdentityStatus::Rejected {
            reason: "blurred".into(),
        };
        assert_eq!(may_withdraw(Some(&given()), &rejected), Ok(()));
        assert_eq!(
            may_withdraw(Some(&given()), &IdentityStatus::Pending),
            Err(ConsentError::CheckPending)
        );
        assert_eq!(
            may_withdraw(Some(&withdrawn()), &IdentityStatus::Verified),
            Err(ConsentError::NotGiven)
        );
        assert_eq!(
            may_withdraw(None, &IdentityStatus::Verified),
            Err(ConsentError::NotGiven)
        );
    }

    #[test]
    fn consent_is_given_again_only_for_a_number_held_without_it() {
        assert_eq!(may_give(Some(&withdrawn()), &IdentityStatus::Verified), Ok(()));
        assert_eq!(
            may_give(None, &IdentityStatus::Verified),
            Ok(()),
            "checked before consents were kept"
        );
        assert_eq!(
            may_give(Some(&given()), &IdentityStatus::Verified),
            Err(ConsentError::AlreadyGiven)
        );
        assert_eq!(
            may_give(Some(&withdrawn()), &IdentityStatus::Unverified),
            Err(ConsentError::NothingHeld),
            "a first number is consented to with the form that submits it"
        );
    }
}
