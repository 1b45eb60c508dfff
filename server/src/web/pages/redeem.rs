//! Claim codes as collectors use them: the page a printed QR code opens (`/c/{code}`, the
//! collection and a claim button, or why the code cannot be used and what to do instead), the
//! form for typing a code, and redeeming it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::claim_box::{self, ClaimBox};
use crate::domain::claim_code::ClaimCode;
use crate::domain::collection::Collection;
use crate::paths;
use crate::services::{claims, codes, tokens};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::render;

#[derive(Template)]
#[template(path = "redeem.html")]
struct RedeemTemplate {
    ctx: RequestContext,
    /// The code as typed, for the form; empty on the blank form.
    typed: String,
    /// Why the code cannot be looked up, as a message key.
    problem: Option<&'static str>,
    /// The collection the code belongs to, the canonical code, and what the visitor can do.
    found: Option<(Collection, String, ClaimBox)>,
}

#[derive(Deserialize)]
pub struct TypedCode {
    #[serde(default)]
    code: String,
}

/// The form for typing a code; a typed code goes to its redemption page.
pub async fn typed(ctx: RequestContext, Query(query): Query<TypedCode>) -> AppResult<Response> {
    if query.code.trim().is_empty() {
        return Ok(render(RedeemTemplate {
            ctx,
            typed: String::new(),
            problem: None,
            found: None,
        })?
        .into_response());
    }
    match ClaimCode::parse(&query.code) {
        Some(code) => Ok(Redirect::to(&paths::redeem(code.as_str())).into_response()),
        None => Ok(render(RedeemTemplate {
            ctx,
            typed: query.code,
            problem: Some("redeem.malformed"),
            found: None,
        })?
        .into_response()),
    }
}

/// The page a QR code opens: the collection and a claim button, or why the code cannot be
/// used and what to do instead.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(typed): Path<String>,
) -> AppResult<Html<String>> {
    let mut problem = None;
    let mut found = None;
    match ClaimCode::parse(&typed) {
        None => problem = Some("redeem.malformed"),
        Some(code) => match codes::find(&state.services, &code).await? {
            None => problem = Some("redeem.unknown"),
            Some(stored) if !stored.collection.status.is_public() => problem = Some("redeem.not_yet"),
            Some(stored) => {
                let here = paths::redeem(code.as_str());
                let mine = match (stored.token, &ctx.user) {
                    (Some(token), Some(user)) => tokens::held(&state.services, user.id, token).await?,
                    _ => None,
                };
                let claim = match mine {
                    Some(token) => ClaimBox::claimed_with_code(&ctx, token.id),
                    None => {
                        claim_box::for_visitor(&state, &ctx, &stored.collection, Some(stored.state), &here, &here)
                            .await?
                    }
                };
                found = Some((stored.collection, code.as_str().to_owned(), claim));
            }
        },
    }
    render(RedeemTemplate {
        ctx,
        typed,
        problem,
        found,
    })
}

#[derive(Deserialize)]
pub struct RedeemForm {
    claim_key: String,
}

pub async fn redeem(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(typed): Path<String>,
    Form(form): Form<RedeemForm>,
) -> AppResult<Response> {
    let minted = claims::claim_with_code(&state.services, &user.claimant(), &typed, &form.claim_key).await?;
    Ok(Redirect::to(&paths::token(minted.token)).into_response())
}
