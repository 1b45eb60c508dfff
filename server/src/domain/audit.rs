//! The audit trail: what is recorded about each decision a regulator could ask about.

use std::fmt;

use chrono::{DateTime, Utc};

use super::ids::{CollectionId, IssuerId, TokenId, UserId};

/// What happened. The string forms are stored and shown; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    RoleGranted,
    RoleRevoked,
    IdentitySubmitted,
    IdentityCorrectionSubmitted,
    IdentityClaimed,
    IdentityApproved,
    IdentityRejected,
    IdConsentGiven,
    IdConsentWithdrawn,
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
    /// A reviewer labelled a collection's artwork AI-generated, or took their label back.
    CollectionAiFlagged,
    CollectionAiUnflagged,
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
    TokenUnfrozen,
    /// A regulator opened one person's identity, answering a legal request.
    IdentityRevealed,
    /// A regulator made an export bundle.
    OversightExported,
    ReportFiled,
    ReportClaimed,
    ReportUpheld,
    ReportDismissed,
    AppealFiled,
    AppealClaimed,
    /// Another reviewer let the decision stand.
    AppealUpheld,
    /// Another reviewer reversed the decision.
    AppealOverturned,
    /// An appeal overturned a collection's rejection: it is in review again.
    CollectionReconsidered,
    /// An issuer sent new validity dates for its filings.
    IssuerFilingsRenewalSent,
    /// A reviewer accepted an issuer's renewed filings: claims resume if they had paused.
    IssuerFilingsRenewed,
    /// A reviewer refused an issuer's renewed filings, with the reason.
    IssuerFilingsRenewalRefused,
    /// An issuer's filing ran out: claims on its collections paused.
    IssuerFilingsLapsed,
    /// Someone asked for their account's address to change (the new one must confirm).
    EmailChangeRequested,
    /// The new address confirmed the change.
    EmailChanged,
    /// The old address took the change back.
    EmailChangeUndone,
    DataRequested,
    DataDownloaded,
    AccountDeleted,
    /// Someone confirmed a second factor for their account.
    SecondFactorEnrolled,
    /// Someone turned their own second factor off.
    SecondFactorRemoved,
    /// An administrator removed another account's second factor (a lost phone).
    SecondFactorReset,
    /// Someone replaced their recovery codes.
    RecoveryCodesRenewed,
    /// Someone added (or changed) their account's mobile number, confirmed by a texted code.
    PhoneAdded,
    /// Someone removed their account's mobile number.
    PhoneRemoved,
}

