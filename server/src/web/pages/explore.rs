//! Finding collections without a link: the public explore page (open ones first, then the
//! newest; by issuer; by title).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::Utc;
use serde::Deserialize;

use crate::domain::collection::{PublicFilter, PublicKey};
use crate::domain::ids::IssuerId;
use crate::domain::page::{self, Cursor, PageSize};
use crate::services::{collections, issuers};
use crate::state::AppState;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::render;
use crate::web::views::{CollectionCard, cards};

/// Collections per explore page.
const PAGE: PageSize = PageSize::fixed(24);

#[derive(Deserialize, Default)]
pub struct ExploreQuery {
    /// Part of a title.
    #[serde(default)]
    q: String,
    /// An issuer id.
    #[serde(default)]
    issuer: String,
    /// The `more` link's cursor: the last collection of the page before.
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "explore.html")]
struct ExploreTemplate {
    ctx: RequestContext,
    cards: Vec<CollectionCard>,
    q: String,
    /// The issuer the list is narrowed to: (id, name).
    issuer: Option<(i64, String)>,
    /// The next page's cursor, when there is one.
    next: Option<String>,
    /// Whether this is a later page (it then links back to the first).
    later_page: bool,
}

impl ExploreTemplate {
    /// The address of the list with the same filters, after `after` if given.
    fn link(&self, after: Option<&str>) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        if let Some((id, _)) = &self.issuer {
            query.append_pair("issuer", &id.to_string());
        }
        if let Some(after) = after {
            query.append_pair("after", after);
        }
        let query = query.finish();
        match query.is_empty() {
            true => "/explore".to_owned(),
            false => format!("/explore?{query}"),
        }
    }
}

/// `GET /explore`: every public collection of an active issuer, open ones first.
pub async fn explore(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(query): Query<ExploreQuery>,
) -> AppResult<Html<String>> {
    let q: String = query.q.trim().chars().take(60).collect();
    let issuer = match query.issuer.trim().parse::<IssuerId>() {
        Ok(id) => issuers::public(&state.services, id)
            .await?
            .map(|i| (i.id.0, i.legal_name)),
        Err(_) => None,
    };
    let after = page::after::<PublicKey>(query.after.as_deref())?;
    let filter = PublicFilter {
        issuer: issuer.as_ref().map(|(id, _)| IssuerId(*id)),
        title: (!q.is_empty()).then(|| q.clone()),
    };
    let listed = collections::public(&state.services, &filter, Utc::now(), after, PAGE).await?;
    let next = listed.next.map(|last| last.encode());
    let cards = cards(&ctx, listed.items);
    render(ExploreTemplate {
        ctx,
        cards,
        q,
        issuer,
        next,
        later_page: after.is_some(),
    })
}
