//! The claim area of a collection's page and of a claim code's page: the button when the
//! visitor can claim now, otherwise what stands in the way (the collection's obstacles before
//! the visitor's) and a link to what to do about it. The rule itself is
//! [`crate::domain::claim::outlook`]; the claim is decided again, under the collection's lock,
//! when it is sent.

use chrono::Utc;

use super::context::RequestContext;
use super::error::{AppResult, NextStep};
use crate::crypto;
use crate::domain::claim::{ClaimFacts, ClaimRefusal, CodeState, outlook};
use crate::domain::collection::Collection;
use crate::domain::collection::{ClaimMode, CollectionStatus};
use crate::domain::identity::IdentityStatus;
use crate::domain::ids::TokenId;
use crate::state::AppState;
use crate::store;

/// What the claim area shows.
pub struct ClaimBox {
    /// The situation, for styling and tests: `claimable`, `sign_in`, `enter_code`, or the
    /// refusal's code.
    pub state: &'static str,
    /// The explanation, in the reader's language; empty when the button says it all.
    pub message: String,
    /// Links that help: verify your identity, see your token, ask the issuer, log in.
    pub next: Vec<NextStep>,
    /// The idempotency key of the claim form, when the button is shown.
    pub claim_key: Option<String>,
    /// Where the claim form posts.
    pub action: String,
    /// The field for typing a claim code is shown.
    pub code_entry: bool,
}

impl ClaimBox {
    fn new(state: &'static str, message: String) -> Self {
        ClaimBox {
            state,
            message,
            next: Vec::new(),
            claim_key: None,
            action: String::new(),
            code_entry: false,
        }
    }

    /// The visitor already claimed `token` with the code on this page.
    pub fn claimed_with_code(ctx: &RequestContext, token: TokenId) -> Self {
        ClaimBox::new("claimed_with_code", ctx.t("claim.claimed_with_code").to_owned())
            .with(format!("/tokens/{token}"), "claim.see_token")
    }

    fn with(mut self, href: impl Into<String>, label: &'static str) -> Self {
        self.next.push(NextStep::new(href, label));
        self
    }
}

fn encoded(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// The claim area of `record` for this visitor. `code` is the state of the claim code the
/// visitor holds (on a code's page); `here` is the page, to come back to after a detour, and
/// `action` where its claim form posts.
pub async fn for_visitor(
    state: &AppState,
    ctx: &RequestContext,
    record: &Collection,
    code: Option<CodeState>,
    here: &str,
    action: &str,
) -> AppResult<ClaimBox> {
    let issuer_active = store::issuers::find(&state.services.db, record.issuer)
        .await?
        .is_some_and(|i| i.status.is_active());
    let terms = &record.terms;
    let mut facts = ClaimFacts {
        status: &record.status,
        claim_mode: terms.claim_mode,
        claim_starts_at: terms.claim_starts_at,
        claim_ends_at: terms.claim_ends_at,
        edition_size: terms.edition_size,
        per_person_limit: terms.per_person_limit,
        minted: record.claimed_count,
        issuer_active,
        identity_verified: true,
        held_by_person: 0,
        code,
        on_allowlist: true,
        now: Utc::now(),
    };
    let Some(user) = &ctx.user else {
        // Signed out: the collection's own obstacles, or an invitation to sign in first.
        facts.code = code.or(Some(CodeState::Unused));
        return Ok(match outlook(&facts) {
            Err(refusal) => refused(ctx, record, refusal),
            Ok(()) => ClaimBox::new("sign_in", ctx.t("claim.sign_in").to_owned())
                .with(format!("/login?next={}", encoded(here)), "claim.login")
                .with(format!("/signup?next={}", encoded(here)), "claim.signup"),
        });
    };
    facts.identity_verified = user.identity_verified();
    if let Some(index) = &user.verified_blind_index {
        let held = store::tokens::held_by_many(&state.services.db, record.id, &[index.as_str()]).await?;
        facts.held_by_person = held.get(index).copied().unwrap_or(0);
    }
    if terms.claim_mode == ClaimMode::Allowlist {
        facts.on_allowlist = store::allowlists::contains(&state.services.db, record.id, &user.email).await?;
    }
    Ok(match outlook(&facts) {
        Ok(()) => {
            let mut claimable = ClaimBox::new("claimable", String::new());
            claimable.claim_key = Some(crypto::random_token());
            claimable.action = action.to_owned();
            claimable
        }
        Err(ClaimRefusal::IdentityNotVerified) => {
            let identity = store::identities::find(&state.services.db, user.id).await?;
            let key = match identity.map(|i| i.status) {
                Some(IdentityStatus::Pending) => "claim.identity_pending",
                Some(IdentityStatus::Rejected { .. }) => "claim.identity_rejected",
                _ => "claim.identity_needed",
            };
            ClaimBox::new("identity_not_verified", ctx.t(key).to_owned())
                .with(format!("/identity?next={}", encoded(here)), "claim.verify_identity")
        }
        Err(ClaimRefusal::LimitReached) => {
            let mut holding = ClaimBox::new("limit_reached", ctx.t("claim.holding").to_owned());
            if let Some(token) = store::tokens::first_held_in(&state.services.db, user.id, record.id).await? {
                holding = holding.with(format!("/tokens/{}", token.id), "claim.see_token");
            }
            holding.with("/me/collection", "error.next_my_collection")
        }
        Err(ClaimRefusal::NotOnAllowlist) => ClaimBox::new(
            "not_on_allowlist",
            ctx.tf("claim.not_listed", &[("email", user.email.as_str())]),
        )
        .with(format!("/issuers/{}", record.issuer), "claim.ask_issuer"),
        Err(refusal) => refused(ctx, record, refusal),
    })
}

/// The area for a refusal that is the collection's, not the visitor's.
fn refused(ctx: &RequestContext, record: &Collection, refusal: ClaimRefusal) -> ClaimBox {
    let terms = &record.terms;
    let message = match refusal {
        ClaimRefusal::NotYetOpen => ctx.tf("claim.opens_at", &[("time", &ctx.time(terms.claim_starts_at))]),
        ClaimRefusal::Closed if record.status == CollectionStatus::Closed => ctx.t("claim.closed_by_issuer").to_owned(),
        ClaimRefusal::Closed => ctx.tf("claim.ended_at", &[("time", &ctx.time(terms.claim_ends_at))]),
        ClaimRefusal::SoldOut => ctx.tf("claim.all_claimed", &[("count", &terms.edition_size.to_string())]),
        ClaimRefusal::CodeRequired => {
            let mut entry = ClaimBox::new("enter_code", ctx.t("claim.codes_only").to_owned());
            entry.code_entry = true;
            return entry;
        }
        ClaimRefusal::CodeInvalid | ClaimRefusal::CodeUsed => {
            let message = ctx.t(&format!("claim.refused_{}", refusal.code())).to_owned();
            return ClaimBox::new(refusal.code(), message).with("/c", "error.next_type_code");
        }
        other => ctx.t(&format!("claim.refused_{}", other.code())).to_owned(),
    };
    ClaimBox::new(refusal.code(), message).with("/explore", "error.next_explore")
}
