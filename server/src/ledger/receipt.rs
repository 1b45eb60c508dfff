//! Receipts: an entry with its inclusion proof, the signed checkpoint the proof leads to and
//! the key that signed it. A receipt is checked fully offline: the entry bytes must hash to
//! the leaf, the proof must lead from the leaf to the checkpoint's root, and the checkpoint
//! must carry a valid signature by the verifier key the checker trusts and, if the checker
//! names witnesses, the cosignatures of as many of them as it requires.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::anchor::{Anchor, VerifiedAnchor, calldata};
use super::checkpoint::{self, NoteError};
use super::cosignature::WitnessKey;
use super::entry::{DecodeError, Entry, EntryBody};
use super::merkle::{Hash, Side, TreeHash, walk_inclusion};
use crate::crypto::{hex, parse_digest_hex};
use crate::domain::claim::{holder_commitment, legacy_holder_commitment};

/// The versioned header every receipt carries, so verifiers can refuse bundles they do not
/// understand: ledger format v2, whose tree is RFC 6962's with SHA-256.
pub const FORMAT: &str = "keepsake-receipt/2";

/// The header of receipts from the closed v1 log, whose tree hashed with SHA3-256; they keep
/// verifying.
pub const FORMAT_V1: &str = "keepsake-receipt/1 sha3-256";

/// The tree hash of a receipt format, if it is one this checker knows.
fn tree_hash(format: &str) -> Option<TreeHash> {
    match format {
        FORMAT => Some(TreeHash::Sha256),
        FORMAT_V1 => Some(TreeHash::Sha3_256),
        _ => None,
    }
}

/// A receipt as the API hands it out and `keepsake verify` reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receipt {
    /// [`FORMAT`], or [`FORMAT_V1`] for a receipt from the closed v1 log.
    pub format: String,
    pub entry: ReceiptEntry,
    pub inclusion_proof: InclusionProof,
    /// The C2SP signed note of the tree the proof is for.
    pub checkpoint: String,
    /// The verifier key the server signs with, for convenience: a careful checker pins the
    /// operator's key instead of trusting this one.
    pub verifier_key: String,
    /// Present in a token's certificate: what opens the entry's holder commitment. Only the
    /// holder is given it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderProof>,
    /// Present once a checkpoint holding the entry was anchored on a chain: the first such.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Anchor>,
}

/// What opens a `token_minted` entry's holder commitment, in hex.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HolderProof {
    /// The token's own opening: a secret of this token alone, linking it to nothing else.
    Opening { opening: String },
    /// Tokens minted before openings: the holder's identity blind index (a keyed hash, not the
    /// ID number) and the token's salt.
    Legacy { blind_index: String, salt: String },
}

impl HolderProof {
    /// Whether this opens `committed`.
    pub fn opens(&self, committed: &Hash) -> bool {
        match self {
            HolderProof::Opening { opening } => {
                parse_digest_hex(opening).is_some_and(|opening| holder_commitment(&opening) == *committed)
            }
            HolderProof::Legacy { blind_index, salt } => {
                parse_digest_hex(salt).is_some_and(|salt| legacy_holder_commitment(blind_index, &salt) == *committed)
            }
        }
    }
}

/// An entry as published: its bytes (base64), leaf hash (hex) and, for people, its fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptEntry {
    pub index: u64,
    pub entry: String,
    pub leaf_hash: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp_ms: u64,
    pub fields: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    pub size: u64,
    /// Sibling hashes from the leaf up, base64.
    pub hashes: Vec<String>,
}

impl ReceiptEntry {
    pub fn new(index: u64, bytes: &[u8], leaf: &Hash) -> Result<Self, DecodeError> {
        let entry = Entry::decode(bytes)?;
        Ok(Self {
            index,
            entry: STANDARD.encode(bytes),
            leaf_hash: hex(leaf),
            kind: entry.body.type_name().to_owned(),
            timestamp_ms: entry.timestamp_ms,
            fields: fields(&entry.body),
        })
    }
}

impl InclusionProof {
    pub fn new(size: u64, proof: &[Hash]) -> Self {
        Self {
            size,
            hashes: encode_hashes(proof),
        }
    }
}

/// Proof hashes as receipts and the proof endpoints carry them: base64, in proof order.
pub fn encode_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

/// Proof hashes as receipts carry them (base64), decoded.
fn decode_hashes(hashes: &[String]) -> Result<Vec<Hash>, ReceiptError> {
    hashes
        .iter()
        .map(|h| STANDARD.decode(h).ok().and_then(|h| Hash::try_from(h).ok()))
        .collect::<Option<Vec<Hash>>>()
        .ok_or(ReceiptError::ProofEncoding)
}