impl AuditAction {
    pub const ALL: [AuditAction; 71] = [
        AuditAction::RoleGranted,
        AuditAction::RoleRevoked,
        AuditAction::IdentitySubmitted,
        AuditAction::IdentityCorrectionSubmitted,
        AuditAction::IdentityClaimed,
        AuditAction::IdentityApproved,
        AuditAction::IdentityRejected,
        AuditAction::IdConsentGiven,
        AuditAction::IdConsentWithdrawn,
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
        AuditAction::CollectionAiFlagged,
        AuditAction::CollectionAiUnflagged,
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
        AuditAction::TokenUnfrozen,
        AuditAction::IdentityRevealed,
        AuditAction::OversightExported,
        AuditAction::ReportFiled,
        AuditAction::ReportClaimed,
        AuditAction::ReportUpheld,
        AuditAction::ReportDismissed,
        AuditAction::AppealFiled,
        AuditAction::AppealClaimed,
        AuditAction::AppealUpheld,
        AuditAction::AppealOverturned,
        AuditAction::CollectionReconsidered,
        AuditAction::IssuerFilingsRenewalSent,
        AuditAction::IssuerFilingsRenewed,
        AuditAction::IssuerFilingsRenewalRefused,
        AuditAction::IssuerFilingsLapsed,
        AuditAction::EmailChangeRequested,
        AuditAction::EmailChanged,
        AuditAction::EmailChangeUndone,
        AuditAction::DataRequested,
        AuditAction::DataDownloaded,
        AuditAction::AccountDeleted,
        AuditAction::SecondFactorEnrolled,
        AuditAction::SecondFactorRemoved,
        AuditAction::SecondFactorReset,
        AuditAction::RecoveryCodesRenewed,
        AuditAction::PhoneAdded,
        AuditAction::PhoneRemoved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::RoleGranted => "role.granted",
            AuditAction::RoleRevoked => "role.revoked",
            AuditAction::IdentitySubmitted => "identity.submitted",
            AuditAction::IdentityCorrectionSubmitted => "identity.correction_submitted",
            AuditAction::IdentityClaimed => "identity.claimed",
            AuditAction::IdentityApproved => "identity.approved",
            AuditAction::IdentityRejected => "identity.rejected",
            AuditAction::IdConsentGiven => "identity.consent_given",
            AuditAction::IdConsentWithdrawn => "identity.consent_withdrawn",
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
            AuditAction::CollectionAiFlagged => "collection.ai_flagged",
            AuditAction::CollectionAiUnflagged => "collection.ai_unflagged",
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
            AuditAction::TokenUnfrozen => "token.unfrozen",
            AuditAction::IdentityRevealed => "identity.revealed",
            AuditAction::OversightExported => "oversight.exported",
            AuditAction::ReportFiled => "report.filed",
            AuditAction::ReportClaimed => "report.claimed",
            AuditAction::ReportUpheld => "report.upheld",
            AuditAction::ReportDismissed => "report.dismissed",
            AuditAction::AppealFiled => "appeal.filed",
            AuditAction::AppealClaimed => "appeal.claimed",
            AuditAction::AppealUpheld => "appeal.upheld",
            AuditAction::AppealOverturned => "appeal.overturned",
            AuditAction::CollectionReconsidered => "collection.reconsidered",
            AuditAction::IssuerFilingsRenewalSent => "issuer.filings_renewal_sent",
            AuditAction::IssuerFilingsRenewed => "issuer.filings_renewed",
            AuditAction::IssuerFilingsRenewalRefused => "issuer.filings_renewal_refused",
            AuditAction::IssuerFilingsLapsed => "issuer.filings_lapsed",
            AuditAction::EmailChangeRequested => "account.email_change_requested",
            AuditAction::EmailChanged => "account.email_changed",
            AuditAction::EmailChangeUndone => "account.email_change_undone",
            AuditAction::DataRequested => "account.data_requested",
            AuditAction::DataDownloaded => "account.data_downloaded",
            AuditAction::AccountDeleted => "account.deleted",
            AuditAction::SecondFactorEnrolled => "account.second_factor_enrolled",
            AuditAction::SecondFactorRemoved => "account.second_factor_removed",
            AuditAction::SecondFactorReset => "account.second_factor_reset",
            AuditAction::RecoveryCodesRenewed => "account.recovery_codes_renewed",
            AuditAction::PhoneAdded => "account.phone_added",
            AuditAction::PhoneRemoved => "account.phone_removed",
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
    Report(i64),
    Appeal(i64),
}

impl AuditSubject {
    /// One subject of each kind (ids 0), for whatever lists every kind.
    pub const ALL: [AuditSubject; 8] = [
        AuditSubject::User(UserId(0)),
        AuditSubject::Identity(UserId(0)),
        AuditSubject::Issuer(IssuerId(0)),
        AuditSubject::Collection(CollectionId(0)),
        AuditSubject::Token(TokenId(0)),
        AuditSubject::ModerationPolicy,
        AuditSubject::Report(0),
        AuditSubject::Appeal(0),
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            AuditSubject::User(_) => "user",
            AuditSubject::Identity(_) => "identity",
            AuditSubject::Issuer(_) => "issuer",
            AuditSubject::Collection(_) => "collection",
            AuditSubject::Token(_) => "token",
            AuditSubject::ModerationPolicy => "moderation_policy",
            AuditSubject::Report(_) => "report",
            AuditSubject::Appeal(_) => "appeal",
        }
    }

    pub fn id(&self) -> String {
        match self {
            AuditSubject::User(id) | AuditSubject::Identity(id) => id.to_string(),
            AuditSubject::Issuer(id) => id.to_string(),
            AuditSubject::Collection(id) => id.to_string(),
            AuditSubject::Token(id) => id.to_string(),
            AuditSubject::ModerationPolicy => "policy".to_owned(),
            AuditSubject::Report(id) | AuditSubject::Appeal(id) => id.to_string(),
        }
    }
}

/// The facts of an action that the platform itself records, beside the reviewer's own words:
/// stored as JSON (`kind` names the variant), exported as such, and shown to people in their
/// language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditDetails {
    /// Automated screening of a submission.
    Screened {
        verdict: String,
        score: u8,
        findings: usize,
        lists: String,
    },
    /// A reviewer's decision on a collection named a reason code.
    ReasonCode {
        code: String,
    },
    CodesGenerated {
        batch: i32,
        count: u32,
        through_api: bool,
    },
    AllowlistUploaded {
        read: usize,
        added: usize,
        left_out: usize,
    },
    MemberInvited {
        email: String,
    },
    ApiKeyCreated {
        prefix: String,
        label: String,
    },
    ApiKeyRevoked {
        key: i64,
    },
    ArtworkReplaced,
    TermsAdded {
        category: String,
        severity: String,
        added: usize,
        terms: Vec<String>,
    },
    TermRemoved {
        category: String,
        severity: String,
        term: String,
    },
    ImageBlocked {
        entry: i64,
        hash: String,
        label: String,
    },
    ImageUnblocked {
        entry: i64,
        hash: String,
        label: String,
    },
    ThresholdsChanged {
        four_eyes_before: u8,
        four_eyes_after: u8,
        distance_before: u32,
        distance_after: u32,
    },
    TransferRefused,
    /// A report as filed: what it is about and its category.
    ReportFiled {
        target: String,
        category: String,
    },
    /// An appeal as filed: the decision appealed and what it was about.
    AppealFiled {
        decision: String,
        target: String,
    },
    /// A reveal and the legal request it answers (the reason is the row's reason).
    Revealed {
        reveal: i64,
        reference: String,
    },
    /// An export bundle and what it covers: days in Beijing time, every issuer or one.
    Exported {
        export: i64,
        from: String,
        to: String,
        issuer: Option<i64>,
    },
}

