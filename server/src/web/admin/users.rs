//! The administrator's user list, the roles granted by hand (reviewer, admin, regulator), and
//! resetting someone's two-step verification when their phone is lost.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::ids::UserId;
use crate::domain::page::{self, Cursor, PageSize};
use crate::domain::role::{Role, RoleChangeError};
use crate::services::second_factor;
use crate::services::users::{self, ListedUser};
use crate::state::AppState;
use crate::web::auth::Admin;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::{render, render_with};

const PER_PAGE: PageSize = PageSize::fixed(50);

/// One row of the user list.
struct UserRow {
    id: i64,
    email: String,
    verified: bool,
    created: String,
    is_reviewer: bool,
    is_admin: bool,
    is_regulator: bool,
    /// Has two-step verification, and is not the admin looking (who cannot reset their own).
    second_factor: bool,
    resettable: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersTemplate {
    ctx: RequestContext,
    users: Vec<UserRow>,
    /// The cursor this page starts after (empty on the first page); forms return to it.
    before: String,
    /// The cursor of the page of older accounts, when there are any.
    older: Option<String>,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct PageParam {
    /// The `older` link's cursor: the last account of the page before.
    #[serde(default)]
    before: String,
}

async fn users_page(
    state: &AppState,
    ctx: RequestContext,
    before: &str,
    error: Option<&'static str>,
) -> AppResult<UsersTemplate> {
    let after = page::after::<UserId>(Some(before.trim()))?;
    let list = users::list(&state.services, after, PER_PAGE).await?;
    let users = list
        .items
        .into_iter()
        .map(
            |ListedUser {
                 user,
                 roles,
                 second_factor,
             }| UserRow {
                id: user.id.0,
                email: user.email.to_string(),
                verified: user.email_verified_at.is_some(),
                created: ctx.time(user.created_at),
                is_reviewer: roles.contains(&Role::Reviewer),
                is_admin: roles.contains(&Role::Admin),
                is_regulator: roles.contains(&Role::Regulator),
                second_factor,
                resettable: second_factor && ctx.user.as_ref().is_none_or(|me| me.id != user.id),
            },
        )
        .collect();
    Ok(UsersTemplate {
        ctx,
        users,
        before: after.map(|id| id.encode()).unwrap_or_default(),
        older: list.next.map(|id| id.encode()),
        error,
    })
}

pub async fn users(
    State(state): State<AppState>,
    ctx: RequestContext,
    _admin: Admin,
    Query(q): Query<PageParam>,
) -> AppResult<Response> {
    Ok(render(users_page(&state, ctx, &q.before, None).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct RoleChangeForm {
    role: String,
    /// `grant` or `revoke`.
    change: String,
    /// The page the form was on, to return to.
    #[serde(default)]
    before: String,
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
            RoleChangeError::SelfOversight => "admin.self_oversight",
            RoleChangeError::OversightApart => "admin.oversight_apart",
        };
        let page = users_page(&state, ctx, &form.before, Some(key)).await?;
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    }
    Ok(Redirect::to(&back_to(&form.before)?).into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    /// The page the form was on, to return to.
    #[serde(default)]
    before: String,
}

/// `POST /admin/users/{id}/two-factor/reset`: removes another account's second factor (a lost
/// phone); the person is mailed and logged out everywhere.
pub async fn reset_second_factor(
    State(state): State<AppState>,
    ctx: RequestContext,
    admin: Admin,
    Path(target): Path<UserId>,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(admin.user.id);
    second_factor::reset(&state.services, &actor, target, Utc::now()).await?;
    Ok(Redirect::to(&back_to(&form.before)?).into_response())
}

/// The page of the list a form was on.
fn back_to(before: &str) -> AppResult<String> {
    Ok(match page::after::<UserId>(Some(before.trim()))? {
        Some(before) => format!("/admin/users?before={}", before.encode()),
        None => "/admin/users".to_owned(),
    })
}
