//! The log as the platform's services use it: queueing entries in a caller's transaction, and
//! reading what was sequenced (entries, checkpoints, proofs, receipts, keys) for the public API,
//! the verify page, certificates and the consoles.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::sequencer::Sequenced;
use crate::domain::page::{Page, PageSize};
use crate::ledger::anchor::Anchor;
use crate::ledger::entry::{Entry, EntryBody};
use crate::ledger::merkle::{self, Hash};
use crate::ledger::receipt::{self, InclusionProof, Receipt, ReceiptEntry};
use crate::services::{ServiceError, ServiceResult, Services};
use crate::store::anchors::AnchorRow;
use crate::store::installation::RetiredKey;
use crate::store::ledger::{CheckpointRow, EntryRow};
use crate::store::{self, Connection};

/// Queues an entry recorded at `now` in the caller's transaction; returns its queue row. The
/// bodies passed here are built by the server, so an entry that cannot be encoded is a bug.
pub(crate) async fn queue_entry(conn: &impl Connection, body: EntryBody, now: DateTime<Utc>) -> ServiceResult<i64> {
    let entry = Entry::at(now, body).encode().map_err(ServiceError::internal)?;
    Ok(store::ledger::enqueue(conn, entry, now).await?)
}

/// [`queue_entry`] for several entries at once.
pub(crate) async fn queue_entries(
    conn: &impl Connection,
    bodies: Vec<EntryBody>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let entries = bodies
        .into_iter()
        .map(|body| Entry::at(now, body).encode())
        .collect::<Result<Vec<_>, _>>()
        .map_err(ServiceError::internal)?;
    store::ledger::enqueue_many(conn, &entries, now).await?;
    Ok(())
}

/// The latest signed checkpoint, if the log has one.
pub async fn latest_checkpoint(services: &Services) -> ServiceResult<Option<CheckpointRow>> {
    Ok(store::ledger::latest_checkpoint(&services.db).await?)
}

/// The checkpoint signed when the log reached `size` (one per batch), if a batch ended there.
pub async fn checkpoint_at(services: &Services, size: u64) -> ServiceResult<Option<CheckpointRow>> {
    Ok(store::ledger::checkpoint_for(&services.db, size).await?)
}

/// The keys that signed this log before its current one, oldest first.
pub async fn retired_keys(services: &Services) -> ServiceResult<Vec<RetiredKey>> {
    Ok(store::installation::retired_ledger_keys(&services.db).await?)
}

/// This log's verifier keys: the current one, then those it retired, newest first.
pub async fn verifier_keys(services: &Services) -> ServiceResult<Vec<String>> {
    let mut keys = vec![services.checkpoint_signer.verifier_key()];
    let retired = retired_keys(services).await?;
    keys.extend(retired.into_iter().rev().map(|key| key.verifier_key));
    Ok(keys)
}

/// The entry at `index`, as a receipt carries it.
pub async fn entry(services: &Services, index: u64) -> ServiceResult<Option<ReceiptEntry>> {
    store::ledger::entry(&services.db, index)
        .await?
        .map(|row| receipt_entry(&row))
        .transpose()
}

/// The entry sequenced from ledger queue row `queued`, once it has been.
pub async fn entry_from_queue(services: &Services, queued: i64) -> ServiceResult<Option<EntryRow>> {
    Ok(store::ledger::entry_from_queue(&services.db, queued).await?)
}

/// The ledger index of the entry queued as `queued`, once sequenced.
pub async fn index_of(services: &Services, queued: i64) -> ServiceResult<Option<i64>> {
    Ok(entry_from_queue(services, queued).await?.map(|row| row.idx))
}

/// The ledger index of each of these queue rows that has been sequenced.
pub async fn indices_of(services: &Services, queued: &[i64]) -> ServiceResult<HashMap<i64, i64>> {
    Ok(store::ledger::indices_from_queue(&services.db, queued).await?)
}

/// The checkpoint a receipt for the entry at `index` is made against: the latest one the
/// witnesses cosigned when the log has witnesses and one of theirs covers it, otherwise the
/// latest signed (a receipt for an entry the witnesses have not seen yet is unwitnessed, and
/// fetching it again later gives the witnessed one); `None` while no checkpoint covers it.
pub async fn receipt_checkpoint(services: &Services, index: u64) -> ServiceResult<Option<CheckpointRow>> {
    let covers = |checkpoint: &CheckpointRow| checkpoint.tree_size as u64 > index;
    if services.witnesses.required()
        && let Some(witnessed) = store::ledger::latest_witnessed(&services.db).await?
        && covers(&witnessed)
    {
        return Ok(Some(witnessed));
    }
    Ok(latest_checkpoint(services).await?.filter(covers))
}

/// A receipt for the entry at `index` against [`receipt_checkpoint`]; `None` while the entry
/// does not exist or no checkpoint covers it yet.
pub async fn receipt_at(services: &Services, index: u64) -> ServiceResult<Option<Receipt>> {
    let (Some(row), Some(checkpoint)) = (
        store::ledger::entry(&services.db, index).await?,
        receipt_checkpoint(services, index).await?,
    ) else {
        return Ok(None);
    };
    Ok(Some(receipt(services, &row, &checkpoint).await?))
}

/// A receipt for `row` against `checkpoint`: everything needed to verify offline, with the
/// first anchor on a chain that covers the entry, once there is one.
pub async fn receipt(services: &Services, row: &EntryRow, checkpoint: &CheckpointRow) -> ServiceResult<Receipt> {
    let size = checkpoint.tree_size as u64;
    let proof = stored_inclusion(services, row.idx as u64, size).await?;
    let mut receipt = signed_receipt(services, receipt_entry(row)?, size, &proof, checkpoint.note.clone());
    receipt.anchor = anchor_of(services, row.idx as u64).await?;
    Ok(receipt)
}

