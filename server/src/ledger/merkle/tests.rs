//! Tests of [`super`]: the tree against its definition and published vectors.

use super::*;

const HASHES: [TreeHash; 2] = [TreeHash::Sha256, TreeHash::Sha3_256];

/// The RFC's definitions, directly, over all entries: the reference to test against.
fn mth(h: TreeHash, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => h.empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            h.node(&mth(h, &leaves[..k]), &mth(h, &leaves[k..]))
        }
    }
}

fn reference_path(h: TreeHash, m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n as u64) as usize;
    if m < k {
        let mut p = reference_path(h, m, &leaves[..k]);
        p.push(mth(h, &leaves[k..]));
        p
    } else {
        let mut p = reference_path(h, m - k, &leaves[k..]);
        p.push(mth(h, &leaves[..k]));
        p
    }
}

fn reference_subproof(h: TreeHash, m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(h, leaves)] };
    }
    let k = split(n as u64) as usize;
    if m <= k {
        let mut p = reference_subproof(h, m, &leaves[..k], b);
        p.push(mth(h, &leaves[k..]));
        p
    } else {
        let mut p = reference_subproof(h, m - k, &leaves[k..], false);
        p.push(mth(h, &leaves[..k]));
        p
    }
}

/// Builds the stored nodes of a tree by appending, as the sequencer does.
fn build(h: TreeHash, entries: &[Vec<u8>]) -> (Vec<Hash>, NodeMap) {
    let mut nodes = NodeMap::default();
    let mut leaves = Vec::new();
    let mut frontier = Frontier::empty(h);
    for entry in entries {
        let leaf = h.leaf(entry);
        leaves.push(leaf);
        let mut completed = Vec::new();
        frontier.push(leaf, &mut completed);
        for (id, hash) in completed {
            assert!(nodes.insert(id, hash).is_none(), "appending never rewrites a node");
        }
        assert_eq!(frontier.root(), mth(h, &leaves), "size {}", leaves.len());
        assert_eq!(Frontier::of(h, frontier.size(), &nodes), Ok(frontier.clone()));
        let kept = Frontier::from_edge(h, frontier.size(), frontier.edge().to_vec());
        assert_eq!(
            kept.as_ref(),
            Some(&frontier),
            "a frontier kept by its edge is the same"
        );
        assert_eq!(
            Frontier::from_edge(h, frontier.size() + 1, frontier.edge().to_vec()),
            None
        );
    }
    (leaves, nodes)
}

fn numbered(n: u64) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("entry {i}").into_bytes()).collect()
}

#[test]
fn leaves_and_nodes_are_domain_separated() {
    for h in HASHES {
        assert_ne!(h.leaf(b""), h.empty_root(), "domain separation");
        let (l, r) = (h.leaf(b"a"), h.leaf(b"b"));
        assert_ne!(h.node(&l, &r), h.node(&r, &l));
    }
    assert_ne!(TreeHash::Sha3_256.leaf(b"a"), TreeHash::Sha256.leaf(b"a"));
}

#[test]
fn roots_match_the_definition_for_every_size() {
    for h in HASHES {
        let (leaves, nodes) = build(h, &numbered(70));
        for n in 0..=70u64 {
            let needed = root_nodes(n);
            assert!(needed.len() <= 7, "O(log n) nodes for size {n}");
            assert_eq!(root(h, n, &nodes), mth(h, &leaves[..n as usize]), "size {n}");
        }
    }
}

#[test]
fn inclusion_proofs_match_the_definition_and_verify() {
    for h in HASHES {
        let (leaves, nodes) = build(h, &numbered(40));
        for n in 1..=40u64 {
            let root = mth(h, &leaves[..n as usize]);
            for m in 0..n {
                let proof = inclusion_proof(h, m, n, &nodes).unwrap();
                assert_eq!(
                    proof,
                    reference_path(h, m as usize, &leaves[..n as usize]),
                    "m={m} n={n}"
                );
                let edge = Frontier::of(h, n, &nodes).unwrap().right_edge();
                let named = inclusion_nodes_beside(&edge, m).unwrap();
                assert!(named.len() <= proof.len(), "one node per step at most: m={m} n={n}");
                let gathered: NodeMap = named.iter().map(|id| (*id, nodes[id])).collect();
                assert_eq!(
                    inclusion_proof_beside(&edge, m, &gathered).unwrap(),
                    proof,
                    "m={m} n={n}"
                );
                assert!(
                    verify_inclusion(h, m, n, &leaves[m as usize], &proof, &root),
                    "m={m} n={n}"
                );
                let wrong_leaf = h.leaf(b"not in the log");
                assert!(!verify_inclusion(h, m, n, &wrong_leaf, &proof, &root));
                if n > 1 {
                    let mut tampered = proof.clone();
                    tampered[0][0] ^= 1;
                    assert!(!verify_inclusion(h, m, n, &leaves[m as usize], &tampered, &root));
                }
            }
        }
        assert_eq!(
            inclusion_proof(h, 5, 5, &nodes),
            Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
        );
    }
}

#[test]
fn consistency_proofs_match_the_definition_and_verify() {
    for h in HASHES {
        let (leaves, nodes) = build(h, &numbered(40));
        for n in 1..=40u64 {
            let second = mth(h, &leaves[..n as usize]);
            for m in 0..=n {
                let first = mth(h, &leaves[..m as usize]);
                let proof = consistency_proof(h, m, n, &nodes).unwrap();
                if m > 0 && m < n {
                    assert_eq!(
                        proof,
                        reference_subproof(h, m as usize, &leaves[..n as usize], true),
                        "m={m} n={n}"
                    );
                }
                assert!(verify_consistency(h, m, n, &first, &second, &proof), "m={m} n={n}");
                if m > 0 && m < n {
                    let forked = h.leaf(b"rewritten history");
                    assert!(!verify_consistency(h, m, n, &forked, &second, &proof), "m={m} n={n}");
                    assert!(!verify_consistency(h, m, n, &first, &forked, &proof), "m={m} n={n}");
                }
            }
        }
        assert_eq!(
            consistency_proof(h, 5, 4, &nodes),
            Err(ProofError::Shrinking { from: 5, to: 4 })
        );
    }
}

#[test]
fn proofs_for_huge_trees_need_only_logarithmic_reads() {
    let n = 10_000_000u64;
    assert!(root_nodes(n).len() <= 24);
    assert!(inclusion_nodes(1_234_567, n).unwrap().len() <= 48);
    assert!(consistency_nodes(9_999_999, n).unwrap().len() <= 48);
}
