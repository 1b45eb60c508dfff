//! `POST /tokens/{id}/transfer`: collectibles are non-transferable, so this exists only to
//! refuse (`403 transfers_prohibited`), counted and audited without letting anyone grow the
//! database by asking (`429 rate_limited` past a client's allowance).

use axum::extract::{Path, State};
use chrono::Utc;

use crate::domain::ids::TokenId;
use crate::services::tokens;
use crate::state::AppState;
use crate::web::client::CountedClient;
use crate::web::context::RequestContext;
use crate::web::error::AppError;

pub async fn transfer(
    State(state): State<AppState>,
    ctx: RequestContext,
    CountedClient(client): CountedClient,
    Path(id): Path<TokenId>,
) -> AppError {
    let user = ctx.user.as_ref().map(|u| u.id);
    tokens::refuse_transfer(&state.services, &client, user, ctx.request_id.clone(), id, Utc::now())
        .await
        .into()
}
