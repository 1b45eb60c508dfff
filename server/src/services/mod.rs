//! The use cases: one module per family. A service takes its inputs, the actor and `now`, owns
//! its transaction, writes its audit rows, mails and ledger entries, wakes the workers once it
//! has committed, and returns domain values or one [`ServiceError`]. Handlers in `web` and
//! `api` parse and authorise, call a service and render what it returns; `jobs` call the
//! services the background workers run.

pub mod account_deletion;
pub mod accounts;
pub mod appeals;
pub mod attestations;
pub mod audit;
pub mod claims;
pub mod codes;
pub mod collections;
pub mod data_export;
pub mod email_change;
pub mod error;
pub mod filings;
pub mod forms;
pub mod governance;
pub mod group_commit;
pub mod housekeeping;
pub mod id_consent;
pub mod identity;
pub mod issuers;
pub mod ledger;
pub mod moderation;
pub mod outbox;
pub mod oversight;
pub mod person_keys;
pub mod phone;
pub mod policies;
pub mod reports;
pub mod second_factor;
pub mod tokens;
pub mod users;
pub mod verify;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use url::Url;

use self::attestations::intake::AttestationIntake;
use self::claims::minter::Minter;
pub use self::error::{ClaimHint, ServiceError, ServiceResult};
use self::ledger::sequencer::Sequenced;
use self::ledger::tiles::TileCache;
use crate::blobs::SharedBlobStore;
use crate::chain::Anchorer;
use crate::config::Witnesses;
use crate::crypto::SealingKey;
use crate::domain::account::Email;
use crate::domain::age::MinimumAge;
use crate::domain::appeal::AppealWindow;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::ids::UserId;
use crate::i18n::Locale;
use crate::kyc::{IdentityVerifier, PiiVault};
use crate::ledger::signer::CheckpointSigner;
use crate::mail::Mail;
use crate::store::{self, Connection, Database};

/// What the services work with: the database, the blob store, the keys, the workers' wake-ups
/// and the batching queues. One per running server, shared by every request.
pub struct Services {
    pub db: Database,
    pub blobs: SharedBlobStore,
    /// Seals identity data and computes its blind index; keys in `<data_dir>/keys/`.
    pub vault: PiiVault,
    /// Decides identity checks: reviewers, or an HTTP provider.
    pub verifier: IdentityVerifier,
    /// Seals form results kept for their owner (a new API key, a batch of claim codes).
    pub results_key: SealingKey,
    /// Signs ledger checkpoints; its key lives in `<data_dir>/keys/`.
    pub checkpoint_signer: CheckpointSigner,
    /// Base of links in emails: configured, or derived from the bound address.
    pub public_url: Url,
    /// The operator's name, which signs every mail.
    pub operator_name: String,
    /// Wakes the outbox worker after a service queued mail.
    pub mail_wakeup: Notify,
    /// Wakes the archive builder after someone asked for a copy of their data.
    pub archive_wakeup: Notify,
    /// Wakes the SMS worker after a service queued a code.
    pub sms_wakeup: Notify,
    /// Wakes the sequencer after a service queued a ledger entry.
    pub ledger_wakeup: Notify,
    /// The latest batch this server sequenced, for requests waiting for their receipts.
    pub ledger_sequenced: watch::Sender<Option<Arc<Sequenced>>>,
    /// Decides claims in batches.
    pub minter: Minter,
    /// Queues hash attestations for the ledger in batches.
    pub attestation_intake: AttestationIntake,
    /// Ledger tiles served lately.
    pub tiles: TileCache,
    /// The witnesses that cosign checkpoints before they are published.
    pub witnesses: Witnesses,
    /// The account that anchors checkpoints on a chain, when anchoring is configured.
    pub anchorer: Option<Anchorer>,
    /// The platform's minimum age for claiming and joining issuers (`platform.minimum_age`).
    pub minimum_age: MinimumAge,
    /// How long decisions against someone may be appealed (`platform.appeal_window_days`).
    pub appeal_window: AppealWindow,
    /// How often undated filings are checked again, and the operator's own filings.
    pub filings: filings::FilingRules,
}

/// Who asks a service for something, as the audit log records it: the signed-in person and
/// the id of the request they sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub request_id: Option<String>,
}

impl Actor {
    /// An audit row of `action` on `subject` by this actor; set state and reason where they apply.
    pub fn audit(&self, action: AuditAction, subject: AuditSubject) -> AuditEntry {
        AuditEntry::new(Some(self.user), action, subject, self.request_id.clone())
    }
}

impl Services {
    /// An absolute URL for `path` (which starts with `/`), for links in emails.
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{}", self.public_url.as_str().trim_end_matches('/'), path)
    }

    /// Renders `mail` for `to` in `locale` and queues it in the caller's transaction; the
    /// caller wakes the outbox worker ([`Services::mail_queued`]) once it has committed.
    pub(crate) async fn queue_mail(
        &self,
        conn: &impl Connection,
        to: &Email,
        locale: Locale,
        mail: Mail<'_>,
        now: DateTime<Utc>,
    ) -> ServiceResult<()> {
        let message = mail
            .render(to, locale, &self.operator_name)
            .map_err(ServiceError::internal)?;
        store::outbox::enqueue(conn, message, now).await?;
        Ok(())
    }

    /// Whether the database answers a trivial query (for the readiness probe).
    pub async fn database_answers(&self) -> bool {
        store::ping(&self.db).await
    }

    /// Tells the outbox worker that committed mail is waiting.
    pub(crate) fn mail_queued(&self) {
        self.mail_wakeup.notify_one();
    }

    /// Tells the sequencer that committed ledger entries are waiting.
    pub(crate) fn entries_queued(&self) {
        self.ledger_wakeup.notify_one();
    }
}
