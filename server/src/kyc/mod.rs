//! Real-name identity verification (KYC): how identity data is protected at rest, and who
//! decides whether a submitted identity is genuine.
//!
//! The default verifier is manual review: a submission waits in the reviewer queue.

pub mod vault;

pub use vault::{Field, PiiVault, VaultError};
