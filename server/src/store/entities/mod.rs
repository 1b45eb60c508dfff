//! sea-orm entities, one per table, mirroring the migrations crate.

pub mod api_keys;
pub mod attestations;
pub mod audit_log;
pub mod claim_allowlist;
pub mod claim_codes;
pub mod collections;
pub mod email_tokens;
pub mod identities;
pub mod image_blocklist;
pub mod issuer_documents;
pub mod issuer_invitations;
pub mod issuer_members;
pub mod issuers;
pub mod ledger_checkpoints;
pub mod ledger_entries;
pub mod ledger_nodes;
pub mod ledger_pending;
pub mod ledger_state;
pub mod login_failures;
pub mod moderation_settings;
pub mod moderation_terms;
pub mod outbox;
pub mod sessions;
pub mod tokens;
pub mod user_roles;
pub mod users;
