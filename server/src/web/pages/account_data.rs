//! A person's copy of their own data: the page that asks for one (with the password) and lists
//! the archives with their state, and the download of a ready one. Downloads are the owner's
//! alone, from a signed-in session; the address names the archive, never a secret.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::data_export::{DataExport, ExportStatus, RequestRefused};
use crate::domain::ids::UserId;
use crate::paths;
use crate::services::data_export::{self, ArchiveRefused};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::client::CountedClient;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::{render, render_with};

#[derive(Template)]
#[template(path = "account_data.html")]
struct DataTemplate {
    ctx: RequestContext,
    archives: Vec<DataExport>,
    /// What the archive list says about each, at the time the page is made.
    now: chrono::DateTime<Utc>,
    /// The password field's refusal, as a message key.
    password_error: Option<&'static str>,
    /// Why no new archive was started, worded.
    refusal: Option<String>,
}

impl DataTemplate {
    fn standing(&self, archive: &DataExport) -> &'static str {
        archive.standing(self.now).as_str()
    }

    fn kilobytes(archive: &DataExport) -> u64 {
        archive.bytes.unwrap_or(0).div_ceil(1024)
    }
}

async fn page(state: &AppState, ctx: RequestContext, user: UserId) -> AppResult<DataTemplate> {
    Ok(DataTemplate {
        archives: data_export::archives(&state.services, user).await?,
        now: Utc::now(),
        password_error: None,
        refusal: None,
        ctx,
    })
}

pub async fn show(State(state): State<AppState>, ctx: RequestContext, SignedIn(user): SignedIn) -> AppResult<Response> {
    Ok(render(page(&state, ctx, user.id).await?)?.into_response())
}

#[derive(Deserialize)]
pub struct RequestForm {
    password: String,
}

pub async fn request(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<RequestForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    let refused = data_export::request(&state.services, &actor, form.password, &client, Utc::now()).await?;
    let Err(refusal) = refused else {
        return Ok(Redirect::to(paths::ACCOUNT_DATA).into_response());
    };
    let mut template = page(&state, ctx, user.id).await?;
    let status = match refusal {
        ArchiveRefused::WrongPassword => {
            template.password_error = Some("data.wrong_password");
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ArchiveRefused::Refused(RequestRefused::AlreadyPreparing) => {
            template.refusal = Some(template.ctx.t("data.already_preparing").to_owned());
            StatusCode::CONFLICT
        }
        ArchiveRefused::Refused(RequestRefused::TooMany { retry_at }) => {
            let at = template.ctx.time(retry_at);
            template.refusal = Some(template.ctx.tf("data.too_many", &[("time", &at)]));
            StatusCode::TOO_MANY_REQUESTS
        }
    };
    render_with(status, template)
}

/// `GET /account/data/{id}/archive.zip`: a ready archive, or the page saying where it stands.
pub async fn download(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    let now = Utc::now();
    match data_export::download(&state.services, &actor, id, now).await? {
        Ok(zip) => {
            let name = format!("attachment; filename=\"keepsake-data-{}.zip\"", ctx.date(now));
            let mut response = zip.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(value) = HeaderValue::from_str(&name) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            Ok(response)
        }
        Err(standing) => {
            let mut template = page(&state, ctx, user.id).await?;
            let (key, status) = match standing {
                ExportStatus::Pending => ("data.not_ready", StatusCode::CONFLICT),
                ExportStatus::Failed => ("data.failed_again", StatusCode::GONE),
                ExportStatus::Ready | ExportStatus::Expired => ("data.expired_again", StatusCode::GONE),
            };
            template.refusal = Some(template.ctx.t(key).to_owned());
            render_with(status, template)
        }
    }
}
