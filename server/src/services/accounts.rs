//! Accounts: sign-up, the single-use links mailed for verification, password reset and
//! unlocking, log-in with its throttle, and sessions.
//!
//! Mail is queued in the same transaction as the change that causes it. Password hashing runs
//! on the blocking pool so that Argon2 never stalls the executor. Asking for a link answers the
//! same whether or not an account exists; only sign-up must say that an address is taken.

use chrono::{DateTime, Duration, Utc};

use super::{ServiceError, ServiceResult, Services, second_factor};
use crate::crypto;
use crate::domain::account::{Email, NewPassword, PasswordError};
use crate::domain::email_token::TokenPurpose;
use crate::domain::ids::UserId;
use crate::domain::login_throttle;
use crate::domain::role::Role;
use crate::i18n::Locale;
use crate::kyc::vault::Counted;
use crate::mail::Mail;
use crate::policies;
use crate::store::users::User;
use crate::store::{self, Connection, StoreError};

/// How long a session lasts after log-in.
pub const SESSION_DAYS: i64 = 14;

/// The address is already an account's: sign-up must say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailTaken;

/// Why a log-in with a well-formed request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefused {
    /// No such account, or the wrong password: the answer does not say which.
    WrongCredentials,
    /// The password was right, but the address was never confirmed.
    Unverified,
}

/// A session just opened: the secret for the cookie (only its hash is stored).
#[derive(Debug)]
pub struct Session {
    pub user: UserId,
    pub token: String,
}

/// Where a right password leads.
#[derive(Debug)]
pub enum LoggedIn {
    /// Straight into a session.
    Session(Session),
    /// To the second factor: the secret of the waiting log-in, for its cookie.
    SecondFactor { challenge: String },
}

async fn hash_password(password: NewPassword) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || crypto::hash_password(password.expose()))
        .await
        .map_err(ServiceError::internal)
}

/// The keyed pseudonym an account's log-in failures are counted under, from its address.
pub(crate) fn counted_account(services: &Services, address: &str) -> String {
    services.vault.pseudonym(Counted::LoginAccount, address)
}

/// Checks the password a signed-in person typed again before something sensitive (a new
/// address, a copy of their data, deleting the account). Like log-in, a throttled client is
/// refused before any check and a wrong password counts towards the throttle under `client`.
pub(crate) async fn confirm_password(
    services: &Services,
    user: &User,
    password: String,
    client: &str,
    now: DateTime<Utc>,
) -> ServiceResult<bool> {
    let account = counted_account(services, user.email.as_str());
    let failures =
        store::login_failures::count_since(&services.db, &account, client, now - login_throttle::WINDOW).await?;
    login_throttle::check(&failures, now).map_err(ServiceError::Throttled)?;
    let stored = user.password_hash.clone();
    let matches = tokio::task::spawn_blocking(move || crypto::verify_password(&password, &stored))
        .await
        .map_err(ServiceError::internal)?;
    if !matches {
        store::login_failures::record(&services.db, &account, client, now).await?;
    }
    Ok(matches)
}

/// Issues a fresh single-use link of `purpose` (superseding older ones) and queues its mail.
/// `next` is where the person was going; the page after the link leads there.
async fn queue_link_mail(
    services: &Services,
    conn: &impl Connection,
    user: &User,
    purpose: TokenPurpose,
    next: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let link = issue_link(services, conn, user.id, purpose, (next != "/").then_some(next), now).await?;
    services
        .queue_mail(conn, &user.email, user.locale, Mail::for_link(purpose, &link), now)
        .await
}

/// Issues a fresh single-use link of `purpose` for `user`, superseding older ones: its URL.
pub(crate) async fn issue_link(
    services: &Services,
    conn: &impl Connection,
    user: UserId,
    purpose: TokenPurpose,
    next: Option<&str>,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let token = crypto::random_token();
    store::email_tokens::revoke_all(conn, user, purpose, now).await?;
    store::email_tokens::insert(conn, user, purpose, crypto::sha3_hex(token.as_bytes()), next, now).await?;
    Ok(services.absolute_url(&format!("{}/{token}", purpose.path())))
}

