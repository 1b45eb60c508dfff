//! The shared ledger as a format: a verifiable, append-only Merkle log (RFC 6962/9162 with
//! SHA-256) of canonical entries, its signed checkpoints, receipts and C2SP tiles. Nothing here
//! touches the database: the sequencer, the audit and the publishing of tiles, which do, are in
//! [`crate::services::ledger`].

pub mod add_checkpoint;
pub mod anchor;
pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod merkle;
pub mod receipt;
pub mod rules;
pub mod signed_record;
pub mod signer;
pub mod tiles;
