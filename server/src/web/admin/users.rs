//! The administrator's user list and the roles granted by hand (reviewer, admin).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::ids::UserId;
use crate::domain::role::{Role, RoleChangeError};
use crate::services::users;
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::{render, render_with};

const PER_PAGE: u64 = 50;

/// One row of the user list.
struct UserRow {
    id: i64,
    email: String,
    verified: bool,
    created: String,
    is_reviewer: bool,
    is_admin: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersTemplate {
    ctx: RequestContext,
    users: Vec<UserRow>,
    total: u64,
    page: u64,
    pages: u64,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct PageParam {
    #[serde(default)]
    page: u64,
}

async fn users_page(
    state: &AppState,
    ctx: RequestContext,
    page: u64,
    error: Option<&'static str>,
) -> AppResult<UsersTemplate> {
    let (list, total) = users::list(&state.services, page, PER_PAGE).await?;
    let users = list
        .into_iter()
        .map(|(user, roles)| UserRow {
            id: user.id.0,
            email: user.email.to_string(),
            verified: user.email_verified_at.is_some(),
            created: ctx.time(user.created_at),
            is_reviewer: roles.contains(&Role::Reviewer),
            is_admin: roles.contains(&Role::Admin),
        })
        .collect();
    Ok(UsersTemplate {
        ctx,
        users,
        total,
        page,
        pages: total.div_ceil(PER_PAGE).max(1),
        error,
    })
}

pub async fn users(
    State(state): State<AppState>,
    ctx: RequestContext,
    _admin: Admin,
    Query(q): Query<PageParam>,
) -> AppResult<Response> {
    Ok(render(users_page(&state, ctx, q.page, None).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct RoleChangeForm {
    role: String,
    /// `grant` or `revoke`.
    change: String,
    #[serde(default)]
    page: u64,
}

pub async fn change_role(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Path(target): Path<UserId>,
    Form(form): Form<RoleChangeForm>,
) -> AppResult<Response> {
    let role: Role = form.role.parse().map_err(|_| AppError::BadRequest)?;
    let grant = match form.change.as_str() {
        "grant" => true,
        "revoke" => false,
        _ => return Err(AppError::BadRequest),
    };
    let actor = ctx.actor(admin.user.id);
    if let Err(refusal) = users::change_role(&state.services, &actor, target, role, grant, Utc::now()).await? {
        let key = match refusal {
            RoleChangeError::NotGrantable => "admin.role_not_grantable",
            RoleChangeError::SelfDemotion => "admin.self_demotion",
        };
        let page = users_page(&state, ctx, form.page, Some(key)).await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    }
    Ok(Redirect::to(&format!("/admin/users?page={}", form.page)).into_response())
}
