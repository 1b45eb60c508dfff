//! Claiming collectibles: a verified person's claim goes to the [`minter`], which decides it
//! with the whole rule in one transaction under the collection's lock; and what a visitor's
//! claim would meet now ([`outlook`]), for the claim area of a collection's or a code's page.
//! A claim key seen before returns its token; a token's holder never changes.

pub mod minter;

use chrono::{DateTime, Utc};

use self::minter::{ClaimRequest, MintError, Minted};
use super::{ClaimHint, ServiceError, ServiceResult, Services, codes, identity};
use crate::crypto;
use crate::domain::account::Email;
use crate::domain::claim::{ClaimFacts, ClaimRefusal, CodeState};
use crate::domain::claim_code::ClaimCode;
use crate::domain::collection::{ClaimMode, Collection};
use crate::domain::governance::CountedRefusal;
use crate::domain::identity::IdentityStatus;
use crate::domain::ids::{CollectionId, TokenId, UserId};
use crate::store;
pub use crate::store::sessions::VerifiedIdentity;

/// A signed-in person as a claim sees them.
#[derive(Debug, Clone)]
pub struct Claimant {
    pub user: UserId,
    /// The account's address, for allowlist collections.
    pub email: Email,
    /// Their verified identity; `None` until verified.
    pub verified: Option<VerifiedIdentity>,
    /// They accepted the current platform rules, user agreement and privacy policy.
    pub policies_accepted: bool,
}

