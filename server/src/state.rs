//! The state every request handler and background worker shares: the configuration, the
//! [`Services`], and what only the web side or the workers keep (the CSRF key, the certificate
//! images drawn lately, the workers' health). It imports nothing from `web` or `jobs`.

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;

use anyhow::Context;
use tokio::sync::{Notify, watch};
use url::Url;

use crate::blobs;
use crate::certificate_image::{CACHE_BUDGET, CertificateCache};
use crate::chain::Anchorer;
use crate::config::Config;
use crate::crypto::{Key, SealingKey};
use crate::health::Health;
use crate::kyc::{IdentityVerifier, PiiVault};
use crate::mail::Transport;
use crate::services::Services;
use crate::services::attestations::intake::AttestationIntake;
use crate::services::claims::minter::Minter;
use crate::services::filings::FilingRules;
use crate::services::ledger::{self, tiles::TileCache};
use crate::sms::SmsTransport;
use crate::store::{self, Database};

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
    pub services: Services,
    /// Delivers the mail the services queue in the outbox.
    pub mail_transport: Transport,
    /// Texts the codes the services queue.
    pub sms_transport: SmsTransport,
    /// Signs CSRF tokens; generated on first start in the keys directory.
    pub csrf_key: Key,
    /// Whether the sequencer's batches are failing (shown by `/readyz`).
    pub sequencer_health: Health,
    /// Whether publishing the ledger's tiles is failing (shown by `/readyz`).
    pub tile_health: Health,
    /// Certificate images drawn lately.
    pub certificates: CertificateCache,
    /// The installation holds the demonstration data of `keepsake demo`; every page says so.
    pub demo: bool,
}

impl AppState {
    /// Builds the state on `db` (migrated): the blob store, the mail transport and the keys,
    /// created in the keys directory at the first start. `bound` is the address the server
    /// listens on, the base of links in emails unless `public_url` is set.
    pub async fn build(config: Config, db: Database, bound: SocketAddr) -> anyhow::Result<Self> {
        let demo = store::installation::is_demo(&db)
            .await
            .context("cannot read the installation's settings")?;
        let blobs = blobs::from_config(&config)
            .await
            .context("cannot reach the blob store (settings `s3.*`, KEEPSAKE_S3_*)")?;
        let mail_transport = Transport::from_config(&config.mail, &config.data_dir)?;
        let sms_transport = SmsTransport::from_config(&config.sms, &config.data_dir)
            .context("cannot set up texting (settings `sms.*`, KEEPSAKE_SMS_*)")?;
        let keys = &config.keys_dir;
        let csrf_key = Key::load_or_create(&keys.join("csrf.key")).context("cannot read or create the CSRF key")?;
        let vault = PiiVault::load(keys).context("cannot read or create the identity keys")?;
        let results_key = Key::load_or_create(&keys.join("form-results.key"))
            .context("cannot read or create the form results key")?;
        let verifier = IdentityVerifier::from_config(&config.kyc)?;
        let checkpoint_signer = ledger::open_signer(&config, &db).await?;
        let public_url = match &config.public_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{bound}/")).context("bound address is not a URL")?,
        };
        let anchorer = config
            .ledger
            .anchoring
            .as_ref()
            .map(|anchoring| Anchorer::load(&anchoring.rpc_url, anchoring.chain_id, &anchoring.key_file))
            .transpose()
            .context("cannot set up anchoring (settings `ledger.anchor_*`)")?;
        let services = Services {
            db,
            blobs,
            vault,
            verifier,
            results_key: SealingKey::new(&results_key, "v1"),
            checkpoint_signer,
            public_url,
            operator_name: config.operator.name.clone(),
            mail_wakeup: Notify::new(),
            archive_wakeup: Notify::new(),
            sms_wakeup: Notify::new(),
            ledger_wakeup: Notify::new(),
            ledger_sequenced: watch::Sender::new(None),
            minter: Minter::default(),
            attestation_intake: AttestationIntake::default(),
            tiles: TileCache::new(config.ledger.tile_cache_bytes),
            witnesses: config.ledger.witnesses.clone(),
            anchorer,
            minimum_age: config.minimum_age,
            appeal_window: config.appeal_window,
            filings: FilingRules {
                recheck: config.filing_recheck,
                operator: config.operator.filing_dates,
                operator_checked_on: config.operator.filings_checked_on,
            },
        };
        Ok(Self(Arc::new(App {
            config,
            services,
            mail_transport,
            sms_transport,
            csrf_key,
            sequencer_health: Health::default(),
            tile_health: Health::default(),
            certificates: CertificateCache::new(CACHE_BUDGET),
            demo,
        })))
    }
}
