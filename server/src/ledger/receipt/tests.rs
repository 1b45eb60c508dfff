//! Tests of [`super`]: receipts as a stranger checks them.

use super::*;
use crate::ledger::merkle::{Frontier, NodeMap, inclusion_proof, root};
use crate::ledger::signer::CheckpointSigner;

fn entry(n: u64) -> Vec<u8> {
    Entry {
        timestamp_ms: 1_764_000_000_000 + n,
        body: EntryBody::HashAttestation {
            issuer_id: 7,
            sha3_256: [n as u8; 32],
            label_sha3_256: [0x5A; 32],
        },
    }
    .encode()
    .unwrap()
}

/// A log of `size` attestations and a receipt for `index`, signed by a fresh key.
fn log_receipt(size: u64, index: u64) -> (Receipt, CheckpointSigner, tempfile::TempDir) {
    log_receipt_in(FORMAT, size, index)
}

/// [`log_receipt`] in a given receipt format (and so tree hash).
fn log_receipt_in(format: &str, size: u64, index: u64) -> (Receipt, CheckpointSigner, tempfile::TempDir) {
    let h = tree_hash(format).unwrap();
    let (mut frontier, mut nodes) = (Frontier::empty(h), Vec::new());
    for i in 0..size {
        frontier.push(h.leaf(&entry(i)), &mut nodes);
    }
    let nodes: NodeMap = nodes.into_iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let signer = CheckpointSigner::load(&dir.path().join("key"), "example.test/ledger".into()).unwrap();
    let bytes = entry(index);
    let receipt = Receipt {
        format: format.to_owned(),
        entry: ReceiptEntry::new(index, &bytes, &h.leaf(&bytes)).unwrap(),
        inclusion_proof: InclusionProof::new(size, &inclusion_proof(h, index, size, &nodes).unwrap()),
        checkpoint: signer.sign(size, &root(h, size, &nodes), chrono::Utc::now()),
        verifier_key: signer.verifier_key(),
        holder: None,
        anchor: None,
    };
    (receipt, signer, dir)
}

#[test]
fn a_receipt_verifies_step_by_step() {
    let (receipt, signer, _dir) = log_receipt(11, 6);
    let keys = [signer.verifier_key()];
    let verified = receipt
        .verify(Trust {
            keys: &keys,
            checkpoint: None,
            ..Trust::default()
        })
        .unwrap();
    assert!(verified.key_pinned);
    assert_eq!((verified.index, verified.checkpoint.size), (6, 11));
    assert_eq!(verified.steps.len(), receipt.inclusion_proof.hashes.len());
    assert_eq!(verified.steps.last().unwrap().result, verified.checkpoint.root);
    let mut extended = serde_json::to_value(&receipt).unwrap();
    extended["cosignatures"] = json!([]);
    assert!(
        Receipt::parse(&extended.to_string())
            .unwrap()
            .verify(Trust::default())
            .is_ok(),
        "members a checker does not know leave room for later versions"
    );
    let text = serde_json::to_string(&receipt).unwrap();
    assert!(
        !Receipt::parse(&text)
            .unwrap()
            .verify(Trust::default())
            .unwrap()
            .key_pinned
    );
}

