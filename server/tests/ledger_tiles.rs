//! The ledger as C2SP tlog-tiles, read by implementations nobody here wrote: Cloudflare's
//! `tlog_tiles` plans which tiles a tree has, authenticates them against the checkpoint,
//! recomputes the root and proves inclusion and consistency; `signed_note` checks the
//! checkpoint's signature. The tiles survive their loss: a server started on an emptied blob
//! store publishes them again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use serde_json::Value;
use signed_note::{Note, StandardVerifier, VerifierList};
use tlog_tiles::{Checkpoint, Hash, TileHashReader, TileReader};

use crate::ledger::{attested, get_text_of};
use crate::support::kyb::approved_issuer_with_key;
use crate::support::{Db, Server};

on_both_databases!(standard_tools_read_the_served_tiles);

/// Tiles as C2SP serves them: the crate names them as the Go checksum database did
/// (`tile/<height>/<level>/...`, `tile/<height>/data/...`); tlog-tiles fixes the height at 8
/// and calls data tiles entry bundles.
fn served_path(tile: &tlog_tiles::Tile) -> String {
    let path = tile.path();
    let rest = path.strip_prefix("tile/8/").expect("tiles of height 8");
    match rest.strip_prefix("data/") {
        Some(index) => format!("/ledger/tile/entries/{index}"),
        None => format!("/ledger/tile/{rest}"),
    }
}

/// The tiles of one tree, fetched over HTTP beforehand (the crate's reader is synchronous).
struct Fetched {
    tiles: HashMap<tlog_tiles::Tile, Vec<u8>>,
}

impl Fetched {
    /// Every hash tile a tree of `size` has, as the crate plans them, fetched from `server`.
    async fn tree(server: &Server, size: u64) -> Fetched {
        let mut tiles = HashMap::new();
        for tile in tlog_tiles::Tile::new_tiles(8, 0, size) {
            let response = reqwest::get(server.url(&served_path(&tile))).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{}", served_path(&tile));
            assert_eq!(response.headers()[CONTENT_TYPE], "application/octet-stream");
            let cache = response.headers()[CACHE_CONTROL].to_str().unwrap().to_owned();
            assert!(cache.contains("immutable"), "{cache}");
            let bytes = response.bytes().await.unwrap().to_vec();
            assert_eq!(bytes.len(), tile.width() as usize * 32, "{}", served_path(&tile));
            tiles.insert(tile, bytes);
        }
        Fetched { tiles }
    }
}

impl TileReader for Fetched {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[tlog_tiles::Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|tile| self.tiles.get(tile).cloned().ok_or(tlog_tiles::Error::IndexesNotInTree))
            .collect()
    }

    fn save_tiles(&self, _: &[tlog_tiles::Tile], _: &[Vec<u8>]) {}
}

