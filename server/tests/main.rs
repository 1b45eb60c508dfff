//! The end-to-end, property and browser tests, in one binary so that the suite links once.
//! Each module's doc says what it covers; most start the real `keepsake` binary on an
//! ephemeral port (see `support`).

#[macro_use]
mod support;

mod accounts;
mod ai_labels;
mod anchoring;
mod blob_store;
mod browser;
mod claims;
mod collections;
mod due_process;
mod email_change;
mod filings;
mod hardening;
mod identity;
mod identity_provider;
mod issuers;
mod ledger;
mod ledger_properties;
mod ledger_tiles;
mod ledger_v1_carried_over;
mod lists;
mod mail_outbox;
mod minors;
mod monitor;
mod operations;
mod pages;
mod personal_data;
mod phone;
mod policies;
mod proxy;
mod query_plans;
mod regulator;
mod second_factor;
mod store_schema;
mod witnesses;