#[test]
fn every_kind_of_tampering_is_named() {
    let (receipt, _signer, _dir) = log_receipt(11, 6);
    let mut altered = receipt.clone();
    let mut bytes = STANDARD.decode(&altered.entry.entry).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    altered.entry.entry = STANDARD.encode(&bytes);
    assert_eq!(
        altered.verify(Trust::default()).unwrap_err(),
        ReceiptError::LeafMismatch
    );
    altered.entry.leaf_hash = hex(&TreeHash::Sha256.leaf(&bytes));
    assert_eq!(
        altered.verify(Trust::default()).unwrap_err(),
        ReceiptError::ProofInvalid
    );

    let mut moved = receipt.clone();
    moved.entry.index = 7;
    assert_eq!(moved.verify(Trust::default()).unwrap_err(), ReceiptError::ProofInvalid);

    let mut flipped = receipt.clone();
    let mut sibling = STANDARD.decode(&flipped.inclusion_proof.hashes[1]).unwrap();
    sibling[0] ^= 0x80;
    flipped.inclusion_proof.hashes[1] = STANDARD.encode(sibling);
    assert_eq!(
        flipped.verify(Trust::default()).unwrap_err(),
        ReceiptError::ProofInvalid
    );

    // The same log signed by another key: a forged checkpoint.
    let (other, other_signer, _other_dir) = log_receipt(11, 6);
    let pinned = [other_signer.verifier_key()];
    let trust = Trust {
        keys: &pinned,
        checkpoint: None,
        ..Trust::default()
    };
    assert_eq!(
        receipt.verify(trust).unwrap_err(),
        ReceiptError::Checkpoint(NoteError::NotSigned)
    );
    let foreign_checkpoint = Trust {
        keys: &[],
        checkpoint: Some(&other.checkpoint),
        ..Trust::default()
    };
    assert_eq!(
        receipt.verify(foreign_checkpoint).unwrap_err(),
        ReceiptError::Checkpoint(NoteError::NotSigned)
    );

    let (larger, _larger_signer, _larger_dir) = log_receipt(12, 6);
    let mut resized = receipt.clone();
    resized.checkpoint = larger.checkpoint.clone();
    resized.verifier_key = larger.verifier_key.clone();
    assert_eq!(
        resized.verify(Trust::default()).unwrap_err(),
        ReceiptError::SizeMismatch {
            proof: 11,
            checkpoint: 12
        }
    );
    assert!(matches!(Receipt::parse("{}"), Err(ReceiptError::Malformed(_))));
    let mut future = receipt.clone();
    future.format = "keepsake-receipt/3".into();
    assert!(matches!(
        future.verify(Trust::default()),
        Err(ReceiptError::UnsupportedFormat(_))
    ));
}

/// Receipts from the closed v1 log (SHA3-256 tree) keep verifying; a receipt checked
/// under the other format's hash does not.
#[test]
fn receipts_of_the_v1_log_still_verify() {
    let (v1, _signer, _dir) = log_receipt_in(FORMAT_V1, 11, 6);
    let verified = v1.verify(Trust::default()).unwrap();
    assert_eq!((verified.index, verified.checkpoint.size), (6, 11));
    let mut relabelled = v1.clone();
    relabelled.format = FORMAT.into();
    assert_eq!(
        relabelled.verify(Trust::default()).unwrap_err(),
        ReceiptError::LeafMismatch
    );
    let (v2, _signer, _dir) = log_receipt(11, 6);
    assert_ne!(v1.entry.leaf_hash, v2.entry.leaf_hash);
    assert!(v2.verify(Trust::default()).is_ok());
}

/// A certificate for a token minted with `commitment`, carrying `holder`.
fn certificate(commitment: Hash, holder: HolderProof) -> (Receipt, tempfile::TempDir) {
    let bytes = Entry {
        timestamp_ms: 1_764_000_000_000,
        body: EntryBody::TokenMinted {
            collection_id: 3,
            serial: 1,
            content_hash: [1; 32],
            holder_commitment: commitment,
        },
    }
    .encode()
    .unwrap();
    let h = TreeHash::Sha256;
    let mut nodes = Vec::new();
    Frontier::empty(h).push(h.leaf(&bytes), &mut nodes);
    let nodes: NodeMap = nodes.into_iter().collect();
    let dir = tempfile::tempdir().unwrap();
    let signer = CheckpointSigner::load(&dir.path().join("key"), "example.test/ledger".into()).unwrap();
    let receipt = Receipt {
        format: FORMAT.to_owned(),
        entry: ReceiptEntry::new(0, &bytes, &h.leaf(&bytes)).unwrap(),
        inclusion_proof: InclusionProof::new(1, &inclusion_proof(h, 0, 1, &nodes).unwrap()),
        checkpoint: signer.sign(1, &root(h, 1, &nodes), chrono::Utc::now()),
        verifier_key: signer.verifier_key(),
        holder: Some(holder),
        anchor: None,
    };
    (receipt, dir)
}

