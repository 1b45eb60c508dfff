//! Finding collections without a link: the public explore page (open ones first, then the
//! newest; by issuer; by title), the cards it shares with the home page and the issuer pages.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::context::RequestContext;
use super::error::AppResult;
use super::render;
use crate::domain::collection::Collection;
use crate::domain::collection::CollectionStatus;
use crate::domain::ids::IssuerId;
use crate::state::AppState;
use crate::store;
use crate::store::collections::PublicFilter;

/// Collections per explore page.
const PAGE: u64 = 24;
/// Collections the home page features.
pub const FEATURED: u64 = 6;

/// A collection as a card in a list.
pub struct CollectionCard {
    pub id: i64,
    pub title: String,
    pub issuer: String,
    /// `open`, `upcoming`, `ended`, `sold_out` or `paused`: what a visitor can do now.
    pub phase: &'static str,
    /// The line under the title: how many are left, or when claims open or ended.
    pub note: String,
    pub claim_mode: &'static str,
}

fn phase(record: &Collection, now: DateTime<Utc>) -> &'static str {
    let terms = &record.terms;
    match record.status {
        CollectionStatus::Frozen { .. } => "paused",
        CollectionStatus::Closed => "ended",
        _ if now < terms.claim_starts_at => "upcoming",
        _ if now >= terms.claim_ends_at => "ended",
        _ if record.claimed_count >= u64::from(terms.edition_size) => "sold_out",
        _ => "open",
    }
}

/// Cards for `records`, with their issuers' names looked up at once.
pub async fn cards(state: &AppState, ctx: &RequestContext, records: Vec<Collection>) -> AppResult<Vec<CollectionCard>> {
    let issuer_ids: Vec<IssuerId> = records.iter().map(|r| r.issuer).collect();
    let names = store::issuers::legal_names(&state.services.db, &issuer_ids).await?;
    let now = Utc::now();
    Ok(records
        .into_iter()
        .map(|record| {
            let phase = phase(&record, now);
            let terms = &record.terms;
            let remaining = u64::from(terms.edition_size).saturating_sub(record.claimed_count);
            let note = match phase {
                "open" => ctx.tf(
                    "explore.remaining",
                    &[
                        ("remaining", &remaining.to_string()),
                        ("total", &terms.edition_size.to_string()),
                    ],
                ),
                "upcoming" => ctx.tf("claim.opens_at", &[("time", &ctx.time(terms.claim_starts_at))]),
                _ => ctx.tf("explore.claimed", &[("claimed", &record.claimed_count.to_string())]),
            };
            CollectionCard {
                id: record.id.0,
                issuer: names.get(&record.issuer).cloned().unwrap_or_default(),
                phase,
                note,
                claim_mode: terms.claim_mode.as_str(),
                title: record.terms.title,
            }
        })
        .collect())
}

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
    let issuer = match query.issuer.trim().parse::<i64>() {
        Ok(id) => store::issuers::find(&state.services.db, IssuerId(id))
            .await?
            .filter(|i| i.status.is_active())
            .map(|i| (i.id.0, i.legal_name)),
        Err(_) => None,
    };
    let page = query.page.trim().parse::<u64>().unwrap_or(1).clamp(1, 1_000);
    let filter = PublicFilter {
        issuer: issuer.as_ref().map(|(id, _)| IssuerId(*id)),
        title: (!q.is_empty()).then(|| q.clone()),
    };
    let mut records =
        store::collections::public(&state.services.db, &filter, Utc::now(), PAGE + 1, (page - 1) * PAGE).await?;
    let more = records.len() as u64 > PAGE;
    records.truncate(PAGE as usize);
    let cards = cards(&state, &ctx, records).await?;
    render(ExploreTemplate {
        ctx,
        cards,
        q,
        issuer,
        page,
        more,
    })
}
