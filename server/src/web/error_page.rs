//! Rendering refusals: the middleware that turns an [`ErrorPage`] marker into a localised HTML
//! page (or a JSON error), and the links each kind of refusal offers as the way forward.

use askama::Template;
use axum::extract::Request;
use axum::http::Method;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::context::RequestContext;
use super::error::{AppError, ErrorPage, JsonError, NextStep};

fn is_plain_text(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"))
}

/// Whether the client asked for JSON: the API, or a client that prefers it over HTML.
pub fn wants_json(request: &Request) -> bool {
    request.uri().path().starts_with("/api/")
        || request
            .headers()
            .get(ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"))
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    ctx: RequestContext,
    status: u16,
    title_key: String,
    body_key: String,
    next: Vec<NextStep>,
}

/// `next=` for a path, URL-encoded.
fn encoded(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// The links a refusal of `code` offers, after the handler's own: what to do about it, then a
/// way back. `back` is the address of the form that was sent, when a form was sent: a GET on
/// it returns to the page the form is on.
fn default_steps(code: &str, ctx: &RequestContext, back: Option<&str>) -> Vec<NextStep> {
    let here = back.unwrap_or(ctx.path.as_str());
    let mut steps = Vec::new();
    match code {
        "identity_not_verified" | "id_consent_needed" => steps.push(NextStep::new(
            format!("/identity?next={}", encoded(here)),
            "error.next_identity",
        )),
        "limit_reached" => steps.push(NextStep::new("/me/collection", "error.next_my_collection")),
        "policies_not_accepted" => steps.push(NextStep::new(
            format!("/policies/accept?next={}", encoded(here)),
            "error.next_accept_policies",
        )),
        "code_invalid" | "code_used" | "code_required" => steps.push(NextStep::new("/c", "error.next_type_code")),
        "age_restricted" | "not_on_allowlist" | "not_yet_open" | "claims_closed" | "sold_out" | "claims_frozen"
        | "not_published" | "issuer_suspended" | "filings_lapsed" | "not_found" => {
            steps.push(NextStep::new("/explore", "error.next_explore"))
        }
        "forbidden" if ctx.user.is_none() => steps.push(NextStep::new(
            format!("/login?next={}", encoded(here)),
            "error.next_login",
        )),
        "invalid_link" if ctx.path.starts_with("/password/reset/") => {
            steps.push(NextStep::new("/password/forgot", "error.next_new_reset_link"));
        }
        "invalid_link" if ctx.path.starts_with("/verify-email/") => {
            steps.push(NextStep::new("/login", "error.next_login"));
        }
        _ => {}
    }
    if let Some(back) = back {
        steps.push(NextStep::new(back, "error.next_back"));
    }
    steps.push(NextStep::new("/", "error.back_home"));
    steps
}

/// Middleware: turns [`ErrorPage`] markers into a localised HTML page or a JSON error.
pub async fn render(request: Request, next: Next) -> Response {
    let json = wants_json(&request);
    let ctx = request.extensions().get::<RequestContext>().cloned();
    // A refused form submission leads back to its page; a refused page view has no "back".
    let back = (!matches!(*request.method(), Method::GET | Method::HEAD)).then(|| request.uri().path().to_owned());
    let response = next.run(request).await;
    let page = match response.extensions().get::<ErrorPage>().cloned() {
        Some(page) => page,
        // An extractor refused the request before any handler ran (a path segment that is not
        // a number, say): answered like any bad request, never as bare text.
        None if response.status().is_client_error() && is_plain_text(&response) => AppError::BadRequest.page(),
        None => return response,
    };
    let status = response.status();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_TYPE);
    let body = if json {
        axum::Json(JsonError::new(page.code, page.message)).into_response()
    } else {
        let Some(ctx) = ctx else {
            return (status, page.message).into_response();
        };
        let mut steps = page.next;
        for step in default_steps(page.code, &ctx, back.as_deref()) {
            if !steps.iter().any(|s| s.href == step.href) {
                steps.push(step);
            }
        }
        let template = ErrorTemplate {
            ctx,
            status: status.as_u16(),
            title_key: format!("error.{}.title", page.code),
            body_key: format!("error.{}.body", page.code),
            next: steps,
        };
        match template.render() {
            Ok(html) => Html(html).into_response(),
            Err(err) => {
                tracing::error!(error = %err, "error page failed to render");
                page.message.into_response()
            }
        }
    };
    let (body_parts, body) = body.into_parts();
    for (name, value) in &body_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Operator;
    use crate::domain::age::MinimumAge;
    use crate::i18n::Locale;

    fn ctx(path: &str) -> RequestContext {
        RequestContext {
            locale: Locale::En,
            user: None,
            csrf_token: String::new(),
            path: path.to_owned(),
            operator: Operator {
                name: "Keepsake".to_owned(),
                icp_filing: None,
                blockchain_filing: None,
                filing_dates: Default::default(),
                filings_checked_on: None,
            },
            request_id: None,
            visitor: String::new(),
            base_url: "http://127.0.0.1:8080".to_owned(),
            demo: false,
            ledger_failing: None,
            minimum_age: MinimumAge::ADULT,
            filings_alert: None,
        }
    }

    #[test]
    fn every_refusal_offers_a_way_forward_and_home() {
        let steps = default_steps("identity_not_verified", &ctx("/c/ABCD"), Some("/c/ABCD"));
        assert_eq!(steps[0].href, "/identity?next=%2Fc%2FABCD");
        assert_eq!(steps[1], NextStep::new("/c/ABCD", "error.next_back"));
        assert_eq!(steps.last().unwrap().href, "/");
        let signed_out = default_steps("forbidden", &ctx("/review"), None);
        assert_eq!(signed_out[0].href, "/login?next=%2Freview");
        assert_eq!(signed_out.len(), 2, "a page view has no way back to a form");
    }
}
