//! The use cases: one module per family. A service takes its inputs, the actor and `now`, owns
//! its transaction, writes its audit rows, mails and ledger entries, wakes the workers once it
//! has committed, and returns domain values or one [`ServiceError`]. Handlers in `web` and
//! `api` parse and authorise, call a service and render what it returns; `jobs` call the
//! services the background workers run.

pub mod attestation_intake;
pub mod group_commit;
pub mod ledger;
pub mod minter;

use std::sync::Arc;

use tokio::sync::{Notify, watch};
use url::Url;

use self::attestation_intake::AttestationIntake;
use self::ledger::sequencer::Sequenced;
use self::ledger::tiles::TileCache;
use self::minter::Minter;
use crate::blobs::SharedBlobStore;
use crate::crypto::SealingKey;
use crate::kyc::{IdentityVerifier, PiiVault};
use crate::ledger::signer::CheckpointSigner;
use crate::store::Database;

/// What the services work with: the database, the blob store, the keys, the workers' wake-ups
/// and the batching queues. One per running server, shared by every request.
pub struct Services {
    pub db: Database,
    pub blobs: SharedBlobStore,
    /// Seals identity data and computes its blind index; keys in `<data_dir>/keys/`.
    pub vault: PiiVault,
    /// Decides identity checks: reviewers, or an HTTP provider.
    pub verifier: IdentityVerifier,
    /// Seals form results kept for their owner (a new API key, a batch of claim codes).
    pub results_key: SealingKey,
    /// Signs ledger checkpoints; its key lives in `<data_dir>/keys/`.
    pub checkpoint_signer: CheckpointSigner,
    /// Base of links in emails: configured, or derived from the bound address.
    pub public_url: Url,
    /// The operator's name, which signs every mail.
    pub operator_name: String,
    /// Wakes the outbox worker after a service queued mail.
    pub mail_wakeup: Notify,
    /// Wakes the sequencer after a service queued a ledger entry.
    pub ledger_wakeup: Notify,
    /// The latest batch this server sequenced, for requests waiting for their receipts.
    pub ledger_sequenced: watch::Sender<Option<Arc<Sequenced>>>,
    /// Decides claims in batches.
    pub minter: Minter,
    /// Queues hash attestations for the ledger in batches.
    pub attestation_intake: AttestationIntake,
    /// Ledger tiles served lately.
    pub tiles: TileCache,
}

impl Services {
    /// An absolute URL for `path` (which starts with `/`), for links in emails.
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }
}
