//! The audit trail: what is recorded about each decision a regulator could ask about.

use std::fmt;

use super::account::UserId;
use super::claim::TokenId;
use super::collection::CollectionId;
use super::issuer::IssuerId;

/// What happened. The string forms are stored and shown; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    RoleGranted,
    RoleRevoked,
    IdentitySubmitted,
    IdentityClaimed,
    IdentityApproved,
    IdentityRejected,
    IssuerSubmitted,
    IssuerClaimed,
    IssuerApproved,
    IssuerRejected,
    IssuerSuspended,
    IssuerReinstated,
    IssuerRevoked,
    MemberInvited,
    MemberJoined,
    ApiKeyCreated,
    ApiKeyRevoked,
    CollectionCreated,
    CollectionEdited,
    CollectionScreened,
    CollectionClaimed,
    CollectionApproved,
    CollectionChangesRequested,
    CollectionRejected,
    CollectionPublished,
    CollectionClosed,
    CollectionFrozen,
    CollectionUnfrozen,
    ModerationTermsAdded,
    ModerationTermRemoved,
    ModerationImageBlocked,
    ModerationImageUnblocked,
    ModerationThresholdsChanged,
    TokenTransferRefused,
    CollectionCodesGenerated,
    TokenFrozen,
    TokenRevoked,
    CollectionAllowlistUploaded,
}

impl AuditAction {
    pub const ALL: [AuditAction; 38] = [
        AuditAction::RoleGranted,
        AuditAction::RoleRevoked,
        AuditAction::IdentitySubmitted,
        AuditAction::IdentityClaimed,
        AuditAction::IdentityApproved,
        AuditAction::IdentityRejected,
        AuditAction::IssuerSubmitted,
        AuditAction::IssuerClaimed,
        AuditAction::IssuerApproved,
        AuditAction::IssuerRejected,
        AuditAction::IssuerSuspended,
        AuditAction::IssuerReinstated,
        AuditAction::IssuerRevoked,
        AuditAction::MemberInvited,
        AuditAction::MemberJoined,
        AuditAction::ApiKeyCreated,
        AuditAction::ApiKeyRevoked,
        AuditAction::CollectionCreated,
        AuditAction::CollectionEdited,
        AuditAction::CollectionScreened,
        AuditAction::CollectionClaimed,
        AuditAction::CollectionApproved,
        AuditAction::CollectionChangesRequested,
        AuditAction::CollectionRejected,
        AuditAction::CollectionPublished,
        AuditAction::CollectionClosed,
        AuditAction::CollectionFrozen,
        AuditAction::CollectionUnfrozen,
        AuditAction::ModerationTermsAdded,
        AuditAction::ModerationTermRemoved,
        AuditAction::ModerationImageBlocked,
        AuditAction::ModerationImageUnblocked,
        AuditAction::ModerationThresholdsChanged,
        AuditAction::TokenTransferRefused,
        AuditAction::CollectionCodesGenerated,
        AuditAction::TokenFrozen,
        AuditAction::TokenRevoked,
        AuditAction::CollectionAllowlistUploaded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::RoleGranted => "role.granted",
            AuditAction::RoleRevoked => "role.revoked",
            AuditAction::IdentitySubmitted => "identity.submitted",
            AuditAction::IdentityClaimed => "identity.claimed",
            AuditAction::IdentityApproved => "identity.approved",
            AuditAction::IdentityRejected => "identity.rejected",
            AuditAction::IssuerSubmitted => "issuer.submitted",
            AuditAction::IssuerClaimed => "issuer.claimed",
            AuditAction::IssuerApproved => "issuer.approved",
            AuditAction::IssuerRejected => "issuer.rejected",
            AuditAction::IssuerSuspended => "issuer.suspended",
            AuditAction::IssuerReinstated => "issuer.reinstated",
            AuditAction::IssuerRevoked => "issuer.revoked",
            AuditAction::MemberInvited => "issuer.member_invited",
            AuditAction::MemberJoined => "issuer.member_joined",
            AuditAction::ApiKeyCreated => "issuer.api_key_created",
            AuditAction::ApiKeyRevoked => "issuer.api_key_revoked",
            AuditAction::CollectionCreated => "collection.created",
            AuditAction::CollectionEdited => "collection.edited",
            AuditAction::CollectionScreened => "collection.screened",
            AuditAction::CollectionClaimed => "collection.claimed",
            AuditAction::CollectionApproved => "collection.approved",
            AuditAction::CollectionChangesRequested => "collection.changes_requested",
            AuditAction::CollectionRejected => "collection.rejected",
            AuditAction::CollectionPublished => "collection.published",
            AuditAction::CollectionClosed => "collection.closed",
            AuditAction::CollectionFrozen => "collection.frozen",
            AuditAction::CollectionUnfrozen => "collection.unfrozen",
            AuditAction::ModerationTermsAdded => "moderation.terms_added",
            AuditAction::ModerationTermRemoved => "moderation.term_removed",
            AuditAction::ModerationImageBlocked => "moderation.image_blocked",
            AuditAction::ModerationImageUnblocked => "moderation.image_unblocked",
            AuditAction::ModerationThresholdsChanged => "moderation.thresholds_changed",
            AuditAction::TokenTransferRefused => "token.transfer_refused",
            AuditAction::CollectionCodesGenerated => "collection.codes_generated",
            AuditAction::TokenFrozen => "token.frozen",
            AuditAction::TokenRevoked => "token.revoked",
            AuditAction::CollectionAllowlistUploaded => "collection.allowlist_uploaded",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an action was done to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSubject {
    User(UserId),
    Identity(UserId),
    Issuer(IssuerId),
    Collection(CollectionId),
    Token(TokenId),
    /// The moderation policy (term lists, image blocklist, thresholds).
    ModerationPolicy,
}

impl AuditSubject {
    pub fn kind(&self) -> &'static str {
        match self {
            AuditSubject::User(_) => "user",
            AuditSubject::Identity(_) => "identity",
            AuditSubject::Issuer(_) => "issuer",
            AuditSubject::Collection(_) => "collection",
            AuditSubject::Token(_) => "token",
            AuditSubject::ModerationPolicy => "moderation_policy",
        }
    }

    pub fn id(&self) -> String {
        match self {
            AuditSubject::User(id) | AuditSubject::Identity(id) => id.to_string(),
            AuditSubject::Issuer(id) => id.to_string(),
            AuditSubject::Collection(id) => id.to_string(),
            AuditSubject::Token(id) => id.to_string(),
            AuditSubject::ModerationPolicy => "policy".to_owned(),
        }
    }
}

/// One row of the audit log, before it is stored. It never holds personal data: subjects
/// are named by id, and reasons are the reviewer's own words.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Option<UserId>,
    pub action: AuditAction,
    pub subject: AuditSubject,
    pub before: Option<&'static str>,
    pub after: Option<&'static str>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
}

impl AuditEntry {
    /// An entry without state change or reason; set those fields where they apply.
    pub fn new(actor: Option<UserId>, action: AuditAction, subject: AuditSubject, request_id: Option<String>) -> Self {
        Self {
            actor,
            action,
            subject,
            before: None,
            after: None,
            reason: None,
            request_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names_are_unique_and_dotted() {
        let names: std::collections::BTreeSet<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len());
        assert!(names.iter().all(|n| n.contains('.') && n.len() <= 64));
    }

    #[test]
    fn subjects_are_named_by_id() {
        let subject = AuditSubject::Identity(UserId(42));
        assert_eq!((subject.kind(), subject.id().as_str()), ("identity", "42"));
    }
}
