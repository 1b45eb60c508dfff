//! Issuers: the organisations that issue collectibles, and the life cycle of their
//! registration (KYB).
//!
//! ```text
//! draft -> submitted -> approved | rejected(reason) -> submitted (resubmission)
//! approved -> suspended(reason) -> approved (reinstated) | revoked(reason)
//! approved -> revoked(reason)
//! ```
//!
//! Revocation is final. A suspended or revoked issuer can do nothing new; what it already
//! issued stays valid and verifiable.

use std::fmt;

/// An issuer's id in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IssuerId(pub i64);

impl fmt::Display for IssuerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerStatus {
    Draft,
    Submitted,
    Approved,
    Rejected { reason: String },
    Suspended { reason: String },
    Revoked { reason: String },
}

/// A registration move that the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerTransitionError {
    #[error("an issuer cannot go from {from} to {to}")]
    Illegal { from: &'static str, to: &'static str },
    #[error("this decision needs a reason")]
    ReasonRequired,
}

fn reason(text: &str) -> Result<String, IssuerTransitionError> {
    let text = text.trim();
    if text.is_empty() {
        Err(IssuerTransitionError::ReasonRequired)
    } else {
        Ok(text.to_owned())
    }
}

impl IssuerStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            IssuerStatus::Draft => "draft",
            IssuerStatus::Submitted => "submitted",
            IssuerStatus::Approved => "approved",
            IssuerStatus::Rejected { .. } => "rejected",
            IssuerStatus::Suspended { .. } => "suspended",
            IssuerStatus::Revoked { .. } => "revoked",
        }
    }

    /// Rebuilds a stored status; `reason` is the stored reason for the states that have one.
    pub fn from_parts(status: &str, reason: Option<&str>) -> Option<Self> {
        let reason = || reason.unwrap_or_default().to_owned();
        Some(match status {
            "draft" => IssuerStatus::Draft,
            "submitted" => IssuerStatus::Submitted,
            "approved" => IssuerStatus::Approved,
            "rejected" => IssuerStatus::Rejected { reason: reason() },
            "suspended" => IssuerStatus::Suspended { reason: reason() },
            "revoked" => IssuerStatus::Revoked { reason: reason() },
            _ => return None,
        })
    }

    /// The reason attached to a rejection, suspension or revocation.
    pub fn reason(&self) -> Option<&str> {
        match self {
            IssuerStatus::Rejected { reason }
            | IssuerStatus::Suspended { reason }
            | IssuerStatus::Revoked { reason } => Some(reason),
            _ => None,
        }
    }

    /// Whether the issuer may act: create and publish collections, serve claims, use API keys.
    pub fn is_active(&self) -> bool {
        matches!(self, IssuerStatus::Approved)
    }

    fn illegal(&self, to: &'static str) -> IssuerTransitionError {
        IssuerTransitionError::Illegal {
            from: self.as_str(),
            to,
        }
    }

    /// Sends the application (or a corrected one after a rejection) to the reviewers.
    pub fn submit(&self) -> Result<IssuerStatus, IssuerTransitionError> {
        match self {
            IssuerStatus::Draft | IssuerStatus::Rejected { .. } => Ok(IssuerStatus::Submitted),
            _ => Err(self.illegal("submitted")),
        }
    }

    pub fn approve(&self) -> Result<IssuerStatus, IssuerTransitionError> {
        match self {
            IssuerStatus::Submitted => Ok(IssuerStatus::Approved),
            _ => Err(self.illegal("approved")),
        }
    }

    pub fn reject(&self, why: &str) -> Result<IssuerStatus, IssuerTransitionError> {
        let reason = reason(why)?;
        match self {
            IssuerStatus::Submitted => Ok(IssuerStatus::Rejected { reason }),
            _ => Err(self.illegal("rejected")),
        }
    }

    pub fn suspend(&self, why: &str) -> Result<IssuerStatus, IssuerTransitionError> {
        let reason = reason(why)?;
        match self {
            IssuerStatus::Approved => Ok(IssuerStatus::Suspended { reason }),
            _ => Err(self.illegal("suspended")),
        }
    }

    pub fn reinstate(&self) -> Result<IssuerStatus, IssuerTransitionError> {
        match self {
            IssuerStatus::Suspended { .. } => Ok(IssuerStatus::Approved),
            _ => Err(self.illegal("approved")),
        }
    }

    pub fn revoke(&self, why: &str) -> Result<IssuerStatus, IssuerTransitionError> {
        let reason = reason(why)?;
        match self {
            IssuerStatus::Approved | IssuerStatus::Suspended { .. } => Ok(IssuerStatus::Revoked { reason }),
            _ => Err(self.illegal("revoked")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<IssuerStatus> {
        vec![
            IssuerStatus::Draft,
            IssuerStatus::Submitted,
            IssuerStatus::Approved,
            IssuerStatus::Rejected { reason: "r".into() },
            IssuerStatus::Suspended { reason: "s".into() },
            IssuerStatus::Revoked { reason: "v".into() },
        ]
    }

    #[test]
    fn the_happy_path() {
        let submitted = IssuerStatus::Draft.submit().unwrap();
        let approved = submitted.approve().unwrap();
        assert!(approved.is_active());
        let suspended = approved.suspend("expired licence").unwrap();
        assert!(!suspended.is_active());
        assert_eq!(suspended.reason(), Some("expired licence"));
        assert_eq!(suspended.reinstate().unwrap(), IssuerStatus::Approved);
        let revoked = suspended.revoke("fraud").unwrap();
        assert!(!revoked.is_active());
    }

    #[test]
    fn every_transition_is_legal_only_from_its_states() {
        type Move = fn(&IssuerStatus) -> Result<IssuerStatus, IssuerTransitionError>;
        let moves: [(&str, Move, &[&str]); 6] = [
            ("submit", |s| s.submit(), &["draft", "rejected"]),
            ("approve", |s| s.approve(), &["submitted"]),
            ("reject", |s| s.reject("why"), &["submitted"]),
            ("suspend", |s| s.suspend("why"), &["approved"]),
            ("reinstate", |s| s.reinstate(), &["suspended"]),
            ("revoke", |s| s.revoke("why"), &["approved", "suspended"]),
        ];
        for (name, apply, legal_from) in moves {
            for status in all() {
                let result = apply(&status);
                assert_eq!(
                    result.is_ok(),
                    legal_from.contains(&status.as_str()),
                    "{name} from {}: {result:?}",
                    status.as_str()
                );
                if let Err(e) = result {
                    assert!(matches!(e, IssuerTransitionError::Illegal { .. }));
                }
            }
        }
    }

    #[test]
    fn revocation_is_final() {
        let revoked = IssuerStatus::Revoked { reason: "fraud".into() };
        assert!(revoked.submit().is_err());
        assert!(revoked.approve().is_err());
        assert!(revoked.reinstate().is_err());
        assert!(revoked.suspend("x").is_err());
        assert!(revoked.revoke("again").is_err());
    }

    #[test]
    fn decisions_against_the_issuer_need_a_reason() {
        assert_eq!(
            IssuerStatus::Submitted.reject(" "),
            Err(IssuerTransitionError::ReasonRequired)
        );
        assert_eq!(
            IssuerStatus::Approved.suspend(""),
            Err(IssuerTransitionError::ReasonRequired)
        );
        assert_eq!(
            IssuerStatus::Approved.revoke("\n"),
            Err(IssuerTransitionError::ReasonRequired)
        );
    }

    #[test]
    fn stored_statuses_round_trip() {
        for status in all() {
            assert_eq!(
                IssuerStatus::from_parts(status.as_str(), status.reason()),
                Some(status.clone())
            );
        }
        assert_eq!(IssuerStatus::from_parts("active", None), None);
    }
}
