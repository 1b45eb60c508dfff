//! Anchoring: every `ledger.anchor_interval_s` while the log grows, or sooner after
//! `ledger.anchor_entries` new entries, the latest checkpoint (the latest witnessed one when
//! the log has witnesses) is anchored on the configured EVM chain. The transaction is recorded
//! when sent and again when the chain includes it; no new anchor is sent while one waits. A
//! chain that cannot be reached delays anchoring only.

use chrono::{DateTime, Utc};

use crate::chain::{Anchorer, ChainError};
use crate::config::AnchorConfig;
use crate::ledger::anchor::calldata;
use crate::ledger::checkpoint;
use crate::services::Services;
use crate::store::anchors::AnchorRow;
use crate::store::{self, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error("the checkpoint of size {0} does not verify under the log's key")]
    Checkpoint(u64),
}

/// What a step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchored {
    /// Nothing to do yet.
    Idle,
    /// An anchor sent earlier is still waiting for the chain.
    Waiting(AnchorRow),
    /// The anchor of this size was sent; the chain has not included it yet.
    Sent { size: u64, transaction: String },
    /// The chain included the anchor of this size in this block.
    Included { size: u64, block: u64 },
}

/// Confirms the anchors waiting for the chain, then sends the next one if it is due.
pub async fn step(
    services: &Services,
    anchorer: &Anchorer,
    settings: &AnchorConfig,
    now: DateTime<Utc>,
) -> Result<Anchored, AnchorError> {
    for waiting in store::anchors::waiting(&services.db).await? {
        match anchorer.included_in(&waiting.transaction_hash).await? {
            Some(block) => store::anchors::included(&services.db, waiting.tree_size, block, now).await?,
            None => return Ok(Anchored::Waiting(waiting)),
        }
    }
    let checkpoint = if services.witnesses.required() {
        store::ledger::latest_witnessed(&services.db).await?
    } else {
        store::ledger::latest_checkpoint(&services.db).await?
    };
    let Some(checkpoint) = checkpoint else {
        return Ok(Anchored::Idle);
    };
    let size = checkpoint.tree_size as u64;
    if let Some(last) = store::anchors::latest(&services.db).await? {
        let due = now - last.sent_at >= chrono::Duration::from_std(settings.interval).unwrap_or_default()
            || size.saturating_sub(last.tree_size) >= settings.entries;
        if size <= last.tree_size || !due {
            return Ok(Anchored::Idle);
        }
    }
    let checked = checkpoint::verify(&checkpoint.note, &services.checkpoint_signer.verifier_key())
        .map_err(|_| AnchorError::Checkpoint(size))?;
    let body = checkpoint::body(&checked.origin, checked.size, &checked.root);
    let transaction = anchorer.send(calldata(&body)).await?;
    store::anchors::sent(&services.db, size, anchorer.chain_id(), &transaction, now).await?;
    tracing::info!(size, transaction = %transaction, "ledger checkpoint anchored; waiting for the chain to include it");
    match anchorer.included_in(&transaction).await? {
        Some(block) => {
            store::anchors::included(&services.db, size, block, now).await?;
            Ok(Anchored::Included { size, block })
        }
        None => Ok(Anchored::Sent { size, transaction }),
    }
}
