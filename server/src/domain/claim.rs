//! Claiming a collectible and the token it mints.
//!
//! [`check_claim`] is the whole rule: given the facts read inside the claim's transaction (with
//! the collection locked), it either names the next serial or says why the claim is refused.
//! The per-person limit counts tokens per verified identity (its blind index), not per account;
//! the age limit is the platform's or the collection's, whichever is higher ([`super::age`]).
//!
//! A token's holder is fixed when it is minted. There is no operation here, or anywhere, that
//! changes it: collectibles cannot be transferred, sold or given away.

use chrono::{DateTime, NaiveDate, Utc};
use sha3::{Digest, Sha3_256};

use super::age::MinimumAge;
use super::collection::{ClaimMode, CollectionStatus};

/// Everything a claim is decided on.
#[derive(Debug, Clone)]
pub struct ClaimFacts<'a> {
    pub status: &'a CollectionStatus,
    pub claim_mode: ClaimMode,
    pub claim_starts_at: DateTime<Utc>,
    pub claim_ends_at: DateTime<Utc>,
    pub edition_size: u32,
    pub per_person_limit: u32,
    /// Tokens minted so far.
    pub minted: u64,
    pub issuer_active: bool,
    /// The issuer's and the operator's filings are all valid (none ran out unrenewed).
    pub filings_current: bool,
    pub identity_verified: bool,
    /// The claimant's consent to processing their ID number is in force.
    pub id_consent: bool,
    /// The claimant accepted the current platform rules, user agreement and privacy policy.
    pub policies_accepted: bool,
    /// The date of birth in the claimant's verified ID number; `None` where nobody in
    /// particular is asking (what a collection's page tells anyone).
    pub birth_date: Option<NaiveDate>,
    /// The youngest age that may claim: the platform's, or the collection's if higher.
    pub minimum_age: MinimumAge,
    /// Tokens of this collection the claimant's verified identity already holds.
    pub held_by_person: u64,
    /// The claim code presented with the claim, if any (already matched to this collection).
    pub code: Option<CodeState>,
    /// Whether the claimant's email address is on the collection's allowlist.
    pub on_allowlist: bool,
    pub now: DateTime<Utc>,
}

/// A presented claim code that belongs to the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeState {
    Unused,
    Used,
}

/// Why a claim was refused; each is shown to the collector as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    IdentityNotVerified,
    /// The claimant withdrew their consent to processing their ID number, or never gave it
    /// (verified before consents were recorded).
    IdConsentNeeded,
    /// The claimant has not accepted the current version of the platform's rules, user
    /// agreement or privacy policy.
    PoliciesNotAccepted,
    /// The claimant is younger than the collection's minimum age.
    AgeRestricted,
    NotPublished,
    Frozen,
    IssuerInactive,
    /// A filing of the issuer or the operator ran out and no renewal has been accepted yet.
    FilingsLapsed,
    NotYetOpen,
    Closed,
    SoldOut,
    LimitReached,
    CodeRequired,
    /// The code does not exist, or belongs to another collection.
    CodeInvalid,
    CodeUsed,
    NotOnAllowlist,
}

impl ClaimRefusal {
    pub const ALL: [ClaimRefusal; 16] = [
        ClaimRefusal::IdentityNotVerified,
        ClaimRefusal::IdConsentNeeded,
        ClaimRefusal::PoliciesNotAccepted,
        ClaimRefusal::AgeRestricted,
        ClaimRefusal::NotPublished,
        ClaimRefusal::Frozen,
        ClaimRefusal::IssuerInactive,
        ClaimRefusal::FilingsLapsed,
        ClaimRefusal::NotYetOpen,
        ClaimRefusal::Closed,
        ClaimRefusal::SoldOut,
        ClaimRefusal::LimitReached,
        ClaimRefusal::CodeRequired,
        ClaimRefusal::CodeInvalid,
        ClaimRefusal::CodeUsed,
        ClaimRefusal::NotOnAllowlist,
    ];

