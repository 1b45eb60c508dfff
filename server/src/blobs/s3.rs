//! Blobs in an S3-compatible object store through aws-sdk-s3.
//!
//! Path-style addressing and an explicit endpoint and region, so that self-hosted servers work;
//! request checksums only "when required", because several S3-compatible servers reject the
//! SDK's default CRC32 trailers.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::list_objects_v2::{ListObjectsV2Error, ListObjectsV2Output};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use super::{Blob, BlobError, BlobStore, MAX_BLOB_BYTES, ObjectName};
use crate::config::S3Config;
use crate::domain::blob_key::BlobKey;

#[derive(Debug, Clone)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
}

fn s3_error<E: ProvideErrorMetadata + std::error::Error + 'static>(err: SdkError<E, HttpResponse>) -> BlobError {
    match err.code() {
        Some(code) => BlobError::S3(format!("{code}: {}", err.message().unwrap_or("no message"))),
        None => BlobError::S3(DisplayErrorContext(&err).to_string()),
    }
}

impl S3BlobStore {
    /// Builds a client and makes sure the bucket exists (creating it if the server allows).
    pub async fn connect(config: &S3Config) -> Result<Self, BlobError> {
        let credentials = Credentials::new(
            &config.access_key_id,
            config.secret_access_key.expose(),
            None,
            None,
            "keepsake-config",
        );
        let sdk_config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(config.endpoint.as_str().trim_end_matches('/'))
            .region(Region::new(config.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        let store = Self {
            client: Client::from_conf(sdk_config),
            bucket: config.bucket.clone(),
        };
        if let Err(err) = store.list_one().await {
            if err.code() != Some("NoSuchBucket") {
                return Err(s3_error(err));
            }
            store
                .client
                .create_bucket()
                .bucket(&store.bucket)
                .send()
                .await
                .map_err(s3_error)?;
        }
        Ok(store)
    }

    /// Lists at most one key: the cheapest request that proves the bucket exists and the
    /// credentials work. (A HEAD request would do, but its errors carry no body, so the
    /// caller could not tell `SignatureDoesNotMatch` from `AccessDenied`.)
    async fn list_one(&self) -> Result<ListObjectsV2Output, SdkError<ListObjectsV2Error, HttpResponse>> {
        self.client
            .list_objects_v2()
            .bucket(&self.bucket)
            .max_keys(1)
            .send()
            .await
    }

    async fn get_object(&self, key: &str) -> Result<Blob, BlobError> {
        let output = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => output,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Err(BlobError::NotFound);
            }
            Err(err) => return Err(s3_error(err)),
        };
        let content_type = output.content_type().unwrap_or("application/octet-stream").to_owned();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| BlobError::S3(e.to_string()))?
            .into_bytes();
        Ok(Blob { bytes, content_type })
    }
}

#[async_trait::async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, namespace: &'static str, blob: Blob) -> Result<BlobKey, BlobError> {
        if blob.bytes.len() > MAX_BLOB_BYTES {
            return Err(BlobError::TooLarge);
        }
        let key = BlobKey::generate(namespace);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(blob.content_type)
            .body(ByteStream::from(blob.bytes))
            .send()
            .await
            .map_err(s3_error)?;
        Ok(key)
    }

    async fn get(&self, key: &BlobKey) -> Result<Blob, BlobError> {
        self.get_object(key.as_str()).await
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    async fn check(&self) -> Result<(), BlobError> {
        self.list_one().await.map_err(s3_error)?;
        Ok(())
    }

    async fn put_named(&self, name: &ObjectName, bytes: Bytes) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(name.as_str())
            .content_type("application/octet-stream")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    async fn get_named(&self, name: &ObjectName) -> Result<Bytes, BlobError> {
        self.get_object(name.as_str()).await.map(|blob| blob.bytes)
    }
}
