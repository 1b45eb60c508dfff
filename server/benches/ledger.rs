//! Ledger benchmarks: the Merkle tree in memory and the sequencer on SQLite.
//!
//! At 1 M and 10 M leaves, side by side on the same leaves (hash-attestation entries encoded as
//! the server encodes them):
//!
//! - `append/<size>`: appending one leaf to a tree of that size. `ours` is the sequencer's path
//!   (`Frontier::push`, the completed nodes collected into the batch's `Vec` for the store, which
//!   is emptied every 4096 entries, the default batch), `ct-merkle` is `MemoryBackedTree<Sha256, _>::push`, and `sha256-floor` is two
//!   bare SHA-256 hashes per leaf (leaf hash and one interior node), the least any append can do.
//!   Every sample starts from a copy of the tree of that size that grows by at most an eighth.
//! - `inclusion_proof/<size>`: proofs for random leaves. `ours` names the nodes the proof holds
//!   (`inclusion_nodes_beside` the tree's right edge, which the server keeps for its latest
//!   batch), gathers them into a small `NodeMap` as a store fetch would, then builds the proof
//!   (`inclusion_proof_beside`, lookups only); `ours-edge-recomputed` does the same without the
//!   right edge (`inclusion_nodes`, `inclusion_proof`), rehashing the edge's roots every time.
//! - `verify_inclusion/<size>`: leaf hash plus proof check against the root, both libraries.
//! - `sequence_sqlite/batch-<n>`: `sequence_once` with batch size 256 (the default) and 4096,
//!   until the queue is empty, over entries queued (untimed) with `store::ledger::enqueue`; one
//!   SQLite database per batch size, whose log grows by one sample's entries every sample.
//!
//! Building each tree from empty is timed once and printed (`build:` lines), and the roots and
//! proofs of both libraries are checked to be identical before anything is measured.
//!
//! Run: `cargo bench -p keepsake --bench ledger` (5 to 8 minutes, up to ~9 GB of memory).
//! `KEEPSAKE_BENCH_MAX_LEAVES=1000000` skips the 10 M trees; `KEEPSAKE_BENCH_SEQUENCE_ENTRIES`
//! sets how many entries each sequencing sample takes (default 50 000). Without `--bench`
//! (`cargo test --benches`) everything runs once on tiny inputs, as a smoke test.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{Bencher, Criterion, SamplingMode, Throughput};
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{InclusionProof, RootHash};
use keepsake::ledger::entry::{Entry, EntryBody};
use keepsake::ledger::merkle::LOG_HASH as H;
use keepsake::ledger::merkle::{
    Frontier, Hash, NodeId, NodeMap, inclusion_nodes, inclusion_nodes_beside, inclusion_proof, inclusion_proof_beside,
    root, verify_inclusion,
};
use keepsake::ledger::signer::CheckpointSigner;
use keepsake::services::ledger::sequencer::sequence_once;
use keepsake::store;
use sea_orm::{DatabaseConnection, TransactionTrait};
use sha2::{Digest, Sha256};

/// Length of every benchmark entry: a hash attestation, whose fields all have a fixed width.
const ENTRY_LEN: usize = 82;

type EntryBytes = [u8; ENTRY_LEN];
type CtTree = MemoryBackedTree<Sha256, EntryBytes>;

/// How many distinct entries the timed appends cycle through.
const APPEND_POOL: usize = 1 << 16;
/// How many random leaves the proof benchmarks cycle through.
const PROBES: usize = 1024;

/// SplitMix64: deterministic pseudo-random numbers without a dependency.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Entry number `i`, encoded exactly as the server encodes a hash attestation.
fn entry(i: u64) -> EntryBytes {
    let mut state = i;
    let mut digest = [0u8; 32];
    for chunk in digest.chunks_mut(8) {
        chunk.copy_from_slice(&splitmix(&mut state).to_be_bytes());
    }
    let encoded = Entry {
        timestamp_ms: 1_790_000_000_000 + i,
        body: EntryBody::HashAttestation {
            issuer_id: 1 + i % 16,
            sha3_256: digest,
            label_sha3_256: [0x5A; 32],
        },
    }
    .encode()
    .expect("an attestation encodes");
    encoded
        .as_slice()
        .try_into()
        .expect("benchmark entries have a fixed length")
}

/// Entries per sequencer batch (the default `ledger.batch_size`).
const BATCH: usize = 4096;

