//! Real-name verification: a person submits their legal name and resident ID number, sealed
//! and indexed at once (never logged, never mailed); a reviewer, or an HTTP identity provider,
//! decides; the person is mailed the outcome with a link back to where they were going.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::account::Email;
use crate::domain::age;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::governance::CountedRefusal;
use crate::domain::identity::{IdentityStatus, LegalName, REVIEW_LOCK, ResidentIdNumber, check_reviewer};
use crate::domain::ids::UserId;
use crate::domain::issuer::MemberStanding;
use crate::domain::page::{Page, PageSize, TimeKey};
use crate::domain::review_queue::{QueueView, held_by};
use crate::kyc::provider::Callback;
use crate::kyc::{Field, IdentityVerifier, Started, VerificationRequest};
use crate::mail::Mail;
use crate::paths;
use crate::store::identities::{IdentityRecord, SealedValues, Submission};
use crate::store::sessions::VerifiedIdentity;
use crate::store::{self, Connection, StoreError};

/// Where a person's real-name check stands.
#[derive(Debug, Clone)]
pub struct Standing {
    pub record: Option<IdentityRecord>,
    pub status: IdentityStatus,
    /// The provider could not be reached; the submission waits for a retry.
    pub provider_retry: bool,
    /// Checks are decided by an identity provider within seconds (rather than by a reviewer).
    pub automatic: bool,
}

/// Why a submission was not taken; nothing of it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotTaken {
    /// Another account already verified this ID number: one person, one account.
    IdNumberTaken,
    /// The number's holder is under 14, whose information needs a guardian's consent.
    UnderGuardianAge,
}

/// What a reviewer decides on a pending check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Reject,
}

/// `user`'s check as it stands.
pub async fn standing(services: &Services, user: UserId) -> ServiceResult<Standing> {
    let record = store::identities::find(&services.db, user).await?;
    let status = record.as_ref().map_or(IdentityStatus::Unverified, |r| r.status.clone());
    let provider_retry = match store::identities::provider_state(&services.db, user).await? {
        Some((verifier, reference)) => verifier == "http" && reference.is_none() && status == IdentityStatus::Pending,
        None => false,
    };
    Ok(Standing {
        record,
        status,
        provider_retry,
        automatic: !matches!(services.verifier, IdentityVerifier::Manual),
    })
}

/// Which check a submission starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// A first check, or one after a rejection.
    First,
    /// A verified person correcting their name or ID number: the verified identity stays on
    /// record until the correction is decided, and comes back if it is refused.
    Correction,
}

/// Seals and submits a check of `kind` for the actor, with their consent to its processing
/// (which the form asks for apart from everything else), then hands it to the provider if
/// there is one; `next` is where to lead the person once it is decided.
pub async fn submit(
    services: &Services,
    actor: &Actor,
    kind: CheckKind,
    (name, number): (&LegalName, &ResidentIdNumber),
    next: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), NotTaken>> {
    if !age::may_verify(number.birth_date(), now) {
        super::governance::count_refusal(services, CountedRefusal::MinorIdentity, now).await;
        return Ok(Err(NotTaken::UnderGuardianAge));
    }
    let user = actor.user;
    let before = standing(services, user).await?.status;
    let allowed = match kind {
        CheckKind::First => before.submit(),
        CheckKind::Correction => before.correct(),
    };
    allowed?;
    let txn = store::begin(&services.db).await?;
    let key = super::person_keys::key_for(services, &txn, user, now).await?;
    let submission = Submission {
        sealed_name: key.seal(Field::LegalName, user, name.as_str().as_bytes()),
        sealed_id_number: key.seal(Field::IdNumber, user, number.canonical().as_bytes()),
        masked: number.masked(),
        blind_index: services.vault.blind_index(number),
        province_known: number.province_known(),
        verifier: services.verifier.name(),
        return_path: (next != "/").then(|| next.to_owned()),
    };
    let submitted = match kind {
        CheckKind::First => store::identities::submit(&txn, user, submission, now)
            .await
            .map(|()| true),
        CheckKind::Correction => store::identities::submit_correction(&txn, user, submission, now).await,
    };
    match submitted {
        Ok(true) => {}
        Ok(false) => return Err(ServiceError::ReviewConflict),
        Err(StoreError::Conflict(_)) => return Ok(Err(NotTaken::IdNumberTaken)),
        Err(e) => return Err(e.into()),
    }
    let action = match kind {
        CheckKind::First => AuditAction::IdentitySubmitted,
        CheckKind::Correction => AuditAction::IdentityCorrectionSubmitted,
    };
    let mut entry = actor.audit(action, AuditSubject::Identity(user));
    entry.before = Some(before.as_str());
    entry.after = Some(IdentityStatus::Pending.as_str());
    store::audit::append(&txn, entry, now).await?;
    super::id_consent::record_given(&txn, actor, now).await?;
    store::commit(txn).await?;
    tracing::info!(%user, "identity submitted for review");
    send_to_provider(services, user).await?;
    Ok(Ok(()))
}

