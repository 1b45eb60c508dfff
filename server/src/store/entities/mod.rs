//! sea-orm entities, one per table (each in a file named after its table), mirroring the
//! migrations crate.

pub mod api_keys;
pub mod appeals;
pub mod attestations;
pub mod audit_log;
pub mod claim_allowlist;
pub mod claim_codes;
pub mod claim_minutes;
pub mod collections;
pub mod data_exports;
pub mod email_changes;
pub mod email_tokens;
pub mod filing_reminders;
pub mod form_results;
pub mod id_number_consents;
pub mod identities;
pub mod identity_reveals;
pub mod image_blocklist;
pub mod installation;
pub mod issuer_documents;
pub mod issuer_invitations;
pub mod issuer_members;
pub mod issuers;
pub mod ledger_anchors;
pub mod ledger_checkpoints;
pub mod ledger_entries;
pub mod ledger_nodes;
pub mod ledger_pending;
pub mod ledger_state;
pub mod login_challenges;
pub mod login_failures;
pub mod moderation_settings;
pub mod moderation_terms;
pub mod outbox;
pub mod oversight_exports;
pub mod person_keys;
pub mod policy_acceptances;
pub mod recovery_codes;
pub mod refusal_counts;
pub mod reports;
pub mod second_factors;
pub mod sessions;
pub mod sms_messages;
pub mod tokens;
pub mod transfer_allowances;
pub mod transfer_attempts;
pub mod user_roles;
pub mod users;

use sea_orm::EntityTrait;

/// Something shown every entity in turn by [`visit_all`].
pub trait EntityVisitor {
    fn visit<E: EntityTrait>(&mut self);
}

/// Shows `visitor` every entity of this module. The schema test holds each one against the
/// tables the migrations create, and this list against the files here, so an entity left out
/// of it fails that test rather than going unchecked.
pub fn visit_all(visitor: &mut impl EntityVisitor) {
    visitor.visit::<api_keys::Entity>();
    visitor.visit::<appeals::Entity>();
    visitor.visit::<attestations::Entity>();
    visitor.visit::<audit_log::Entity>();
    visitor.visit::<claim_allowlist::Entity>();
    visitor.visit::<claim_minutes::Entity>();
    visitor.visit::<claim_codes::Entity>();
    visitor.visit::<collections::Entity>();
    visitor.visit::<data_exports::Entity>();
    visitor.visit::<email_tokens::Entity>();
    visitor.visit::<form_results::Entity>();
    visitor.visit::<id_number_consents::Entity>();
    visitor.visit::<identities::Entity>();
    visitor.visit::<image_blocklist::Entity>();
    visitor.visit::<installation::Entity>();
    visitor.visit::<identity_reveals::Entity>();
    visitor.visit::<issuer_documents::Entity>();
    visitor.visit::<issuer_invitations::Entity>();
    visitor.visit::<issuer_members::Entity>();
    visitor.visit::<issuers::Entity>();
    visitor.visit::<ledger_anchors::Entity>();
    visitor.visit::<ledger_checkpoints::Entity>();
    visitor.visit::<ledger_entries::Entity>();
    visitor.visit::<ledger_nodes::Entity>();
    visitor.visit::<ledger_pending::Entity>();
    visitor.visit::<ledger_state::Entity>();
    visitor.visit::<login_failures::Entity>();
    visitor.visit::<moderation_settings::Entity>();
    visitor.visit::<moderation_terms::Entity>();
    visitor.visit::<outbox::Entity>();
    visitor.visit::<oversight_exports::Entity>();
    visitor.visit::<person_keys::Entity>();
    visitor.visit::<policy_acceptances::Entity>();
    visitor.visit::<refusal_counts::Entity>();
    visitor.visit::<filing_reminders::Entity>();
    visitor.visit::<email_changes::Entity>();
    visitor.visit::<reports::Entity>();
    visitor.visit::<sessions::Entity>();
    visitor.visit::<second_factors::Entity>();
    visitor.visit::<recovery_codes::Entity>();
    visitor.visit::<login_challenges::Entity>();
    visitor.visit::<sms_messages::Entity>();
    visitor.visit::<tokens::Entity>();
    visitor.visit::<transfer_allowances::Entity>();
    visitor.visit::<transfer_attempts::Entity>();
    visitor.visit::<user_roles::Entity>();
    visitor.visit::<users::Entity>();
}