/// Our tree as the sequencer builds it: the right edge, and the nodes the current batch
/// completed, which it writes to the store in one go.
#[derive(Clone)]
struct Ours {
    frontier: Frontier,
    batch: Vec<(NodeId, Hash)>,
}

impl Ours {
    fn new() -> Self {
        Self {
            frontier: Frontier::empty(H),
            batch: Vec::with_capacity(2 * BATCH + 64),
        }
    }

    /// One append, as `sequence_once` does it; a full batch's nodes go to the store.
    fn append(&mut self, entry: &[u8]) {
        if self.batch.len() >= 2 * BATCH {
            self.batch.clear();
        }
        self.frontier.push(H.leaf(entry), &mut self.batch);
    }
}

/// The least work an append can do: hash the leaf, then one interior node.
fn floor_hashes(previous: &Hash, entry: &[u8]) -> Hash {
    let leaf: Hash = Sha256::new_with_prefix([0x00]).chain_update(entry).finalize().into();
    Sha256::new_with_prefix([0x01])
        .chain_update(previous)
        .chain_update(leaf)
        .finalize()
        .into()
}

fn rate(count: u64, elapsed: Duration) -> String {
    format!("{:>9.0} leaves/s", count as f64 / elapsed.as_secs_f64())
}

/// Builds both trees of `size` leaves from empty, timing each build and the hash floor; also
/// returns every node ours completed, as the store would hold them (gathered untimed).
fn build(size: u64, entries: &[EntryBytes]) -> (Ours, NodeMap, CtTree) {
    let leaves = &entries[..size as usize];
    let mut stored = Vec::with_capacity(2 * leaves.len());
    let start = Instant::now();
    let mut ours = Ours::new();
    for e in leaves {
        ours.append(e);
        if ours.batch.len() >= 2 * BATCH {
            stored.append(&mut ours.batch);
        }
    }
    let ours_time = start.elapsed();
    stored.append(&mut ours.batch);
    let nodes: NodeMap = stored.into_iter().collect();

    let start = Instant::now();
    let mut ct = CtTree::new();
    for e in leaves {
        ct.push(*e);
    }
    let ct_time = start.elapsed();

    let start = Instant::now();
    let mut acc = [0u8; 32];
    for e in leaves {
        acc = floor_hashes(&acc, e);
    }
    black_box(acc);
    let floor_time = start.elapsed();

    println!(
        "build: {size} leaves from empty: ours {:.2} s ({}), ct-merkle {:.2} s ({}), sha256-floor {:.2} s ({})",
        ours_time.as_secs_f64(),
        rate(size, ours_time),
        ct_time.as_secs_f64(),
        rate(size, ct_time),
        floor_time.as_secs_f64(),
        rate(size, floor_time),
    );
    (ours, nodes, ct)
}

/// A random leaf with everything both verifiers need.
struct Probe {
    index: u64,
    entry: EntryBytes,
    ours: Vec<Hash>,
    ct: InclusionProof<Sha256>,
}

/// Checks that both libraries agree on the root and on proofs, and returns random probes.
fn cross_check(
    size: u64,
    nodes: &NodeMap,
    ct: &CtTree,
    entries: &[EntryBytes],
) -> (Hash, RootHash<Sha256>, Vec<Probe>) {
    let our_root = root(H, size, nodes);
    let ct_root = ct.root();
    assert_eq!(ct_root.num_leaves(), size);
    assert_eq!(
        our_root.as_slice(),
        ct_root.as_bytes().as_slice(),
        "RFC 9162 and RFC 6962 roots differ at {size} leaves"
    );
    let mut state = size;
    let probes: Vec<Probe> = (0..PROBES)
        .map(|_| {
            let index = splitmix(&mut state) % size;
            let ours = inclusion_proof(H, index, size, nodes).unwrap();
            let ct = ct.prove_inclusion(index as usize);
            assert_eq!(ours.concat(), ct.as_bytes(), "proofs differ for leaf {index} of {size}");
            let entry = entries[index as usize];
            assert!(verify_inclusion(H, index, size, &H.leaf(&entry), &ours, &our_root));
            assert!(ct_root.verify_inclusion(&entry, index, &ct).is_ok());
            Probe { index, entry, ours, ct }
        })
        .collect();
    println!("check: {size} leaves: roots and {PROBES} inclusion proofs identical in both libraries");
    (our_root, ct_root, probes)
}

