//! What goes into a copy of a person's data, and its two forms: `data.json` for machines (and
//! for moving it elsewhere, PIPL Art. 45) and `index.html`, the same in the person's language,
//! readable offline with nothing loaded from anywhere. Both go into one zip.

use std::io::Write;

use askama::Template;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::crypto;
use crate::domain::audit::action_key;
use crate::domain::id_consent::IdNumberConsent;
use crate::domain::identity::IdentityStatus;
use crate::i18n::Locale;
use crate::services::{ServiceError, ServiceResult, Services, identity, phone, tokens};
use crate::store::personal_data::{Acceptance, AddressChange, AuditRow, FiledReport, Membership, SentMail, Session};
use crate::store::users::User;
use crate::{paths, store};

/// The name and version of the archive's layout, first in `data.json`.
const FORMAT: &str = "keepsake-personal-data/1";

#[derive(Debug, Serialize)]
pub struct Archive {
    pub format: &'static str,
    pub operator: String,
    pub generated_at: DateTime<Utc>,
    pub account: Account,
    pub identity: Option<Identity>,
    pub consents: Consents,
    pub issuer_memberships: Vec<Membership>,
    pub tokens: Vec<HeldToken>,
    pub reports_filed: Vec<FiledReport>,
    pub address_changes: Vec<AddressChange>,
    pub mails: Vec<SentMail>,
    pub sessions: Vec<Session>,
    pub audit: Vec<AuditRow>,
}

#[derive(Debug, Serialize)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub language: &'static str,
    pub roles: Vec<&'static str>,
    /// The mobile number (E.164) and when it was added.
    pub phone: Option<String>,
    pub phone_added_at: Option<DateTime<Utc>>,
    /// Since when log-in asks for a second factor.
    pub two_step_verification_since: Option<DateTime<Utc>>,
}

