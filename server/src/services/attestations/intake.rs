//! The attestation intake: hash attestations are queued for the ledger in batches, one
//! transaction per batch, the way the minter decides claims. Under load the commit is paid
//! once per batch instead of once per attestation.
//!
//! Attestations are batched by [`GroupCommit`]. A request is answered only after its batch
//! committed, so an acknowledged attestation survives a crash. If a batch fails as a whole, its attestations are written one
//! transaction each, so one bad row never fails its neighbours.

use chrono::{DateTime, Utc};

use crate::domain::ids::IssuerId;
use crate::ledger::merkle::Hash;
use crate::services::group_commit::{self, GroupCommit};
use crate::store::{self, StoreError};

/// The most attestations one transaction writes.
const MAX_BATCH: usize = 1024;

/// An attestation to queue: its ledger entry, and what the platform keeps beside it.
#[derive(Debug, Clone)]
pub struct NewAttestation {
    pub issuer: IssuerId,
    pub digest: Hash,
    pub label: String,
    /// The encoded `hash_attestation` entry.
    pub entry: Vec<u8>,
    pub now: DateTime<Utc>,
}

/// Why an attestation was not queued.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the attestation batch was interrupted")]
    Interrupted,
}

type Waiting = group_commit::Waiting<NewAttestation, Result<i64, IntakeError>>;

/// The attestation queue; cheap to clone.
#[derive(Clone, Default)]
pub struct AttestationIntake {
    batches: GroupCommit<NewAttestation, Result<i64, IntakeError>>,
}

impl AttestationIntake {
    /// Queues `attestation` for the ledger with the next batch; answers with its queue row
    /// once the batch committed.
    pub async fn submit(&self, db: &store::Database, attestation: NewAttestation) -> Result<i64, IntakeError> {
        let db = db.clone();
        let write = move |batch| {
            let db = db.clone();
            async move {
                for chunk in chunks(batch) {
                    write_batch(&db, chunk).await;
                }
            }
        };
        self.batches
            .submit(attestation, write)
            .await
            .unwrap_or(Err(IntakeError::Interrupted))
    }
}

fn chunks(mut batch: Vec<Waiting>) -> Vec<Vec<Waiting>> {
    let mut out = Vec::with_capacity(batch.len().div_ceil(MAX_BATCH));
    while !batch.is_empty() {
        let rest = batch.split_off(batch.len().min(MAX_BATCH));
        out.push(batch);
        batch = rest;
    }
    out
}

/// One transaction for `batch`; if it fails, one transaction per attestation.
async fn write_batch(db: &store::Database, batch: Vec<Waiting>) {
    let attestations: Vec<&NewAttestation> = batch.iter().map(|w| &w.request).collect();
    let outcomes = match write_together(db, &attestations).await {
        Ok(queued) => queued.into_iter().map(Ok).collect(),
        Err(err) if attestations.len() > 1 => {
            tracing::warn!(attestations = attestations.len(), error = %err, "attestation batch failed; writing one by one");
            let mut outcomes = Vec::with_capacity(attestations.len());
            for attestation in &attestations {
                let alone = write_together(db, &[attestation]).await;
                outcomes.push(alone.map(|mut ids| ids.remove(0)).map_err(IntakeError::from));
            }
            outcomes
        }
        Err(err) => vec![Err(err.into())],
    };
    for (waiting, outcome) in batch.into_iter().zip(outcomes) {
        // The issuer may have hung up; the attestation stays queued and is found by its hash.
        let _ = waiting.reply.send(outcome);
    }
}

async fn write_together(db: &store::Database, attestations: &[&NewAttestation]) -> Result<Vec<i64>, StoreError> {
    let now = attestations.iter().map(|a| a.now).max().unwrap_or_else(Utc::now);
    let entries: Vec<Vec<u8>> = attestations.iter().map(|a| a.entry.clone()).collect();
    let txn = store::begin(db).await?;
    let queued = store::ledger::enqueue_many(&txn, &entries, now).await?;
    let rows = attestations
        .iter()
        .zip(&queued)
        .map(|(a, &queue_id)| store::attestations::NewRow {
            issuer: a.issuer,
            digest: a.digest,
            label: a.label.clone(),
            queue_id,
            created_at: a.now,
        })
        .collect();
    store::attestations::record_many(&txn, rows).await?;
    store::commit(txn).await?;
    Ok(queued)
}