/// Creates an unverified account and mails it the verification link, which leads on to `next`.
pub async fn sign_up(
    services: &Services,
    email: &Email,
    password: NewPassword,
    locale: Locale,
    next: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<UserId, EmailTaken>> {
    let hash = hash_password(password).await?;
    let txn = store::begin(&services.db).await?;
    let id = match store::users::create(&txn, email, hash, locale, now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => return Ok(Err(EmailTaken)),
        Err(e) => return Err(e.into()),
    };
    // The form refuses a sign-up that does not accept the current versions.
    store::policies::accept(&txn, id, &policies::current_versions(), now).await?;
    let user = store::users::find(&txn, id).await?.ok_or(ServiceError::NotFound)?;
    queue_link_mail(services, &txn, &user, TokenPurpose::VerifyEmail, next, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(user = %id, "account created");
    Ok(Ok(id))
}

/// Creates an account with its address taken as verified, holding `role` if one is given: for
/// the command line and the demonstration, where there is no one to mail (the platform's first
/// administrator is made this way).
pub async fn create_verified(
    db: &store::Database,
    email: &Email,
    password: NewPassword,
    role: Option<Role>,
    now: DateTime<Utc>,
) -> ServiceResult<Result<UserId, EmailTaken>> {
    let hash = hash_password(password).await?;
    let txn = store::begin(db).await?;
    let id = match store::users::create(&txn, email, hash, Locale::default(), now).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => return Ok(Err(EmailTaken)),
        Err(e) => return Err(e.into()),
    };
    store::users::mark_email_verified(&txn, id, now).await?;
    if let Some(role) = role {
        store::users::grant_role(&txn, id, role, None, now).await?;
    }
    store::commit(txn).await?;
    tracing::info!(user = %id, "account created verified");
    Ok(Ok(id))
}

/// Mails a fresh link to the account at `raw_email`, if there is one that needs it. The caller
/// answers the same either way, so the form does not reveal which addresses are registered.
pub async fn mail_link(
    services: &Services,
    raw_email: &str,
    purpose: TokenPurpose,
    next: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let Ok(email) = Email::parse(raw_email) else {
        return Ok(());
    };
    let txn = store::begin(&services.db).await?;
    let Some(user) = store::users::find_by_email(&txn, &email).await? else {
        return Ok(());
    };
    if purpose == TokenPurpose::VerifyEmail && user.email_verified_at.is_some() {
        return Ok(());
    }
    queue_link_mail(services, &txn, &user, purpose, next, now).await?;
    store::commit(txn).await?;
    services.mail_queued();
    Ok(())
}

/// Uses up a verification link and marks its address verified; answers where the person was
/// going, if they said.
pub async fn verify_email(services: &Services, token: &str, now: DateTime<Utc>) -> ServiceResult<Option<String>> {
    let token_hash = crypto::sha3_hex(token.as_bytes());
    let txn = store::begin(&services.db).await?;
    let next = store::email_tokens::next_path(&txn, &token_hash).await?;
    let user = use_link(&txn, token, TokenPurpose::VerifyEmail, now).await?;
    store::users::mark_email_verified(&txn, user, now).await?;
    store::commit(txn).await?;
    tracing::info!(%user, "email verified");
    Ok(next)
}

/// Checks a password for the account at `raw_email` and opens a session, or, for an account
/// with a second factor, a log-in waiting for it (which leads on to `next`). Failures are
/// counted per account and client (`client` is the client's pseudonym): past the back-off the
/// answer is [`ServiceError::Throttled`], and the failure that locks the account for everyone
/// mails its owner an unlock link. The session remembers `locale` as the account's language.
pub async fn log_in(
    services: &Services,
    raw_email: &str,
    password: String,
    client: &str,
    locale: Locale,
    next: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<LoggedIn, LoginRefused>> {
    let email = Email::parse(raw_email).ok();
    // Failures are counted under the address's normal form, so that spellings of one address
    // are one account to the throttle too, and both the account and the client's address are
    // kept only as pseudonyms.
    let account = email
        .as_ref()
        .map_or_else(|| raw_email.trim().to_lowercase(), |e| e.as_str().to_owned());
    let account = counted_account(services, &account);
    let failures =
        store::login_failures::count_since(&services.db, &account, client, now - login_throttle::WINDOW).await?;
    if let Err(throttled) = login_throttle::check(&failures, now) {
        tracing::warn!(reason = ?throttled.reason, "log-in throttled");
        return Err(ServiceError::Throttled(throttled));
    }

    let user = match &email {
        Some(email) => store::users::find_by_email(&services.db, email).await?,
        None => None,
    };
    // Without an account, still spend the time of one hash so timing does not reveal it.
    let stored = user
        .as_ref()
        .map_or_else(|| crypto::dummy_password_hash().to_owned(), |u| u.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || crypto::verify_password(&password, &stored))
        .await
        .map_err(ServiceError::internal)?;
    let user = match user {
        Some(user) if matches => user,
        user => {
            record_failure(services, user.as_ref(), &account, client, failures.account, now).await?;
            tracing::info!("log-in failed");
            return Ok(Err(LoginRefused::WrongCredentials));
        }
    };
    if user.email_verified_at.is_none() {
        return Ok(Err(LoginRefused::Unverified));
    }
    let txn = store::begin(&services.db).await?;
    let logged_in = first_factor_passed(&txn, user.id, &account, client, locale, next, now).await?;
    store::commit(txn).await?;
    tracing::info!(user = %user.id, "password right");
    Ok(Ok(logged_in))
}

/// Where a first factor (a password, a texted code) that just passed leads, in `conn`'s
/// transaction: a session, or for an account with a second factor a log-in waiting for it
/// (which leads on to `next`). `account` is the account's pseudonym for the throttle, whose
/// failures from `client` are forgotten once the person is in.
pub(crate) async fn first_factor_passed(
    conn: &impl Connection,
    user: UserId,
    account: &str,
    client: &str,
    locale: Locale,
    next: &str,
    now: DateTime<Utc>,
) -> ServiceResult<LoggedIn> {
    if store::second_factors::enrolled(conn, user).await? {
        let challenge = second_factor::wait_for_code(conn, user, next, now).await?;
        tracing::info!(%user, "waiting for the second factor");
        return Ok(LoggedIn::SecondFactor { challenge });
    }
    store::login_failures::clear_pair(conn, account, client).await?;
    let session = open_session(conn, user, locale, now).await?;
    tracing::info!(%user, "logged in");
    Ok(LoggedIn::Session(session))
}

/// Counts a failed log-in (a wrong password or second factor) of `user`, if there is such an
/// account, from `client`; the failure that reaches the ceiling mails the owner an unlock link.
/// `earlier` is the account's failure count before this one.
pub(crate) async fn record_failure(
    services: &Services,
    user: Option<&User>,
    account: &str,
    client: &str,
    earlier: u64,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    store::login_failures::record(&txn, account, client, now).await?;
    if let Some(user) = user
        && login_throttle::reaches_ceiling(earlier + 1)
    {
        queue_link_mail(services, &txn, user, TokenPurpose::UnlockLogin, "/", now).await?;
        tracing::warn!(user = %user.id, "account locked by failed log-ins; unlock link mailed");
    }
    store::commit(txn).await?;
    services.mail_queued();
    Ok(())
}

/// Opens a session for `user` in `conn`'s transaction, remembering `locale` as the account's
/// language.
pub(crate) async fn open_session(
    conn: &impl Connection,
    user: UserId,
    locale: Locale,
    now: DateTime<Utc>,
) -> ServiceResult<Session> {
    let token = crypto::random_token();
    store::sessions::create(
        conn,
        crypto::sha3_hex(token.as_bytes()),
        user,
        now,
        now + Duration::days(SESSION_DAYS),
    )
    .await?;
    store::users::set_locale(conn, user, locale).await?;
    Ok(Session { user, token })
}

/// Ends the session whose hash is `session_id`.
pub async fn log_out(services: &Services, user: UserId, session_id: &str) -> ServiceResult<()> {
    store::sessions::delete(&services.db, session_id).await?;
    tracing::info!(%user, "logged out");
    Ok(())
}

/// The account a live link of `purpose` is for, without using the link up (for the page
/// that asks before it acts).
pub async fn live_link(
    services: &Services,
    token: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> ServiceResult<UserId> {
    store::email_tokens::peek(&services.db, &crypto::sha3_hex(token.as_bytes()), purpose, now)
        .await?
        .map_err(|_| ServiceError::InvalidLink)
}

/// Uses up a link of `purpose` in `conn`'s transaction: the account it is for. A refused link
/// is logged with its reason, never its token.
pub(crate) async fn use_link(
    conn: &impl Connection,
    token: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> ServiceResult<UserId> {
    store::email_tokens::consume(conn, &crypto::sha3_hex(token.as_bytes()), purpose, now)
        .await?
        .map_err(|e| {
            tracing::info!(reason = %e, purpose = purpose.as_str(), "link refused");
            ServiceError::InvalidLink
        })
}

/// The account a password-reset link is for, while the link is good.
pub async fn reset_link_account(services: &Services, token: &str, now: DateTime<Utc>) -> ServiceResult<User> {
    let user = live_link(services, token, TokenPurpose::ResetPassword, now).await?;
    store::users::find(&services.db, user)
        .await?
        .ok_or(ServiceError::InvalidLink)
}

/// Sets a new password through a reset link: the link is used up, the address counts as
/// verified (the mail reached it), every session ends and any log-in lock is lifted.
pub async fn reset_password(
    services: &Services,
    token: &str,
    password: &str,
    confirmation: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Result<(), PasswordError>> {
    let user = reset_link_account(services, token, now).await?;
    let password = match NewPassword::parse(password, confirmation, &user.email) {
        Ok(password) => password,
        Err(e) => return Ok(Err(e)),
    };
    let hash = hash_password(password).await?;
    let txn = store::begin(&services.db).await?;
    // Consuming inside the transaction makes two racing submissions of one link end with one
    // password change.
    use_link(&txn, token, TokenPurpose::ResetPassword, now).await?;
    store::users::set_password_hash(&txn, user.id, hash).await?;
    store::users::mark_email_verified(&txn, user.id, now).await?;
    store::sessions::delete_all_for(&txn, user.id).await?;
    // A new password is also the way out of a lock-out.
    store::login_failures::clear_account(&txn, &counted_account(services, user.email.as_str())).await?;
    store::commit(txn).await?;
    tracing::info!(user = %user.id, "password reset");
    Ok(Ok(()))
}

/// Uses up the link mailed when an account reached the failure ceiling: every failure on the
/// account is forgotten, so its owner logs in again at once.
pub async fn unlock(services: &Services, token: &str, now: DateTime<Utc>) -> ServiceResult<()> {
    let txn = store::begin(&services.db).await?;
    let user_id = use_link(&txn, token, TokenPurpose::UnlockLogin, now).await?;
    let user = store::users::find(&txn, user_id)
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    store::login_failures::clear_account(&txn, &counted_account(services, user.email.as_str())).await?;
    store::commit(txn).await?;
    tracing::info!(user = %user_id, "account unlocked by its owner");
    Ok(())
}

/// An account, for its own page.
pub async fn account(services: &Services, user: UserId) -> ServiceResult<User> {
    store::users::find(&services.db, user)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Remembers `locale` as the account's language, for its mail.
pub async fn set_locale(services: &Services, user: UserId, locale: Locale) -> ServiceResult<()> {
    Ok(store::users::set_locale(&services.db, user, locale).await?)
}

/// The account behind the session whose secret is `token`, if it is live. Every request asks,
/// so this is one query.
pub async fn session(
    services: &Services,
    token: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Option<(String, store::sessions::SessionAccount)>> {
    let session_id = crypto::sha3_hex(token.as_bytes());
    let account = store::sessions::account(&services.db, &session_id, &policies::current_versions(), now).await?;
    Ok(account.map(|account| (session_id, account)))
}