fn refused_holder(certificate: &Receipt, holder: HolderProof) {
    let mut forged = certificate.clone();
    forged.holder = Some(holder);
    assert_eq!(
        forged.verify(Trust::default()).unwrap_err(),
        ReceiptError::HolderMismatch
    );
}

#[test]
fn a_certificate_opens_its_holder_commitment() {
    let opening = [9u8; 32];
    let (certificate, _dir) = certificate(
        holder_commitment(&opening),
        HolderProof::Opening { opening: hex(&opening) },
    );
    assert!(certificate.verify(Trust::default()).unwrap().holder_proven);
    let json = serde_json::to_value(&certificate).unwrap();
    assert_eq!(
        json["holder"],
        serde_json::json!({ "opening": hex(&opening) }),
        "nothing else about the holder"
    );
    for opening in [hex(&[8; 32]), "zz".into()] {
        refused_holder(&certificate, HolderProof::Opening { opening });
    }
    refused_holder(
        &certificate,
        HolderProof::Legacy {
            blind_index: String::new(),
            salt: hex(&opening),
        },
    );
    let (mut attestation, _signer, _dir) = log_receipt(3, 1);
    attestation.holder = certificate.holder.clone();
    assert_eq!(
        attestation.verify(Trust::default()).unwrap_err(),
        ReceiptError::HolderMismatch,
        "only token entries have a holder"
    );
}

/// Certificates of tokens minted before openings (blind index and salt) still verify.
#[test]
fn a_legacy_certificate_still_opens_its_commitment() {
    let salt = [9u8; 32];
    let legacy = |blind_index: &str, salt: String| HolderProof::Legacy {
        blind_index: blind_index.into(),
        salt,
    };
    let (certificate, _dir) = certificate(
        legacy_holder_commitment("holder-index", &salt),
        legacy("holder-index", hex(&salt)),
    );
    let parsed = Receipt::parse(&serde_json::to_string(&certificate).unwrap()).unwrap();
    assert!(parsed.verify(Trust::default()).unwrap().holder_proven);
    for (blind_index, salt) in [
        ("holder-index", hex(&[8; 32])),
        ("other-index", hex(&salt)),
        ("holder-index", "zz".into()),
    ] {
        refused_holder(&certificate, legacy(blind_index, salt));
    }
    refused_holder(&certificate, HolderProof::Opening { opening: hex(&salt) });
}

/// Fuzz target (bolero; see `moderation/tests/fuzz.rs` for how it runs): arbitrary text,
/// and a good receipt with one field replaced by arbitrary text, parse and verify to an
/// answer or an error, never a panic; nothing but the real receipt verifies.
#[test]
fn arbitrary_receipts_are_answered() {
    let (receipt, _signer, _dir) = log_receipt(5, 3);
    let good = serde_json::to_value(&receipt).unwrap();
    bolero::check!().with_type::<(String, u8)>().for_each(|(text, field)| {
        if let Ok(parsed) = Receipt::parse(text) {
            let _ = parsed.verify(Trust::default());
        }
        let mut tampered = good.clone();
        let pointer = [
            "/format",
            "/entry/entry",
            "/entry/leaf_hash",
            "/checkpoint",
            "/verifier_key",
        ][usize::from(*field) % 5];
        if let Some(value) = tampered.pointer_mut(pointer) {
            *value = serde_json::Value::String(text.clone());
        }
        if let Ok(parsed) = Receipt::parse(&tampered.to_string()) {
            let result = parsed.verify(Trust::default());
            assert!(result.is_err() || tampered == good, "{tampered}");
        }
    });
}
