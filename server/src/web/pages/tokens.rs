//! Tokens as people see them: the public token page (what it is, who issued it, its standing,
//! and no personal data), the collector's own collection, the holder's certificate, and the
//! shareable certificate image.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::certificate_image::{self, CertificateCard};
use crate::crypto;
use crate::domain::audit::AuditSubject;
use crate::domain::ids::TokenId;
use crate::domain::page::{self, Cursor, PageSize};
use crate::paths;
use crate::services::appeals;
use crate::services::collections::artwork::{self, Rendition};
use crate::services::tokens::{self, TokenView};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;
use crate::web::share::Share;

/// What the token pages and "my collection" show of a token.
struct TokenCard {
    id: i64,
    collection: i64,
    title: String,
    issuer: String,
    serial: u32,
    edition_size: u32,
    status: &'static str,
    reason: Option<String>,
    claimed: DateTime<Utc>,
    issuer_id: i64,
    /// A short, non-identifying tag of the holder: the start of the ledger commitment.
    holder_tag: String,
    ledger_index: Option<i64>,
    /// The artwork carries the AI label.
    ai_generated: bool,
}

impl TokenCard {
    fn of(view: &TokenView) -> Self {
        let TokenView {
            token,
            collection,
            issuer_name,
            ledger_index,
        } = view;
        TokenCard {
            id: token.id.0,
            collection: collection.id.0,
            title: collection.terms.title.clone(),
            issuer: issuer_name.clone(),
            serial: token.serial,
            edition_size: collection.terms.edition_size,
            status: token.status.as_str(),
            reason: token.status.reason().map(str::to_owned),
            claimed: token.claimed_at,
            issuer_id: collection.issuer.0,
            holder_tag: crypto::hex(&token.commitment[..6]),
            ledger_index: *ledger_index,
            ai_generated: collection.ai_generated(),
        }
    }
}

#[derive(Template)]
#[template(path = "token.html")]
struct TokenTemplate {
    ctx: RequestContext,
    token: TokenCard,
    /// The visitor holds this token.
    mine: bool,
    /// When its status last changed (frozen or revoked), for the notice.
    decided: Option<DateTime<Utc>>,
    share: Share,
    /// Its freeze is under appeal.
    under_appeal: bool,
    /// Its holder deleted their account.
    holder_left: bool,
}

impl TokenTemplate {
    /// The reviewer's reason is for the holder and for reviewers; everyone else learns only
    /// the status.
    fn reason_shown(&self) -> Option<&str> {
        self.token
            .reason
            .as_deref()
            .filter(|_| self.mine || self.ctx.is_reviewer())
    }
}

/// The page of a token. Everyone sees what it is, who issued it and its standing, and no
/// personal data (only a tag derived from the commitment); its holder also gets the
/// certificate and the reason for a freeze or revocation; reviewers get the decisions.
pub async fn token_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<TokenId>,
) -> AppResult<Html<String>> {
    let view = tokens::view(&state.services, id).await?;
    let mine = ctx.user.as_ref().is_some_and(|u| u.id == view.token.holder);
    let decided = tokens::decided_at(&state.services, &view.token).await?;
    let card = TokenCard::of(&view);
    let path = paths::token(view.token.id);
    let title = format!("{} #{} / {}", card.title, card.serial, card.edition_size);
    let description = ctx.tf("token.share_description", &[("issuer", &card.issuer)]);
    let share = Share::new(
        &ctx,
        &path,
        &title,
        &description,
        Some(&format!("{path}/certificate.png")),
    )?;
    render(TokenTemplate {
        under_appeal: appeals::under_appeal(&state.services, &AuditSubject::Token(view.token.id)).await?,
        holder_left: view.token.holder_left(),
        token: card,
        ctx,
        mine,
        decided,
        share,
    })
}

#[derive(Template)]
#[template(path = "my_collection.html")]
struct MyCollectionTemplate {
    ctx: RequestContext,
    tokens: Vec<TokenCard>,
    /// The page of older tokens, when there are any.
    older: Option<String>,
    /// Whether this is a later page (it then links back to the newest).
    later_page: bool,
}

/// Tokens per page of "my collection".
const MY_COLLECTION_PAGE: PageSize = PageSize::fixed(60);

#[derive(Deserialize)]
pub struct MyCollectionQuery {
    /// The `older` link's cursor: the last token of the page before.
    before: Option<String>,
}