/// The first anchor on a chain of a checkpoint that holds entry `index`, with the entry's
/// proof in that checkpoint's tree.
async fn anchor_of(services: &Services, index: u64) -> ServiceResult<Option<Anchor>> {
    let Some(anchored) = store::anchors::first_covering(&services.db, index).await? else {
        return Ok(None);
    };
    let (Some(block_number), Some(checkpoint)) = (
        anchored.block_number,
        store::ledger::checkpoint_for(&services.db, anchored.tree_size).await?,
    ) else {
        return Ok(None);
    };
    let proof = stored_inclusion(services, index, anchored.tree_size).await?;
    Ok(Some(Anchor {
        chain_id: anchored.chain_id,
        transaction: anchored.transaction_hash,
        block_number,
        checkpoint: checkpoint.note,
        inclusion_proof: InclusionProof::new(anchored.tree_size, &proof),
    }))
}

/// A page of the anchors the chain included, the latest first, after `after` (a tree size).
pub async fn anchors(services: &Services, after: Option<i64>, size: PageSize) -> ServiceResult<Page<AnchorRow, i64>> {
    let before = after.map(|size| u64::try_from(size).unwrap_or(0));
    let mut items = store::anchors::included_before(&services.db, before, size.fetch()).await?;
    let next = if items.len() as u64 > u64::from(size.get()) {
        items.truncate(size.get() as usize);
        items.last().map(|row| row.tree_size as i64)
    } else {
        None
    };
    Ok(Page { items, next })
}

/// The receipt of the entry queued as `queued` from the batch that appended it, if this one did.
pub fn receipt_from_batch(services: &Services, batch: &Sequenced, queued: i64) -> ServiceResult<Option<Receipt>> {
    let Some((index, bytes, proof)) = batch.entry(queued) else {
        return Ok(None);
    };
    let entry = ReceiptEntry::new(index, bytes, &merkle::LOG_HASH.leaf(bytes)).map_err(ServiceError::internal)?;
    Ok(Some(signed_receipt(
        services,
        entry,
        batch.size,
        &proof,
        batch.checkpoint.clone(),
    )))
}

/// A receipt of this log for `entry` with its inclusion `proof` in the tree of `size` that
/// `checkpoint` signs.
fn signed_receipt(services: &Services, entry: ReceiptEntry, size: u64, proof: &[Hash], checkpoint: String) -> Receipt {
    Receipt {
        format: receipt::FORMAT.to_owned(),
        entry,
        inclusion_proof: InclusionProof::new(size, proof),
        checkpoint,
        verifier_key: services.checkpoint_signer.verifier_key(),
        holder: None,
        anchor: None,
    }
}

fn receipt_entry(row: &EntryRow) -> ServiceResult<ReceiptEntry> {
    let leaf: Hash = row.leaf_hash.as_slice().try_into().map_err(|_| {
        ServiceError::internal(anyhow::anyhow!("stored leaf hash of entry {} is not 32 bytes", row.idx))
    })?;
    ReceiptEntry::new(row.idx as u64, &row.entry, &leaf).map_err(ServiceError::internal)
}

/// The inclusion proof of `index` in the tree of `size`, which must not exceed the log.
pub async fn inclusion_proof(services: &Services, index: u64, size: u64) -> ServiceResult<Vec<Hash>> {
    let current = store::ledger::state(&services.db).await?.size;
    if size > current {
        return Err(ServiceError::BadInput);
    }
    stored_inclusion(services, index, size).await
}

/// The inclusion proof of `index` in a tree of `size` the log is known to have reached (that of
/// a stored checkpoint), from the stored nodes.
async fn stored_inclusion(services: &Services, index: u64, size: u64) -> ServiceResult<Vec<Hash>> {
    // The latest batch knows the right edge of its tree: a proof in it reads fewer nodes.
    let edge = services
        .ledger_sequenced
        .borrow()
        .as_ref()
        .map(|batch| batch.right_edge().clone())
        .filter(|edge| edge.size() == size);
    if let Some(edge) = edge {
        let ids = merkle::inclusion_nodes_beside(&edge, index).map_err(|_| ServiceError::BadInput)?;
        let nodes = store::ledger::nodes(&services.db, &ids).await?;
        return merkle::inclusion_proof_beside(&edge, index, &nodes).map_err(|_| ServiceError::BadInput);
    }
    let ids = merkle::inclusion_nodes(index, size).map_err(|_| ServiceError::BadInput)?;
    let nodes = store::ledger::nodes(&services.db, &ids).await?;
    merkle::inclusion_proof(merkle::LOG_HASH, index, size, &nodes).map_err(|_| ServiceError::BadInput)
}

/// The consistency proof from the tree of `from` to the tree of `to`, neither beyond the log.
pub async fn consistency_proof(services: &Services, from: u64, to: u64) -> ServiceResult<Vec<Hash>> {
    let current = store::ledger::state(&services.db).await?.size;
    if to > current || from > to {
        return Err(ServiceError::BadInput);
    }
    let ids = merkle::consistency_nodes(from, to).map_err(|_| ServiceError::BadInput)?;
    let nodes = store::ledger::nodes(&services.db, &ids).await?;
    merkle::consistency_proof(merkle::LOG_HASH, from, to, &nodes).map_err(|_| ServiceError::BadInput)
}
