//! Real-name identity verification (KYC): how identity data is protected at rest, and who
//! decides whether a submitted identity is genuine.
//!
//! The default verifier is manual review: a submission waits in the reviewer queue. The
//! alternative sends it to an identity-verification provider over HTTP (see [`provider`]).

pub mod provider;
pub mod vault;

pub use provider::{IdentityVerifier, Started, VerificationRequest};
pub use vault::{Field, PiiVault, VaultError};
