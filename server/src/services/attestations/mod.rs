//! Hash attestations (存证): an approved issuer attests a SHA3-256 hash (of a file it keeps),
//! gets a receipt once the entry is sequenced, and anyone can later find who attested a hash
//! and when, with fresh proofs. Attestations are queued in batches ([`intake`]).

pub mod intake;

use std::time::Duration;

use chrono::{DateTime, Utc};

use self::intake::NewAttestation;
use super::ledger::log;
use super::{ServiceError, ServiceResult, Services};
use crate::crypto::sha3_256;
use crate::domain::attestation::AttestationLabel;
use crate::domain::ids::IssuerId;
use crate::domain::issuer::Issuer;
use crate::domain::page::{Page, PageSize};
use crate::ledger::entry::{Entry, EntryBody};
use crate::ledger::merkle::Hash;
use crate::ledger::receipt::Receipt;
use crate::store;
use crate::store::ledger::CheckpointRow;

/// How long an attestation waits for its entry to be sequenced.
const RECEIPT_WAIT: Duration = Duration::from_secs(10);

/// How often a waiting attestation looks in the store for its entry, in case a batch of
/// another server appended it.
const STORE_POLL: Duration = Duration::from_millis(250);

/// What became of an attestation.
#[derive(Debug)]
pub enum Attested {
    /// Sequenced: its receipt.
    Receipt(Box<Receipt>),
    /// Queued and acknowledged (it survives a crash), not sequenced yet: its queue row.
    Queued { queue_id: i64 },
}

/// Attests `digest` for `issuer`: queues its entry with the next batch and, if `wait`, waits
/// for the batch that sequences it (of this server or another) to answer with its receipt.
pub async fn attest(
    services: &Services,
    issuer: &Issuer,
    digest: Hash,
    label: &AttestationLabel,
    wait: bool,
    now: DateTime<Utc>,
) -> ServiceResult<Attested> {
    let body = EntryBody::HashAttestation {
        issuer_id: issuer.id.0 as u64,
        sha3_256: digest,
        label_sha3_256: sha3_256(label.as_str().as_bytes()),
    };
    // The digest and the label were checked: an entry that does not encode is a bug.
    let entry = Entry::at(now, body).encode().map_err(ServiceError::internal)?;
    // Subscribed before the entry is queued, so the batch that appends it cannot be missed.
    let mut batches = services.ledger_sequenced.subscribe();
    let attestation = NewAttestation {
        issuer: issuer.id,
        digest,
        label: label.as_str().to_owned(),
        entry,
        now,
    };
    let queued = services
        .attestation_intake
        .submit(&services.db, attestation)
        .await
        .map_err(ServiceError::internal)?;
    services.entries_queued();
    if !wait {
        return Ok(Attested::Queued { queue_id: queued });
    }
    let deadline = tokio::time::Instant::now() + RECEIPT_WAIT;
    let mut in_store = false;
    loop {
        let batch = batches.borrow_and_update().clone();
        if let Some(batch) = batch {
            if let Some(receipt) = log::receipt_from_batch(services, &batch, queued)? {
                return Ok(Attested::Receipt(Box::new(receipt)));
            }
            in_store |= batch.last_queued >= queued;
        }
        if in_store && let Some(row) = log::entry_from_queue(services, queued).await? {
            let checkpoint = log::receipt_checkpoint(services, row.idx as u64)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let receipt = log::receipt(services, &row, &checkpoint).await?;
            return Ok(Attested::Receipt(Box::new(receipt)));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Attested::Queued { queue_id: queued });
        }
        tokio::select! {
            changed = batches.changed() => {
                if changed.is_err() {
                    // No more batches from this server (it is shutting down): the store will tell.
                    tokio::time::sleep(STORE_POLL).await;
                    in_store = true;
                }
            }
            // Another server of the installation may have sequenced it.
            () = tokio::time::sleep(STORE_POLL) => in_store = true,
        }
    }
}

/// One attestation of a hash, as the public sees it.
#[derive(Debug)]
pub struct PublicAttestation {
    pub issuer: Option<Issuer>,
    pub label: String,
    pub attested_at: DateTime<Utc>,
    pub receipt: Receipt,
}

/// Every sequenced attestation of `digest` with a fresh receipt against the latest
/// checkpoint, and that checkpoint; `None` while the log has no checkpoint.
pub async fn of_digest(
    services: &Services,
    digest: &Hash,
) -> ServiceResult<Option<(CheckpointRow, Vec<PublicAttestation>)>> {
    let Some(checkpoint) = log::latest_checkpoint(services).await? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (attestation, entry) in store::attestations::of_digest(&services.db, digest).await? {
        if entry.idx >= checkpoint.tree_size {
            continue;
        }
        let receipt = log::receipt(services, &entry, &checkpoint).await?;
        // The entry holds the label's digest: a stored label it does not vouch for is not shown.
        let vouched = match Entry::decode(&entry.entry).map(|entry| entry.body) {
            Ok(EntryBody::HashAttestation { label_sha3_256, .. }) => {
                sha3_256(attestation.label.as_bytes()) == label_sha3_256
            }
            _ => true,
        };
        out.push(PublicAttestation {
            issuer: store::issuers::find(&services.db, IssuerId(attestation.issuer_id)).await?,
            label: if vouched { attestation.label } else { String::new() },
            attested_at: DateTime::from_timestamp_millis(receipt.entry.timestamp_ms as i64)
                .unwrap_or(attestation.created_at),
            receipt,
        });
    }
    Ok(Some((checkpoint, out)))
}

/// An attestation in the issuer's console.
#[derive(Debug, Clone)]
pub struct IssuerAttestation {
    pub id: i64,
    pub digest: Hash,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// The ledger index, once sequenced.
    pub index: Option<i64>,
}

/// A page of the issuer's attestations, newest first, older than attestation `before` if given.
pub async fn of_issuer(
    services: &Services,
    issuer: IssuerId,
    before: Option<i64>,
    size: PageSize,
) -> ServiceResult<Page<IssuerAttestation, i64>> {
    let rows = store::attestations::of_issuer(&services.db, issuer, before, size.fetch()).await?;
    let rows = rows
        .into_iter()
        .map(|(a, entry)| {
            Ok(IssuerAttestation {
                id: a.id,
                digest: a.digest.as_slice().try_into().map_err(|_| {
                    ServiceError::internal(anyhow::anyhow!("stored digest of attestation {} is not 32 bytes", a.id))
                })?,
                label: a.label,
                created_at: a.created_at,
                index: entry.map(|e| e.idx),
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(Page::from_rows(rows, size, |a| a.id))
}
