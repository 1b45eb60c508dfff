//! The claim area of a collection's page and of a claim code's page: the button when the
//! visitor can claim now, otherwise what stands in the way (the collection's obstacles before
//! the visitor's) and a link to what to do about it. What stands in the way is the service's
//! [`Outlook`]; this module says it in the reader's language.

use chrono::Utc;

use crate::crypto;
use crate::domain::claim::{ClaimRefusal, CodeState};
use crate::domain::collection::{Collection, CollectionStatus};
use crate::domain::identity::IdentityStatus;
use crate::domain::ids::TokenId;
use crate::paths::{self, encoded};
use crate::services::claims::{self, Outlook};
use crate::state::AppState;
use crate::web::context::RequestContext;
use crate::web::error::{AppResult, NextStep};

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
            .with(paths::token(token), "claim.see_token")
    }

    fn with(mut self, href: impl Into<String>, label: &'static str) -> Self {
        self.next.push(NextStep::new(href, label));
        self
    }
}

/// The claim area of `collection` for this visitor. `code` is the state of the claim code the
/// visitor holds (on a code's page); `here` is the page, to come back to after a detour, and
/// `action` where its claim form posts.
pub async fn for_visitor(
    state: &AppState,
    ctx: &RequestContext,
    collection: &Collection,
    code: Option<CodeState>,
    here: &str,
    action: &str,
) -> AppResult<ClaimBox> {
    let claimant = ctx.user.as_ref().map(|user| user.claimant());
    let outlook = claims::outlook(&state.services, collection, claimant.as_ref(), code, Utc::now()).await?;
    Ok(match outlook {
        Outlook::Claimable => {
            let mut claimable = ClaimBox::new("claimable", String::new());
            claimable.claim_key = Some(crypto::random_token());
            claimable.action = action.to_owned();
            claimable
        }
        Outlook::SignIn => ClaimBox::new("sign_in", ctx.t("claim.sign_in").to_owned())
            .with(format!("/login?next={}", encoded(here)), "claim.login")
            .with(format!("/signup?next={}", encoded(here)), "claim.signup"),
        Outlook::Refused {
            refusal: ClaimRefusal::IdentityNotVerified,
            identity,
            ..
        } => {
            let key = match identity {
                Some(IdentityStatus::Pending) => "claim.identity_pending",
                Some(IdentityStatus::Rejected { .. }) => "claim.identity_rejected",
                _ => "claim.identity_needed",
            };
            ClaimBox::new("identity_not_verified", ctx.t(key).to_owned())
                .with(paths::identity(here), "claim.verify_identity")
        }
        Outlook::Refused {
            refusal: ClaimRefusal::IdConsentNeeded,
            ..
        } => ClaimBox::new("id_consent_needed", ctx.t("claim.id_consent_needed").to_owned())
            .with(paths::identity(here), "claim.give_id_consent"),
        Outlook::Refused {
            refusal: ClaimRefusal::LimitReached,
            held,
            ..
        } => {
            let mut holding = ClaimBox::new("limit_reached", ctx.t("claim.holding").to_owned());
            if let Some(token) = held {
                holding = holding.with(paths::token(token), "claim.see_token");
            }
            holding.with(paths::MY_COLLECTION, "error.next_my_collection")
        }
        Outlook::Refused {
            refusal: ClaimRefusal::NotOnAllowlist,
            ..
        } => {
            let email = ctx.user.as_ref().map(|u| u.email.to_string()).unwrap_or_default();
            ClaimBox::new("not_on_allowlist", ctx.tf("claim.not_listed", &[("email", &email)]))
                .with(paths::issuer(collection.issuer), "claim.ask_issuer")
        }
        Outlook::Refused {
            refusal: ClaimRefusal::PoliciesNotAccepted,
            ..
        } => ClaimBox::new("policies_not_accepted", ctx.t("claim.policies_changed").to_owned()).with(
            format!("/policies/accept?next={}", encoded(here)),
            "claim.read_and_accept",
        ),
        Outlook::Refused {
            refusal: ClaimRefusal::AgeRestricted,
            ..
        } => {
            let age = ctx.minimum_age.with(collection.terms.minimum_age);
            ClaimBox::new(
                "age_restricted",
                ctx.tf("claim.age_restricted", &[("age", &age.to_string())]),
            )
            .with("/explore", "error.next_explore")
        }
        Outlook::Refused { refusal, .. } => refused(ctx, collection, refusal),
    })
}

/// The area for a refusal that is the collection's, not the visitor's.
fn refused(ctx: &RequestContext, collection: &Collection, refusal: ClaimRefusal) -> ClaimBox {
    let terms = &collection.terms;
    let message = match refusal {
        ClaimRefusal::NotYetOpen => ctx.tf("claim.opens_at", &[("time", &ctx.time(terms.claim_starts_at))]),
        ClaimRefusal::Closed if collection.status == CollectionStatus::Closed => {
            ctx.t("claim.closed_by_issuer").to_owned()
        }
        ClaimRefusal::Closed => ctx.tf("claim.ended_at", &[("time", &ctx.time(terms.claim_ends_at))]),
        ClaimRefusal::SoldOut => ctx.tf("claim.all_claimed", &[("count", &terms.edition_size.to_string())]),
        ClaimRefusal::CodeRequired => {
            let mut entry = ClaimBox::new("enter_code", ctx.t("claim.codes_only").to_owned());
            entry.code_entry = true;
            return entry;
        }
        ClaimRefusal::CodeInvalid | ClaimRefusal::CodeUsed => {
            let message = ctx.t(&format!("claim.refused_{}", refusal.code())).to_owned();
            return ClaimBox::new(refusal.code(), message).with(paths::TYPE_A_CODE, "error.next_type_code");
        }
        other => ctx.t(&format!("claim.refused_{}", other.code())).to_owned(),
    };
    ClaimBox::new(refusal.code(), message).with("/explore", "error.next_explore")
}
