//! An issuer's members: its administrators invite people by email (a link valid for a week,
//! stored hashed), and an invited person with a verified identity joins with it.

use chrono::{DateTime, Duration, Utc};

use crate::crypto;
use crate::domain::account::Email;
use crate::domain::audit::{AuditAction, AuditDetails, AuditSubject};
use crate::domain::ids::IssuerId;
use crate::domain::issuer::{InvitationBlocker, Issuer, MemberStanding};
use crate::i18n::Locale;
use crate::mail::Mail;
use crate::services::forms::{self, Submission};
use crate::services::{Actor, ServiceError, ServiceResult, Services};
use crate::store;

/// How long an invitation link stays valid.
const INVITATION_DAYS: i64 = 7;

/// The issuer's members with their addresses, first joined first, and whether each administers it.
pub async fn list(services: &Services, issuer: IssuerId) -> ServiceResult<Vec<(Email, bool)>> {
    let mut members = Vec::new();
    for (id, is_admin) in store::issuers::members(&services.db, issuer).await? {
        if let Some(user) = store::users::find(&services.db, id).await? {
            members.push((user.email, is_admin));
        }
    }
    Ok(members)
}

/// Invites `email` to `issuer`, mailing the link in the language of the account at that address
/// (or `locale`); answers where the console shows it was sent.
pub async fn invite(
    services: &Services,
    actor: &Actor,
    issuer: &Issuer,
    email: &Email,
    locale: Locale,
    submission: &Submission,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let token = crypto::random_token();
    let link = services.absolute_url(&format!("/invitations/{token}"));
    let locale = store::users::find_by_email(&services.db, email)
        .await?
        .map_or(locale, |u| u.locale);
    let txn = store::begin(&services.db).await?;
    store::issuers::invite(
        &txn,
        issuer.id,
        email,
        crypto::sha3_hex(token.as_bytes()),
        actor.user,
        now,
        now + Duration::days(INVITATION_DAYS),
    )
    .await?;
    let mut entry = actor.audit(AuditAction::MemberInvited, AuditSubject::Issuer(issuer.id));
    entry.details = Some(AuditDetails::MemberInvited {
        email: email.as_str().to_owned(),
    });
    store::audit::append(&txn, entry, now).await?;
    let mail = Mail::IssuerInvitation {
        link: &link,
        issuer: &issuer.legal_name,
    };
    services.queue_mail(&txn, email, locale, mail, now).await?;
    let location = format!("/console/{}?notice=invited#members", issuer.id);
    let location = forms::finish::<()>(services, txn, submission, &location, None, now).await?;
    services.mail_queued();
    Ok(location)
}

/// An open invitation as the person who follows its link sees it.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub issuer: Issuer,
    /// Why this account cannot accept it, if it cannot.
    pub blocker: Option<InvitationBlocker>,
}

/// The open invitation behind `token`, for the account at `own` standing as `standing`.
pub async fn invitation(
    services: &Services,
    token: &str,
    own: &Email,
    standing: MemberStanding,
    now: DateTime<Utc>,
) -> ServiceResult<Invitation> {
    let hash = crypto::sha3_hex(token.as_bytes());
    let (issuer, invited) = store::issuers::open_invitation(&services.db, &hash, now)
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    let issuer = store::issuers::find(&services.db, issuer)
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    Ok(Invitation {
        issuer,
        blocker: InvitationBlocker::check(own, standing, &invited),
    })
}

/// Uses the invitation up: the actor joins its issuer as a member. Answers the issuer.
pub async fn accept(
    services: &Services,
    actor: &Actor,
    token: &str,
    own: &Email,
    standing: MemberStanding,
    now: DateTime<Utc>,
) -> ServiceResult<IssuerId> {
    let hash = crypto::sha3_hex(token.as_bytes());
    let (issuer, invited) = store::issuers::open_invitation(&services.db, &hash, now)
        .await?
        .ok_or(ServiceError::InvalidLink)?;
    if InvitationBlocker::check(own, standing, &invited).is_some() {
        return Err(ServiceError::Forbidden);
    }
    let txn = store::begin(&services.db).await?;
    if !store::issuers::accept_invitation(&txn, &hash, now).await? {
        return Err(ServiceError::InvalidLink);
    }
    store::issuers::add_member(&txn, issuer, actor.user, false, now).await?;
    store::audit::append(
        &txn,
        actor.audit(AuditAction::MemberJoined, AuditSubject::Issuer(issuer)),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(issuer)
}