    /// A stable code for the JSON API and the message catalogue.
    pub fn code(self) -> &'static str {
        match self {
            ClaimRefusal::IdentityNotVerified => "identity_not_verified",
            ClaimRefusal::IdConsentNeeded => "id_consent_needed",
            ClaimRefusal::PoliciesNotAccepted => "policies_not_accepted",
            ClaimRefusal::AgeRestricted => "age_restricted",
            ClaimRefusal::NotPublished => "not_published",
            ClaimRefusal::Frozen => "claims_frozen",
            ClaimRefusal::IssuerInactive => "issuer_suspended",
            ClaimRefusal::FilingsLapsed => "filings_lapsed",
            ClaimRefusal::NotYetOpen => "not_yet_open",
            ClaimRefusal::Closed => "claims_closed",
            ClaimRefusal::SoldOut => "sold_out",
            ClaimRefusal::LimitReached => "limit_reached",
            ClaimRefusal::CodeRequired => "code_required",
            ClaimRefusal::CodeInvalid => "code_invalid",
            ClaimRefusal::CodeUsed => "code_used",
            ClaimRefusal::NotOnAllowlist => "not_on_allowlist",
        }
    }

    /// The English explanation, for JSON clients and logs.
    pub fn message(self) -> &'static str {
        match self {
            ClaimRefusal::IdentityNotVerified => {
                "only verified people can claim; complete real-name verification first"
            }
            ClaimRefusal::IdConsentNeeded => {
                "claiming uses your ID number, which needs your consent; give it on the identity page first"
            }
            ClaimRefusal::PoliciesNotAccepted => {
                "the platform's rules, user agreement or privacy policy changed; accept the current versions first"
            }
            ClaimRefusal::AgeRestricted => {
                "the date of birth in your verified ID is below this collection's minimum age"
            }
            ClaimRefusal::NotPublished => "this collection is not open for claims",
            ClaimRefusal::Frozen => "claims for this collection are paused",
            ClaimRefusal::IssuerInactive => "the issuer of this collection is suspended",
            ClaimRefusal::FilingsLapsed => {
                "claims are paused until a regulatory filing that ran out is renewed and accepted"
            }
            ClaimRefusal::NotYetOpen => "claims have not opened yet",
            ClaimRefusal::Closed => "claims for this collection have closed",
            ClaimRefusal::SoldOut => "every token of this collection has been claimed",
            ClaimRefusal::LimitReached => "you already hold as many of this collection as one person may",
            ClaimRefusal::CodeRequired => "this collection is claimed with a claim code",
            ClaimRefusal::CodeInvalid => "this claim code does not exist; check what you typed",
            ClaimRefusal::CodeUsed => "this claim code has already been used",
            ClaimRefusal::NotOnAllowlist => "this collection is only for people the issuer listed by email address",
        }
    }
}

impl std::fmt::Display for ClaimRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ClaimRefusal {}

/// Decides a claim: the serial to mint (1..=edition size), or why not. Refusals are checked
/// from the collector's side outwards, so the most useful reason wins.
pub fn check_claim(facts: &ClaimFacts<'_>) -> Result<u32, ClaimRefusal> {
    if !facts.identity_verified {
        return Err(ClaimRefusal::IdentityNotVerified);
    }
    if !facts.id_consent {
        return Err(ClaimRefusal::IdConsentNeeded);
    }
    if !facts.policies_accepted {
        return Err(ClaimRefusal::PoliciesNotAccepted);
    }
    if let Some(birth) = facts.birth_date
        && !facts.minimum_age.met_by(birth, facts.now)
    {
        return Err(ClaimRefusal::AgeRestricted);
    }
    match facts.status {
        CollectionStatus::Published => {}
        CollectionStatus::Frozen { .. } => return Err(ClaimRefusal::Frozen),
        CollectionStatus::Closed => return Err(ClaimRefusal::Closed),
        _ => return Err(ClaimRefusal::NotPublished),
    }
    if !facts.issuer_active {
        return Err(ClaimRefusal::IssuerInactive);
    }
    if !facts.filings_current {
        return Err(ClaimRefusal::FilingsLapsed);
    }
    if facts.now < facts.claim_starts_at {
        return Err(ClaimRefusal::NotYetOpen);
    }
    if facts.now >= facts.claim_ends_at {
        return Err(ClaimRefusal::Closed);
    }
    if facts.minted >= u64::from(facts.edition_size) {
        return Err(ClaimRefusal::SoldOut);
    }
    if facts.held_by_person >= u64::from(facts.per_person_limit) {
        return Err(ClaimRefusal::LimitReached);
    }
    match (facts.claim_mode, facts.code) {
        (ClaimMode::ClaimCodes, None) => return Err(ClaimRefusal::CodeRequired),
        (ClaimMode::ClaimCodes, Some(CodeState::Used)) => return Err(ClaimRefusal::CodeUsed),
        (ClaimMode::Allowlist, _) if !facts.on_allowlist => return Err(ClaimRefusal::NotOnAllowlist),
        _ => {}
    }
    u32::try_from(facts.minted + 1).map_err(|_| ClaimRefusal::SoldOut)
}

