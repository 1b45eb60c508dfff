//! Liveness and readiness probes for load balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::state::AppState;

/// 200 whenever the process is serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 only when the database answers and neither the ledger sequencer nor the publishing of
/// its tiles is failing; 503 with the reason otherwise, so traffic is routed elsewhere and an
/// operator sees why.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if !state.services.database_answers().await {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable".to_owned());
    }
    let failing = [
        ("ledger sequencer", state.sequencer_health.failing()),
        ("ledger tile publishing", state.tile_health.failing()),
    ];
    match failing.into_iter().find_map(|(what, failing)| Some((what, failing?))) {
        Some((what, failing)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{what} failing since {} ({} attempts): {}",
                failing.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                failing.failures,
                failing.reason
            ),
        ),
        None => (StatusCode::OK, "ready".to_owned()),
    }
}
