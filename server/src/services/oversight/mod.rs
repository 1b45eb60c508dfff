//! What regulators do: read (the console's queries live with each family's services), reveal
//! one person's identity on a legal request, and make export bundles. A reveal is recorded,
//! audited and mailed to every administrator in one transaction before anything is shown, and
//! it shows the identity only to the regulator who made it, only for
//! [`REVEAL_OPEN_FOR`](crate::domain::oversight::REVEAL_OPEN_FOR).

pub mod bundle;

use chrono::{DateTime, Utc};

use super::{Actor, ServiceError, ServiceResult, Services};
use crate::domain::audit::{AuditAction, AuditDetails, AuditFilter, AuditSubject};
use crate::domain::ids::{TokenId, UserId};
use crate::domain::oversight::{ExportScope, RevealGrounds, reveal_open};
use crate::domain::role::Role;
use crate::mail::Mail;
use crate::store::{self, oversight::Export, oversight::Reveal};

/// Whose identity a reveal asks for: an account, or the holder of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevealSubject {
    Account(UserId),
    HolderOf(TokenId),
}

/// A person's identity in clear, as a reveal shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RevealedIdentity {
    pub legal_name: String,
    pub id_number: String,
}

impl std::fmt::Debug for RevealedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RevealedIdentity([redacted])")
    }
}

/// A reveal as its regulator sees it: the identity while it is open.
#[derive(Debug, Clone)]
pub struct RevealView {
    pub reveal: Reveal,
    pub identity: Option<RevealedIdentity>,
}

/// Most records of one kind a bundle holds; a longer span is exported in parts.
pub const MAX_BUNDLE_RECORDS: u64 = 50_000;

/// An export whose span holds more records than one bundle may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyRecords {
    pub found: u64,
}

/// The account `subject` names, if it exists and has an identity on file.
async fn subject_account(services: &Services, subject: RevealSubject) -> ServiceResult<UserId> {
    let account = match subject {
        RevealSubject::Account(user) => user,
        RevealSubject::HolderOf(token) => {
            store::tokens::find(&services.db, token)
                .await?
                .ok_or(ServiceError::NotFound)?
                .holder
        }
    };
    store::identities::find(&services.db, account)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(account)
}

/// Records a reveal of `subject`'s identity on `grounds`, audits it and mails every
/// administrator, all in one transaction.
pub async fn reveal(
    services: &Services,
    regulator: &Actor,
    subject: RevealSubject,
    grounds: &RevealGrounds,
    now: DateTime<Utc>,
) -> ServiceResult<Reveal> {
    let account = subject_account(services, subject).await?;
    let admins = store::users::holding(&services.db, Role::Admin).await?;
    let txn = store::begin(&services.db).await?;
    let reveal = store::oversight::record_reveal(&txn, regulator.user, account, grounds, now).await?;
    let mut entry = regulator.audit(AuditAction::IdentityRevealed, AuditSubject::Identity(account));
    entry.reason = Some(grounds.reason().to_owned());
    entry.details = Some(AuditDetails::Revealed {
        reveal: reveal.id,
        reference: grounds.reference().to_owned(),
    });
    store::audit::append(&txn, entry, now).await?;
    let link = services.absolute_url("/review/audit?action=identity.revealed");
    for admin in &admins {
        let mail = Mail::IdentityRevealed {
            link: &link,
            reference: grounds.reference(),
        };
        services.queue_mail(&txn, &admin.email, admin.locale, mail, now).await?;
    }
    store::commit(txn).await?;
    services.mail_queued();
    tracing::info!(regulator = %regulator.user, reveal = reveal.id, "identity revealed on a legal request");
    Ok(reveal)
}

/// Reveal `id` for the regulator who made it, with the identity in clear while it is open.
pub async fn revealed(
    services: &Services,
    regulator: UserId,
    id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<RevealView> {
    let reveal = store::oversight::reveal(&services.db, id)
        .await?
        .filter(|reveal| reveal.regulator == regulator)
        .ok_or(ServiceError::NotFound)?;
    if !reveal_open(reveal.made_at, now) {
        return Ok(RevealView { reveal, identity: None });
    }
    let record = store::identities::find(&services.db, reveal.subject)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let (legal_name, id_number) = super::identity::open(services, &record).await?;
    let identity = RevealedIdentity { legal_name, id_number };
    Ok(RevealView {
        reveal,
        identity: Some(identity),
    })
}

/// The latest reveals `regulator` made.
pub async fn reveals_by(services: &Services, regulator: UserId) -> ServiceResult<Vec<Reveal>> {
    Ok(store::oversight::reveals_by(&services.db, regulator, 50).await?)
}

/// Records an export of `scope` and audits it, unless its span holds more collections, tokens
/// or audit rows than one bundle may. A bundle holds what was recorded before the export was
/// made, so these counts bound it whenever it is downloaded.
pub async fn make_export(
    services: &Services,
    regulator: &Actor,
    scope: &ExportScope,
    now: DateTime<Utc>,
) -> ServiceResult<Result<Export, TooManyRecords>> {
    if let Some(issuer) = scope.issuer() {
        store::issuers::find(&services.db, issuer)
            .await?
            .ok_or(ServiceError::NotFound)?;
    }
    let until = scope.ends().min(now);
    let tokens = store::tokens::count_claimed_between(&services.db, scope.issuer(), scope.starts(), until).await?;
    // Every issuer's rows: a bound for one issuer's, which the bundle picks out of them.
    let rows = store::audit::count(&services.db, &span(scope, until)).await?;
    let collections = store::collections::count_created_before(&services.db, scope.issuer(), until).await?;
    let found = tokens.max(rows).max(collections);
    if found > MAX_BUNDLE_RECORDS {
        return Ok(Err(TooManyRecords { found }));
    }
    let txn = store::begin(&services.db).await?;
    let export = store::oversight::record_export(&txn, regulator.user, scope, now).await?;
    let mut entry = regulator.audit(AuditAction::OversightExported, AuditSubject::User(regulator.user));
    entry.details = Some(AuditDetails::Exported {
        export: export.id,
        from: scope.from().to_string(),
        to: scope.to().to_string(),
        issuer: scope.issuer().map(|id| id.0),
    });
    store::audit::append(&txn, entry, now).await?;
    store::commit(txn).await?;
    tracing::info!(regulator = %regulator.user, export = export.id, "export bundle recorded");
    Ok(Ok(export))
}

/// The latest exports `regulator` made.
pub async fn exports_by(services: &Services, regulator: UserId) -> ServiceResult<Vec<Export>> {
    Ok(store::oversight::exports_by(&services.db, regulator, 50).await?)
}

/// The audit rows of the scope's days written before `until`.
fn span(scope: &ExportScope, until: DateTime<Utc>) -> AuditFilter {
    AuditFilter {
        from: Some(scope.starts()),
        until: Some(until),
        ..AuditFilter::default()
    }
}
