//! The shared ledger: a verifiable, append-only Merkle log (RFC 6962/9162 with SHA-256) that
//! records tokens and hash attestations, so anyone can check inclusion and that history was
//! never rewritten.

pub mod audit;
pub mod checkpoint;
pub mod entry;
pub mod merkle;
pub mod receipt;
pub mod rotation;
pub mod sequencer;
pub mod signed_record;
pub mod tile_publisher;
pub mod tiles;
pub mod upgrade;
