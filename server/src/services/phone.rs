//! Mobile numbers: adding one to an account (confirmed by a texted code; one number, one
//! account), removing it, logging in with it and a texted code instead of the password, and
//! texting the codes the requests queued.
//!
//! Codes are queued in the transaction that asks for them and sent by a worker, as mail is;
//! no code and no number is ever written to a log line (numbers appear masked, if at all).
//! Asking for a log-in code answers the same whether or not the number is an account's, and
//! counts towards the same limits, so the form tells nobody which numbers are registered.

use chrono::{DateTime, Utc};

use super::accounts::{self, LoggedIn};
use super::{Actor, ServiceError, ServiceResult, Services, person_keys};
use crate::crypto;
use crate::domain::audit::{AuditAction, AuditSubject};
use crate::domain::ids::UserId;
use crate::domain::login_throttle;
use crate::domain::outbox::{AfterFailure, after_failure};
use crate::domain::phone::{self, CODE_LIFETIME, CodeLimited, CodePurpose, MAX_GUESSES, PhoneError, PhoneNumber};
use crate::i18n::Locale;
use crate::kyc::vault::{Counted, Field};
use crate::sms::{Sms, SmsTransport};
use crate::store::{self, StoreError};

/// Why a number was not sent a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestRefused {
    Number(PhoneError),
    /// Another account has it.
    Taken,
    /// It is this account's already.
    Same,
    Limited(CodeLimited),
}

/// Why a typed code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefused {
    /// No live code: none was sent, it expired, was used, or was guessed at too often.
    NoCode,
    Wrong,
    /// The number went to another account meanwhile.
    Taken,
}

/// An account's number as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneStatus {
    /// The number, masked, and since when it is the account's.
    pub current: Option<(String, DateTime<Utc>)>,
    /// A number waiting for its code, masked.
    pub waiting: Option<String>,
}

fn index_of(services: &Services, number: &PhoneNumber) -> String {
    services.vault.pseudonym(Counted::PhoneNumber, number.as_str())
}

fn code_hash(services: &Services, index: &str, code: &str) -> String {
    services
        .vault
        .pseudonym(Counted::SmsCode, &format!("{index}|{}", code.trim()))
}

fn open_number(services: &Services, owner: UserId, sealed: &str) -> ServiceResult<PhoneNumber> {
    let text = services
        .vault
        .open(Field::Phone, owner, sealed, None)
        .map_err(ServiceError::internal)?;
    PhoneNumber::parse(&text).map_err(ServiceError::internal)
}

fn new_code() -> String {
    let random = crypto::random_bytes();
    phone::code_from([random[0], random[1], random[2], random[3]])
}

/// Queues a code of `purpose` to `number` in a transaction of its own, after the limits; the
/// code goes out only with `user` (an account to send it for).
async fn queue_code(
    services: &Services,
    purpose: CodePurpose,
    number: &PhoneNumber,
    user: Option<UserId>,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), CodeLimited>> {
    let index = index_of(services, number);
    let txn = store::begin(&services.db).await?;
    let recent = store::sms::recent(&txn, &index, client, now).await?;
    if let Err(limited) = phone::may_send(&recent, now) {
        return Ok(Err(limited));
    }
    let owner = user.unwrap_or(UserId(0));
    let code = new_code();
    store::sms::queue(
        &txn,
        store::sms::NewCode {
            purpose,
            phone_index: &index,
            phone_enc: services.vault.seal(Field::Phone, owner, number.as_str()),
            user,
            client,
            code_hash: code_hash(services, &index, &code),
            code_enc: user.map(|user| services.vault.seal(Field::SmsCode, user, &code)),
            expires_at: now + CODE_LIFETIME,
        },
        now,
    )
    .await?;
    store::commit(txn).await?;
    services.sms_wakeup.notify_one();
    Ok(Ok(()))
}

/// `user`'s number in clear (for them alone), and since when it is theirs.
pub(crate) async fn number_of(
    services: &Services,
    user: UserId,
) -> ServiceResult<Option<(PhoneNumber, DateTime<Utc>)>> {
    let Some(stored) = store::phones::of(&services.db, user).await? else {
        return Ok(None);
    };
    let key = person_keys::existing(services, &services.db, user).await?;
    let number = services
        .vault
        .open(Field::Phone, user, &stored.sealed, key.as_ref())
        .map_err(ServiceError::internal)?;
    let number = PhoneNumber::parse(&number).map_err(ServiceError::internal)?;
    Ok(Some((number, stored.verified_at)))
}

