//! Issuer onboarding (KYB) and the issuer console: the application with its documents, the
//! public issuer page, members and invitations, and API keys.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::auth::{ActingFor, SignedIn};
use super::context::RequestContext;
use super::error::{AppError, AppResult};
use super::{render, render_with};
use crate::app::AppState;
use crate::blobs::{Blob, BlobKey};
use crate::crypto;
use crate::domain::account::{Email, UserId};
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::documents::{DocumentError, DocumentKind, check_document};
use crate::domain::filings::FilingError;
use crate::domain::issuer::{ApplicationError, ApplicationFields, IssuerApplication, IssuerId, IssuerStatus};
use crate::mail::{self, Mail};
use crate::store;
use crate::store::issuers::IssuerRecord;

/// Namespace of issuer documents in the blob store.
const DOCUMENTS: &str = "issuer-documents";
/// How long an invitation link stays valid.
const INVITATION_DAYS: i64 = 7;

fn audit(ctx: &RequestContext, actor: UserId, action: AuditAction, issuer: IssuerId) -> AuditEntry {
    AuditEntry::new(
        Some(actor),
        action,
        AuditSubject::Issuer(issuer),
        ctx.request_id.clone(),
    )
}

fn application_error_key(error: ApplicationError) -> (&'static str, &'static str) {
    match error {
        ApplicationError::LegalName => ("legal_name", "issuer.error_legal_name"),
        ApplicationError::CreditCode(_) => ("credit_code", "issuer.error_credit_code"),
        ApplicationError::IcpFiling(FilingError::MalformedIcp | FilingError::MalformedBlockchain) => {
            ("icp_filing", "issuer.error_icp")
        }
        ApplicationError::BlockchainFiling(_) => ("blockchain_filing", "issuer.error_blockchain"),
        ApplicationError::ContactName => ("contact_name", "issuer.error_contact_name"),
        ApplicationError::ContactEmail => ("contact_email", "issuer.error_contact_email"),
        ApplicationError::ContactPhone => ("contact_phone", "issuer.error_contact_phone"),
    }
}

fn document_error_key(error: DocumentError) -> &'static str {
    match error {
        DocumentError::Empty => "issuer.error_document_missing",
        DocumentError::TooLarge => "issuer.error_document_large",
        DocumentError::UnsupportedFormat => "issuer.error_document_format",
    }
}

// ---- the application ----

#[derive(Template)]
#[template(path = "issuer_apply.html")]
struct ApplyTemplate {
    ctx: RequestContext,
    fields: ApplicationFields,
    errors: FieldErrors,
    identity_verified: bool,
    /// Set when a rejected issuer corrects its application.
    resubmit_for: Option<i64>,
}

impl ApplyTemplate {
    /// (field name, label key, value) of each text field, in form order.
    fn text_fields(&self) -> [(&'static str, &'static str, &str); 7] {
        let f = &self.fields;
        [
            ("legal_name", "issuer.legal_name", f.legal_name.as_str()),
            ("credit_code", "issuer.credit_code", f.credit_code.as_str()),
            ("icp_filing", "issuer.icp_filing", f.icp_filing.as_str()),
            (
                "blockchain_filing",
                "issuer.blockchain_filing",
                f.blockchain_filing.as_str(),
            ),
            ("contact_name", "issuer.contact_name", f.contact_name.as_str()),
            ("contact_email", "issuer.contact_email", f.contact_email.as_str()),
            ("contact_phone", "issuer.contact_phone", f.contact_phone.as_str()),
        ]
    }

    fn error_for(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, key)| *key)
    }
}

pub async fn apply_form(ctx: RequestContext, SignedIn(user): SignedIn) -> AppResult<Html<String>> {
    let identity_verified = user.identity_verified();
    render(ApplyTemplate {
        ctx,
        fields: ApplicationFields::default(),
        errors: Vec::new(),
        identity_verified,
        resubmit_for: None,
    })
}

