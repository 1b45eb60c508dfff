//! The server's life cycle: binding, building the shared state, starting the workers, serving
//! until SIGTERM or Ctrl-C, and shutting down with requests in flight finished.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::state::AppState;
use crate::store::{self, Database};
use crate::{api, jobs, web};

/// Creates the data directory, opens the database and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Database> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let db = store::connect(config.database_url.expose())
        .await
        .context("cannot open the database (setting `database_url`, DATABASE_URL)")?;
    store::migrate(&db).await.context("database migration failed")?;
    Ok(db)
}

/// Runs the platform until SIGTERM or Ctrl-C: binds, migrates, starts the workers and serves.
/// In-flight requests finish before the process exits.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    serve_then(config, |_| async { Ok(()) }).await
}

/// Serves like [`serve`] and, once the server listens, runs `then` with its base URL (as
/// `keepsake demo` does to fill it). If `then` fails, the server stops with its error.
pub async fn serve_then<F, Fut>(config: Config, then: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {} (setting `bind`, KEEPSAKE_BIND)", config.bind))?;
    let bound = listener.local_addr()?;
    let db = open_database(&config).await?;
    let state = AppState::build(config, db, bound).await?;

    let shutdown = CancellationToken::new();
    let mut workers = jobs::spawn_all(state.clone(), shutdown.clone());

    let router = web::router(state.clone(), api::routes());
    println!("Keepsake listening on http://{bound}");
    tracing::info!(%bound, "serving");
    let (failed, failure) = tokio::sync::oneshot::channel();
    let follow_up = then(format!("http://{bound}"));
    tokio::spawn(async move {
        if let Err(err) = follow_up.await {
            let _ = failed.send(err);
        }
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<anyhow::Error>();
    let stopping = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            Ok(err) = failure => {
                let _ = stop.send(err);
            }
        }
    };
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stopping)
        .await
        .context("server error")?;

    tracing::info!("shutting down workers");
    shutdown.cancel();
    let drained = tokio::time::timeout(Duration::from_secs(30), async {
        while workers.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("workers did not stop within 30 s");
    }
    state.services.db.clone().close().await.ok();
    tracing::info!("stopped");
    match stopped.await {
        Ok(err) => Err(err),
        Err(_) => Ok(()),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
