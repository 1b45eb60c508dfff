//! An issuer's filings in its console: when each runs out and where they stand, and (for its
//! admins) the form that sends renewed validity dates to the reviewers.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::age::beijing_date;
use crate::domain::filing_dates::{FilingDateFields, FilingDates};
use crate::domain::issuer::Issuer;
use crate::paths;
use crate::services::issuers::filings;
use crate::state::AppState;
use crate::web::auth::{ActingFor, IssuerAdmin};
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::filings_view::{FilingsView, issuer_filings};
use crate::web::pages::application::{date_field, date_inputs};
use crate::web::render::{render, render_with};

#[derive(Template)]
#[template(path = "console_filings.html")]
struct FilingsTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    is_admin: bool,
    filings: FilingsView,
    /// The renewal form's dates as typed, and the fields that were refused.
    typed: FilingDateFields,
    refused: Vec<&'static str>,
    notice: Option<&'static str>,
}

impl FilingsTemplate {
    /// Whether the issuer keeps filings a renewal can change (approved or suspended).
    fn renewable(&self) -> bool {
        matches!(self.issuer.status.as_str(), "approved" | "suspended")
    }

    fn date_fields(&self) -> [(&'static str, &'static str, &str); 3] {
        date_inputs(&self.typed)
    }

    fn refused(&self, field: &str) -> bool {
        self.refused.contains(&field)
    }
}

fn page(state: &AppState, ctx: RequestContext, acting: &ActingFor, typed: FilingDateFields) -> FilingsTemplate {
    let filings = issuer_filings(&ctx, &acting.issuer.filings, &state.services.filings, Utc::now());
    FilingsTemplate {
        ctx,
        issuer: acting.issuer.clone(),
        is_admin: acting.is_admin,
        filings,
        typed,
        refused: Vec::new(),
        notice: None,
    }
}

#[derive(Deserialize, Default)]
pub struct FilingsQuery {
    #[serde(default)]
    notice: String,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Query(query): Query<FilingsQuery>,
) -> AppResult<Html<String>> {
    let typed = FilingDateFields::of(&acting.issuer.filings.dates);
    let mut page = page(&state, ctx, &acting, typed);
    if query.notice == "sent" {
        page.notice = Some("filings.renewal_sent");
    }
    render(page)
}

#[derive(Deserialize)]
pub struct RenewalForm {
    #[serde(default)]
    licence_valid_until: String,
    #[serde(default)]
    icp_valid_until: String,
    #[serde(default)]
    blockchain_valid_until: String,
}

pub async fn renew(
    State(state): State<AppState>,
    ctx: RequestContext,
    IssuerAdmin(acting): IssuerAdmin,
    Form(form): Form<RenewalForm>,
) -> AppResult<Response> {
    let typed = FilingDateFields {
        licence: form.licence_valid_until,
        icp: form.icp_valid_until,
        blockchain: form.blockchain_valid_until,
    };
    let now = Utc::now();
    let mut again = page(&state, ctx, &acting, typed.clone());
    if !again.renewable() {
        again.notice = Some("filings.not_renewable");
        return render_with(StatusCode::CONFLICT, again);
    }
    let dates: FilingDates = match FilingDates::parse(&typed, beijing_date(now)) {
        Ok(dates) => dates,
        Err(errors) => {
            again.refused = errors.into_iter().map(|e| date_field(e.0)).collect();
            again.notice = Some("filings.error_date");
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, again);
        }
    };
    let actor = again.ctx.actor(acting.user.id);
    filings::send_renewal(&state.services, &actor, &acting.issuer, &dates, now).await?;
    Ok(Redirect::to(&format!("{}?notice=sent", paths::console_filings(acting.issuer.id))).into_response())
}
