//! Shared application state and the server's life cycle: start-up, serving, shutdown.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::attestation_intake::AttestationIntake;
use crate::blobs::{self, SharedBlobStore};
use crate::config::Config;
use crate::crypto::{Key, SealingKey};
use crate::jobs::supervised::Health;
use crate::kyc::{IdentityVerifier, PiiVault};
use crate::ledger::checkpoint::CheckpointSigner;
use crate::ledger::sequencer::Sequenced;
use crate::mail::Transport;
use crate::minter::Minter;
use crate::web::certificate_cache::{self, CertificateCache};
use crate::web::tiles::TileCache;
use crate::{jobs, store, web};

/// Everything a request handler or worker needs, behind one cheap-to-clone handle.
#[derive(Clone)]
pub struct AppState(Arc<App>);

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

pub struct App {
    pub config: Config,
    pub db: DatabaseConnection,
    pub blobs: SharedBlobStore,
    pub mail_transport: Transport,
    /// Wakes the outbox worker after a request queued mail.
    pub mail_wakeup: Notify,
    /// Signs CSRF tokens; generated on first start in `<data_dir>/keys/`.
    pub csrf_key: Key,
    /// Seals identity data and computes its blind index; keys in `<data_dir>/keys/`.
    pub vault: PiiVault,
    /// Seals form results kept for their owner (a new API key, a batch of claim codes).
    pub results_key: SealingKey,
    /// Decides identity checks: reviewers, or an HTTP provider.
    pub verifier: IdentityVerifier,
    /// Signs ledger checkpoints; its key lives in `<data_dir>/keys/`.
    pub checkpoint_signer: CheckpointSigner,
    /// Wakes the sequencer after a request queued a ledger entry.
    pub ledger_wakeup: Notify,
    /// The latest batch this server sequenced, for requests waiting for their receipts.
    pub ledger_sequenced: watch::Sender<Option<Arc<Sequenced>>>,
    /// Whether the sequencer's batches are failing (shown by `/readyz`).
    pub sequencer_health: Health,
    /// Whether publishing the ledger's tiles is failing (shown by `/readyz`).
    pub tile_health: Health,
    /// Base of links in emails: configured, or derived from the bound address.
    pub public_url: Url,
    /// Decides claims in batches.
    pub minter: Minter,
    /// Queues hash attestations for the ledger in batches.
    pub attestation_intake: AttestationIntake,
    /// Certificate images drawn lately.
    pub certificates: CertificateCache,
    /// Ledger tiles served lately.
    pub tiles: TileCache,
    /// The installation holds the demonstration data of `keepsake demo`; every page says so.
    pub demo: bool,
}

impl AppState {
    /// Connects to the database (applying migrations), the blob store and the mail transport.
    pub async fn build(config: Config, bound: SocketAddr) -> anyhow::Result<Self> {
        let db = open_database(&config).await?;
        let demo = store::installation::is_demo(&db)
            .await
            .context("cannot read the installation's settings")?;
        let blobs = blobs::from_config(&config)
            .await
            .context("cannot reach the blob store (settings `s3.*`, KEEPSAKE_S3_*)")?;
        let mail_transport = Transport::from_config(&config.mail, &config.data_dir)?;
        let csrf_key = Key::load_or_create(&config.data_dir.join("keys").join("csrf.key"))
            .context("cannot read or create the CSRF key")?;
        let vault = PiiVault::load(&config.data_dir.join("keys")).context("cannot read or create the identity keys")?;
        let results_key = Key::load_or_create(&config.data_dir.join("keys").join("form-results.key"))
            .context("cannot read or create the form results key")?;
        let verifier = IdentityVerifier::from_config(&config.kyc)?;
        let checkpoint_signer = checkpoint_signer(&config, &db).await?;
        let public_url = match &config.public_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{bound}/")).context("bound address is not a URL")?,
        };
        let tiles = TileCache::new(config.ledger.tile_cache_bytes);
        Ok(Self(Arc::new(App {
            config,
            db,
            blobs,
            mail_transport,
            mail_wakeup: Notify::new(),
            csrf_key,
            vault,
            results_key: SealingKey::new(&results_key, "v1"),
            verifier,
            checkpoint_signer,
            ledger_wakeup: Notify::new(),
            ledger_sequenced: watch::Sender::new(None),
            sequencer_health: Health::default(),
            tile_health: Health::default(),
            public_url,
            minter: Minter::default(),
            attestation_intake: AttestationIntake::default(),
            certificates: CertificateCache::new(certificate_cache::BUDGET),
            tiles,
            demo,
        })))
    }

    /// An absolute URL for `path` (which starts with `/`), for links in emails.
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}

