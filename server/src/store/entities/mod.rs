//! sea-orm entities, one per table, mirroring the migrations crate.

pub mod audit_log;
pub mod email_tokens;
pub mod identities;
pub mod login_failures;
pub mod outbox;
pub mod sessions;
pub mod user_roles;
pub mod users;
