//! Rendering pages and the small rules every handler shares: a template as a page (with a
//! status for refusals), the confirmation irreversible actions need, and the GET side of the
//! addresses forms post to.

use std::collections::HashMap;

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};

use super::error::{AppError, AppResult};
use crate::state::AppState;

/// Renders a page template.
pub fn render(template: impl Template) -> AppResult<Html<String>> {
    Ok(Html(template.render()?))
}

/// Renders a page template with a non-200 status (form errors, refusals).
pub fn render_with(status: StatusCode, template: impl Template) -> AppResult<Response> {
    Ok((status, render(template)?).into_response())
}

/// Irreversible actions (closing a collection, revoking a token or an API key) are sent with
/// a ticked `confirm` box; without it nothing happens and the page says why.
pub fn confirmed(confirm: Option<&str>) -> AppResult<()> {
    match confirm {
        Some("yes") => Ok(()),
        _ => Err(AppError::ConfirmationRequired),
    }
}

/// `page` with each `{name}` replaced by the route's segment of that name.
fn fill(page: &str, params: &HashMap<String, String>) -> String {
    params.iter().fold(page.to_owned(), |path, (name, value)| {
        let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        path.replace(&format!("{{{name}}}"), &value)
    })
}

/// The GET side of an address that forms post to: a reload, a language switch or a bookmark
/// of a form's result goes to `page`, the page with the form (its `{name}` segments are the
/// route's own).
pub fn form_page(page: &'static str) -> MethodRouter<AppState> {
    if page.contains('{') {
        get(move |Path(params): Path<HashMap<String, String>>| async move { Redirect::to(&fill(page, &params)) })
    } else {
        get(move || async move { Redirect::to(page) })
    }
}
