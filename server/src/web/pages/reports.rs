//! Reporting (投诉举报) as the public does it: the form for a collection, a collectible or an
//! issuer (signed in or not), and the report's status page at its ticket.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::account::Email;
use crate::domain::report::{self, ReportCategory, ReportRefusal, ReportTarget, Ticket};
use crate::services::ServiceError;
use crate::services::reports::{self, Filing};
use crate::state::AppState;
use crate::store::reports::Report;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::{render, render_with};

#[derive(Deserialize, Default)]
pub struct ReportForm {
    /// `collection:12`, `token:3` or `issuer:7`.
    #[serde(default)]
    target: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    description: String,
    /// Where to mail the decision; optional.
    #[serde(default)]
    contact: String,
}

#[derive(Template)]
#[template(path = "report_form.html")]
struct FormTemplate {
    ctx: RequestContext,
    target: ReportTarget,
    form: ReportForm,
    categories: [&'static str; 5],
    error: Option<&'static str>,
}

fn categories() -> [&'static str; 5] {
    ReportCategory::ALL.map(ReportCategory::as_str)
}

/// `GET /report?target=…`: the form, with the signed-in person's address offered for the answer.
pub async fn form(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(mut form): Query<ReportForm>,
) -> AppResult<Response> {
    let target = ReportTarget::parse(form.target.trim()).ok_or(AppError::NotFound)?;
    if !reports::reportable(&state.services, target).await? {
        return Err(AppError::NotFound);
    }
    if form.contact.is_empty() {
        form.contact = ctx.user.as_ref().map(|u| u.email.to_string()).unwrap_or_default();
    }
    let page = FormTemplate {
        ctx,
        target,
        form,
        categories: categories(),
        error: None,
    };
    Ok(render(page)?.into_response())
}

fn refusal_key(refusal: ReportRefusal) -> &'static str {
    match refusal {
        ReportRefusal::DescriptionTooShort => "report.description_too_short",
        ReportRefusal::DescriptionTooLong => "report.description_too_long",
    }
}

/// `POST /report`: files the report and leads to its status page.
pub async fn file(
    State(state): State<AppState>,
    ctx: RequestContext,
    Form(form): Form<ReportForm>,
) -> AppResult<Response> {
    let target = ReportTarget::parse(form.target.trim()).ok_or(AppError::NotFound)?;
    let filing = (|| {
        let category = ReportCategory::parse(form.category.trim()).ok_or("report.category_missing")?;
        let description = report::description(&form.description).map_err(refusal_key)?;
        let contact = match form.contact.trim() {
            "" => None,
            address => Some(Email::parse(address).map_err(|_| "report.contact_invalid")?),
        };
        Ok::<_, &'static str>(Filing {
            target,
            category,
            description,
            contact,
            locale: ctx.locale,
        })
    })();
    let filing = match filing {
        Ok(filing) => filing,
        Err(key) => {
            let page = FormTemplate {
                ctx,
                target,
                form,
                categories: categories(),
                error: Some(key),
            };
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
        }
    };
    let reporter = ctx.user.as_ref().map(|u| ctx.actor(u.id));
    match reports::file(
        &state.services,
        reporter.as_ref(),
        filing,
        ctx.request_id.clone(),
        Utc::now(),
    )
    .await
    {
        Ok(report) => Ok(Redirect::to(&format!("/reports/{}", report.ticket.as_str())).into_response()),
        Err(ServiceError::NotFound) => Err(AppError::NotFound),
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "report_status.html")]
struct StatusTemplate {
    ctx: RequestContext,
    report: Report,
}

/// `GET /reports/{ticket}`: where the report stands, without its description or contact.
pub async fn status(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(ticket): Path<String>,
) -> AppResult<Response> {
    let ticket = Ticket::parse(&ticket).ok_or(AppError::NotFound)?;
    let report = reports::by_ticket(&state.services, &ticket).await?;
    Ok(render(StatusTemplate { ctx, report })?.into_response())
}
