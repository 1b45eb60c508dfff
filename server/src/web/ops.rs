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

/// 200 only when the database answers; 503 otherwise, so traffic is routed elsewhere.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if store::ping(&state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