/// What a collection's page tells a visitor about claiming it: the collection's own obstacles
/// first (an edition that ran out has run out for everyone, verified or not), then the
/// visitor's. `Ok` means a claim would succeed now; for a claim-code collection without a code
/// in hand the answer is [`ClaimRefusal::CodeRequired`].
pub fn outlook(facts: &ClaimFacts<'_>) -> Result<(), ClaimRefusal> {
    let anyone = ClaimFacts {
        identity_verified: true,
        id_consent: true,
        policies_accepted: true,
        birth_date: None,
        held_by_person: 0,
        on_allowlist: true,
        code: Some(CodeState::Unused),
        ..facts.clone()
    };
    check_claim(&anyone)?;
    check_claim(facts).map(|_| ())
}

/// What the ledger says about a token's holder: SHA3-256 over the opening, a secret of that
/// token alone that only the holder's certificate carries (the server derives it from the
/// holder's blind index, the token's salt and a key of its own). Without the opening the
/// commitment reveals nothing; with it, the holder proves the token is theirs, and two
/// certificates of one person cannot be linked to each other.
pub fn holder_commitment(opening: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha3_256::new();
    hasher.update(b"keepsake-holder/2\n");
    hasher.update(opening);
    hasher.finalize().into()
}

/// The holder commitment of tokens minted before openings: over the holder's blind index and
/// the token's salt, so each certificate showed the same blind index. Kept so that their
/// certificates still verify.
pub fn legacy_holder_commitment(blind_index: &str, salt: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha3_256::new();
    hasher.update(b"keepsake-holder/1\n");
    hasher.update(blind_index.as_bytes());
    hasher.update(b"\n");
    hasher.update(salt);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use proptest::prelude::*;

    use super::*;

    fn facts(status: &CollectionStatus) -> ClaimFacts<'_> {
        let now = DateTime::parse_from_rfc3339("2026-12-10T00:00:00Z").unwrap().to_utc();
        ClaimFacts {
            status,
            claim_mode: ClaimMode::Open,
            claim_starts_at: now - TimeDelta::days(1),
            claim_ends_at: now + TimeDelta::days(1),
            edition_size: 3,
            per_person_limit: 1,
            minted: 0,
            issuer_active: true,
            filings_current: true,
            identity_verified: true,
            id_consent: true,
            policies_accepted: true,
            birth_date: NaiveDate::from_ymd_opt(2000, 1, 1),
            minimum_age: MinimumAge::ADULT,
            held_by_person: 0,
            code: None,
            on_allowlist: false,
            now,
        }
    }

    #[test]
    fn the_younger_than_the_minimum_age_are_refused() {
        let published = CollectionStatus::Published;
        let base = facts(&published);
        let turns_18_tomorrow = NaiveDate::from_ymd_opt(2008, 12, 11);
        let turned_18_today = NaiveDate::from_ymd_opt(2008, 12, 10);
        let minor = ClaimFacts {
            birth_date: turns_18_tomorrow,
            ..base.clone()
        };
        assert_eq!(check_claim(&minor), Err(ClaimRefusal::AgeRestricted));
        assert_eq!(outlook(&minor), Err(ClaimRefusal::AgeRestricted));
        let adult = ClaimFacts {
            birth_date: turned_18_today,
            ..base.clone()
        };
        assert_eq!(check_claim(&adult), Ok(1));
        let twenty_and_over = ClaimFacts {
            minimum_age: MinimumAge::new(20).unwrap(),
            ..adult.clone()
        };
        assert_eq!(check_claim(&twenty_and_over), Err(ClaimRefusal::AgeRestricted));
        let sold_out = ClaimFacts { minted: 3, ..minor };
        assert_eq!(
            outlook(&sold_out),
            Err(ClaimRefusal::SoldOut),
            "the page names the collection's obstacle first"
        );
        assert_eq!(check_claim(&sold_out), Err(ClaimRefusal::AgeRestricted));
    }

    #[test]
    fn the_page_names_the_collections_obstacles_before_the_visitors() {
        let status = CollectionStatus::Published;
        let mut unverified = facts(&status);
        unverified.identity_verified = false;
        assert_eq!(outlook(&unverified), Err(ClaimRefusal::IdentityNotVerified));
        unverified.minted = 3;
        assert_eq!(
            outlook(&unverified),
            Err(ClaimRefusal::SoldOut),
            "sold out for everyone"
        );
        let mut early = facts(&status);
        early.identity_verified = false;
        early.claim_starts_at = early.now + TimeDelta::hours(1);
        assert_eq!(outlook(&early), Err(ClaimRefusal::NotYetOpen));
        let mut holding = facts(&status);
        holding.held_by_person = 1;
        assert_eq!(outlook(&holding), Err(ClaimRefusal::LimitReached));
        let mut coded = facts(&status);
        coded.claim_mode = ClaimMode::ClaimCodes;
        assert_eq!(outlook(&coded), Err(ClaimRefusal::CodeRequired));
        coded.code = Some(CodeState::Unused);
        assert_eq!(outlook(&coded), Ok(()));
        let mut listed = facts(&status);
        listed.claim_mode = ClaimMode::Allowlist;
        assert_eq!(outlook(&listed), Err(ClaimRefusal::NotOnAllowlist));
        listed.on_allowlist = true;
        assert_eq!(outlook(&listed), Ok(()));
        let frozen = CollectionStatus::Frozen {
            reason: "complaint".into(),
        };
        let mut paused = facts(&frozen);
        paused.identity_verified = false;
        assert_eq!(outlook(&paused), Err(ClaimRefusal::Frozen));
    }

    #[test]
    fn an_open_claim_gets_the_next_serial() {
        let published = CollectionStatus::Published;
        assert_eq!(check_claim(&facts(&published)), Ok(1));
        let later = ClaimFacts {
            minted: 2,
            ..facts(&published)
        };
        assert_eq!(check_claim(&later), Ok(3));
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let published = CollectionStatus::Published;
        let base = facts(&published);
        let frozen = CollectionStatus::Frozen { reason: "x".into() };
        let cases = [
            (
                ClaimFacts {
                    identity_verified: false,
                    ..base.clone()
                },
                ClaimRefusal::IdentityNotVerified,
            ),
            (
                ClaimFacts {
                    policies_accepted: false,
                    ..base.clone()
                },
                ClaimRefusal::PoliciesNotAccepted,
            ),
            (
                ClaimFacts {
                    birth_date: NaiveDate::from_ymd_opt(2010, 1, 1),
                    ..base.clone()
                },
                ClaimRefusal::AgeRestricted,
            ),
            (
                ClaimFacts {
                    status: &CollectionStatus::Approved,
                    ..base.clone()
                },
                ClaimRefusal::NotPublished,
            ),
            (
                ClaimFacts {
                    status: &frozen,
                    ..base.clone()
                },
                ClaimRefusal::Frozen,
            ),
            (
                ClaimFacts {
                    status: &CollectionStatus::Closed,
                    ..base.clone()
                },
                ClaimRefusal::Closed,
            ),
            (
                ClaimFacts {
                    issuer_active: false,
                    ..base.clone()
                },
                ClaimRefusal::IssuerInactive,
            ),
            (
                ClaimFacts {
                    filings_current: false,
                    ..base.clone()
                },
                ClaimRefusal::FilingsLapsed,
            ),
            (
                ClaimFacts {
                    now: base.claim_starts_at - TimeDelta::seconds(1),
                    ..base.clone()
                },
                ClaimRefusal::NotYetOpen,
            ),
            (
                ClaimFacts {
                    now: base.claim_ends_at,
                    ..base.clone()
                },
                ClaimRefusal::Closed,
            ),
            (
                ClaimFacts {
                    minted: 3,
                    ..base.clone()
                },
                ClaimRefusal::SoldOut,
            ),
            (
                ClaimFacts {
                    held_by_person: 1,
                    ..base.clone()
                },
                ClaimRefusal::LimitReached,
            ),
            (
                ClaimFacts {
                    claim_mode: ClaimMode::ClaimCodes,
                    ..base.clone()
                },
                ClaimRefusal::CodeRequired,
            ),
            (
                ClaimFacts {
                    claim_mode: ClaimMode::ClaimCodes,
                    code: Some(CodeState::Used),
                    ..base.clone()
                },
                ClaimRefusal::CodeUsed,
            ),
        ];
        for (case, refusal) in cases {
            assert_eq!(check_claim(&case), Err(refusal), "{case:?}");
        }
        let codes: std::collections::HashSet<_> = ClaimRefusal::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), ClaimRefusal::ALL.len(), "codes are distinct");
        let listed_only = ClaimFacts {
            claim_mode: ClaimMode::Allowlist,
            ..base.clone()
        };
        assert_eq!(check_claim(&listed_only), Err(ClaimRefusal::NotOnAllowlist));
        let listed = ClaimFacts {
            on_allowlist: true,
            ..listed_only
        };
        assert_eq!(check_claim(&listed), Ok(1));
        let with_code = ClaimFacts {
            claim_mode: ClaimMode::ClaimCodes,
            code: Some(CodeState::Unused),
            ..base.clone()
        };
        assert_eq!(check_claim(&with_code), Ok(1), "an unused code claims");
    }

    #[test]
    fn commitments_hide_the_holder_behind_the_opening() {
        let a = holder_commitment(&[1; 32]);
        assert_eq!(a, holder_commitment(&[1; 32]));
        assert_ne!(a, holder_commitment(&[2; 32]));
        let legacy = legacy_holder_commitment("index-a", &[1; 32]);
        assert_ne!(legacy, legacy_holder_commitment("index-a", &[2; 32]));
        assert_ne!(legacy, legacy_holder_commitment("index-b", &[1; 32]));
        assert_ne!(legacy, a, "the two kinds are separated by their tags");
    }

    proptest! {
        /// Whatever order people claim in, supply and the per-person limit hold, and serials
        /// are handed out 1, 2, 3… without gaps or repeats.
        #[test]
        fn no_sequence_of_claims_exceeds_supply_or_the_limit(
            edition_size in 1u32..40,
            per_person_limit in 1u32..5,
            claimants in proptest::collection::vec(0usize..8, 0..120),
        ) {
            let published = CollectionStatus::Published;
            let mut held = [0u64; 8];
            let mut serials = Vec::new();
            for person in claimants {
                let case = ClaimFacts {
                    edition_size,
                    per_person_limit: per_person_limit.min(edition_size),
                    minted: serials.len() as u64,
                    held_by_person: held[person],
                    ..facts(&published)
                };
                if let Ok(serial) = check_claim(&case) {
                    serials.push(serial);
                    held[person] += 1;
                }
            }
            prop_assert!(serials.len() as u64 <= u64::from(edition_size));
            prop_assert!(held.iter().all(|h| *h <= u64::from(per_person_limit)));
            prop_assert_eq!(serials, (1..).take(held.iter().sum::<u64>() as usize).collect::<Vec<u32>>());
        }
    }
}