/// A benchmark of appends onto a working copy of `pristine`. The copy is refreshed (untimed)
/// whenever it would grow past `budget` appends, and `prepare` runs on each fresh copy, so the
/// tree stays within `size .. size + budget` leaves and no copy pays for reallocating its storage
/// inside the measurement.
fn appends<'a, T: Clone>(
    pristine: &'a T,
    budget: u64,
    pool: &'a [EntryBytes],
    prepare: impl Fn(&mut T) + 'a,
    append: impl Fn(&mut T, &EntryBytes) + 'a,
) -> impl FnMut(&mut Bencher<'_>) + 'a {
    let mut working: Option<T> = None;
    let mut appended = 0u64;
    let mut cursor = 0usize;
    move |b| {
        b.iter_custom(|iters| {
            if working.is_none() || appended + iters > budget {
                working = None;
                let mut copy = pristine.clone();
                prepare(&mut copy);
                working = Some(copy);
                appended = 0;
            }
            let tree = working.as_mut().expect("just set");
            let start = Instant::now();
            for _ in 0..iters {
                append(tree, &pool[cursor]);
                cursor = (cursor + 1) % pool.len();
            }
            let elapsed = start.elapsed();
            appended += iters;
            elapsed
        });
    }
}

fn bench_size(c: &mut Criterion, size: u64, entries: &[EntryBytes], quick: bool) {
    let (ours, nodes, ct) = build(size, entries);
    let (our_root, ct_root, probes) = cross_check(size, &nodes, &ct, entries);
    assert_eq!(ours.frontier.root(), our_root);
    let pool = &entries[..APPEND_POOL.min(entries.len())];
    let label = if size.is_multiple_of(1_000_000) {
        format!("{}M", size / 1_000_000)
    } else {
        size.to_string()
    };
    let (warm_up, measure) = if quick {
        (Duration::from_millis(100), Duration::from_millis(500))
    } else {
        (Duration::from_millis(500), Duration::from_secs(3))
    };

    let mut group = c.benchmark_group(format!("append/{label}"));
    group
        .throughput(Throughput::Elements(1))
        .sample_size(20)
        .warm_up_time(warm_up)
        .measurement_time(measure);
    let budget = (size / 8).max(1);
    group.bench_function(
        "ours",
        appends(&ours, budget, pool, |t| t.append(&pool[0]), |t, e| t.append(e)),
    );
    group.bench_function(
        "ct-merkle",
        appends(&ct, budget, pool, |t| t.push(pool[0]), |t, e| t.push(*e)),
    );
    group.bench_function("sha256-floor", |b| {
        let mut acc = [0u8; 32];
        let mut cursor = 0usize;
        b.iter(|| {
            acc = floor_hashes(&acc, &pool[cursor]);
            cursor = (cursor + 1) % pool.len();
            black_box(&acc);
        });
    });
    group.finish();

    let mut group = c.benchmark_group(format!("inclusion_proof/{label}"));
    group.warm_up_time(warm_up).measurement_time(measure);
    let edge = ours.frontier.right_edge();
    group.bench_function("ours", |b| {
        let mut k = 0usize;
        b.iter(|| {
            let index = probes[k % PROBES].index;
            k += 1;
            let ids = inclusion_nodes_beside(&edge, index).unwrap();
            let fetched: NodeMap = ids.into_iter().map(|id| (id, nodes[&id])).collect();
            inclusion_proof_beside(&edge, index, &fetched).unwrap()
        });
    });
    group.bench_function("ours-edge-recomputed", |b| {
        let mut k = 0usize;
        b.iter(|| {
            let index = probes[k % PROBES].index;
            k += 1;
            let ids = inclusion_nodes(index, size).unwrap();
            let fetched: NodeMap = ids.into_iter().map(|id| (id, nodes[&id])).collect();
            inclusion_proof(H, index, size, &fetched).unwrap()
        });
    });
    group.bench_function("ct-merkle", |b| {
        let mut k = 0usize;
        b.iter(|| {
            let index = probes[k % PROBES].index;
            k += 1;
            ct.prove_inclusion(index as usize)
        });
    });
    group.finish();

    let mut group = c.benchmark_group(format!("verify_inclusion/{label}"));
    group.warm_up_time(warm_up).measurement_time(measure);
    group.bench_function("ours", |b| {
        let mut k = 0usize;
        b.iter(|| {
            let probe = &probes[k % PROBES];
            k += 1;
            let leaf = H.leaf(black_box(&probe.entry));
            assert!(verify_inclusion(H, probe.index, size, &leaf, &probe.ours, &our_root));
        });
    });
    group.bench_function("ct-merkle", |b| {
        let mut k = 0usize;
        b.iter(|| {
            let probe = &probes[k % PROBES];
            k += 1;
            assert!(
                ct_root
                    .verify_inclusion(black_box(&probe.entry), probe.index, &probe.ct)
                    .is_ok()
            );
        });
    });
    group.finish();
}

/// A fresh, migrated SQLite database and a checkpoint signer in `dir`.
async fn sqlite_ledger(dir: &Path) -> (DatabaseConnection, CheckpointSigner) {
    let url = format!("sqlite://{}?mode=rwc", dir.join("keepsake.db").display());
    let db = store::connect(&url).await.expect("open SQLite");
    store::migrate(&db).await.expect("migrate");
    let signer =
        CheckpointSigner::load(&dir.join("ledger.key"), "keepsake.bench/ledger".to_owned()).expect("checkpoint key");
    (db, signer)
}

/// Queues `entries` in one transaction, as attestations would have (not timed).
async fn enqueue_all(db: &DatabaseConnection, entries: &[EntryBytes]) {
    let txn = db.begin().await.unwrap();
    let now = Utc::now();
    for e in entries {
        store::ledger::enqueue(&txn, e.to_vec(), now).await.unwrap();
    }
    txn.commit().await.unwrap();
}

fn bench_sequencing(c: &mut Criterion, batch_entries: usize, entries: &[EntryBytes], quick: bool) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("sequence_sqlite");
    group
        .throughput(Throughput::Elements(batch_entries as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(if quick { 100 } else { 1000 }));
    // 256 is the server's default `ledger.batch_size`. The setting allows up to 10 000, but on
    // SQLite a batch that large exceeds the 32 766 bound parameters one statement may carry
    // (`write_batch` inserts all nodes of a batch at once); 4096 is the largest power of two
    // that fits.
    for batch_size in [256u64, 4096] {
        // One database per batch size; its log grows by `batch_entries` every iteration.
        let dir = tempfile::tempdir().unwrap();
        let (db, signer) = runtime.block_on(sqlite_ledger(dir.path()));
        let mut cursor = 0usize;
        group.bench_function(format!("batch-{batch_size}"), |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    let chunk: Vec<EntryBytes> = (0..batch_entries)
                        .map(|k| entries[(cursor + k) % entries.len()])
                        .collect();
                    cursor += batch_entries;
                    runtime.block_on(enqueue_all(&db, &chunk));
                    let start = Instant::now();
                    let sequenced = runtime.block_on(async {
                        let mut total = 0;
                        loop {
                            match sequence_once(&db, &signer, batch_size, Utc::now()).await.unwrap() {
                                None => break total,
                                Some(batch) => total += batch.len() as u64,
                            }
                        }
                    });
                    elapsed += start.elapsed();
                    assert_eq!(sequenced, batch_entries as u64);
                }
                elapsed
            });
        });
        let size = runtime.block_on(store::ledger::state(&db)).unwrap().size;
        println!("sequence_sqlite/batch-{batch_size}: the log ended with {size} entries");
        runtime.block_on(db.close()).ok();
    }
    group.finish();
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} must be a number")))
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (`cargo test --benches`) is a smoke test.
    let quick = !std::env::args().any(|a| a == "--bench");
    let mut c = Criterion::default().configure_from_args();
    let (sizes, sequenced) = if quick {
        (vec![4096u64], 1000)
    } else {
        let max = env_number("KEEPSAKE_BENCH_MAX_LEAVES", 10_000_000);
        let sizes: Vec<u64> = [1_000_000u64, 10_000_000].into_iter().filter(|&n| n <= max).collect();
        (sizes, env_number("KEEPSAKE_BENCH_SEQUENCE_ENTRIES", 50_000) as usize)
    };
    let needed = sizes
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(APPEND_POOL as u64)
        .max(sequenced as u64);
    let start = Instant::now();
    let entries: Vec<EntryBytes> = (0..needed).map(entry).collect();
    println!(
        "setup: {needed} entries encoded in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    for size in sizes {
        bench_size(&mut c, size, &entries, quick);
    }
    bench_sequencing(&mut c, sequenced, &entries, quick);
    c.final_summary();
}