/// An entry's fields as JSON, digests in hex.
pub fn fields(body: &EntryBody) -> Value {
    match body {
        EntryBody::HashAttestation {
            issuer_id,
            sha3_256,
            label_sha3_256,
        } => json!({ "issuer_id": issuer_id, "sha3_256": hex(sha3_256), "label_sha3_256": hex(label_sha3_256) }),
        EntryBody::LabelledHashAttestation {
            issuer_id,
            sha3_256,
            label,
        } => json!({ "issuer_id": issuer_id, "sha3_256": hex(sha3_256), "label": label }),
        EntryBody::IssuerApproved {
            issuer_id,
            credit_code,
            legal_name,
        } => json!({ "issuer_id": issuer_id, "credit_code": credit_code, "legal_name": legal_name }),
        EntryBody::IssuerSuspended { issuer_id }
        | EntryBody::IssuerReinstated { issuer_id }
        | EntryBody::IssuerRevoked { issuer_id }
        | EntryBody::IssuerFilingsLapsed { issuer_id }
        | EntryBody::IssuerFilingsRenewed { issuer_id } => json!({ "issuer_id": issuer_id }),
        EntryBody::CollectionPublished {
            issuer_id,
            collection_id,
            content_hash,
            edition_size,
        } => json!({
            "issuer_id": issuer_id, "collection_id": collection_id,
            "content_hash": hex(content_hash), "edition_size": edition_size,
        }),
        EntryBody::TokenMinted {
            collection_id,
            serial,
            content_hash,
            holder_commitment,
        } => json!({
            "collection_id": collection_id, "serial": serial,
            "content_hash": hex(content_hash), "holder_commitment": hex(holder_commitment),
        }),
        EntryBody::TokenFrozen { collection_id, serial }
        | EntryBody::TokenRevoked { collection_id, serial }
        | EntryBody::TokenUnfrozen { collection_id, serial } => {
            json!({ "collection_id": collection_id, "serial": serial })
        }
        EntryBody::CollectionRevoked { collection_id } => json!({ "collection_id": collection_id }),
        EntryBody::LogContinued {
            previous_origin,
            previous_size,
            previous_root,
        } => json!({
            "previous_origin": previous_origin, "previous_size": previous_size,
            "previous_root": STANDARD.encode(previous_root),
        }),
    }
}

/// An entry's fields as (name, text) pairs, for people: strings as they are, numbers written out.
pub fn field_pairs(body: &EntryBody) -> Vec<(String, String)> {
    let Value::Object(fields) = fields(body) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .map(|(name, value)| match value {
            Value::String(text) => (name, text),
            other => (name, other.to_string()),
        })
        .collect()
}

/// What the checker trusts beyond the receipt itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trust<'a> {
    /// The operator's verifier keys, obtained independently (the current one and those it
    /// retired). Empty trusts the receipt's key.
    pub keys: &'a [String],
    /// A checkpoint obtained independently, used instead of the receipt's.
    pub checkpoint: Option<&'a str>,
    /// Witnesses whose cosignatures count, and how many of them must have cosigned the
    /// checkpoint (0: none needed).
    pub witnesses: &'a [WitnessKey],
    pub quorum: usize,
}

/// One step of the proof path: the sibling, the side it joins on and the hash it gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofStep {
    pub side: Side,
    pub sibling: Hash,
    pub result: Hash,
}

/// A receipt that checked out.
#[derive(Debug, Clone)]
pub struct VerifiedReceipt {
    pub entry: Entry,
    pub index: u64,
    pub leaf: Hash,
    pub steps: Vec<ProofStep>,
    pub checkpoint: checkpoint::VerifiedCheckpoint,
    /// Whether the signature was checked with a key the checker supplied.
    pub key_pinned: bool,
    /// A certificate's holder proof opened the entry's holder commitment.
    pub holder_proven: bool,
    /// The trusted witnesses that cosigned the checkpoint, by name, with when they did.
    pub witnessed_by: Vec<(String, DateTime<Utc>)>,
    /// The receipt's anchor, its checkpoint signed and the entry proven in its tree.
    pub anchor: Option<VerifiedAnchor>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("the receipt is not valid JSON of the receipt format: {0}")]
    Malformed(String),
    #[error("the receipt format `{0}` is neither `{FORMAT}` nor `{FORMAT_V1}`")]
    UnsupportedFormat(String),
    #[error("the entry bytes are not valid base64")]
    EntryEncoding,
    #[error("the entry cannot be decoded: {0}")]
    EntryUndecodable(#[from] DecodeError),
    #[error("the entry bytes do not hash to the receipt's leaf hash")]
    LeafMismatch,
    #[error("a proof hash is not a base64 32-byte digest")]
    ProofEncoding,
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] NoteError),
    #[error("the proof is for a tree of {proof} entries but the checkpoint is for {checkpoint}")]
    SizeMismatch { proof: u64, checkpoint: u64 },
    #[error("the inclusion proof does not lead from the entry to the checkpoint's root")]
    ProofInvalid,
    #[error("the certificate's holder proof does not open the entry's holder commitment")]
    HolderMismatch,
    #[error("the anchor's checkpoint: {0}")]
    AnchorCheckpoint(NoteError),
    #[error("the anchor's inclusion proof does not lead from the entry to its checkpoint's root")]
    AnchorProofInvalid,
    #[error(
        "the checkpoint is cosigned by {cosigned} of the witnesses given, {quorum} needed: fetch the receipt again once \
         the witnesses have cosigned a checkpoint that covers the entry"
    )]
    NotWitnessed { cosigned: usize, quorum: usize },
}

