//! Two-step verification: enrolling an authenticator app (the secret is made on the first
//! visit and kept, sealed, until a code confirms it), recovery codes shown once, the log-in's
//! second step, turning it off, and an administrator's reset for a lost phone.
//!
//! Wrong codes count towards the log-in throttle like wrong passwords, so the second step
//! cannot be guessed faster than the first.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::accounts::{self, Session};
use super::forms::{self, Submission};
use super::{Actor, ServiceError, ServiceResult, Services};
use crate::crypto;
use crate::domain::audit::{AuditAction, AuditSubject};
use crate::domain::ids::UserId;
use crate::domain::login_throttle;
use crate::domain::role::Roles;
use crate::domain::second_factor::{self, CHALLENGE_LIFETIME, CodeRefusal, RECOVERY_CODES, TotpSecret};
use crate::i18n::Locale;
use crate::kyc::vault::Field;
use crate::mail::Mail;
use crate::store::users::User;
use crate::store::{self, Connection};

/// How long new recovery codes are shown after they were made.
const CODES_SHOWN: Duration = Duration::minutes(15);

/// Recovery codes just made, shown once on the page the form leads to.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewRecoveryCodes {
    pub codes: Vec<String>,
}

/// An enrolment under way: what the page shows to set up the app.
#[derive(Debug)]
pub struct Enrolling {
    /// The secret, to type into the app.
    pub secret: String,
    /// The `otpauth://` address, to scan as a QR code.
    pub url: String,
}

/// A person's two-step verification as their page shows it.
#[derive(Debug)]
pub enum Status {
    Enrolled {
        since: DateTime<Utc>,
        recovery_codes_left: u64,
    },
    Enrolling(Enrolling),
}

/// Why a log-in's second step was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepRefused {
    /// The waiting log-in is unknown, answered or too old: log in again.
    Expired,
    /// The code was refused (a recovery code that is not one of the person's counts as wrong).
    Code(CodeRefusal),
}

/// Why turning two-step verification off was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveRefused {
    WrongPassword,
    /// Staff must keep it.
    Required,
}

fn seal(services: &Services, user: UserId, secret: &TotpSecret) -> String {
    services.vault.seal(Field::TotpSecret, user, &secret.base32())
}

fn open(services: &Services, user: UserId, sealed: &str) -> ServiceResult<TotpSecret> {
    let base32 = services
        .vault
        .open(Field::TotpSecret, user, sealed, None)
        .map_err(ServiceError::internal)?;
    TotpSecret::parse_base32(&base32)
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("a stored TOTP secret does not decode")))
}

fn recovery_hash(user: UserId, code: &str) -> String {
    crypto::sha3_hex(format!("recovery-code|{user}|{}", second_factor::normalise_recovery_code(code)).as_bytes())
}

/// New recovery codes for `user`, stored as hashes in `conn`'s transaction: the codes.
async fn new_recovery_codes(conn: &impl Connection, user: UserId) -> ServiceResult<NewRecoveryCodes> {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let random = crypto::random_bytes();
            let mut ten = [0u8; 10];
            ten.copy_from_slice(&random[..10]);
            second_factor::recovery_code(&ten)
        })
        .collect();
    let hashes = codes.iter().map(|code| recovery_hash(user, code)).collect();
    store::second_factors::replace_recovery_codes(conn, user, hashes).await?;
    Ok(NewRecoveryCodes { codes })
}

/// `user`'s two-step verification: enrolled, or the enrolment under way (begun now if none).
pub async fn status(services: &Services, user: UserId, email: &str, now: DateTime<Utc>) -> ServiceResult<Status> {
    let factor = match store::second_factors::find(&services.db, user).await? {
        Some(factor) => factor,
        None => {
            let random = crypto::random_bytes();
            let mut bytes = [0u8; 20];
            bytes.copy_from_slice(&random[..20]);
            let secret = TotpSecret::from_bytes(bytes);
            // Two first visits at once: one secret is kept, and both pages show it.
            store::second_factors::start(&services.db, user, seal(services, user, &secret), now).await?;
            store::second_factors::find(&services.db, user)
                .await?
                .ok_or(ServiceError::NotFound)?
        }
    };
    if let Some(since) = factor.enrolled_at {
        let left = store::second_factors::recovery_codes_left(&services.db, user).await?;
        return Ok(Status::Enrolled {
            since,
            recovery_codes_left: left,
        });
    }
    let secret = open(services, user, &factor.secret_enc)?;
    Ok(Status::Enrolling(Enrolling {
        secret: secret.base32(),
        url: secret.otpauth_url(email),
    }))
}