/// Sends a pending check the provider could not take again.
pub async fn retry(services: &Services, user: UserId) -> ServiceResult<()> {
    if !standing(services, user).await?.provider_retry {
        return Err(ServiceError::BadInput);
    }
    send_to_provider(services, user).await
}

/// Hands a pending submission to the HTTP provider, if one is configured. A provider error
/// leaves the submission pending (never approved) and the page offers a retry.
async fn send_to_provider(services: &Services, user: UserId) -> ServiceResult<()> {
    if matches!(services.verifier, IdentityVerifier::Manual) {
        return Ok(());
    }
    let record = store::identities::find(&services.db, user)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (legal_name, id_number) = open(services, &record).await?;
    let request = VerificationRequest {
        reference: format!("identity-{user}-{}", record.version),
        legal_name: &legal_name,
        id_number: &id_number,
        callback_url: services.absolute_url("/api/v1/kyc/callback"),
    };
    match services.verifier.start(request).await {
        Ok(Started::Sent { provider_id }) => {
            store::identities::set_provider_reference(&services.db, user, record.version, &provider_id).await?;
            tracing::info!(%user, "identity sent to the verification provider");
        }
        Ok(Started::Queued) => {}
        Err(error) => tracing::warn!(%user, %error, "identity provider failed; submission stays pending"),
    }
    Ok(())
}

/// The date of birth in `user`'s verified ID number, which the age rules count from: the
/// number is opened for it and nothing else of it is kept.
pub fn birth_date(
    services: &Services,
    user: UserId,
    verified: &VerifiedIdentity,
    now: DateTime<Utc>,
) -> ServiceResult<NaiveDate> {
    let key = verified
        .person_key
        .as_deref()
        .map(|stored| super::person_keys::open(services, user, stored))
        .transpose()?;
    services
        .vault
        .open(Field::IdNumber, user, &verified.sealed_id_number, key.as_ref())
        .ok()
        .and_then(|number| ResidentIdNumber::parse(&number, age::beijing_date(now)).ok())
        .map(|number| number.birth_date())
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("identity of user {user} does not decrypt")))
}

/// Moves identities sealed before person keys under their person's key, at most 100 a pass, so
/// that deleting an account shreds every copy of its identity. Returns how many moved; one that
/// does not open is logged and left for a person to look at.
pub async fn reseal_legacy(services: &Services, now: DateTime<Utc>) -> ServiceResult<u64> {
    let mut moved = 0;
    for (user, old) in store::identities::legacy_sealed(&services.db, 100).await? {
        match reseal_one(services, user, &old, now).await {
            Ok(true) => moved += 1,
            Ok(false) => {}
            Err(err) => tracing::error!(%user, error = %err, "an identity could not be moved under its person's key"),
        }
    }
    Ok(moved)
}

async fn reseal_one(services: &Services, user: UserId, old: &SealedValues, now: DateTime<Utc>) -> ServiceResult<bool> {
    let txn = store::begin(&services.db).await?;
    let key = super::person_keys::key_for(services, &txn, user, now).await?;
    let move_one = |field: Field, sealed: &str| -> ServiceResult<String> {
        let plain = services
            .vault
            .open(field, user, sealed, Some(&key))
            .map_err(ServiceError::internal)?;
        Ok(key.seal(field, user, plain.as_bytes()))
    };
    let new = SealedValues {
        name: move_one(Field::LegalName, &old.name)?,
        id_number: move_one(Field::IdNumber, &old.id_number)?,
        previous_name: old
            .previous_name
            .as_deref()
            .map(|sealed| move_one(Field::LegalName, sealed))
            .transpose()?,
        previous_id_number: old
            .previous_id_number
            .as_deref()
            .map(|sealed| move_one(Field::IdNumber, sealed))
            .transpose()?,
    };
    let moved = store::identities::reseal(&txn, user, old, new).await?;
    store::commit(txn).await?;
    Ok(moved)
}