/// Claim keys are the platform's own random tokens, or a client's idempotency key of the same
/// alphabet.
pub fn valid_claim_key(key: &str) -> bool {
    (16..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Claims a token of `collection`, with a claim code where the collection needs one. A claim
/// key seen before returns its token (the minter looks it up first).
pub async fn claim(
    services: &Services,
    claimant: &Claimant,
    collection: CollectionId,
    claim_key: &str,
    code: Option<&ClaimCode>,
) -> ServiceResult<Minted> {
    if !valid_claim_key(claim_key) {
        return Err(ServiceError::BadInput);
    }
    let Some(verified) = &claimant.verified else {
        return Err(ServiceError::ClaimRefused {
            refusal: ClaimRefusal::IdentityNotVerified,
            hint: None,
        });
    };
    if !verified.consented {
        return Err(ServiceError::ClaimRefused {
            refusal: ClaimRefusal::IdConsentNeeded,
            hint: None,
        });
    }
    let birth_date = identity::birth_date(services, claimant.user, verified, Utc::now())?;
    let holder_index = verified.blind_index.clone();
    let salt = crypto::random_bytes();
    let request = ClaimRequest {
        user: claimant.user,
        email: claimant.email.to_string(),
        holder_opening: services.vault.holder_opening(&holder_index, &salt),
        salt,
        holder_index,
        policies_accepted: claimant.policies_accepted,
        birth_date,
        minimum_age: services.minimum_age,
        filings: services.filings,
        collection,
        claim_key: claim_key.to_owned(),
        code: code.cloned(),
    };
    match services.minter.claim(&services.db, request).await {
        Ok(minted) => {
            services.entries_queued();
            Ok(minted)
        }
        Err(err) => Err(refused(services, claimant.user, collection, err).await),
    }
}

/// Claims with the claim code the person typed or scanned.
pub async fn claim_with_code(
    services: &Services,
    claimant: &Claimant,
    typed: &str,
    claim_key: &str,
) -> ServiceResult<Minted> {
    let invalid = || ServiceError::ClaimRefused {
        refusal: ClaimRefusal::CodeInvalid,
        hint: None,
    };
    let code = ClaimCode::parse(typed).ok_or_else(invalid)?;
    let stored = store::claim_codes::find(&services.db, &code.digest())
        .await?
        .ok_or_else(invalid)?;
    claim(services, claimant, stored.collection, claim_key, Some(&code)).await
}

/// A refused claim, with what answers it: the token already held, the issuer who keeps the list.
async fn refused(services: &Services, user: UserId, collection: CollectionId, err: MintError) -> ServiceError {
    let refusal = match err {
        MintError::Refused(refusal) => refusal,
        MintError::CodeRace => ClaimRefusal::CodeUsed,
        MintError::KeyReused => return ServiceError::IdempotencyKeyReused,
        MintError::UnknownCollection => return ServiceError::NotFound,
        MintError::Store(err) => return ServiceError::Store(err),
        err @ (MintError::Encode(_) | MintError::Interrupted) => return ServiceError::internal(err),
    };
    if refusal == ClaimRefusal::AgeRestricted {
        super::governance::count_refusal(services, CountedRefusal::AgeRestrictedClaim, Utc::now()).await;
    }
    // A hint is a courtesy: failing to find one leaves the refusal as it is.
    let hint = match refusal {
        ClaimRefusal::LimitReached => store::tokens::first_held_in(&services.db, user, collection)
            .await
            .ok()
            .flatten()
            .map(|token| ClaimHint::HeldToken(token.id)),
        ClaimRefusal::NotOnAllowlist => store::collections::find(&services.db, collection)
            .await
            .ok()
            .flatten()
            .map(|c| ClaimHint::AskIssuer(c.issuer)),
        _ => None,
    };
    ServiceError::ClaimRefused { refusal, hint }
}

/// What stands in the way of a visitor's claim now, with what the page needs to say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outlook {
    /// A signed-in, verified person may claim.
    Claimable,
    /// Nothing about the collection stands in the way; the visitor must sign in first.
    SignIn,
    /// The claim would be refused; for an unverified person, where their check stands, and for
    /// a person at the limit, a token they hold.
    Refused {
        refusal: ClaimRefusal,
        identity: Option<IdentityStatus>,
        held: Option<TokenId>,
    },
}

/// What `collection` would answer this visitor's claim now. `code` is the state of the claim
/// code the visitor holds, on a code's page. The claim is decided again, under the
/// collection's lock, when it is sent.
pub async fn outlook(
    services: &Services,
    collection: &Collection,
    visitor: Option<&Claimant>,
    code: Option<CodeState>,
    now: DateTime<Utc>,
) -> ServiceResult<Outlook> {
    let issuer = store::issuers::find(&services.db, collection.issuer).await?;
    let issuer_active = issuer.as_ref().is_some_and(|i| i.status.is_active());
    let filings_current = issuer.is_some_and(|i| services.filings.current(&i.filings, now));
    let terms = &collection.terms;
    let mut facts = ClaimFacts {
        status: &collection.status,
        claim_mode: terms.claim_mode,
        claim_starts_at: terms.claim_starts_at,
        claim_ends_at: terms.claim_ends_at,
        edition_size: terms.edition_size,
        per_person_limit: terms.per_person_limit,
        minted: collection.claimed_count,
        issuer_active,
        filings_current,
        identity_verified: true,
        id_consent: true,
        policies_accepted: true,
        birth_date: None,
        minimum_age: services.minimum_age.with(terms.minimum_age),
        held_by_person: 0,
        code,
        on_allowlist: true,
        now,
    };
    let Some(claimant) = visitor else {
        // Signed out: the collection's own obstacles, or an invitation to sign in first.
        facts.code = code.or(Some(CodeState::Unused));
        return Ok(match crate::domain::claim::outlook(&facts) {
            Err(refusal) => Outlook::Refused {
                refusal,
                identity: None,
                held: None,
            },
            Ok(()) => Outlook::SignIn,
        });
    };
    facts.identity_verified = claimant.verified.is_some();
    facts.policies_accepted = claimant.policies_accepted;
    facts.id_consent = claimant.verified.as_ref().is_none_or(|verified| verified.consented);
    if let Some(verified) = claimant.verified.as_ref().filter(|verified| verified.consented) {
        let index = verified.blind_index.as_str();
        let held = store::tokens::held_by_many(&services.db, collection.id, &[index]).await?;
        facts.held_by_person = held.get(index).copied().unwrap_or(0);
        facts.birth_date = Some(identity::birth_date(services, claimant.user, verified, now)?);
    }
    if terms.claim_mode == ClaimMode::Allowlist {
        facts.on_allowlist = codes::on_allowlist(services, collection, claimant.email.as_str()).await?;
    }
    let refusal = match crate::domain::claim::outlook(&facts) {
        Ok(()) => return Ok(Outlook::Claimable),
        Err(refusal) => refusal,
    };
    let identity = match refusal {
        ClaimRefusal::IdentityNotVerified => store::identities::find(&services.db, claimant.user)
            .await?
            .map(|i| i.status),
        _ => None,
    };
    let held = match refusal {
        ClaimRefusal::LimitReached => store::tokens::first_held_in(&services.db, claimant.user, collection.id)
            .await?
            .map(|t| t.id),
        _ => None,
    };
    Ok(Outlook::Refused {
        refusal,
        identity,
        held,
    })
}
