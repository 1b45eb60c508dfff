//! Keepsake: a compliant digital-collectibles issuance platform.
//!
//! Brands onboard as verified issuers, reviewers approve every piece of content, real-name
//! collectors claim free, non-transferable collectibles, and every token is recorded in a
//! shared, publicly verifiable ledger. This crate is the server: the `keepsake` binary is a
//! thin wrapper around [`cli::run`].
//!
//! Layout: `domain` holds the rules as plain types and functions, `services` the use cases,
//! `store` is the only place that speaks SQL, `ledger` is the log's format, `web` holds the
//! thin HTTP handlers and `jobs` the background workers; `state` is what they share and
//! `server` runs them.

pub mod aigc;
pub mod api;
pub mod blobs;
pub mod bytes_cache;
pub mod certificate_image;
pub mod chain;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod export;
pub mod health;
pub mod i18n;
pub mod jobs;
pub mod kyc;
pub mod ledger;
pub mod mail;
pub mod monitor;
pub mod paths;
pub mod policies;
pub mod server;
pub mod services;
pub mod sms;
pub mod state;
pub mod store;
pub mod web;
pub mod witness;