impl AuditDetails {
    /// One of each kind of details (fields empty or zero), for whatever lists every kind.
    pub const ALL: [AuditDetails; 18] = [
        AuditDetails::Screened {
            verdict: String::new(),
            score: 0,
            findings: 0,
            lists: String::new(),
        },
        AuditDetails::ReasonCode { code: String::new() },
        AuditDetails::CodesGenerated {
            batch: 0,
            count: 0,
            through_api: false,
        },
        AuditDetails::AllowlistUploaded {
            read: 0,
            added: 0,
            left_out: 0,
        },
        AuditDetails::MemberInvited { email: String::new() },
        AuditDetails::ApiKeyCreated {
            prefix: String::new(),
            label: String::new(),
        },
        AuditDetails::ApiKeyRevoked { key: 0 },
        AuditDetails::ArtworkReplaced,
        AuditDetails::TermsAdded {
            category: String::new(),
            severity: String::new(),
            added: 0,
            terms: Vec::new(),
        },
        AuditDetails::TermRemoved {
            category: String::new(),
            severity: String::new(),
            term: String::new(),
        },
        AuditDetails::ImageBlocked {
            entry: 0,
            hash: String::new(),
            label: String::new(),
        },
        AuditDetails::ImageUnblocked {
            entry: 0,
            hash: String::new(),
            label: String::new(),
        },
        AuditDetails::ThresholdsChanged {
            four_eyes_before: 0,
            four_eyes_after: 0,
            distance_before: 0,
            distance_after: 0,
        },
        AuditDetails::TransferRefused,
        AuditDetails::ReportFiled {
            target: String::new(),
            category: String::new(),
        },
        AuditDetails::AppealFiled {
            decision: String::new(),
            target: String::new(),
        },
        AuditDetails::Revealed {
            reveal: 0,
            reference: String::new(),
        },
        AuditDetails::Exported {
            export: 0,
            from: String::new(),
            to: String::new(),
            issuer: None,
        },
    ];

    /// The variant's name, as stored in `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            AuditDetails::Screened { .. } => "screened",
            AuditDetails::ReasonCode { .. } => "reason_code",
            AuditDetails::CodesGenerated { .. } => "codes_generated",
            AuditDetails::AllowlistUploaded { .. } => "allowlist_uploaded",
            AuditDetails::MemberInvited { .. } => "member_invited",
            AuditDetails::ApiKeyCreated { .. } => "api_key_created",
            AuditDetails::ApiKeyRevoked { .. } => "api_key_revoked",
            AuditDetails::ArtworkReplaced => "artwork_replaced",
            AuditDetails::TermsAdded { .. } => "terms_added",
            AuditDetails::TermRemoved { .. } => "term_removed",
            AuditDetails::ImageBlocked { .. } => "image_blocked",
            AuditDetails::ImageUnblocked { .. } => "image_unblocked",
            AuditDetails::ThresholdsChanged { .. } => "thresholds_changed",
            AuditDetails::TransferRefused => "transfer_refused",
            AuditDetails::ReportFiled { .. } => "report_filed",
            AuditDetails::AppealFiled { .. } => "appeal_filed",
            AuditDetails::Revealed { .. } => "revealed",
            AuditDetails::Exported { .. } => "exported",
        }
    }
}

/// One row of the audit log, before it is stored. Subjects are named by id; reasons are the
/// reviewer's own words; details are what the platform recorded about the action.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Option<UserId>,
    pub action: AuditAction,
    pub subject: AuditSubject,
    pub before: Option<&'static str>,
    pub after: Option<&'static str>,
    pub reason: Option<String>,
    pub details: Option<AuditDetails>,
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
            details: None,
            request_id,
        }
    }
}

/// The catalogue key of a stored audit action's name (`collection.screened` →
/// `audit.action_collection_screened`), by which every page and archive words it.
pub fn action_key(action: &str) -> String {
    format!("audit.action_{}", action.replace('.', "_"))
}

/// Which audit rows to read: by action and subject, and a span of time.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
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
    fn details_are_stored_as_tagged_json() {
        let details = AuditDetails::CodesGenerated {
            batch: 2,
            count: 100,
            through_api: false,
        };
        let json = serde_json::to_string(&details).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"codes_generated","batch":2,"count":100,"through_api":false}"#
        );
        assert_eq!(serde_json::from_str::<AuditDetails>(&json).unwrap(), details);
        assert_eq!(details.kind(), "codes_generated");
    }

    #[test]
    fn subjects_are_named_by_id() {
        let subject = AuditSubject::Identity(UserId(42));
        assert_eq!((subject.kind(), subject.id().as_str()), ("identity", "42"));
    }
}