/// Whether `user` may found or join an issuer: verified, and of the platform's minimum age.
pub fn member_standing(
    services: &Services,
    user: UserId,
    verified: Option<&VerifiedIdentity>,
    now: DateTime<Utc>,
) -> ServiceResult<MemberStanding> {
    // Without consent the number is used for nothing, its date of birth included.
    let birth = verified
        .filter(|verified| verified.consented)
        .map(|verified| birth_date(services, user, verified, now))
        .transpose()?;
    Ok(MemberStanding::of(birth, services.minimum_age, now))
}

/// The sealed name and ID number of `record`, opened with its person's key.
pub(crate) async fn open(services: &Services, record: &IdentityRecord) -> ServiceResult<(String, String)> {
    let key = super::person_keys::existing(services, &services.db, record.user).await?;
    let (user, key) = (record.user, key.as_ref());
    let name = services.vault.open(Field::LegalName, user, &record.sealed_name, key);
    let number = services
        .vault
        .open(Field::IdNumber, user, &record.sealed_id_number, key);
    match (name, number) {
        (Ok(name), Ok(number)) => Ok((name, number)),
        _ => Err(ServiceError::internal(anyhow::anyhow!(
            "identity of user {} does not decrypt",
            record.user
        ))),
    }
}

/// A page of the pending checks `view` shows, oldest first, after `after` if given, with each
/// applicant's address.
pub async fn queue(
    services: &Services,
    view: &QueueView,
    after: Option<TimeKey>,
    size: PageSize,
) -> ServiceResult<Page<(IdentityRecord, Option<Email>), TimeKey>> {
    let pending = store::identities::queue(&services.db, view, after, size.fetch()).await?;
    let pending = Page::from_rows(pending, size, |record| TimeKey {
        at: record.submitted_at,
        id: record.user.0,
    });
    let ids: Vec<UserId> = pending.items.iter().map(|r| r.user).collect();
    let mut applicants = store::users::find_many(&services.db, &ids).await?;
    Ok(pending.map(|record| {
        let email = applicants.remove(&record.user).map(|u| u.email);
        (record, email)
    }))
}

/// How many checks wait for a decision.
pub async fn waiting(services: &Services) -> ServiceResult<u64> {
    Ok(store::identities::waiting(&services.db).await?)
}

