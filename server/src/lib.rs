//! Keepsake: a compliant digital-collectibles issuance platform.
//!
//! Brands onboard as verified issuers, reviewers approve every piece of content, real-name
//! collectors claim free, non-transferable collectibles, and every token is recorded in a
//! shared, publicly verifiable ledger. This crate is the server: the `keepsake` binary is a
//! thin wrapper around [`cli::run`].
//!
//! Layout: `domain` holds the rules as plain types and functions, `store` is the only place
//! that speaks SQL, `web` holds the thin HTTP handlers, `jobs` the background workers;
//! `minter` decides claims and `attestation_intake` queues attestations, both in batches
//! (`group_commit`).

pub mod app;
pub mod attestation_intake;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod group_commit;
pub mod i18n;
pub mod jobs;
pub mod kyc;
pub mod ledger;
pub mod mail;
pub mod minter;
pub mod store;
pub mod web;