impl Receipt {
    /// Checks the anchor's checkpoint (signed by a trusted key) and the entry's proof in its
    /// tree; the transaction itself is on the chain, for the caller to look up.
    fn verify_anchor(
        &self,
        anchor: &Anchor,
        h: TreeHash,
        leaf: &Hash,
        trust: Trust<'_>,
    ) -> Result<VerifiedAnchor, ReceiptError> {
        let checked = if trust.keys.is_empty() {
            checkpoint::verify(&anchor.checkpoint, &self.verifier_key)
        } else {
            checkpoint::verify_any(&anchor.checkpoint, trust.keys)
        }
        .map_err(ReceiptError::AnchorCheckpoint)?;
        let proof = decode_hashes(&anchor.inclusion_proof.hashes)?;
        let root = walk_inclusion(h, self.entry.index, checked.size, leaf, &proof, |_, _, _| {});
        if anchor.inclusion_proof.size != checked.size || root != Some(checked.root) {
            return Err(ReceiptError::AnchorProofInvalid);
        }
        Ok(VerifiedAnchor {
            chain_id: anchor.chain_id,
            transaction: anchor.transaction.clone(),
            block_number: anchor.block_number,
            size: checked.size,
            calldata: calldata(&checkpoint::body(&checked.origin, checked.size, &checked.root)),
        })
    }

    pub fn parse(text: &str) -> Result<Self, ReceiptError> {
        serde_json::from_str(text).map_err(|e| ReceiptError::Malformed(e.to_string()))
    }

    /// Checks the receipt offline; see the module documentation for what that means.
    pub fn verify(&self, trust: Trust<'_>) -> Result<VerifiedReceipt, ReceiptError> {
        let h = tree_hash(&self.format).ok_or_else(|| ReceiptError::UnsupportedFormat(self.format.clone()))?;
        let bytes = STANDARD
            .decode(&self.entry.entry)
            .map_err(|_| ReceiptError::EntryEncoding)?;
        let entry = Entry::decode(&bytes)?;
        let leaf = h.leaf(&bytes);
        if hex(&leaf) != self.entry.leaf_hash {
            return Err(ReceiptError::LeafMismatch);
        }
        let proof = decode_hashes(&self.inclusion_proof.hashes)?;
        let note = trust.checkpoint.unwrap_or(&self.checkpoint);
        let checkpoint = if trust.keys.is_empty() {
            checkpoint::verify(note, &self.verifier_key)?
        } else {
            checkpoint::verify_any(note, trust.keys)?
        };
        let witnessed_by: Vec<(String, DateTime<Utc>)> = trust
            .witnesses
            .iter()
            .filter_map(|witness| {
                witness
                    .cosignature_in(note)
                    .map(|(_, at)| (witness.name().to_owned(), at))
            })
            .collect();
        if witnessed_by.len() < trust.quorum {
            return Err(ReceiptError::NotWitnessed {
                cosigned: witnessed_by.len(),
                quorum: trust.quorum,
            });
        }
        if checkpoint.size != self.inclusion_proof.size {
            return Err(ReceiptError::SizeMismatch {
                proof: self.inclusion_proof.size,
                checkpoint: checkpoint.size,
            });
        }
        let mut steps = Vec::with_capacity(proof.len());
        let root = walk_inclusion(
            h,
            self.entry.index,
            checkpoint.size,
            &leaf,
            &proof,
            |side, sibling, result| {
                steps.push(ProofStep {
                    side,
                    sibling: *sibling,
                    result: *result,
                });
            },
        );
        if root != Some(checkpoint.root) {
            return Err(ReceiptError::ProofInvalid);
        }
        if let Some(holder) = &self.holder {
            let opens = match &entry.body {
                EntryBody::TokenMinted {
                    holder_commitment: committed,
                    ..
                } => holder.opens(committed),
                _ => false,
            };
            if !opens {
                return Err(ReceiptError::HolderMismatch);
            }
        }
        let anchor = self
            .anchor
            .as_ref()
            .map(|anchor| self.verify_anchor(anchor, h, &leaf, trust))
            .transpose()?;
        Ok(VerifiedReceipt {
            anchor,
            entry,
            index: self.entry.index,
            leaf,
            steps,
            checkpoint,
            key_pinned: !trust.keys.is_empty(),
            holder_proven: self.holder.is_some(),
            witnessed_by,
        })
    }
}

#[cfg(test)]
mod tests;