/// Reads the multipart form: text fields and the three documents.
async fn read_application(mut multipart: Multipart) -> AppResult<(ApplicationFields, Vec<(DocumentKind, Bytes)>)> {
    let mut fields = ApplicationFields::default();
    let mut documents = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(kind) = DocumentKind::from_field(&name) {
            let bytes = field.bytes().await.map_err(|_| AppError::BadRequest)?;
            documents.push((kind, bytes));
            continue;
        }
        let text = field.text().await.map_err(|_| AppError::BadRequest)?;
        let slot = match name.as_str() {
            "legal_name" => &mut fields.legal_name,
            "credit_code" => &mut fields.credit_code,
            "icp_filing" => &mut fields.icp_filing,
            "blockchain_filing" => &mut fields.blockchain_filing,
            "contact_name" => &mut fields.contact_name,
            "contact_email" => &mut fields.contact_email,
            "contact_phone" => &mut fields.contact_phone,
            _ => continue,
        };
        *slot = text;
    }
    Ok((fields, documents))
}

/// (form field, message key) pairs for every problem in an application.
type FieldErrors = Vec<(&'static str, &'static str)>;

/// A document that passed its checks, ready to store.
struct CheckedDocument {
    kind: DocumentKind,
    media_type: &'static str,
    bytes: Bytes,
}

/// Validates the fields and documents. On resubmission documents are optional: the ones sent
/// are added, the earlier ones stay on file.
fn check_application(
    fields: &ApplicationFields,
    uploads: Vec<(DocumentKind, Bytes)>,
    documents_required: bool,
) -> Result<(IssuerApplication, Vec<CheckedDocument>), FieldErrors> {
    let application = IssuerApplication::parse(fields);
    let mut errors: FieldErrors = match &application {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(|e| application_error_key(*e)).collect(),
    };
    let mut documents = Vec::new();
    for kind in DocumentKind::ALL {
        let bytes = uploads
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, b)| b.clone())
            .unwrap_or_default();
        if bytes.is_empty() && !documents_required {
            continue;
        }
        match check_document(&bytes) {
            Ok(format) => documents.push(CheckedDocument {
                kind,
                media_type: format.media_type(),
                bytes,
            }),
            Err(e) => errors.push((kind.as_str(), document_error_key(e))),
        }
    }
    match application {
        Ok(application) if errors.is_empty() => Ok((application, documents)),
        _ => Err(errors),
    }
}

/// Writes the documents to the blob store and returns their keys. Blobs are written before
/// the transaction that references them: if it then fails, an unreferenced blob is left
/// behind, never a document row pointing at nothing.
async fn store_documents(
    state: &AppState,
    documents: Vec<CheckedDocument>,
) -> AppResult<Vec<(CheckedDocument, BlobKey)>> {
    let mut stored = Vec::with_capacity(documents.len());
    for document in documents {
        let blob = Blob {
            bytes: document.bytes.clone(),
            content_type: document.media_type.to_owned(),
        };
        let key = state
            .blobs
            .put(DOCUMENTS, blob)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        stored.push((document, key));
    }
    Ok(stored)
}

async fn add_documents(
    txn: &impl sea_orm::ConnectionTrait,
    issuer: IssuerId,
    stored: &[(CheckedDocument, BlobKey)],
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    for (document, key) in stored {
        store::issuers::add_document(
            txn,
            issuer,
            document.kind,
            key.as_str(),
            document.media_type,
            document.bytes.len(),
            now,
        )
        .await?;
    }
    Ok(())
}

pub async fn apply(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    multipart: Multipart,
) -> AppResult<Response> {
    // The body is read before any refusal: a client still sending it when the answer and the
    // connection's close arrive sees a broken pipe instead of the answer.
    let (fields, uploads) = read_application(multipart).await?;
    if !user.identity_verified() {
        return Err(AppError::Forbidden);
    }
    let (application, documents) = match check_application(&fields, uploads, true) {
        Ok(checked) => checked,
        Err(errors) => {
            let page = ApplyTemplate {
                ctx,
                fields,
                errors,
                identity_verified: true,
                resubmit_for: None,
            };
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
        }
    };
    let stored = store_documents(&state, documents).await?;
    let status = IssuerStatus::Draft.submit().map_err(|e| AppError::Internal(e.into()))?;
    let now = Utc::now();
    let txn = store::begin(&state.db).await?;
    let id = store::issuers::create(&txn, &application, &status, user.id, now).await?;
    add_documents(&txn, id, &stored, now).await?;
    let mut entry = audit(&ctx, user.id, AuditAction::IssuerSubmitted, id);
    entry.before = Some(IssuerStatus::Draft.as_str());
    entry.after = Some(status.as_str());
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    tracing::info!(issuer = %id, user = %user.id, "issuer application submitted");
    Ok(Redirect::to(&format!("/console/{id}")).into_response())
}

