//! The server's life cycle: binding, building the shared state, starting the workers, serving
//! until SIGTERM or Ctrl-C (or, started in another program, until it says stop), and shutting
//! down with requests in flight finished.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;
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
    let shutdown = CancellationToken::new();
    let Started { bound, stopped } = start(config, shutdown.clone()).await?;
    println!("Keepsake listening on http://{bound}");
    tracing::info!(%bound, "serving");
    let (failed, failure) = tokio::sync::oneshot::channel();
    let follow_up = then(format!("http://{bound}"));
    tokio::spawn(async move {
        if let Err(err) = follow_up.await {
            let _ = failed.send(err);
        }
    });
    let failed = tokio::select! {
        () = shutdown_signal() => None,
        Ok(err) = failure => Some(err),
    };
    shutdown.cancel();
    stopped.await.context("the server task failed")??;
    failed.map_or(Ok(()), Err)
}

/// A server [`start`]ed in the current runtime.
pub struct Started {
    /// The address it listens on (with the port the system chose when `bind` asks for 0).
    pub bound: SocketAddr,
    /// Completes once the server has stopped: requests in flight answered, the workers
    /// drained and the database closed.
    pub stopped: JoinHandle<anyhow::Result<()>>,
}

/// Binds, opens the database and applies pending migrations, builds the shared state, starts
/// the workers and serves from a task of the current runtime until `shutdown` is cancelled;
/// returns once the server listens. [`serve`] without the signals, for a caller that runs the
/// platform inside its own process (the end-to-end tests).
pub async fn start(config: Config, shutdown: CancellationToken) -> anyhow::Result<Started> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {} (setting `bind`, KEEPSAKE_BIND)", config.bind))?;
    let bound = listener.local_addr()?;
    let db = open_database(&config).await?;
    let state = AppState::build(config, db, bound).await?;

    // The workers have their own token: they stop only after the last request is answered,
    // so that what those requests queued is handled before the database closes.
    let stop_workers = CancellationToken::new();
    let mut workers = jobs::spawn_all(state.clone(), stop_workers.clone());

    let router = web::router(state.clone(), api::routes());
    let stopped = tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .context("server error")?;

        tracing::info!("shutting down workers");
        stop_workers.cancel();
        let drained = tokio::time::timeout(Duration::from_secs(30), async {
            while workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("workers did not stop within 30 s");
        }
        state.services.db.clone().close().await.ok();
        tracing::info!("stopped");
        Ok(())
    });
    Ok(Started { bound, stopped })
}

pub(crate) async fn shutdown_signal() {
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
