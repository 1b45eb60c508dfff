//! Liveness and readiness probes for load balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::app::AppState;
use crate::store;

/// 200 whenever the process is serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 only when the database answers and the ledger sequencer is not failing; 503 with the
/// reason otherwise, so traffic is routed elsewhere and an operator sees why.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if !store::ping(&state.db).await {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable".to_owned());
    }
    match state.sequencer_health.failing() {
        Some(failing) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "ledger sequencer failing since {} ({} attempts): {}",
                failing.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                failing.failures,
                failing.reason
            ),
        ),
        None => (StatusCode::OK, "ready".to_owned()),
    }
}