fn fields_of(issuer: &IssuerRecord) -> ApplicationFields {
    ApplicationFields {
        legal_name: issuer.legal_name.clone(),
        credit_code: issuer.credit_code.clone(),
        icp_filing: issuer.icp_filing.clone(),
        blockchain_filing: issuer.blockchain_filing.clone(),
        contact_name: issuer.contact_name.clone(),
        contact_email: issuer.contact_email.clone(),
        contact_phone: issuer.contact_phone.clone(),
    }
}

/// The corrected application form of a rejected issuer (its admins only).
pub async fn resubmit_form(ctx: RequestContext, acting: ActingFor) -> AppResult<Html<String>> {
    if !acting.is_admin || acting.issuer.status.submit().is_err() {
        return Err(AppError::Forbidden);
    }
    render(ApplyTemplate {
        ctx,
        fields: fields_of(&acting.issuer),
        errors: Vec::new(),
        identity_verified: true,
        resubmit_for: Some(acting.issuer.id.0),
    })
}

pub async fn resubmit(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    multipart: Multipart,
) -> AppResult<Response> {
    let issuer = &acting.issuer;
    let next = match issuer.status.submit() {
        Ok(next) if acting.is_admin => next,
        _ => return Err(AppError::Forbidden),
    };
    let (fields, uploads) = read_application(multipart).await?;
    let (application, documents) = match check_application(&fields, uploads, false) {
        Ok(checked) => checked,
        Err(errors) => {
            let page = ApplyTemplate {
                ctx,
                fields,
                errors,
                identity_verified: true,
                resubmit_for: Some(issuer.id.0),
            };
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
        }
    };
    let stored = store_documents(&state, documents).await?;
    let now = Utc::now();
    let txn = store::begin(&state.db).await?;
    if !store::issuers::resubmit(&txn, issuer.id, issuer.version, &application, now).await? {
        return Err(AppError::ReviewConflict);
    }
    add_documents(&txn, issuer.id, &stored, now).await?;
    let mut entry = audit(&ctx, acting.user.id, AuditAction::IssuerSubmitted, issuer.id);
    entry.before = Some(issuer.status.as_str());
    entry.after = Some(next.as_str());
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/console/{}", issuer.id)).into_response())
}

// ---- public page ----

#[derive(Template)]
#[template(path = "issuer_public.html")]
struct PublicTemplate {
    ctx: RequestContext,
    issuer: IssuerRecord,
}

/// The public page of an approved issuer; everything else is 404 to the public.
pub async fn public_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let issuer = store::issuers::find(&state.db, IssuerId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    if !issuer.status.is_active() {
        return Err(AppError::NotFound);
    }
    render(PublicTemplate { ctx, issuer })
}

// ---- the console ----

#[derive(Template)]
#[template(path = "console_list.html")]
struct ConsoleListTemplate {
    ctx: RequestContext,
    issuers: Vec<(IssuerRecord, bool)>,
}

/// The issuers this user acts for; they choose one to work on.
pub async fn console_list(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
) -> AppResult<Html<String>> {
    let issuers = store::issuers::memberships_of(&state.db, user.id).await?;
    render(ConsoleListTemplate { ctx, issuers })
}

struct MemberRow {
    email: String,
    is_admin: bool,
}

