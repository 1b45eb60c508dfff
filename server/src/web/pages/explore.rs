//! Finding collections without a link: the public explore page (open ones first, then the
//! newest; by issuer; by title).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::Utc;
use serde::Deserialize;

use crate::domain::collection::PublicFilter;
use crate::domain::ids::IssuerId;
use crate::services::{collections, issuers};
use crate::state::AppState;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::render;
use crate::web::views::{CollectionCard, cards};

/// Collections per explore page.
const PAGE: u64 = 24;

#[derive(Deserialize, Default)]
pub struct ExploreQuery {
    /// Part of a title.
    #[serde(default)]
    q: String,
    /// An issuer id.
    #[serde(default)]
    issuer: String,
    /// 1-based page number.
    #[serde(default)]
    page: String,
}

#[derive(Template)]
#[template(path = "explore.html")]
struct ExploreTemplate {
    ctx: RequestContext,
    cards: Vec<CollectionCard>,
    q: String,
    /// The issuer the list is narrowed to: (id, name).
    issuer: Option<(i64, String)>,
    page: u64,
    more: bool,
}

impl ExploreTemplate {
    /// The address of page `page` with the same filters.
    fn page_link(&self, page: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            query.append_pair("q", &self.q);
        }
        if let Some((id, _)) = &self.issuer {
            query.append_pair("issuer", &id.to_string());
        }
        query.append_pair("page", &page.to_string());
        format!("/explore?{}", query.finish())
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
    let page = query.page.trim().parse::<u64>().unwrap_or(1).clamp(1, 1_000);
    let filter = PublicFilter {
        issuer: issuer.as_ref().map(|(id, _)| IssuerId(*id)),
        title: (!q.is_empty()).then(|| q.clone()),
    };
    let mut listed = collections::public(&state.services, &filter, Utc::now(), PAGE + 1, (page - 1) * PAGE).await?;
    let more = listed.len() as u64 > PAGE;
    listed.truncate(PAGE as usize);
    let cards = cards(&ctx, listed);
    render(ExploreTemplate {
        ctx,
        cards,
        q,
        issuer,
        page,
        more,
    })
}
