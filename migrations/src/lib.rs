//! Database schema migrations for Keepsake.
//!
//! One ordered list of migrations serves SQLite (the embedded default) and PostgreSQL. Each
//! migration is written with the portable schema builder, never backend-specific SQL, and
//! SQLite gets one `ALTER` per statement. Migrations only ever move forward in production:
//! `down` exists so that developers can rebuild a local database.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_accounts;
mod m20261125_000002_identities_audit;
mod m20261125_000003_issuers;
mod m20261125_000004_ledger;
mod m20261125_000005_attestations;
mod m20261125_000006_collections;
mod m20261125_000007_tokens;
mod m20261125_000008_claim_codes;
mod m20261125_000009_allowlists;
mod m20261201_000010_audit_details;
mod m20261201_000011_form_results;
mod m20261201_000012_return_paths;
mod m20261201_000013_installation;
mod m20261202_000014_normalised_emails;
mod m20261202_000015_transfer_attempts;
mod m20261202_000016_pseudonymous_throttles;
mod m20261202_000017_ledger_formats;
mod m20261207_000018_keyset_reads;
mod m20261207_000019_witnessed_checkpoints;
mod m20261207_000020_ledger_anchors;
mod m20261207_000021_minimum_ages;
mod m20261207_000022_ai_labels;
mod m20261207_000023_policy_acceptances;
mod m20261208_000024_oversight;
mod m20261208_000025_due_process;
mod m20261208_000026_refusal_counts;
mod m20261209_000027_filing_dates;
mod m20261209_000028_email_changes;
mod m20261210_000029_id_number_consents;
mod m20261210_000030_data_exports;
mod m20261210_000031_account_deletion;
mod m20261210_000032_identity_corrections;
mod m20261211_000033_second_factors;
mod m20261211_000034_phone_numbers;

/// The ordered list of every migration; `keepsake migrate` and server start-up apply it.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_accounts::Migration),
            Box::new(m20261125_000002_identities_audit::Migration),
            Box::new(m20261125_000003_issuers::Migration),
            Box::new(m20261125_000004_ledger::Migration),
            Box::new(m20261125_000005_attestations::Migration),
            Box::new(m20261125_000006_collections::Migration),
            Box::new(m20261125_000007_tokens::Migration),
            Box::new(m20261125_000008_claim_codes::Migration),
            Box::new(m20261125_000009_allowlists::Migration),
            Box::new(m20261201_000010_audit_details::Migration),
            Box::new(m20261201_000011_form_results::Migration),
            Box::new(m20261201_000012_return_paths::Migration),
            Box::new(m20261201_000013_installation::Migration),
            Box::new(m20261202_000014_normalised_emails::Migration),
            Box::new(m20261202_000015_transfer_attempts::Migration),
            Box::new(m20261202_000016_pseudonymous_throttles::Migration),
            Box::new(m20261202_000017_ledger_formats::Migration),
            Box::new(m20261207_000018_keyset_reads::Migration),
            Box::new(m20261207_000019_witnessed_checkpoints::Migration),
            Box::new(m20261207_000020_ledger_anchors::Migration),
            Box::new(m20261207_000021_minimum_ages::Migration),
            Box::new(m20261207_000022_ai_labels::Migration),
            Box::new(m20261207_000023_policy_acceptances::Migration),
            Box::new(m20261208_000024_oversight::Migration),
            Box::new(m20261208_000025_due_process::Migration),
            Box::new(m20261208_000026_refusal_counts::Migration),
            Box::new(m20261209_000027_filing_dates::Migration),
            Box::new(m20261209_000028_email_changes::Migration),
            Box::new(m20261210_000029_id_number_consents::Migration),
            Box::new(m20261210_000030_data_exports::Migration),
            Box::new(m20261210_000031_account_deletion::Migration),
            Box::new(m20261210_000032_identity_corrections::Migration),
            Box::new(m20261211_000033_second_factors::Migration),
            Box::new(m20261211_000034_phone_numbers::Migration),
        ]
    }
}
