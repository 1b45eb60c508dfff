//! The Merkle tree against RFC 6962/9162: the published RFC 6962 test vectors for the SHA-256
//! tree of ledger format v2 (from Certificate Transparency's and transparency-dev/merkle's
//! test data), the same leaves in the SHA3-256 tree of the closed v1 log (expected values
//! computed independently from the RFC's definitions with Python's `hashlib.sha3_256`), and
//! property tests: for random sizes every inclusion and consistency proof verifies, and a
//! flipped bit, a wrong index or a wrong size makes it fail.

use std::sync::OnceLock;

use keepsake::ledger::merkle::{
    self, Frontier, Hash, NodeMap, TreeHash, consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

/// The hash of the trees the properties are checked on: the live log's.
const H: TreeHash = TreeHash::Sha256;
/// The leaves of the RFC 6962 reference test vectors.
fn vector_leaves() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0x00],
        vec![0x10],
        vec![0x20, 0x21],
        vec![0x30, 0x31],
        vec![0x40, 0x41, 0x42, 0x43],
        (0x50..0x58).collect(),
        (0x60..0x70).collect(),
    ]
}

fn unhex(text: &str) -> Hash {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

/// Appends `entries` the way the sequencer does and returns the leaves and stored nodes.
fn build<E: AsRef<[u8]>>(h: TreeHash, entries: impl IntoIterator<Item = E>) -> (Vec<Hash>, NodeMap) {
    let (mut frontier, mut nodes) = (Frontier::empty(h), Vec::new());
    let mut leaves = Vec::new();
    for entry in entries {
        let leaf = h.leaf(entry.as_ref());
        frontier.push(leaf, &mut nodes);
        leaves.push(leaf);
    }
    (leaves, nodes.into_iter().collect())
}

/// Expected roots (by size, from 0), inclusion proofs (index, size, path) and consistency
/// proofs (from, to, proof) for [`vector_leaves`].
struct Vectors {
    roots: [&'static str; 9],
    inclusion: &'static [(u64, u64, &'static [&'static str])],
    consistency: &'static [(u64, u64, &'static [&'static str])],
}

fn check(h: TreeHash, vectors: &Vectors) {
    let (leaves, nodes) = build(h, vector_leaves());
    for (size, root) in (0..).zip(vectors.roots) {
        assert_eq!(merkle::root(h, size, &nodes), unhex(root), "root of size {size}");
    }
    for &(index, size, expected) in vectors.inclusion {
        let proof = inclusion_proof(h, index, size, &nodes).unwrap();
        let expected: Vec<Hash> = expected.iter().map(|h| unhex(h)).collect();
        assert_eq!(proof, expected, "index {index} size {size}");
        let root = merkle::root(h, size, &nodes);
        assert!(verify_inclusion(h, index, size, &leaves[index as usize], &proof, &root));
    }
    for &(from, to, expected) in vectors.consistency {
        let proof = consistency_proof(h, from, to, &nodes).unwrap();
        let expected: Vec<Hash> = expected.iter().map(|h| unhex(h)).collect();
        assert_eq!(proof, expected, "from {from} to {to}");
        let (first, second) = (merkle::root(h, from, &nodes), merkle::root(h, to, &nodes));
        assert!(verify_consistency(h, from, to, &first, &second, &proof));
    }
}

#[test]
fn the_sha256_tree_gives_the_published_rfc6962_vectors() {
    check(
        TreeHash::Sha256,
        &Vectors {
            roots: [
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
            ],
            inclusion: &[
                (0, 1, &[]),
                (
                    0,
                    8,
                    &[
                        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                    ],
                ),
                (
                    5,
                    8,
                    &[
                        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                    ],
                ),
                (
                    2,
                    3,
                    &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
                ),
                (
                    1,
                    5,
                    &[
                        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    ],
                ),
            ],
            consistency: &[
                (1, 1, &[]),
                (
                    1,
                    8,
                    &[
                        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                    ],
                ),
                (
                    6,
                    8,
                    &[
                        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                    ],
                ),
                (
                    2,
                    5,
                    &[
                        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    ],
                ),
            ],
        },
    );
}

#[test]
fn the_v1_sha3_tree_keeps_its_vectors() {
    check(
        TreeHash::Sha3_256,
        &Vectors {
            roots: [
                "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
                "5d53469f20fef4f8eab52b88044ede69c77a6a68a60728609fc4a65ff531e7d0",
                "00aa2729e7518d75a0bddbc27a81792cba8eef7d1f4776db825ac648d53ff899",
                "1fb033ea975c1b122f83bab69ac3d599e22022483e6d59d8483664f4468a12e7",
                "989723635d78295ffead0c3d2cdc1124d7005a02f1fcb5e0738d27dd121dda7b",
                "b68ad310ac9dac7dbb4eed8f461feef36a300d5b8c069b9a147d7fb42e119371",
                "b41b1d6937a1dc9a427a59f86a243017ca22ca52e617319a22d333d668086457",
                "16e8656d265de9fb0275341f3813e0851caecd33653df1597f0cd39ce40a4564",
                "da799b626ea73f9f5e404ef56ddac189d7f8a4c00b5c317b6ed69463a441ae3f",
            ],
            inclusion: &[
                (0, 1, &[]),
                (
                    0,
                    8,
                    &[
                        "762ba6a3d9312bf3e6dc71e74f34208e889fc44e6ff400724deecfeda7d5b3ce",
                        "a4327dcfa35a38cbc8c303543b92eba46135e994665639ac713cd13107a2b2c2",
                        "11d9ca65b08d041410edf353642b3b723f3103b32033674bb3f032a239dd48b9",
                    ],
                ),
                (
                    5,
                    8,
                    &[
                        "e875d6221856e1fc0e0817c732eb34487012a298bc0cefba463189df11e8ade6",
                        "7d30119c374ef90c1cf441e419cd2fff6ad0286dfd84818d4d5f95e119b7f961",
                        "989723635d78295ffead0c3d2cdc1124d7005a02f1fcb5e0738d27dd121dda7b",
                    ],
                ),
                (
                    2,
                    3,
                    &["00aa2729e7518d75a0bddbc27a81792cba8eef7d1f4776db825ac648d53ff899"],
                ),
                (
                    1,
                    5,
                    &[
                        "5d53469f20fef4f8eab52b88044ede69c77a6a68a60728609fc4a65ff531e7d0",
                        "a4327dcfa35a38cbc8c303543b92eba46135e994665639ac713cd13107a2b2c2",
                        "e875d6221856e1fc0e0817c732eb34487012a298bc0cefba463189df11e8ade6",
                    ],
                ),
            ],
            consistency: &[
                (1, 1, &[]),
                (
                    1,
                    8,
                    &[
                        "762ba6a3d9312bf3e6dc71e74f34208e889fc44e6ff400724deecfeda7d5b3ce",
                        "a4327dcfa35a38cbc8c303543b92eba46135e994665639ac713cd13107a2b2c2",
                        "11d9ca65b08d041410edf353642b3b723f3103b32033674bb3f032a239dd48b9",
                    ],
                ),
                (
                    6,
                    8,
                    &[
                        "0f6a8e5e02d19ae2ad9a868a23bb45bf9cde4e698375e60636301fb775eb4699",
                        "7d30119c374ef90c1cf441e419cd2fff6ad0286dfd84818d4d5f95e119b7f961",
                        "989723635d78295ffead0c3d2cdc1124d7005a02f1fcb5e0738d27dd121dda7b",
                    ],
                ),
                (
                    2,
                    5,
                    &[
                        "a4327dcfa35a38cbc8c303543b92eba46135e994665639ac713cd13107a2b2c2",
                        "e875d6221856e1fc0e0817c732eb34487012a298bc0cefba463189df11e8ade6",
                    ],
                ),
            ],
        },
    );
}

/// Largest tree the properties draw sizes from.
const MAX_SIZE: u64 = 1_100;

fn shared_tree() -> &'static (Vec<Hash>, NodeMap) {
    static TREE: OnceLock<(Vec<Hash>, NodeMap)> = OnceLock::new();
    TREE.get_or_init(|| build(H, (0..MAX_SIZE).map(|i| format!("attestation {i}"))))
}

/// A size in `1..=MAX_SIZE` and an index below it.
fn size_and_index() -> impl Strategy<Value = (u64, u64)> {
    (1..=MAX_SIZE).prop_flat_map(|size| (Just(size), 0..size))
}

/// Sizes `from <= to`, both at least 1.
fn two_sizes() -> impl Strategy<Value = (u64, u64)> {
    (1..=MAX_SIZE).prop_flat_map(|to| (1..=to, Just(to)))
}

fn flip(proof: &mut [Hash], element: usize, bit: usize) {
    let element = element % proof.len();
    proof[element][bit / 8 % 32] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn roots_of_random_entries_follow_the_definition(entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..70)) {
        fn mth(leaves: &[Hash]) -> Hash {
            match leaves.len() {
                0 => H.empty_root(),
                1 => leaves[0],
                n => {
                    let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
                    H.node(&mth(&leaves[..k]), &mth(&leaves[k..]))
                }
            }
        }
        let (leaves, nodes) = build(H, &entries);
        for size in 0..=leaves.len() {
            prop_assert_eq!(merkle::root(H, size as u64, &nodes), mth(&leaves[..size]));
        }
    }

    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(
        (size, index) in size_and_index(),
        element in any::<usize>(),
        bit in 0usize..256,
        other_index in any::<u64>(),
        other_size in 1..=MAX_SIZE,
    ) {
        let (leaves, nodes) = shared_tree();
        let leaf = leaves[index as usize];
        let root = merkle::root(H, size, nodes);
        let proof = inclusion_proof(H, index, size, nodes).unwrap();
        prop_assert!(verify_inclusion(H, index, size, &leaf, &proof, &root));

        if !proof.is_empty() {
            let mut flipped = proof.clone();
            flip(&mut flipped, element, bit);
            prop_assert!(!verify_inclusion(H, index, size, &leaf, &flipped, &root));
        }
        let mut wrong_leaf = leaf;
        wrong_leaf[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(!verify_inclusion(H, index, size, &wrong_leaf, &proof, &root));
        let wrong_index = other_index % size;
        if wrong_index != index {
            prop_assert!(!verify_inclusion(H, wrong_index, size, &leaf, &proof, &root));
        }
        prop_assert!(!verify_inclusion(H, index + size, size, &leaf, &proof, &root));
        if other_size != size && index < other_size {
            let other_root = merkle::root(H, other_size, nodes);
            prop_assert!(!verify_inclusion(H, index, other_size, &leaf, &proof, &other_root));
        }
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(
        (from, to) in two_sizes(),
        element in any::<usize>(),
        bit in 0usize..256,
        other_size in 1..=MAX_SIZE,
    ) {
        let (_, nodes) = shared_tree();
        let (first, second) = (merkle::root(H, from, nodes), merkle::root(H, to, nodes));
        let proof = consistency_proof(H, from, to, nodes).unwrap();
        prop_assert!(verify_consistency(H, from, to, &first, &second, &proof));

        if !proof.is_empty() {
            let mut flipped = proof.clone();
            flip(&mut flipped, element, bit);
            prop_assert!(!verify_consistency(H, from, to, &first, &second, &flipped));
        }
        if from < to {
            let mut forked = first;
            forked[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!verify_consistency(H, from, to, &forked, &second, &proof));
            let mut rewritten = second;
            rewritten[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!verify_consistency(H, from, to, &first, &rewritten, &proof));
            let other_root = merkle::root(H, other_size, nodes);
            if other_size != from && other_size < to {
                prop_assert!(!verify_consistency(H, other_size, to, &other_root, &second, &proof));
            }
            if other_size != to && other_size > from {
                prop_assert!(!verify_consistency(H, from, other_size, &first, &other_root, &proof));
            }
        }
    }
}
