//! The client as the throttles count it: its network address (the connection's peer, or what a
//! trusted reverse proxy says in `X-Forwarded-For`, see `domain::client_address`), grouped and
//! kept only as a keyed pseudonym.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::error::AppError;
use crate::domain::client_address;
use crate::kyc::vault::Counted;
use crate::state::AppState;

/// The keyed pseudonym of the client's address group: what the throttles count and store. The
/// address itself is never logged or stored.
#[derive(Debug, Clone)]
pub struct CountedClient(pub String);

impl FromRequestParts<AppState> for CountedClient {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the server was started without peer addresses")))?;
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            // A value that is not text stops the reading there, as an unparsable entry does.
            .map(|value| value.to_str().unwrap_or("?"));
        let ip = client_address::client_ip(peer.ip().to_canonical(), forwarded, &state.config.trusted_proxies);
        Ok(CountedClient(
            state
                .services
                .vault
                .pseudonym(Counted::ClientAddress, &client_address::client_key(ip)),
        ))
    }
}
