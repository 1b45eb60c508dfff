//! Reviewers freeze, unfreeze or revoke tokens: one from its token page, or every token of a
//! collection from the collection's case page. Revoking is final, so it must be confirmed.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::ids::{CollectionId, TokenId};
use crate::paths;
use crate::services::tokens::decisions::{self, Decision};
use crate::state::AppState;
use crate::web::auth::Reviewer;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::confirmed;

#[derive(Deserialize)]
pub struct TokenDecisionForm {
    /// `freeze`, `unfreeze` or `revoke`.
    action: String,
    reason: String,
    /// `yes` when the reviewer confirmed a revocation.
    confirm: Option<String>,
}

impl TokenDecisionForm {
    /// The decision the form asks for; a revocation only with its confirmation.
    fn decision(&self) -> AppResult<Decision> {
        let decision = Decision::parse(&self.action).ok_or(AppError::BadRequest)?;
        if decision == Decision::Revoke {
            confirmed(self.confirm.as_deref())?;
        }
        Ok(decision)
    }
}

/// `POST /review/tokens/{id}/decision`: freeze, unfreeze or revoke one token.
pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<TokenId>,
    Form(form): Form<TokenDecisionForm>,
) -> AppResult<Response> {
    let decision = form.decision()?;
    let actor = ctx.actor(reviewer.user.id);
    let token = decisions::decide(&state.services, &actor, id, decision, &form.reason, Utc::now()).await?;
    Ok(Redirect::to(&paths::token(token.id)).into_response())
}

/// `POST /review/collections/{id}/tokens`: freeze, unfreeze or revoke every token of a
/// collection that can still be.
pub async fn decide_collection(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<CollectionId>,
    Form(form): Form<TokenDecisionForm>,
) -> AppResult<Response> {
    let decision = form.decision()?;
    let actor = ctx.actor(reviewer.user.id);
    decisions::decide_collection(&state.services, &actor, id, decision, &form.reason, Utc::now()).await?;
    Ok(Redirect::to(&format!("/review/collections/{id}")).into_response())
}