/// `user`'s number and any number waiting for its code, masked.
pub async fn status(services: &Services, user: UserId, now: DateTime<Utc>) -> ServiceResult<PhoneStatus> {
    let current = number_of(services, user)
        .await?
        .map(|(number, since)| (number.masked(), since));
    let waiting = store::sms::live(&services.db, CodePurpose::AddPhone, None, Some(user), MAX_GUESSES, now)
        .await?
        .map(|code| open_number(services, user, &code.phone_enc))
        .transpose()?
        .map(|number| number.masked());
    Ok(PhoneStatus { current, waiting })
}

/// Texts a code to `typed` to prove it is `user`'s.
pub async fn request_add(
    services: &Services,
    user: UserId,
    typed: &str,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), RequestRefused>> {
    let number = match PhoneNumber::parse(typed) {
        Ok(number) => number,
        Err(e) => return Ok(Err(RequestRefused::Number(e))),
    };
    match store::phones::account_with(&services.db, &index_of(services, &number)).await? {
        Some(owner) if owner == user => return Ok(Err(RequestRefused::Same)),
        Some(_) => return Ok(Err(RequestRefused::Taken)),
        None => {}
    }
    let queued = queue_code(services, CodePurpose::AddPhone, &number, Some(user), client, now).await?;
    tracing::info!(%user, "code queued to add a number");
    Ok(queued.map_err(RequestRefused::Limited))
}

/// Makes the number waiting for `typed` `user`'s.
pub async fn confirm_add(
    services: &Services,
    actor: &Actor,
    typed: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), CodeRefused>> {
    let user = actor.user;
    let Some(live) = store::sms::live(&services.db, CodePurpose::AddPhone, None, Some(user), MAX_GUESSES, now).await?
    else {
        return Ok(Err(CodeRefused::NoCode));
    };
    if code_hash(services, &live.phone_index, typed) != live.code_hash {
        store::sms::guessed_wrong(&services.db, live.id).await?;
        return Ok(Err(CodeRefused::Wrong));
    }
    let number = open_number(services, user, &live.phone_enc)?;
    let txn = store::begin(&services.db).await?;
    if !store::sms::use_up(&txn, live.id, now).await? {
        return Ok(Err(CodeRefused::NoCode));
    }
    let key = person_keys::key_for(services, &txn, user, now).await?;
    let sealed = key.seal(Field::Phone, user, number.as_str().as_bytes());
    match store::phones::set(&txn, user, &live.phone_index, sealed, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Ok(Err(CodeRefused::Taken)),
        Err(e) => return Err(e.into()),
    }
    store::audit::append(
        &txn,
        actor.audit(AuditAction::PhoneAdded, AuditSubject::User(user)),
        now,
    )
    .await?;
    store::commit(txn).await?;
    tracing::info!(%user, "number added");
    Ok(Ok(()))
}

/// Removes `user`'s number after the password; false for a wrong password.
pub async fn remove(
    services: &Services,
    actor: &Actor,
    password: String,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let user = accounts::account(services, actor.user).await?;
    if !accounts::confirm_password(services, &user, password, client, now).await? {
        return Ok(false);
    }
    let txn = store::begin(&services.db).await?;
    if store::phones::clear(&txn, user.id).await? {
        store::audit::append(
            &txn,
            actor.audit(AuditAction::PhoneRemoved, AuditSubject::User(user.id)),
            now,
        )
        .await?;
    }
    store::commit(txn).await?;
    tracing::info!(user = %user.id, "number removed");
    Ok(true)
}

/// Texts a log-in code to `number` if it is an account's; answers the same either way.
pub async fn request_log_in(
    services: &Services,
    number: &PhoneNumber,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), CodeLimited>> {
    let user = store::phones::account_with(&services.db, &index_of(services, number)).await?;
    queue_code(services, CodePurpose::LogIn, number, user, client, now).await
}

