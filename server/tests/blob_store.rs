//! One contract for every blob store: the filesystem store always, and the S3 store against a
//! real S3-compatible server when `TEST_S3_ENDPOINT`, `TEST_S3_ACCESS_KEY_ID` and
//! `TEST_S3_SECRET_ACCESS_KEY` are set (CI runs s3s-fs).

use crate::support::service_var;
use bytes::Bytes;
use keepsake::blobs::{Blob, BlobError, BlobStore, FsBlobStore, ObjectName, S3BlobStore};
use keepsake::config::{S3Config, Secret};
use keepsake::domain::blob_key::BlobKey;

fn blob(bytes: impl Into<Bytes>, content_type: &str) -> Blob {
    Blob {
        bytes: bytes.into(),
        content_type: content_type.to_owned(),
    }
}

/// Bytes that are not a repeating pattern a store could get right by accident.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

async fn contract(store: &dyn BlobStore) {
    store.check().await.expect("store is reachable");

    let first = store
        .put("kyb-documents", blob("%PDF-1.7 licence", "application/pdf"))
        .await
        .unwrap();
    let second = store
        .put("kyb-documents", blob("%PDF-1.7 licence", "application/pdf"))
        .await
        .unwrap();
    assert_ne!(first, second, "every put gets a fresh key");
    assert!(first.as_str().starts_with("kyb-documents/"));
    assert_eq!(BlobKey::parse(first.as_str()).unwrap(), first);

    let read = store.get(&first).await.unwrap();
    assert_eq!(read.bytes, Bytes::from_static(b"%PDF-1.7 licence"));
    assert_eq!(read.content_type, "application/pdf");

    let every_byte: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let key = store
        .put("artwork", blob(every_byte.clone(), "image/png"))
        .await
        .unwrap();
    assert_eq!(store.get(&key).await.unwrap().bytes, every_byte);

    let large = noise(5 * 1024 * 1024 + 17);
    let key = store.put("artwork", blob(large.clone(), "image/jpeg")).await.unwrap();
    let read = store.get(&key).await.unwrap();
    assert_eq!(read.bytes.len(), large.len());
    assert!(read.bytes == large, "large blob round-trips byte for byte");
    assert_eq!(read.content_type, "image/jpeg");

    store.delete(&first).await.unwrap();
    assert!(matches!(store.get(&first).await, Err(BlobError::NotFound)));
    store.delete(&first).await.expect("deleting a missing blob is fine");
    assert_eq!(
        store.get(&second).await.unwrap().bytes.len(),
        16,
        "other blobs are untouched"
    );

    let never_stored = BlobKey::generate("artwork");
    assert!(matches!(store.get(&never_stored).await, Err(BlobError::NotFound)));

    // Named objects (the ledger's tiles): a full tile and the partial tiles beside it, and a
    // checkpoint replaced in place.
    let full = ObjectName::ledger("tile/0/x001/234").unwrap();
    let partial = ObjectName::ledger("tile/0/x001/234.p/7").unwrap();
    assert!(matches!(store.get_named(&full).await, Err(BlobError::NotFound)));
    store.put_named(&partial, Bytes::from(noise(7 * 32))).await.unwrap();
    assert!(
        matches!(store.get_named(&full).await, Err(BlobError::NotFound)),
        "a partial tile is not the full one"
    );
    store.put_named(&full, Bytes::from(noise(8192))).await.unwrap();
    assert_eq!(store.get_named(&full).await.unwrap(), noise(8192));
    assert_eq!(store.get_named(&partial).await.unwrap(), noise(7 * 32));
    let checkpoint = ObjectName::ledger("checkpoint").unwrap();
    store
        .put_named(&checkpoint, Bytes::from_static(b"size 1"))
        .await
        .unwrap();
    store
        .put_named(&checkpoint, Bytes::from_static(b"size 2"))
        .await
        .unwrap();
    assert_eq!(
        store.get_named(&checkpoint).await.unwrap(),
        Bytes::from_static(b"size 2")
    );
}

#[tokio::test]
async fn filesystem_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("blobs");
    let store = FsBlobStore::new(root.clone()).unwrap();
    contract(&store).await;

    let key = store.put("artwork", blob("x", "text/plain")).await.unwrap();
    assert!(root.join(key.as_str()).is_file(), "stored under the store's root");
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        outside,
        vec![std::ffi::OsString::from("blobs")],
        "nothing written outside the root"
    );
}

fn s3_config(access_key_id: String, secret: String) -> Option<S3Config> {
    let endpoint = service_var("TEST_S3_ENDPOINT")?;
    Some(S3Config {
        endpoint: endpoint.parse().expect("TEST_S3_ENDPOINT is a URL"),
        bucket: format!("ks-test-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
        region: "us-east-1".to_owned(),
        access_key_id,
        secret_access_key: Secret::new(secret),
    })
}

fn s3_credentials() -> Option<(String, String)> {
    Some((
        service_var("TEST_S3_ACCESS_KEY_ID")?,
        service_var("TEST_S3_SECRET_ACCESS_KEY")?,
    ))
}

#[tokio::test]
async fn s3_store_keeps_the_contract() {
    let Some((id, secret)) = s3_credentials() else {
        return;
    };
    let Some(config) = s3_config(id, secret) else {
        return;
    };
    let store = S3BlobStore::connect(&config)
        .await
        .expect("connect and create the bucket");
    contract(&store).await;
    let again = S3BlobStore::connect(&config)
        .await
        .expect("an existing bucket is reused");
    again.check().await.unwrap();
}

#[tokio::test]
async fn s3_store_refuses_wrong_credentials() {
    let Some((id, _)) = s3_credentials() else {
        return;
    };
    let Some(config) = s3_config(id, "not-the-secret".to_owned()) else {
        return;
    };
    let error = S3BlobStore::connect(&config)
        .await
        .expect_err("a wrong secret must not connect");
    assert!(error.to_string().contains("SignatureDoesNotMatch"), "{error}");
}