/// Waits until `/ledger/checkpoint` is for a tree of at least `size` and returns it.
async fn published_checkpoint(server: &Server, size: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = reqwest::get(server.url("/ledger/checkpoint")).await.unwrap();
        if response.status() == StatusCode::OK {
            assert_eq!(response.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
            let cache = response.headers()[CACHE_CONTROL].to_str().unwrap().to_owned();
            assert_eq!(cache, "public, max-age=5", "a checkpoint is cached for seconds only");
            let note = response.text().await.unwrap();
            if note.lines().nth(1).and_then(|s| s.parse::<u64>().ok()) >= Some(size) {
                return note;
            }
        }
        assert!(Instant::now() < deadline, "tiles for size {size} never published");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The checkpoint, checked by `signed_note` against the pinned key: its tree size and root.
fn checked(note: &str, verifier_key: &str) -> (u64, Hash) {
    let verifier = StandardVerifier::new(verifier_key).expect("a standard verifier key");
    let parsed = Note::from_bytes(note.as_bytes()).expect("a signed note");
    let (verified, others) = parsed
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .expect("signed by the log's key");
    assert_eq!(verified.len(), 1);
    // The other line is the log's timestamp, a tlog-cosignature/v1 by the same key.
    let (name, rest) = verifier_key.split_once('+').unwrap();
    let public_key = STANDARD.decode(rest.split_once('+').unwrap().1).unwrap();
    let mut cosigner_key = vec![0x04];
    cosigner_key.extend_from_slice(&public_key[1..]);
    assert_eq!(others.len(), 1, "{note}");
    assert_eq!(others[0].name(), name);
    assert_eq!(others[0].id(), signed_note::key_id(name, &cosigner_key));
    assert_eq!(others[0].signature().len(), 8 + 64);
    let checkpoint = Checkpoint::from_bytes(parsed.text()).expect("a C2SP checkpoint");
    assert_eq!(checkpoint.origin(), name);
    (checkpoint.size(), *checkpoint.hash())
}

/// Reads entry bundle `index` of a tree of `size`: its entries.
async fn bundle(server: &Server, size: u64, index: u64) -> Vec<Vec<u8>> {
    let width = (size - index * 256).min(256);
    let path = if width == 256 {
        format!("/ledger/tile/entries/{index:03}")
    } else {
        format!("/ledger/tile/entries/{index:03}.p/{width}")
    };
    let response = reqwest::get(server.url(&path)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let bytes = response.bytes().await.unwrap();
    let mut entries = Vec::new();
    let mut rest = &bytes[..];
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = usize::from(u16::from_be_bytes(*len));
        entries.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    assert_eq!(entries.len() as u64, width, "{path}");
    entries
}

async fn standard_tools_read_the_served_tiles(db: Db) {
    let server = Server::start(db).await;
    let (_, key, _, _) = approved_issuer_with_key(&server).await;
    let verifier_key = get_text_of(&server, "/api/v1/ledger/key").await.trim().to_owned();
    let started = chrono::Utc::now();

    let first: Value = attested(&server, &key, b"the first attested file").await;
    let early_size = first["inclusion_proof"]["size"].as_u64().unwrap();
    let early = published_checkpoint(&server, early_size).await;
    let (early_size, early_root) = checked(&early, &verifier_key);

    // Past a full tile of 256, so there are full and partial tiles on two levels.
    let mut running = tokio::task::JoinSet::new();
    for n in 0..300u32 {
        let (url, key) = (server.url("/api/v1/attestations"), key.clone());
        running.spawn(async move {
            let digest = keepsake::crypto::sha3_hex(format!("tile test {n}").as_bytes());
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .json(&serde_json::json!({ "sha3_256": digest }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::CREATED);
            response.json::<Value>().await.unwrap()
        });
    }
    let receipts = running.join_all().await;
    let last = receipts
        .iter()
        .map(|r| r["inclusion_proof"]["size"].as_u64().unwrap())
        .max()
        .unwrap();
    let note = published_checkpoint(&server, last).await;
    let (size, root) = checked(&note, &verifier_key);
    assert!(size >= 300 + early_size);
    let signed_at = keepsake::ledger::checkpoint::verify(&note, &verifier_key)
        .unwrap()
        .signed_at
        .expect("the checkpoint says when it was signed");
    assert!(signed_at >= started - chrono::Duration::seconds(1) && signed_at <= chrono::Utc::now());

    let tiles = Fetched::tree(&server, size).await;
    assert!(tiles.tiles.keys().any(|t| t.level() == 1), "a level-1 tile");
    let reader = TileHashReader::new(size, root, &tiles);
    assert_eq!(
        tlog_tiles::tree_hash(size, &reader).unwrap(),
        root,
        "the tiles give the signed root"
    );

    // Inclusion, from the entry bundles and the tiles, for receipts in either tile.
    let mut bundles = HashMap::new();
    for receipt in [&first, &receipts[0], &receipts[299]] {
        let index = receipt["entry"]["index"].as_u64().unwrap();
        if let std::collections::hash_map::Entry::Vacant(slot) = bundles.entry(index / 256) {
            slot.insert(bundle(&server, size, index / 256).await);
        }
        let entry = &bundles[&(index / 256)][(index % 256) as usize];
        assert_eq!(
            STANDARD.encode(entry),
            receipt["entry"]["entry"].as_str().unwrap(),
            "the bundle holds the receipt's entry"
        );
        let leaf = tlog_tiles::record_hash(entry);
        assert_eq!(
            keepsake::crypto::hex(&leaf.0),
            receipt["entry"]["leaf_hash"].as_str().unwrap()
        );
        let proof = tlog_tiles::prove_record(size, index, &reader).unwrap();
        tlog_tiles::check_record(&proof, size, root, index, leaf).expect("inclusion checks out");
        assert!(tlog_tiles::check_record(&proof, size, root, (index + 1) % size, leaf).is_err());
    }

    // Consistency with the early checkpoint, and the early tree from its own partial tiles.
    let proof = tlog_tiles::prove_tree(size, early_size, &reader).unwrap();
    tlog_tiles::check_tree(&proof, size, root, early_size, early_root).expect("the log only grew");
    let early_tiles = Fetched::tree(&server, early_size).await;
    let early_reader = TileHashReader::new(early_size, early_root, &early_tiles);
    assert_eq!(tlog_tiles::tree_hash(early_size, &early_reader).unwrap(), early_root);

    // Tiles the tree does not have, and paths that are no tile, are refused.
    for (path, code) in [
        ("/ledger/tile/0/999", "tile_not_published"),
        ("/ledger/tile/0/000.p/0", "not_a_tile"),
        ("/ledger/tile/0/0", "not_a_tile"),
        ("/ledger/tile/0/..%2F..%2F..%2Fkeys%2Fledger-signing.key", "not_a_tile"),
    ] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{path}");
    }

    // With the published tiles lost, a restarted server writes them again.
    let (server, ()) = server
        .restart_after(|_, data_dir| async move {
            std::fs::remove_dir_all(data_dir.join("blobs").join("ledger")).unwrap();
        })
        .await;
    let again = published_checkpoint(&server, size).await;
    let (size_again, root_again) = checked(&again, &verifier_key);
    assert!(size_again >= size);
    let tiles = Fetched::tree(&server, size_again).await;
    let reader = TileHashReader::new(size_again, root_again, &tiles);
    assert_eq!(tlog_tiles::tree_hash(size_again, &reader).unwrap(), root_again);
    let proof = tlog_tiles::prove_tree(size_again, size, &reader).unwrap();
    tlog_tiles::check_tree(&proof, size_again, root_again, size, root).expect("the same history");
}