pub async fn my_collection(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Query(query): Query<MyCollectionQuery>,
) -> AppResult<Html<String>> {
    let before = page::after::<TokenId>(query.before.as_deref())?;
    let page = tokens::of_holder(&state.services, user.id, before, MY_COLLECTION_PAGE).await?;
    render(MyCollectionTemplate {
        ctx,
        tokens: page.items.iter().map(TokenCard::of).collect(),
        older: page
            .next
            .map(|last| format!("{}?before={}", paths::MY_COLLECTION, last.encode())),
        later_page: before.is_some(),
    })
}

/// The holder's certificate: the token's ledger receipt plus the opening of its holder
/// commitment. `keepsake verify` and `/verify` check it; only the holder may download it.
pub async fn certificate(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<TokenId>,
) -> AppResult<Response> {
    let (token, certificate) = tokens::certificate(&state.services, user.id, id).await?;
    let filename = format!("keepsake-token-{}-{}.json", token.collection, token.serial);
    Ok((
        [(CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\""))],
        Json(certificate),
    )
        .into_response())
}

/// `GET /tokens/{id}/certificate.png`: the shareable image, in the reader's language. Public
/// like the token page (it shows nothing personal); its QR code opens `/verify` on the
/// token's ledger entry, or the token page while the entry is still being written. Drawn once
/// per token, status, ledger index and language, then served from memory; its fingerprint is
/// the `ETag`, so a browser that has it gets `304 Not Modified`.
pub async fn certificate_image(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<TokenId>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let view = tokens::view(&state.services, id).await?;
    let card = TokenCard::of(&view);
    let artwork_key = view
        .collection
        .status
        .is_public()
        .then(|| Rendition::Large.key(&view.collection.artwork).clone());
    let (ledger, verify_url) = match card.ledger_index {
        Some(index) => (
            ctx.tf("token.card_ledger", &[("index", &index.to_string())]),
            state.services.absolute_url(&format!("/verify?entry={index}")),
        ),
        None => (
            ctx.t("token.card_ledger_pending").to_owned(),
            state.services.absolute_url(&paths::token(view.token.id)),
        ),
    };
    let drawn = CertificateCard {
        brand: ctx.operator.name.clone(),
        kicker: ctx.t("token.kicker").to_owned(),
        serial: format!("#{} / {}", card.serial, card.edition_size),
        issuer: ctx.tf("token.card_issuer", &[("issuer", &card.issuer)]),
        title: card.title,
        ledger,
        status: (card.status != "active").then(|| ctx.t2("token.status_", card.status).to_owned()),
        scan_hint: ctx.t("token.card_scan").to_owned(),
        verify_url,
        ai_label: view.collection.ai_generated().then(|| ctx.t("ai.label").to_owned()),
    };
    let fingerprint = drawn.fingerprint(artwork_key.as_ref().map(|key| key.as_str()));
    let etag = format!("\"{}\"", crypto::hex(&fingerprint[..16]));
    let filename = format!("keepsake-token-{}-{}.png", view.token.collection, view.token.serial);
    let headers_out = [
        (CONTENT_TYPE, "image/png".to_owned()),
        (CACHE_CONTROL, "public, max-age=300".to_owned()),
        (ETAG, etag.clone()),
        (CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\"")),
    ];
    let known = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        // If-None-Match compares weakly (RFC 9110 §13.1.2): a proxy may have marked it `W/`.
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    if known {
        return Ok((StatusCode::NOT_MODIFIED, headers_out).into_response());
    }
    if let Some(png) = state.certificates.get(&fingerprint) {
        return Ok((headers_out, png).into_response());
    }
    let artwork = match &artwork_key {
        Some(_) => match artwork::read(&state.services, &view.collection.artwork, Rendition::Large).await {
            Ok(blob) => Some(blob.bytes),
            Err(err) => {
                tracing::warn!(%err, token = %id, "certificate image drawn without its artwork");
                None
            }
        },
        None => None,
    };
    // An image drawn without the artwork it should show is served once, never kept.
    let complete = artwork_key.is_none() || artwork.is_some();
    let png = tokio::task::spawn_blocking(move || certificate_image::render(&drawn, artwork.as_deref()))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(e.into()))?;
    let png = Bytes::from(png);
    if !complete {
        return Ok(([(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-store")], png).into_response());
    }
    state.certificates.insert(fingerprint, png.clone());
    Ok((headers_out, png).into_response())
}