/// The ledger's checkpoint signer. At the first start its key is created (in `<data_dir>/keys/`
/// unless configured elsewhere) and the verifier key, with the log's name and key id, pinned
/// in the database; from then on the log keeps that name whatever `public_url` or
/// `ledger.origin` say, and a missing or different key file stops the server instead of
/// starting a second history under the same name.
pub async fn checkpoint_signer(config: &Config, db: &DatabaseConnection) -> anyhow::Result<CheckpointSigner> {
    let path = &config.ledger.signing_key_file;
    let pinned = store::installation::ledger_key(db).await?;
    let latest = store::ledger::latest_checkpoint(db).await?;
    if (pinned.is_some() || latest.is_some()) && !path.exists() {
        anyhow::bail!(
            "the ledger signing key {} is missing, but this database holds a log signed with it ({}): restore the \
             key file from a backup; a new key would sign a second history under the same name",
            path.display(),
            pinned.as_deref().unwrap_or("its checkpoints")
        );
    }
    let origin = match (&pinned, &latest) {
        (Some(key), _) => key.split('+').next().unwrap_or_default().to_owned(),
        (None, Some(checkpoint)) => checkpoint.note.lines().next().unwrap_or_default().to_owned(),
        (None, None) => config.ledger.origin.clone(),
    };
    if origin != config.ledger.origin {
        tracing::warn!(
            log = %origin,
            configured = %config.ledger.origin,
            "the ledger keeps the name it was started with; the configured name is not used for it"
        );
    }
    let signer = CheckpointSigner::load(path, origin).context("cannot read or create the ledger signing key")?;
    let own = signer.verifier_key();
    let wrong_key = |log: &str| {
        anyhow::anyhow!(
            "the ledger signing key {} is not this log's key (the log is signed by {log}): restore the right key file, \
             or run `keepsake ledger rotate-key` again if a rotation was interrupted",
            path.display()
        )
    };
    match pinned {
        Some(log) if log != own => return Err(wrong_key(&log)),
        Some(_) => {}
        None => {
            if let Some(checkpoint) = &latest
                && crate::ledger::checkpoint::verify(&checkpoint.note, &own).is_err()
            {
                return Err(wrong_key("the key of its latest checkpoint"));
            }
            if store::installation::pin_ledger_key(db, &own, chrono::Utc::now())
                .await
                .is_err()
            {
                // Another server of the installation started at the same moment and pinned first.
                match store::installation::ledger_key(db).await? {
                    Some(log) if log == own => {}
                    Some(log) => return Err(wrong_key(&log)),
                    None => anyhow::bail!("cannot pin the ledger's key in the database"),
                }
            }
        }
    }
    let carried = crate::ledger::upgrade::carry_over(db, path, signer.origin(), chrono::Utc::now())
        .await
        .context("cannot carry the v1 ledger over into format v2")?;
    match carried {
        None => Ok(signer),
        Some(continued) => {
            tracing::info!(
                closed_at = continued.v1_size,
                log = %continued.origin,
                "the ledger moved to format v2 (SHA-256 tree); the v1 log is closed and its receipts keep verifying"
            );
            CheckpointSigner::load(path, continued.origin).context("cannot read the ledger signing key")
        }
    }
}

/// Creates the data directory, opens the database and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
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
    let state = AppState::build(config, bound).await?;

    let shutdown = CancellationToken::new();
    let mut workers = jobs::spawn_all(state.clone(), shutdown.clone());

    let router = web::router(state.clone());
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
    state.db.clone().close().await.ok();
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
