//! Anchors: a checkpoint's hash put on an EVM chain by a transaction, so that anyone can show
//! that the log held an entry by that block's time, whatever later happens to the operator.
//! The transaction's calldata is the tag `KSA1` followed by the SHA-256 of the checkpoint's
//! body (`<origin>\n<size>\n<base64 root>\n`); the checkpoint itself travels in receipts.

use aws_lc_rs::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};

use super::receipt::InclusionProof;

/// What every anchoring transaction's calldata starts with.
pub const TAG: &[u8; 4] = b"KSA1";

/// The calldata anchoring the checkpoint with `body`.
pub fn calldata(body: &str) -> Vec<u8> {
    let mut data = TAG.to_vec();
    data.extend_from_slice(digest(&SHA256, body.as_bytes()).as_ref());
    data
}

/// A receipt's anchor: the anchoring transaction of a checkpoint that holds the entry, that
/// checkpoint, and the entry's inclusion proof in its tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub chain_id: u64,
    /// `0x` and 64 hex digits.
    pub transaction: String,
    pub block_number: u64,
    /// The anchored checkpoint, a signed note.
    pub checkpoint: String,
    pub inclusion_proof: InclusionProof,
}

/// An anchor whose checkpoint and proof checked out; what remains is to find the transaction
/// on the chain with [`calldata`](Self::calldata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAnchor {
    pub chain_id: u64,
    pub transaction: String,
    pub block_number: u64,
    /// The size of the anchored tree.
    pub size: u64,
    /// What the transaction must carry.
    pub calldata: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calldata_is_the_tag_and_the_body_hash() {
        let body = "example.test/ledger\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let data = calldata(body);
        assert_eq!(&data[..4], b"KSA1");
        assert_eq!(data.len(), 36);
        assert_eq!(&data[4..], digest(&SHA256, body.as_bytes()).as_ref());
        assert_ne!(calldata(&body.replace('3', "4")), data);
    }
}
