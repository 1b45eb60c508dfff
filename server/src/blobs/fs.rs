//! Blobs as files under a directory: `<root>/<namespace>/<uuid>` plus a `.type` sidecar with
//! the media type. Writes go to a temporary file that is synced and renamed into place, so a
//! crash never leaves a half-written blob under its final name.

use std::path::PathBuf;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::{Blob, BlobError, BlobStore, MAX_BLOB_BYTES, ObjectName};
use crate::domain::blob_key::BlobKey;

#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn new(root: PathBuf) -> Result<Self, BlobError> {
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.as_str())
    }
}

async fn write_atomically(path: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4()));
    let mut file = tokio::fs::File::create(&tmp).await?;
    file.write_all(bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&tmp, path).await
}

#[async_trait::async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, namespace: &'static str, blob: Blob) -> Result<BlobKey, BlobError> {
        if blob.bytes.len() > MAX_BLOB_BYTES {
            return Err(BlobError::TooLarge);
        }
        let key = BlobKey::generate(namespace);
        let path = self.path(&key);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        write_atomically(&path.with_extension("type"), blob.content_type.as_bytes()).await?;
        write_atomically(&path, &blob.bytes).await?;
        Ok(key)
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        let path = self.path(key);
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(BlobError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let content_type = tokio::fs::read_to_string(path.with_extension("type"))
            .await
            .unwrap_or_else(|_| "application/octet-stream".to_owned());
        Ok(Blob {
            bytes: Bytes::from(bytes),
            content_type,
        })
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        let path = self.path(key);
        for p in [path.clone(), path.with_extension("type")] {
            match tokio::fs::remove_file(&p).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn check(&self) -> Result<(), BlobError> {
        tokio::fs::metadata(&self.root).await?;
        Ok(())
    }

    async fn put_named(&self, name: &ObjectName, bytes: Bytes) -> Result<(), BlobError> {
        let path = self.root.join(name.as_str());
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        write_atomically(&path, &bytes).await?;
        Ok(())
    }

    async fn get_named(&self, name: &ObjectName) -> Result<Bytes, BlobError> {
        match tokio::fs::read(self.root.join(name.as_str())).await {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            // A directory under the name (`001.p` beside the full tile `001`) is no object.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                ) =>
            {
                Err(BlobError::NotFound)
            }
            Err(e) => Err(e.into()),
        }
    }
}