/// Logs in with `number` and the code texted to it: a session, or (for an account with two-step
/// verification) the log-in waiting for its second factor. Wrong codes count towards the log-in
/// throttle like wrong passwords, and end the code after [`MAX_GUESSES`].
pub async fn log_in(
    services: &Services,
    number: &PhoneNumber,
    typed: &str,
    client: &str,
    locale: Locale,
    next: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<LoggedIn, CodeRefused>> {
    let index = index_of(services, number);
    let Some(user) = store::phones::account_with(&services.db, &index).await? else {
        return Ok(Err(CodeRefused::NoCode));
    };
    let user = accounts::account(services, user).await?;
    let account = accounts::counted_account(services, user.email.as_str());
    let failures =
        store::login_failures::count_since(&services.db, &account, client, now - login_throttle::WINDOW).await?;
    login_throttle::check(&failures, now).map_err(ServiceError::Throttled)?;
    let live = store::sms::live(
        &services.db,
        CodePurpose::LogIn,
        Some(&index),
        Some(user.id),
        MAX_GUESSES,
        now,
    )
    .await?;
    let Some(live) = live else {
        return Ok(Err(CodeRefused::NoCode));
    };
    if code_hash(services, &index, typed) != live.code_hash {
        store::sms::guessed_wrong(&services.db, live.id).await?;
        accounts::record_failure(services, Some(&user), &account, client, failures.account, now).await?;
        tracing::info!(user = %user.id, "log-in code refused");
        return Ok(Err(CodeRefused::Wrong));
    }
    let txn = store::begin(&services.db).await?;
    if !store::sms::use_up(&txn, live.id, now).await? {
        return Ok(Err(CodeRefused::NoCode));
    }
    let logged_in = accounts::first_factor_passed(&txn, user.id, &account, client, locale, next, now).await?;
    store::commit(txn).await?;
    tracing::info!(user = %user.id, "texted code right");
    Ok(Ok(logged_in))
}

/// Messages claimed per statement.
const BATCH: u64 = 20;

/// One pass of the SMS worker: parks codes whose worker died mid-send, then texts what is due.
/// A code that expired while waiting is given up rather than sent late.
pub async fn deliver_due(services: &Services, transport: &SmsTransport) -> ServiceResult<usize> {
    let parked = store::sms::park_abandoned(&services.db, Utc::now()).await?;
    if parked > 0 {
        tracing::warn!(count = parked, "texts interrupted mid-send parked as uncertain");
    }
    let mut sent = 0;
    loop {
        let batch = store::sms::claim_due(&services.db, Utc::now(), BATCH).await?;
        if batch.is_empty() {
            return Ok(sent);
        }
        for queued in batch {
            let now = Utc::now();
            if queued.expires_at <= now {
                store::sms::mark_failed(&services.db, queued.id, "expired before it could be sent".to_owned()).await?;
                continue;
            }
            let owner = queued.user.unwrap_or(UserId(0));
            let number = open_number(services, owner, &queued.phone_enc)?;
            let code = services
                .vault
                .open(Field::SmsCode, owner, &queued.code_enc, None)
                .map_err(ServiceError::internal)?;
            let locale = match queued.user {
                Some(user) => store::users::find(&services.db, user)
                    .await?
                    .map_or_else(Locale::default, |u| u.locale),
                None => Locale::default(),
            };
            let purpose = if queued.purpose == CodePurpose::AddPhone.as_str() {
                CodePurpose::AddPhone
            } else {
                CodePurpose::LogIn
            };
            let sms = Sms {
                id: queued.id,
                to: &number,
                purpose,
                code: &code,
                locale,
            };
            match transport.send(&sms).await {
                Ok(_) => {
                    store::sms::mark_sent(&services.db, queued.id, Utc::now()).await?;
                    tracing::info!(sms_id = queued.id, "text sent");
                    sent += 1;
                }
                Err(err) => match after_failure(queued.attempts, err.permanent, now) {
                    AfterFailure::RetryAt(at) if at < queued.expires_at => {
                        tracing::warn!(sms_id = queued.id, attempt = queued.attempts, error = %err, "text failed; will retry");
                        store::sms::mark_retry(&services.db, queued.id, at, err.message).await?;
                    }
                    _ => {
                        tracing::error!(sms_id = queued.id, attempt = queued.attempts, error = %err, "text failed for good");
                        store::sms::mark_failed(&services.db, queued.id, err.message).await?;
                    }
                },
            }
        }
    }
}
