//! The client's network address as the throttles count it: the connection's peer, or what a
//! trusted reverse proxy says in `X-Forwarded-For` (see `domain::client_address`).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::error::AppError;
use crate::app::AppState;
use crate::domain::client_address;

/// The client's address; never logged or stored as it is.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
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
        Ok(ClientIp(client_address::client_ip(
            peer.ip().to_canonical(),
            forwarded,
            &state.config.trusted_proxies,
        )))
    }
}
