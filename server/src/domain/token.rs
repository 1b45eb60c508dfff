//! Tokens: the collectible a claim mints, and its standing. The holder is fixed when the token
//! is minted; a reviewer may freeze, unfreeze or revoke it, and nothing ever changes its holder.

use chrono::{DateTime, Utc};

use super::ids::{CollectionId, TokenId, UserId};

/// A minted token.
#[derive(Debug, Clone)]
pub struct Token {
    pub id: TokenId,
    pub collection: CollectionId,
    pub serial: u32,
    pub holder: UserId,
    /// The holder's identity blind index, which the commitment is over.
    pub holder_index: String,
    pub status: TokenStatus,
    pub salt: [u8; 32],
    pub commitment: [u8; 32],
    /// The ledger queue row of its `token_minted` entry.
    pub ledger_queue_id: i64,
    pub claimed_at: DateTime<Utc>,
}

impl Token {
    /// Its holder deleted their account: the token stays on the ledger, but nothing links it
    /// to anyone any more (the blind index its commitment was opened from was erased).
    pub fn holder_left(&self) -> bool {
        self.holder_index.is_empty()
    }
}

/// A token's standing. The holder is not part of it: it never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Frozen { reason: String },
    Revoked { reason: String },
}

impl TokenStatus {
    /// One token in each state (reasons empty), for whatever lists every state.
    pub const ALL: [TokenStatus; 3] = [
        TokenStatus::Active,
        TokenStatus::Frozen { reason: String::new() },
        TokenStatus::Revoked { reason: String::new() },
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Frozen { .. } => "frozen",
            TokenStatus::Revoked { .. } => "revoked",
        }
    }

    pub fn from_parts(status: &str, reason: Option<&str>) -> Option<Self> {
        let reason = || reason.unwrap_or_default().to_owned();
        Some(match status {
            "active" => TokenStatus::Active,
            "frozen" => TokenStatus::Frozen { reason: reason() },
            "revoked" => TokenStatus::Revoked { reason: reason() },
            _ => return None,
        })
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            TokenStatus::Active => None,
            TokenStatus::Frozen { reason } | TokenStatus::Revoked { reason } => Some(reason),
        }
    }

    /// A reviewer suspends an active token (a complaint under investigation).
    pub fn freeze(&self, why: &str) -> Result<Self, TokenTransitionError> {
        match self {
            TokenStatus::Active => Ok(TokenStatus::Frozen { reason: reason(why)? }),
            _ => Err(TokenTransitionError::Illegal),
        }
    }

    /// A reviewer lifts a freeze: the investigation found nothing, and the token is the
    /// holder's again as before. Freezing is temporary by nature; only revoking is final.
    pub fn unfreeze(&self, why: &str) -> Result<Self, TokenTransitionError> {
        match self {
            TokenStatus::Frozen { .. } => {
                reason(why)?;
                Ok(TokenStatus::Active)
            }
            _ => Err(TokenTransitionError::Illegal),
        }
    }

    /// A reviewer revokes a token for good; the ledger keeps both the mint and the revocation.
    pub fn revoke(&self, why: &str) -> Result<Self, TokenTransitionError> {
        match self {
            TokenStatus::Active | TokenStatus::Frozen { .. } => Ok(TokenStatus::Revoked { reason: reason(why)? }),
            TokenStatus::Revoked { .. } => Err(TokenTransitionError::Illegal),
        }
    }
}

fn reason(text: &str) -> Result<String, TokenTransitionError> {
    super::given_reason(text).ok_or(TokenTransitionError::ReasonRequired)
}

/// A token status change that is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenTransitionError {
    #[error("a token can be frozen while active, unfrozen while frozen, and revoked unless already revoked")]
    Illegal,
    #[error("freezing, unfreezing or revoking a token needs a reason")]
    ReasonRequired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_statuses_round_trip() {
        for status in [
            TokenStatus::Active,
            TokenStatus::Frozen { reason: "r".into() },
            TokenStatus::Revoked { reason: "r".into() },
        ] {
            assert_eq!(TokenStatus::from_parts(status.as_str(), status.reason()), Some(status));
        }
    }

    #[test]
    fn tokens_are_frozen_and_revoked_with_reasons() {
        let frozen = TokenStatus::Active.freeze("投诉核查中").unwrap();
        assert_eq!(frozen.as_str(), "frozen");
        assert_eq!(frozen.freeze("again"), Err(TokenTransitionError::Illegal));
        let revoked = frozen.revoke("侵权").unwrap();
        assert_eq!(revoked.reason(), Some("侵权"));
        assert_eq!(revoked.revoke("x"), Err(TokenTransitionError::Illegal));
        assert_eq!(
            TokenStatus::Active.revoke(" "),
            Err(TokenTransitionError::ReasonRequired)
        );
    }

    #[test]
    fn a_freeze_is_lifted_with_a_reason_and_a_revocation_is_final() {
        let frozen = TokenStatus::Active.freeze("投诉核查中").unwrap();
        assert_eq!(frozen.unfreeze(""), Err(TokenTransitionError::ReasonRequired));
        assert_eq!(frozen.unfreeze("核查无误"), Ok(TokenStatus::Active));
        assert_eq!(TokenStatus::Active.unfreeze("x"), Err(TokenTransitionError::Illegal));
        let revoked = frozen.revoke("侵权").unwrap();
        assert_eq!(revoked.unfreeze("x"), Err(TokenTransitionError::Illegal));
    }
}