/// Confirms the enrolment under way with the first code from the app; the recovery codes are
/// shown once where the answer leads (`location` with the form's result).
pub async fn confirm(
    services: &Services,
    actor: &Actor,
    code: &str,
    submission: &Submission,
    location: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<String, CodeRefusal>> {
    let user = actor.user;
    let pending = store::second_factors::find(&services.db, user)
        .await?
        .filter(|factor| factor.enrolled_at.is_none());
    // Sent again after it worked (or with no enrolment begun): the page shows where things are.
    let Some(factor) = pending else {
        return Ok(Ok("/account/two-factor".to_owned()));
    };
    let secret = open(services, user, &factor.secret_enc)?;
    let step = match second_factor::check(&secret, code, None, now) {
        Ok(step) => step,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let txn = store::begin(&services.db).await?;
    if !store::second_factors::accept_step(&txn, user, step, false, now).await? {
        return Ok(Err(CodeRefusal::Used));
    }
    let codes = new_recovery_codes(&txn, user).await?;
    store::audit::append(
        &txn,
        actor.audit(AuditAction::SecondFactorEnrolled, AuditSubject::User(user)),
        now,
    )
    .await?;
    let location = forms::finish(services, txn, submission, location, Some((&codes, CODES_SHOWN)), now).await?;
    tracing::info!(%user, "second factor enrolled");
    Ok(Ok(location))
}

/// Replaces the actor's recovery codes (the old ones stop working) after the password; the
/// new ones are shown once where the answer leads.
pub async fn renew_recovery_codes(
    services: &Services,
    actor: &Actor,
    password: String,
    client: &str,
    submission: &Submission,
    location: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Option<String>> {
    let user = &accounts::account(services, actor.user).await?;
    if !accounts::confirm_password(services, user, password, client, now).await? {
        return Ok(None);
    }
    if !store::second_factors::enrolled(&services.db, user.id).await? {
        return Err(ServiceError::NotFound);
    }
    let txn = store::begin(&services.db).await?;
    let codes = new_recovery_codes(&txn, user.id).await?;
    store::audit::append(
        &txn,
        actor.audit(AuditAction::RecoveryCodesRenewed, AuditSubject::User(user.id)),
        now,
    )
    .await?;
    let location = forms::finish(services, txn, submission, location, Some((&codes, CODES_SHOWN)), now).await?;
    tracing::info!(user = %user.id, "recovery codes renewed");
    Ok(Some(location))
}

/// Turns `user`'s two-step verification off after the password; staff must keep it.
pub async fn remove(
    services: &Services,
    actor: &Actor,
    user: &User,
    roles: &Roles,
    password: String,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), RemoveRefused>> {
    if second_factor::required(roles) {
        return Ok(Err(RemoveRefused::Required));
    }
    if !accounts::confirm_password(services, user, password, client, now).await? {
        return Ok(Err(RemoveRefused::WrongPassword));
    }
    let txn = store::begin(&services.db).await?;
    if store::second_factors::remove(&txn, user.id).await? {
        store::audit::append(
            &txn,
            actor.audit(AuditAction::SecondFactorRemoved, AuditSubject::User(user.id)),
            now,
        )
        .await?;
    }
    store::commit(txn).await?;
    tracing::info!(user = %user.id, "second factor removed");
    Ok(Ok(()))
}

/// An administrator removes `target`'s second factor (a lost phone): every session and waiting
/// log-in of theirs ends, and they are mailed. Nobody resets their own.
pub async fn reset(services: &Services, actor: &Actor, target: UserId, now: DateTime<Utc>) -> ServiceResult<()> {
    if actor.user == target {
        return Err(ServiceError::Forbidden);
    }
    let txn = store::begin(&services.db).await?;
    let user = store::users::find(&txn, target).await?.ok_or(ServiceError::NotFound)?;
    if !store::second_factors::remove(&txn, target).await? {
        return Err(ServiceError::NotFound);
    }
    store::second_factors::close_challenges_of(&txn, target).await?;
    store::sessions::delete_all_for(&txn, target).await?;
    store::audit::append(
        &txn,
        actor.audit(AuditAction::SecondFactorReset, AuditSubject::User(target)),
        now,
    )
    .await?;
    let link = services.absolute_url("/account/two-factor");
    services
        .queue_mail(
            &txn,
            &user.email,
            user.locale,
            Mail::SecondFactorReset { link: &link },
            now,
        )
        .await?;
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(user = %target, by = %actor.user, "second factor reset by an administrator");
    Ok(())
}

/// Keeps, in `conn`, a log-in of `user` whose first factor passed, until the second: the
/// secret for its cookie.
pub(crate) async fn wait_for_code(
    conn: &impl Connection,
    user: UserId,
    next: &str,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let token = crypto::random_token();
    store::second_factors::open_challenge(
        conn,
        crypto::sha3_hex(token.as_bytes()),
        user,
        next,
        now,
        now + CHALLENGE_LIFETIME,
    )
    .await?;
    Ok(token)
}

/// Whether the log-in waiting under `token` is still live (for the page that asks the code).
pub async fn waiting(services: &Services, token: &str, now: DateTime<Utc>) -> ServiceResult<bool> {
    let id = crypto::sha3_hex(token.as_bytes());
    Ok(store::second_factors::challenge(&services.db, &id, now)
        .await?
        .is_some())
}

/// Answers the log-in waiting under `token` with a code from the app or a recovery code: the
/// session, and where the person was going. Wrong answers count towards the log-in throttle.
pub async fn answer(
    services: &Services,
    token: &str,
    typed: &str,
    client: &str,
    locale: Locale,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(Session, String), StepRefused>> {
    let id = crypto::sha3_hex(token.as_bytes());
    let Some(challenge) = store::second_factors::challenge(&services.db, &id, now).await? else {
        return Ok(Err(StepRefused::Expired));
    };
    let user = store::users::find(&services.db, challenge.user)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let account = accounts::counted_account(services, user.email.as_str());
    let failures =
        store::login_failures::count_since(&services.db, &account, client, now - login_throttle::WINDOW).await?;
    login_throttle::check(&failures, now).map_err(ServiceError::Throttled)?;
    let Some(factor) = store::second_factors::find(&services.db, user.id)
        .await?
        .filter(|factor| factor.enrolled_at.is_some())
    else {
        return Ok(Err(StepRefused::Expired));
    };

    let txn = store::begin(&services.db).await?;
    let accepted = if second_factor::is_recovery_code(typed) {
        let used = store::second_factors::use_recovery_code(&txn, user.id, &recovery_hash(user.id, typed), now).await?;
        used.then_some(()).ok_or(CodeRefusal::Wrong)
    } else {
        let secret = open(services, user.id, &factor.secret_enc)?;
        match second_factor::check(&secret, typed, factor.last_step, now) {
            Ok(step) if store::second_factors::accept_step(&txn, user.id, step, true, now).await? => Ok(()),
            Ok(_) => Err(CodeRefusal::Used),
            Err(refusal) => Err(refusal),
        }
    };
    if let Err(refusal) = accepted {
        drop(txn);
        accounts::record_failure(services, Some(&user), &account, client, failures.account, now).await?;
        tracing::info!(user = %user.id, reason = %refusal, "second factor refused");
        return Ok(Err(StepRefused::Code(refusal)));
    }
    if !store::second_factors::close_challenge(&txn, &id).await? {
        return Ok(Err(StepRefused::Expired));
    }
    store::login_failures::clear_pair(&txn, &account, client).await?;
    let session = accounts::open_session(&txn, user.id, locale, now).await?;
    store::commit(txn).await?;
    tracing::info!(user = %user.id, "logged in with a second factor");
    Ok(Ok((session, challenge.next)))
}
