//! Issuers on the public side: applying for one (KYB), an approved issuer's public page with
//! its collections, and the invitation link a member follows to join.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;

use super::application::{self, ApplyTemplate, Checked};
use crate::domain::collection::PublicFilter;
use crate::domain::governance::CountedRefusal;
use crate::domain::ids::IssuerId;
use crate::domain::issuer::{ApplicationFields, InvitationBlocker, Issuer, MemberStanding};
use crate::domain::page::PageSize;
use crate::paths;
use crate::services::{collections, governance, identity, issuers};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::form_result;
use crate::web::render::render;
use crate::web::share::Share;
use crate::web::views::{CollectionCard, cards};

/// Collections an issuer's page lists before linking to the rest.
const ISSUER_PAGE_COLLECTIONS: PageSize = PageSize::fixed(12);

pub async fn apply_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
) -> AppResult<Html<String>> {
    let standing = identity::member_standing(&state.services, user.id, user.verified.as_ref(), Utc::now())?;
    let mut page = ApplyTemplate::new(ctx, ApplicationFields::default(), None);
    page.standing = standing;
    render(page)
}

pub async fn apply(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    multipart: Multipart,
) -> AppResult<Response> {
    // The body is read before any refusal: a client still sending it when the answer and the
    // connection's close arrive sees a broken pipe instead of the answer.
    let form = application::read(multipart).await?;
    let now = Utc::now();
    match identity::member_standing(&state.services, user.id, user.verified.as_ref(), now)? {
        MemberStanding::Eligible => {}
        MemberStanding::Unverified => return Err(AppError::Forbidden),
        MemberStanding::TooYoung => {
            governance::count_refusal(&state.services, CountedRefusal::TooYoungMember, now).await;
            return Err(AppError::TooYoung);
        }
    }
    let submission = form_result::submission(&ctx, &form.form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let actor = ctx.actor(user.id);
    let (application, documents) = match application::check(&state, ctx, form, None).await? {
        Checked::Valid(application, documents) => (application, documents),
        Checked::Again(page) => return Ok(page),
    };
    let location = issuers::apply(
        &state.services,
        &actor,
        &submission,
        &application,
        &documents,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&location).into_response())
}

#[derive(Template)]
#[template(path = "issuer_public.html")]
struct PublicTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    /// Its public collections, open ones first.
    cards: Vec<CollectionCard>,
    /// More than the page lists.
    more: bool,
    share: Share,
    /// Claims on its collections are paused: a filing ran out.
    filings_lapsed: bool,
}

/// The public page of an approved issuer; everything else is 404 to the public.
pub async fn public_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<IssuerId>,
) -> AppResult<Html<String>> {
    let issuer = issuers::public(&state.services, id).await?.ok_or(AppError::NotFound)?;
    let filter = PublicFilter {
        issuer: Some(issuer.id),
        title: None,
    };
    let page = collections::public(&state.services, &filter, Utc::now(), None, ISSUER_PAGE_COLLECTIONS).await?;
    let (listed, more) = (page.items, page.next.is_some());
    let image = listed
        .first()
        .map(|l| format!("{}/artwork/1024", paths::collection(l.collection.id)));
    let cards = cards(&ctx, listed);
    let description = ctx.tf("issuer.share_description", &[("issuer", &issuer.legal_name)]);
    let share = Share::new(
        &ctx,
        &paths::issuer(issuer.id),
        &issuer.legal_name,
        &description,
        image.as_deref(),
    )?;
    let filings_lapsed = !state.services.filings.current(&issuer.filings, Utc::now());
    render(PublicTemplate {
        filings_lapsed,
        ctx,
        issuer,
        cards,
        more,
        share,
    })
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationTemplate {
    ctx: RequestContext,
    issuer: String,
    token: String,
    /// Why this account cannot accept, if it cannot (a message key).
    blocker: Option<&'static str>,
}

fn blocker_key(blocker: InvitationBlocker) -> &'static str {
    match blocker {
        InvitationBlocker::WrongAccount => "invitation.wrong_account",
        InvitationBlocker::IdentityRequired => "invitation.identity_required",
        InvitationBlocker::TooYoung => "invitation.too_young",
    }
}

pub async fn invitation(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    let now = Utc::now();
    let standing = identity::member_standing(&state.services, user.id, user.verified.as_ref(), now)?;
    let invitation = issuers::members::invitation(&state.services, &token, &user.email, standing, now).await?;
    render(InvitationTemplate {
        ctx,
        issuer: invitation.issuer.legal_name,
        token,
        blocker: invitation.blocker.map(blocker_key),
    })
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    let now = Utc::now();
    let standing = identity::member_standing(&state.services, user.id, user.verified.as_ref(), now)?;
    let issuer = issuers::members::accept(&state.services, &actor, &token, &user.email, standing, now).await?;
    Ok(Redirect::to(&paths::console(issuer)).into_response())
}