struct KeyRow {
    id: i64,
    label: String,
    prefix: String,
    created: String,
    last_used: Option<String>,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsoleTemplate {
    ctx: RequestContext,
    issuer: IssuerRecord,
    is_admin: bool,
    documents: Vec<store::issuers::DocumentRecord>,
    members: Vec<MemberRow>,
    keys: Vec<KeyRow>,
    /// A key just created, shown this once.
    new_key: Option<String>,
    notice: Option<&'static str>,
    attestations: Vec<AttestationRow>,
    collections: Vec<CollectionRow>,
}

struct CollectionRow {
    id: i64,
    title: String,
    status: &'static str,
    edition_size: u32,
    updated: String,
}

/// How many recent attestations the console lists.
const CONSOLE_ATTESTATIONS: u64 = 50;

struct AttestationRow {
    digest: String,
    label: String,
    created: String,
    /// The ledger index, once sequenced.
    index: Option<i64>,
}

async fn console_page(state: &AppState, ctx: RequestContext, acting: &ActingFor) -> AppResult<ConsoleTemplate> {
    let issuer = acting.issuer.clone();
    let documents = store::issuers::documents(&state.db, issuer.id).await?;
    let mut members = Vec::new();
    for (id, is_admin) in store::issuers::members(&state.db, issuer.id).await? {
        if let Some(user) = store::users::find(&state.db, id).await? {
            members.push(MemberRow {
                email: user.email,
                is_admin,
            });
        }
    }
    let keys = store::api_keys::list(&state.db, issuer.id)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            label: k.label,
            prefix: k.prefix,
            created: k.created_at.format("%Y-%m-%d %H:%M").to_string(),
            last_used: k.last_used_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    let attestations = store::attestations::of_issuer(&state.db, issuer.id, CONSOLE_ATTESTATIONS)
        .await?
        .into_iter()
        .map(|(a, entry)| AttestationRow {
            digest: crypto::hex(&a.digest),
            label: a.label,
            created: a.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            index: entry.map(|e| e.idx),
        })
        .collect();
    let collections = store::collections::of_issuer(&state.db, issuer.id)
        .await?
        .into_iter()
        .map(|c| CollectionRow {
            id: c.id.0,
            status: c.status.as_str(),
            edition_size: c.terms.edition_size,
            updated: c
                .submitted_at
                .unwrap_or(c.created_at)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            title: c.terms.title,
        })
        .collect();
    Ok(ConsoleTemplate {
        ctx,
        issuer,
        collections,
        is_admin: acting.is_admin,
        documents,
        members,
        keys,
        new_key: None,
        notice: None,
        attestations,
    })
}

pub async fn console(State(state): State<AppState>, ctx: RequestContext, acting: ActingFor) -> AppResult<Html<String>> {
    render(console_page(&state, ctx, &acting).await?)
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
}

pub async fn invite(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    if !acting.is_admin {
        return Err(AppError::Forbidden);
    }
    let Ok(email) = Email::parse(&form.email) else {
        let mut page = console_page(&state, ctx, &acting).await?;
        page.notice = Some("form.email_malformed");
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    };
    let token = crypto::random_token();
    let now = Utc::now();
    let link = state.absolute_url(&format!("/invitations/{token}"));
    let locale = store::users::find_by_email(&state.db, &email)
        .await?
        .map_or(ctx.locale, |u| u.locale);
    let message = Mail::IssuerInvitation {
        link: &link,
        issuer: &acting.issuer.legal_name,
    }
    .render(&email, locale, &state.config.operator.name)?;
    let txn = store::begin(&state.db).await?;
    store::issuers::invite(
        &txn,
        acting.issuer.id,
        email.as_str(),
        crypto::sha3_hex(token.as_bytes()),
        acting.user.id,
        now,
        now + Duration::days(INVITATION_DAYS),
    )
    .await?;
    let mut entry = audit(&ctx, acting.user.id, AuditAction::MemberInvited, acting.issuer.id);
    entry.reason = Some(format!("invited {}", email.as_str()));
    store::audit::append(&txn, entry, now).await?;
    mail::enqueue(&txn, message, now).await?;
    txn.commit().await?;
    state.mail_wakeup.notify_one();
    let mut page = console_page(&state, ctx, &acting).await?;
    page.notice = Some("console.invited");
    Ok(render(page)?.into_response())
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationTemplate {
    ctx: RequestContext,
    issuer: String,
    token: String,
    /// Why this account cannot accept, if it cannot.
    blocker: Option<&'static str>,
}

fn invitation_blocker(user: &super::context::SessionUser, invited: &str) -> Option<&'static str> {
    if !user.email.eq_ignore_ascii_case(invited) {
        return Some("invitation.wrong_account");
    }
    if !user.identity_verified() {
        return Some("invitation.identity_required");
    }
    None
}

pub async fn invitation(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    let (issuer_id, invited) =
        store::issuers::open_invitation(&state.db, &crypto::sha3_hex(token.as_bytes()), Utc::now())
            .await?
            .ok_or(AppError::InvalidLink)?;
    let issuer = store::issuers::find(&state.db, issuer_id)
        .await?
        .ok_or(AppError::InvalidLink)?;
    let blocker = invitation_blocker(&user, &invited);
    render(InvitationTemplate {
        ctx,
        issuer: issuer.legal_name,
        token,
        blocker,
    })
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let hash = crypto::sha3_hex(token.as_bytes());
    let now = Utc::now();
    let (issuer, invited) = store::issuers::open_invitation(&state.db, &hash, now)
        .await?
        .ok_or(AppError::InvalidLink)?;
    if invitation_blocker(&user, &invited).is_some() {
        return Err(AppError::Forbidden);
    }
    let txn = store::begin(&state.db).await?;
    if !store::issuers::accept_invitation(&txn, &hash, now).await? {
        return Err(AppError::InvalidLink);
    }
    store::issuers::add_member(&txn, issuer, user.id, false, now).await?;
    store::audit::append(&txn, audit(&ctx, user.id, AuditAction::MemberJoined, issuer), now).await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/console/{issuer}")).into_response())
}

// ---- API keys ----

#[derive(Deserialize)]
pub struct KeyForm {
    label: String,
}

pub async fn create_key(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Form(form): Form<KeyForm>,
) -> AppResult<Response> {
    if !acting.is_admin {
        return Err(AppError::Forbidden);
    }
    if !acting.issuer.status.is_active() {
        let mut page = console_page(&state, ctx, &acting).await?;
        page.notice = Some("console.inactive");
        return render_with(StatusCode::CONFLICT, page);
    }
    let label: String = form.label.trim().chars().take(100).collect();
    let label = if label.is_empty() { "API key".to_owned() } else { label };
    let key = format!("ks_{}", crypto::random_token());
    let prefix: String = key.chars().take(10).collect();
    let now = Utc::now();
    let txn = store::begin(&state.db).await?;
    store::api_keys::create(
        &txn,
        acting.issuer.id,
        &label,
        &prefix,
        crypto::sha3_hex(key.as_bytes()),
        acting.user.id,
        now,
    )
    .await?;
    let mut entry = audit(&ctx, acting.user.id, AuditAction::ApiKeyCreated, acting.issuer.id);
    entry.reason = Some(format!("{prefix}… {label}"));
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    let mut page = console_page(&state, ctx, &acting).await?;
    page.new_key = Some(key);
    Ok(render(page)?.into_response())
}

pub async fn revoke_key(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, key)): Path<(i64, i64)>,
) -> AppResult<Response> {
    if !acting.is_admin {
        return Err(AppError::Forbidden);
    }
    let now = Utc::now();
    let txn = store::begin(&state.db).await?;
    if !store::api_keys::revoke(&txn, acting.issuer.id, key, now).await? {
        return Err(AppError::NotFound);
    }
    let mut entry = audit(&ctx, acting.user.id, AuditAction::ApiKeyRevoked, acting.issuer.id);
    entry.reason = Some(format!("key #{key}"));
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/console/{}", acting.issuer.id)).into_response())
}

/// Documents are never public: members of the issuer and reviewers only.
pub async fn document(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path((issuer, document)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let issuer = IssuerId(issuer);
    let allowed = ctx.is_reviewer() || store::issuers::membership(&state.db, issuer, user.id).await?.is_some();
    if !allowed {
        return Err(AppError::NotFound);
    }
    let record = store::issuers::document(&state.db, issuer, document)
        .await?
        .ok_or(AppError::NotFound)?;
    let key = BlobKey::parse(&record.blob_key).map_err(|e| AppError::Internal(e.into()))?;
    let blob = state.blobs.get(&key).await.map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, record.content_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-{}\"", record.kind, record.id),
            ),
        ],
        blob.bytes,
    )
        .into_response())
}