/// The verified identity in clear: the archive goes to its owner alone.
#[derive(Debug, Serialize)]
pub struct Identity {
    pub status: &'static str,
    pub legal_name: String,
    pub id_number: String,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Consents {
    pub policies: Vec<Acceptance>,
    pub id_number: Vec<IdConsent>,
}

#[derive(Debug, Serialize)]
pub struct IdConsent {
    pub privacy_policy_version: u32,
    pub given_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl From<IdNumberConsent> for IdConsent {
    fn from(consent: IdNumberConsent) -> Self {
        Self {
            privacy_policy_version: consent.policy_version,
            given_at: consent.given_at,
            withdrawn_at: consent.withdrawn_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct HeldToken {
    pub id: i64,
    pub collection: i64,
    pub collection_title: String,
    pub serial: u32,
    pub status: &'static str,
    pub status_reason: Option<String>,
    pub claimed_at: DateTime<Utc>,
    pub holder_commitment: String,
    pub url: String,
    /// The holder's certificate (ledger receipt with the commitment's opening), once the token
    /// is on the ledger.
    pub certificate: Option<serde_json::Value>,
}

/// Gathers everything held about `user` and packs it as a zip.
pub async fn build(services: &Services, user: &User, now: DateTime<Utc>) -> ServiceResult<Vec<u8>> {
    let archive = gather(services, user, now).await?;
    let json = serde_json::to_vec_pretty(&archive).map_err(ServiceError::internal)?;
    let html = Page {
        archive: &archive,
        locale: user.locale,
    }
    .render()
    .map_err(ServiceError::internal)?;
    pack(&[("data.json", &json), ("index.html", html.as_bytes())]).map_err(ServiceError::internal)
}

async fn gather(services: &Services, user: &User, now: DateTime<Utc>) -> ServiceResult<Archive> {
    let db = &services.db;
    let roles = store::users::granted_roles(db, user.id).await?;
    let identity = match store::identities::find(db, user.id).await? {
        Some(record) => {
            let (legal_name, id_number) = identity::open(services, &record).await?;
            Some(Identity {
                status: record.status.as_str(),
                reject_reason: match record.status {
                    IdentityStatus::Rejected { reason } => Some(reason),
                    _ => None,
                },
                legal_name,
                id_number,
                submitted_at: record.submitted_at,
                decided_at: record.decided_at,
            })
        }
        None => None,
    };
    let phone = phone::number_of(services, user.id).await?;
    let second_factor = store::second_factors::find(db, user.id)
        .await?
        .and_then(|factor| factor.enrolled_at);
    let mut addresses = vec![user.email.as_str().to_owned()];
    let address_changes = store::personal_data::address_changes(db, user.id).await?;
    for change in &address_changes {
        addresses.extend([change.from.clone(), change.to.clone()]);
    }
    addresses.sort();
    addresses.dedup();
    Ok(Archive {
        format: FORMAT,
        operator: services.operator_name.clone(),
        generated_at: now,
        account: Account {
            id: user.id.0,
            email: user.email.as_str().to_owned(),
            created_at: user.created_at,
            email_verified_at: user.email_verified_at,
            language: user.locale.tag(),
            roles: roles.iter().map(|role| role.as_str()).collect(),
            phone_added_at: phone.as_ref().map(|(_, since)| *since),
            phone: phone.map(|(number, _)| number.as_str().to_owned()),
            two_step_verification_since: second_factor,
        },
        identity,
        consents: Consents {
            policies: store::personal_data::acceptances(db, user.id).await?,
            id_number: store::id_consents::history(db, user.id)
                .await?
                .into_iter()
                .map(IdConsent::from)
                .collect(),
        },
        issuer_memberships: store::personal_data::memberships(db, user.id).await?,
        tokens: held_tokens(services, user).await?,
        reports_filed: store::personal_data::reports_filed(db, user.id).await?,
        address_changes,
        mails: store::personal_data::mails_to(db, addresses).await?,
        sessions: store::personal_data::sessions(db, user.id).await?,
        audit: store::personal_data::audit_rows(db, user.id).await?,
    })
}

async fn held_tokens(services: &Services, user: &User) -> ServiceResult<Vec<HeldToken>> {
    let held = store::tokens::of_holder(&services.db, user.id, None, store::personal_data::MAX_ROWS).await?;
    let titles =
        store::personal_data::collection_titles(&services.db, held.iter().map(|token| token.collection.0).collect())
            .await?;
    let mut tokens = Vec::with_capacity(held.len());
    for token in held.into_iter().rev() {
        let certificate = match tokens::certificate(services, user.id, token.id).await {
            Ok((_, receipt)) => Some(serde_json::to_value(receipt).map_err(ServiceError::internal)?),
            Err(ServiceError::CertificatePending) => None,
            Err(err) => return Err(err),
        };
        tokens.push(HeldToken {
            id: token.id.0,
            collection: token.collection.0,
            collection_title: titles.get(&token.collection.0).cloned().unwrap_or_default(),
            serial: token.serial,
            status: token.status.as_str(),
            status_reason: token.status.reason().map(str::to_owned),
            claimed_at: token.claimed_at,
            holder_commitment: crypto::hex(&token.commitment),
            url: services.absolute_url(&paths::token(token.id)),
            certificate,
        });
    }
    Ok(tokens)
}

/// A zip of `files` (name, bytes), deflated.
fn pack(files: &[(&str, &[u8])]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(*name, options)?;
        zip.write_all(bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// `index.html`: the archive for people, in their language.
#[derive(Template)]
#[template(path = "data_archive.html")]
struct Page<'a> {
    archive: &'a Archive,
    locale: Locale,
}

impl Page<'_> {
    fn t(&self, key: &str) -> &'static str {
        self.locale.t(key)
    }

    fn t2(&self, prefix: &str, value: &str) -> &'static str {
        self.locale.t(&format!("{prefix}{value}"))
    }

    /// An audit action's name, as the audit pages word it.
    fn action(&self, action: &str) -> &'static str {
        self.locale.t(&action_key(action))
    }

    fn time(&self, at: &DateTime<Utc>) -> String {
        self.locale.time(*at)
    }

    fn maybe_time(&self, at: &Option<DateTime<Utc>>) -> String {
        at.map(|at| self.locale.time(at)).unwrap_or_else(|| "—".to_owned())
    }
}