/// Takes the review lock on `applicant`'s pending check for [`REVIEW_LOCK`].
pub async fn claim(services: &Services, reviewer: &Actor, applicant: UserId, now: DateTime<Utc>) -> ServiceResult<()> {
    check_reviewer(reviewer.user, applicant).map_err(|_| ServiceError::Forbidden)?;
    store::identities::find(&services.db, applicant)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let txn = store::begin(&services.db).await?;
    if !store::identities::claim(&txn, applicant, reviewer.user, now, now + REVIEW_LOCK).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let entry = reviewer.audit(AuditAction::IdentityClaimed, AuditSubject::Identity(applicant));
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// A check as a reviewer sees it: the name and number opened only for the reviewer who holds
/// the case's lock.
#[derive(Debug, Clone)]
pub struct Case {
    pub record: IdentityRecord,
    pub applicant: Option<Email>,
    pub revealed: Option<(String, String)>,
}

pub async fn case(services: &Services, reviewer: UserId, applicant: UserId, now: DateTime<Utc>) -> ServiceResult<Case> {
    let record = store::identities::find(&services.db, applicant)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let holds_claim =
        record.status == IdentityStatus::Pending && held_by(record.claimed_by, record.claimed_until, reviewer, now);
    let revealed = if holds_claim {
        Some(open(services, &record).await?)
    } else {
        None
    };
    let applicant = store::users::find(&services.db, applicant).await?.map(|u| u.email);
    Ok(Case {
        record,
        applicant,
        revealed,
    })
}

/// A reviewer's decision on the check at `version`, which they hold the lock of.
pub async fn decide(
    services: &Services,
    reviewer: &Actor,
    applicant: UserId,
    verdict: Verdict,
    reason: &str,
    version: i32,
    now: DateTime<Utc>,
) -> ServiceResult<IdentityStatus> {
    check_reviewer(reviewer.user, applicant).map_err(|_| ServiceError::Forbidden)?;
    let record = store::identities::find(&services.db, applicant)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let decided = match verdict {
        Verdict::Approve => record.status.approve(),
        Verdict::Reject => record.status.reject(reason),
    }?;
    let txn = store::begin(&services.db).await?;
    if !store::identities::decide(&txn, applicant, reviewer.user, version, &decided, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let decision = Decision {
        applicant,
        reviewer: Some(reviewer.user),
        to: &decided,
        request_id: reviewer.request_id.clone(),
    };
    record_decision(services, &txn, decision, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(reviewer = %reviewer.user, %applicant, decision = decided.as_str(), "identity decided");
    Ok(decided)
}

/// The provider's answer, whose body was signed (`signature`, checked first): decides the
/// pending check the provider was asked about, and nothing else.
pub async fn decide_by_provider(
    services: &Services,
    body: &[u8],
    signature: &str,
    request_id: Option<String>,
    now: DateTime<Utc>,
) -> ServiceResult<IdentityStatus> {
    if !services.verifier.verify_callback(body, signature) {
        tracing::warn!("identity callback with a bad signature refused");
        return Err(ServiceError::BadSignature);
    }
    let callback: Callback = serde_json::from_slice(body).map_err(|_| ServiceError::BadInput)?;
    // The reference is the one the request carried: `identity-{user}-{version}`.
    let (applicant, version) = callback
        .reference
        .strip_prefix("identity-")
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(user, version)| Some((UserId(user.parse().ok()?), version.parse::<i32>().ok()?)))
        .ok_or(ServiceError::BadInput)?;
    let decided = match callback.result.as_str() {
        "verified" => IdentityStatus::Pending.approve(),
        "rejected" => IdentityStatus::Pending.reject(
            callback
                .reason
                .as_deref()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or("not confirmed by the identity verification service"),
        ),
        _ => return Err(ServiceError::BadInput),
    }
    .map_err(|_| ServiceError::BadInput)?;
    let txn = store::begin(&services.db).await?;
    if !store::identities::decide_by_provider(&txn, applicant, version, &callback.id, &decided, now).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let decision = Decision {
        applicant,
        reviewer: None,
        to: &decided,
        request_id,
    };
    record_decision(services, &txn, decision, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(%applicant, result = decided.as_str(), "identity decided by the provider");
    Ok(decided)
}

/// A decision on a pending identity, by a reviewer or (with no reviewer) the provider.
struct Decision<'a> {
    applicant: UserId,
    reviewer: Option<UserId>,
    to: &'a IdentityStatus,
    request_id: Option<String>,
}

/// Records a decision's consequences in `conn`: the audit row and the mail that tells the
/// applicant (with the reason, never the identity data).
async fn record_decision(
    services: &Services,
    conn: &impl Connection,
    decision: Decision<'_>,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let reason = match decision.to {
        IdentityStatus::Rejected { reason } => Some(reason.clone()),
        _ => None,
    };
    let entry = AuditEntry {
        actor: decision.reviewer,
        action: if reason.is_some() {
            AuditAction::IdentityRejected
        } else {
            AuditAction::IdentityApproved
        },
        subject: AuditSubject::Identity(decision.applicant),
        before: Some(IdentityStatus::Pending.as_str()),
        after: Some(decision.to.as_str()),
        reason: reason.clone(),
        details: None,
        request_id: decision.request_id,
    };
    store::audit::append(conn, entry, now).await?;
    // A refused correction leaves the person verified as they were.
    let kept_verified = store::identities::settle_correction(conn, decision.applicant, reason.is_none()).await?;
    let account = store::users::find(conn, decision.applicant)
        .await?
        .ok_or(ServiceError::NotFound)?;
    // The mail leads back to where the person was going, through the identity page, which
    // then offers to carry on (or, after a rejection, to correct the submission).
    let return_path = store::identities::find(conn, decision.applicant)
        .await?
        .and_then(|record| record.return_path);
    let link = services.absolute_url(&paths::identity(&paths::safe_next(return_path.as_deref())));
    let notice = match &reason {
        Some(reason) if kept_verified => Mail::IdentityCorrectionRefused { link: &link, reason },
        Some(reason) => Mail::IdentityRejected { link: &link, reason },
        None => Mail::IdentityVerified { link: &link },
    };
    services
        .queue_mail(conn, &account.email, account.locale, notice, now)
        .await
}
