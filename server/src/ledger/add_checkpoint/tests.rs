//! Tests of [`super`]: the request format and every answer a witness gives.

use chrono::{DateTime, Utc};

use super::*;
use crate::ledger::merkle::{Frontier, NodeMap, consistency_proof};
use crate::ledger::signer::CheckpointSigner;

const ORIGIN: &str = "log.example/ledger";

fn at() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_633_600, 0).unwrap()
}

/// A log of `entries` (each entry one byte string) with its nodes, for proofs.
struct Log {
    nodes: NodeMap,
    frontier: Frontier,
}

impl Log {
    fn new() -> Self {
        Self {
            nodes: NodeMap::default(),
            frontier: Frontier::empty(LOG_HASH),
        }
    }

    fn append(&mut self, entries: impl IntoIterator<Item = Vec<u8>>) -> &mut Self {
        let mut completed = Vec::new();
        for entry in entries {
            self.frontier.push(LOG_HASH.leaf(&entry), &mut completed);
        }
        self.nodes.extend(completed);
        self
    }

    fn cosigned(&self) -> Cosigned {
        Cosigned {
            size: self.frontier.size(),
            root: self.frontier.root(),
        }
    }

    fn request(&self, signer: &CheckpointSigner, from: u64) -> AddCheckpoint {
        let size = self.frontier.size();
        AddCheckpoint {
            old_size: from,
            proof: consistency_proof(LOG_HASH, from, size, &self.nodes).unwrap(),
            checkpoint: signer.sign(size, &self.frontier.root(), at()),
        }
    }
}

fn entries(range: std::ops::Range<u32>) -> impl Iterator<Item = Vec<u8>> {
    range.map(|n| n.to_be_bytes().to_vec())
}

fn signer(dir: &std::path::Path) -> CheckpointSigner {
    CheckpointSigner::load(&dir.join("log.key"), ORIGIN.into()).unwrap()
}

#[test]
fn a_request_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(dir.path());
    let mut log = Log::new();
    log.append(entries(0..5));
    let small = log.cosigned();
    log.append(entries(5..13));
    let request = log.request(&signer, small.size);
    let body = request.encode();
    assert!(body.starts_with("old 5\n"), "{body}");
    assert_eq!(AddCheckpoint::parse(&body), Ok(request));
    assert_eq!(origin_of(&body[body.find("\n\n").unwrap() + 2..]), Some(ORIGIN));
}

#[test]
fn malformed_requests_are_refused() {
    let hash = STANDARD.encode([1u8; 32]);
    let note = "o\n1\nAA==\n\n\u{2014} o AAAA\n";
    let too_many = format!("old 1\n{}\n{note}", format!("{hash}\n").repeat(64));
    for body in [
        "",
        "old 1\n",
        &format!("old 01\n\n{note}"),
        &format!("old -1\n\n{note}"),
        &format!("new 1\n\n{note}"),
        &format!("old 1\nnot base64\n\n{note}"),
        &format!("old 1\n{}\n\n{note}", STANDARD.encode([1u8; 31])),
        &too_many,
    ] {
        assert!(
            matches!(AddCheckpoint::parse(body), Err(Refusal::Malformed(_))),
            "{body:?}"
        );
    }
    assert_eq!(parse_size_body("12\n"), Some(12));
    for bad in ["12", "012\n", "\n", "1 2\n"] {
        assert_eq!(parse_size_body(bad), None, "{bad:?}");
    }
}

#[test]
fn a_witness_cosigns_what_extends_what_it_saw_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(dir.path());
    let keys = [signer.verifier_key()];
    let mut log = Log::new();
    log.append(entries(0..7));

    // First contact: from zero, with no proof.
    let (body, first) = decide(&log.request(&signer, 0), &keys, None).unwrap();
    assert_eq!(body, checkpoint::body(ORIGIN, 7, &log.frontier.root()));
    assert_eq!(first, log.cosigned());

    // Growth with a proof from the size it saw.
    log.append(entries(7..20));
    let (_, second) = decide(&log.request(&signer, 7), &keys, Some(first)).unwrap();
    assert_eq!(second, log.cosigned());
    // The same checkpoint again is fine; an old size it does not hold is a conflict naming its own.
    assert!(decide(&log.request(&signer, 20), &keys, Some(second)).is_ok());
    assert_eq!(
        decide(&log.request(&signer, 7), &keys, Some(second)),
        Err(Refusal::Conflict(20))
    );
    assert_eq!(decide(&log.request(&signer, 7), &keys, None), Err(Refusal::Conflict(0)));

    // A fork: the same first 7 entries, then different ones, to a larger size.
    let mut fork = Log::new();
    fork.append(entries(0..7)).append(entries(100..120));
    assert_eq!(
        decide(&fork.request(&signer, 20), &keys, Some(second)),
        Err(Refusal::BadProof),
        "a proof from the fork's own tree of 20 does not reach the root the witness saw"
    );
    let mut equal_size = Log::new();
    equal_size.append(entries(0..7)).append(entries(200..213));
    assert_eq!(
        decide(&equal_size.request(&signer, 20), &keys, Some(second)),
        Err(Refusal::BadProof),
        "another root for the size it cosigned"
    );

    // A tampered proof, an old size beyond the checkpoint, other keys and logs.
    let mut tampered = log.append(entries(20..30)).request(&signer, 20);
    tampered.proof[0][0] ^= 1;
    assert_eq!(decide(&tampered, &keys, Some(second)), Err(Refusal::BadProof));
    let mut beyond = log.request(&signer, 30);
    beyond.old_size = 31;
    assert_eq!(decide(&beyond, &keys, Some(second)), Err(Refusal::OldSizeTooLarge));
    let other = CheckpointSigner::load(&dir.path().join("other.key"), ORIGIN.into()).unwrap();
    assert_eq!(
        decide(&log.request(&other, 20), &keys, Some(second)),
        Err(Refusal::NotSigned)
    );
    assert_eq!(
        decide(&log.request(&signer, 20), &[], Some(second)),
        Err(Refusal::UnknownLog)
    );
    let statuses: Vec<u16> = [
        Refusal::Malformed("x"),
        Refusal::NotSigned,
        Refusal::UnknownLog,
        Refusal::Conflict(1),
        Refusal::BadProof,
        Refusal::OldSizeTooLarge,
    ]
    .iter()
    .map(Refusal::status)
    .collect();
    assert_eq!(statuses, [400, 403, 404, 409, 422, 400]);
}

/// Fuzz target (bolero): any body is parsed or refused as malformed, never a panic, and what
/// parses is decided without a panic.
#[test]
fn arbitrary_requests_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer(dir.path());
    let keys = [signer.verifier_key()];
    let known = Some(Cosigned { size: 3, root: [3; 32] });
    bolero::check!().with_type::<String>().for_each(|body| {
        if let Ok(request) = AddCheckpoint::parse(body) {
            let _ = decide(&request, &keys, known);
        }
    });
}
