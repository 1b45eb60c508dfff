//! Issuer onboarding (KYB) and the issuer console: the application with its documents, the
//! public issuer page, members and invitations, and API keys.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::auth::{ActingFor, SignedIn};
use super::context::RequestContext;
use super::error::{AppError, AppResult};
use super::explore::{CollectionCard, cards};
use super::form_result::{self, FormKey};
use super::share::Share;
use super::{confirmed, render, render_with};
use crate::blobs::Blob;
use crate::crypto;
use crate::domain::account::Email;
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::blob_key::BlobKey;
use crate::domain::documents::{DocumentError, DocumentKind, check_document};
use crate::domain::filings::FilingError;
use crate::domain::ids::DocumentId;
use crate::domain::ids::IssuerId;
use crate::domain::ids::UserId;
use crate::domain::issuer::Issuer;
use crate::domain::issuer::IssuerDocument;
use crate::domain::issuer::{ApplicationError, ApplicationFields, IssuerApplication, IssuerStatus};
use crate::domain::visible_text::{TextKind, check_visible};
use crate::mail::{self, Mail};
use crate::state::AppState;
use crate::store;
use crate::store::collections::PublicFilter;

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
        ApplicationError::LegalNameHidden => ("legal_name", "form.hidden_characters"),
        ApplicationError::CreditCode(_) => ("credit_code", "issuer.error_credit_code"),
        ApplicationError::IcpFiling(FilingError::MalformedIcp | FilingError::MalformedBlockchain) => {
            ("icp_filing", "issuer.error_icp")
        }
        ApplicationError::BlockchainFiling(_) => ("blockchain_filing", "issuer.error_blockchain"),
        ApplicationError::ContactName => ("contact_name", "issuer.error_contact_name"),
        ApplicationError::ContactNameHidden => ("contact_name", "form.hidden_characters"),
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

/// A document as the console and the reviewers see it: the newest of each kind is the one on
/// file; older ones stay listed, marked as replaced.
pub struct DocumentView {
    pub id: i64,
    pub kind: &'static str,
    /// `PDF`, `PNG` or `JPEG`.
    pub format: String,
    pub kilobytes: u64,
    pub uploaded_at: DateTime<Utc>,
    pub current: bool,
}

/// Views of `documents` (newest first, as the store lists them).
pub fn document_views(documents: Vec<IssuerDocument>) -> Vec<DocumentView> {
    let mut seen = std::collections::HashSet::new();
    documents
        .into_iter()
        .map(|d| DocumentView {
            current: seen.insert(d.kind),
            id: d.id.0,
            format: d.content_type.rsplit('/').next().unwrap_or_default().to_uppercase(),
            kilobytes: d.size.div_ceil(1024),
            uploaded_at: d.uploaded_at,
            kind: d.kind.as_str(),
        })
        .collect()
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
    /// The form's key: one application however often it is sent.
    form_key: FormKey,
    /// Documents that passed their checks in an earlier attempt: (field, sealed reference,
    /// what it is), so that the form need not ask for them again.
    held: Vec<(&'static str, String, String)>,
}

impl ApplyTemplate {
    fn new(ctx: RequestContext, fields: ApplicationFields, resubmit_for: Option<i64>) -> Self {
        ApplyTemplate {
            ctx,
            fields,
            errors: Vec::new(),
            identity_verified: true,
            resubmit_for,
            form_key: FormKey::fresh(),
            held: Vec::new(),
        }
    }

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

    /// The held document of `field`: its reference and what it is.
    fn held_for(&self, field: &str) -> Option<(&str, &str)> {
        self.held
            .iter()
            .find(|(f, _, _)| *f == field)
            .map(|(_, reference, about)| (reference.as_str(), about.as_str()))
    }
}

pub async fn apply_form(ctx: RequestContext, SignedIn(user): SignedIn) -> AppResult<Html<String>> {
    let mut page = ApplyTemplate::new(ctx, ApplicationFields::default(), None);
    page.identity_verified = user.identity_verified();
    render(page)
}

/// The multipart application as sent: text fields, uploads, held references, form key.
struct ApplicationForm {
    fields: ApplicationFields,
    uploads: Vec<(DocumentKind, Bytes)>,
    held: Vec<(DocumentKind, String)>,
    form_key: String,
}

/// Reads the multipart form: text fields, the three documents and references to documents an
/// earlier attempt already accepted.
async fn read_application(mut multipart: Multipart) -> AppResult<ApplicationForm> {
    let mut form = ApplicationForm {
        fields: ApplicationFields::default(),
        uploads: Vec::new(),
        held: Vec::new(),
        form_key: String::new(),
    };
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(kind) = DocumentKind::from_field(&name) {
            let bytes = field.bytes().await.map_err(|_| AppError::BadRequest)?;
            form.uploads.push((kind, bytes));
            continue;
        }
        let text = field.text().await.map_err(|_| AppError::BadRequest)?;
        if let Some(kind) = name.strip_prefix("held_").and_then(DocumentKind::from_field) {
            form.held.push((kind, text));
            continue;
        }
        let f = &mut form.fields;
        let slot = match name.as_str() {
            "legal_name" => &mut f.legal_name,
            "credit_code" => &mut f.credit_code,
            "icp_filing" => &mut f.icp_filing,
            "blockchain_filing" => &mut f.blockchain_filing,
            "contact_name" => &mut f.contact_name,
            "contact_email" => &mut f.contact_email,
            "contact_phone" => &mut f.contact_phone,
            "form_key" => &mut form.form_key,
            _ => continue,
        };
        *slot = text;
    }
    Ok(form)
}

/// (form field, message key) pairs for every problem in an application.
type FieldErrors = Vec<(&'static str, &'static str)>;

/// A document that passed its checks and is in the blob store.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct StoredDocument {
    kind: String,
    blob_key: String,
    media_type: String,
    size: usize,
}

/// Checks each document kind: a new upload (stored at once when it passes, so that a form
/// shown again for another field keeps it), or else the one an earlier attempt held. On
/// resubmission documents are optional: the ones sent are added, the earlier ones stay on file.
async fn collect_documents(
    state: &AppState,
    ctx: &RequestContext,
    form: &ApplicationForm,
    documents_required: bool,
) -> AppResult<(Vec<StoredDocument>, FieldErrors)> {
    let mut stored = Vec::new();
    let mut errors = Vec::new();
    for kind in DocumentKind::ALL {
        let upload = form
            .uploads
            .iter()
            .find(|(k, b)| *k == kind && !b.is_empty())
            .map(|(_, b)| b.clone());
        let held = || {
            form.held
                .iter()
                .find(|(k, _)| *k == kind)
                .and_then(|(_, reference)| form_result::held_upload::<StoredDocument>(state, ctx, reference))
                .filter(|document| document.kind == kind.as_str())
        };
        match upload {
            Some(bytes) => match check_document(&bytes) {
                Ok(format) => {
                    let blob = Blob {
                        bytes: bytes.clone(),
                        content_type: format.media_type().to_owned(),
                    };
                    let key = state
                        .services
                        .blobs
                        .put(DOCUMENTS, blob)
                        .await
                        .map_err(|e| AppError::Internal(e.into()))?;
                    stored.push(StoredDocument {
                        kind: kind.as_str().to_owned(),
                        blob_key: key.as_str().to_owned(),
                        media_type: format.media_type().to_owned(),
                        size: bytes.len(),
                    });
                }
                Err(e) => errors.push((kind.as_str(), document_error_key(e))),
            },
            None => match held() {
                Some(document) => stored.push(document),
                None if documents_required => errors.push((kind.as_str(), document_error_key(DocumentError::Empty))),
                None => {}
            },
        }
    }
    Ok((stored, errors))
}

/// The application form shown again with its problems, keeping what was typed and the
/// documents that passed.
fn application_again(
    state: &AppState,
    ctx: RequestContext,
    fields: ApplicationFields,
    resubmit_for: Option<i64>,
    errors: FieldErrors,
    stored: Vec<StoredDocument>,
) -> AppResult<Response> {
    let mut page = ApplyTemplate::new(ctx, fields, resubmit_for);
    page.errors = errors;
    for document in stored {
        let Some(kind) = DocumentKind::from_field(&document.kind) else {
            continue;
        };
        let about = page.ctx.tf(
            "issuer.document_held",
            &[
                ("format", document.media_type.rsplit('/').next().unwrap_or_default()),
                ("size", &document.size.div_ceil(1024).to_string()),
            ],
        );
        let reference = form_result::hold_upload(state, &page.ctx, document);
        page.held.push((kind.as_str(), reference, about));
    }
    render_with(StatusCode::UNPROCESSABLE_ENTITY, page)
}

async fn add_documents(
    txn: &impl sea_orm::ConnectionTrait,
    issuer: IssuerId,
    stored: &[StoredDocument],
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    for document in stored {
        let kind = DocumentKind::from_field(&document.kind).ok_or(AppError::BadRequest)?;
        store::issuers::add_document(
            txn,
            issuer,
            kind,
            &BlobKey::parse(&document.blob_key).map_err(|e| AppError::Internal(e.into()))?,
            &document.media_type,
            document.size,
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
    let form = read_application(multipart).await?;
    if !user.identity_verified() {
        return Err(AppError::Forbidden);
    }
    let form_key = FormKey::from_form(&form.form_key)?;
    if let Some(earlier) = form_result::replay(&state, &ctx, &form_key).await? {
        return Ok(earlier);
    }
    let application = IssuerApplication::parse(&form.fields);
    let (stored, mut errors) = collect_documents(&state, &ctx, &form, true).await?;
    let application = match application {
        Ok(application) if errors.is_empty() => application,
        result => {
            if let Err(problems) = result {
                errors.splice(0..0, problems.into_iter().map(application_error_key));
            }
            return application_again(&state, ctx, form.fields, None, errors, stored);
        }
    };
    let status = IssuerStatus::Draft.submit().map_err(|e| AppError::Internal(e.into()))?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let id = store::issuers::create(&txn, &application, &status, user.id, now).await?;
    add_documents(&txn, id, &stored, now).await?;
    let mut entry = audit(&ctx, user.id, AuditAction::IssuerSubmitted, id);
    entry.before = Some(IssuerStatus::Draft.as_str());
    entry.after = Some(status.as_str());
    store::audit::append(&txn, entry, now).await?;
    let location = format!("/console/{id}");
    let answer = form_result::commit::<()>(&state, txn, &ctx, &form_key, &location, None, now).await?;
    tracing::info!(issuer = %id, user = %user.id, "issuer application submitted");
    Ok(answer)
}

fn fields_of(issuer: &Issuer) -> ApplicationFields {
    ApplicationFields {
        legal_name: issuer.legal_name.clone(),
        credit_code: issuer.credit_code.clone(),
        icp_filing: issuer.icp_filing.clone(),
        blockchain_filing: issuer.blockchain_filing.clone(),
        contact_name: issuer.contact_name.clone(),
        contact_email: issuer.contact_email.to_string(),
        contact_phone: issuer.contact_phone.clone(),
    }
}

/// The corrected application form of a rejected issuer (its admins only).
pub async fn resubmit_form(ctx: RequestContext, acting: ActingFor) -> AppResult<Html<String>> {
    if !acting.is_admin || acting.issuer.status.submit().is_err() {
        return Err(AppError::Forbidden);
    }
    render(ApplyTemplate::new(
        ctx,
        fields_of(&acting.issuer),
        Some(acting.issuer.id.0),
    ))
}

pub async fn resubmit(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    multipart: Multipart,
) -> AppResult<Response> {
    let form = read_application(multipart).await?;
    let issuer = &acting.issuer;
    let next = match issuer.status.submit() {
        Ok(next) if acting.is_admin => next,
        _ => return Err(AppError::Forbidden),
    };
    let application = IssuerApplication::parse(&form.fields);
    let (stored, mut errors) = collect_documents(&state, &ctx, &form, false).await?;
    let application = match application {
        Ok(application) if errors.is_empty() => application,
        result => {
            if let Err(problems) = result {
                errors.splice(0..0, problems.into_iter().map(application_error_key));
            }
            return application_again(&state, ctx, form.fields, Some(issuer.id.0), errors, stored);
        }
    };
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
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
    issuer: Issuer,
    /// Its public collections, open ones first.
    cards: Vec<CollectionCard>,
    /// More than the page lists.
    more: bool,
    share: Share,
}

/// Collections an issuer's page lists before linking to the rest.
const ISSUER_PAGE_COLLECTIONS: u64 = 12;

/// The public page of an approved issuer; everything else is 404 to the public.
pub async fn public_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let issuer = store::issuers::find(&state.services.db, IssuerId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    if !issuer.status.is_active() {
        return Err(AppError::NotFound);
    }
    let filter = PublicFilter {
        issuer: Some(issuer.id),
        title: None,
    };
    let mut records =
        store::collections::public(&state.services.db, &filter, Utc::now(), ISSUER_PAGE_COLLECTIONS + 1, 0).await?;
    let more = records.len() as u64 > ISSUER_PAGE_COLLECTIONS;
    records.truncate(ISSUER_PAGE_COLLECTIONS as usize);
    let image = records.first().map(|r| format!("/collections/{}/artwork/1024", r.id));
    let cards = cards(&state, &ctx, records).await?;
    let description = ctx.tf("issuer.share_description", &[("issuer", &issuer.legal_name)]);
    let share = Share::new(
        &ctx,
        &format!("/issuers/{}", issuer.id),
        &issuer.legal_name,
        &description,
        image.as_deref(),
    )?;
    render(PublicTemplate {
        ctx,
        issuer,
        cards,
        more,
        share,
    })
}

// ---- the console ----

#[derive(Template)]
#[template(path = "console_list.html")]
struct ConsoleListTemplate {
    ctx: RequestContext,
    issuers: Vec<(Issuer, bool)>,
}

/// The issuers this user acts for; they choose one to work on.
pub async fn console_list(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
) -> AppResult<Html<String>> {
    let issuers = store::issuers::memberships_of(&state.services.db, user.id).await?;
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
    issuer: Issuer,
    is_admin: bool,
    documents: Vec<DocumentView>,
    members: Vec<MemberRow>,
    keys: Vec<KeyRow>,
    /// A key just created, with the time it stops being shown.
    new_key: Option<(String, String)>,
    notice: Option<&'static str>,
    /// Fresh keys for the invitation and API-key forms: each submission of them acts once.
    invite_form: FormKey,
    key_form: FormKey,
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
    let documents = document_views(store::issuers::documents(&state.services.db, issuer.id).await?);
    let mut members = Vec::new();
    for (id, is_admin) in store::issuers::members(&state.services.db, issuer.id).await? {
        if let Some(user) = store::users::find(&state.services.db, id).await? {
            members.push(MemberRow {
                email: user.email.to_string(),
                is_admin,
            });
        }
    }
    let keys = store::api_keys::list(&state.services.db, issuer.id)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            id: k.id,
            label: k.label,
            prefix: k.prefix,
            created: ctx.time(k.created_at),
            last_used: k.last_used_at.map(|t| ctx.time(t)),
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    let attestations = store::attestations::of_issuer(&state.services.db, issuer.id, CONSOLE_ATTESTATIONS)
        .await?
        .into_iter()
        .map(|(a, entry)| AttestationRow {
            digest: crypto::hex(&a.digest),
            label: a.label,
            created: ctx.time(a.created_at),
            index: entry.map(|e| e.idx),
        })
        .collect();
    let collections = store::collections::of_issuer(&state.services.db, issuer.id)
        .await?
        .into_iter()
        .map(|c| CollectionRow {
            id: c.id.0,
            status: c.status.as_str(),
            edition_size: c.terms.edition_size,
            updated: ctx.time(c.submitted_at.unwrap_or(c.created_at)),
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
        invite_form: FormKey::fresh(),
        key_form: FormKey::fresh(),
        attestations,
    })
}

/// A new API key as kept for the console to show again.
#[derive(serde::Serialize, serde::Deserialize)]
struct NewApiKey {
    key: String,
}

/// How long a new API key stays visible to the member who created it.
const NEW_KEY_SHOWN: Duration = Duration::minutes(15);

#[derive(Deserialize, Default)]
pub struct ConsoleQuery {
    /// The form whose result to show (a new API key).
    #[serde(default)]
    result: String,
    /// `invited` after an invitation went out.
    #[serde(default)]
    notice: String,
}

pub async fn console(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Query(query): Query<ConsoleQuery>,
) -> AppResult<Html<String>> {
    let result = FormKey::parse(&query.result);
    let mut page = console_page(&state, ctx, &acting).await?;
    if let Some(key) = result
        && acting.is_admin
        && let Some((NewApiKey { key }, until)) = form_result::shown(&state, &page.ctx, &key).await?
    {
        page.new_key = Some((key, page.ctx.time(until)));
    }
    if query.notice == "invited" {
        page.notice = Some("console.invited");
    }
    render(page)
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    #[serde(default)]
    form_key: String,
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
    let form_key = FormKey::from_form(&form.form_key)?;
    if let Some(earlier) = form_result::replay(&state, &ctx, &form_key).await? {
        return Ok(earlier);
    }
    let Ok(email) = Email::parse(&form.email) else {
        let mut page = console_page(&state, ctx, &acting).await?;
        page.notice = Some("form.email_malformed");
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    };
    let token = crypto::random_token();
    let now = Utc::now();
    let link = state.services.absolute_url(&format!("/invitations/{token}"));
    let locale = store::users::find_by_email(&state.services.db, &email)
        .await?
        .map_or(ctx.locale, |u| u.locale);
    let message = Mail::IssuerInvitation {
        link: &link,
        issuer: &acting.issuer.legal_name,
    }
    .render(&email, locale, &state.config.operator.name)?;
    let txn = store::begin(&state.services.db).await?;
    store::issuers::invite(
        &txn,
        acting.issuer.id,
        &email,
        crypto::sha3_hex(token.as_bytes()),
        acting.user.id,
        now,
        now + Duration::days(INVITATION_DAYS),
    )
    .await?;
    let mut entry = audit(&ctx, acting.user.id, AuditAction::MemberInvited, acting.issuer.id);
    entry.details = Some(AuditDetails::MemberInvited {
        email: email.as_str().to_owned(),
    });
    store::audit::append(&txn, entry, now).await?;
    mail::enqueue(&txn, message, now).await?;
    let location = format!("/console/{}?notice=invited#members", acting.issuer.id);
    let answer = form_result::commit::<()>(&state, txn, &ctx, &form_key, &location, None, now).await?;
    state.services.mail_wakeup.notify_one();
    Ok(answer)
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

fn invitation_blocker(user: &super::context::SessionUser, invited: &Email) -> Option<&'static str> {
    let same_mailbox = Email::parse(&user.email).is_ok_and(|own| &own == invited);
    if !same_mailbox {
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
        store::issuers::open_invitation(&state.services.db, &crypto::sha3_hex(token.as_bytes()), Utc::now())
            .await?
            .ok_or(AppError::InvalidLink)?;
    let issuer = store::issuers::find(&state.services.db, issuer_id)
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
    let (issuer, invited) = store::issuers::open_invitation(&state.services.db, &hash, now)
        .await?
        .ok_or(AppError::InvalidLink)?;
    if invitation_blocker(&user, &invited).is_some() {
        return Err(AppError::Forbidden);
    }
    let txn = store::begin(&state.services.db).await?;
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
    #[serde(default)]
    form_key: String,
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
    let form_key = FormKey::from_form(&form.form_key)?;
    if let Some(earlier) = form_result::replay(&state, &ctx, &form_key).await? {
        return Ok(earlier);
    }
    if check_visible(form.label.trim(), TextKind::Name).is_err() {
        let mut page = console_page(&state, ctx, &acting).await?;
        page.notice = Some("form.hidden_characters");
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    }
    let label: String = form.label.trim().chars().take(100).collect();
    let label = if label.is_empty() { "API key".to_owned() } else { label };
    let key = format!("ks_{}", crypto::random_token());
    let prefix: String = key.chars().take(10).collect();
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
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
    entry.details = Some(AuditDetails::ApiKeyCreated {
        prefix: prefix.clone(),
        label,
    });
    store::audit::append(&txn, entry, now).await?;
    let location = format!("/console/{}?result={form_key}#api-keys", acting.issuer.id);
    let shown = NewApiKey { key };
    let answer = form_result::commit(
        &state,
        txn,
        &ctx,
        &form_key,
        &location,
        Some((&shown, NEW_KEY_SHOWN)),
        now,
    )
    .await?;
    tracing::info!(issuer = %acting.issuer.id, "API key created");
    Ok(answer)
}

#[derive(Deserialize)]
pub struct RevokeKeyForm {
    confirm: Option<String>,
}

pub async fn revoke_key(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, key)): Path<(i64, i64)>,
    Form(form): Form<RevokeKeyForm>,
) -> AppResult<Response> {
    if !acting.is_admin {
        return Err(AppError::Forbidden);
    }
    confirmed(form.confirm.as_deref())?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    if !store::api_keys::revoke(&txn, acting.issuer.id, key, now).await? {
        return Err(AppError::NotFound);
    }
    let mut entry = audit(&ctx, acting.user.id, AuditAction::ApiKeyRevoked, acting.issuer.id);
    entry.details = Some(AuditDetails::ApiKeyRevoked { key });
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok(Redirect::to(&format!("/console/{}#api-keys", acting.issuer.id)).into_response())
}

/// Documents are never public: members of the issuer and reviewers only.
pub async fn document(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Path((issuer, document)): Path<(i64, i64)>,
) -> AppResult<Response> {
    let issuer = IssuerId(issuer);
    let allowed = ctx.is_reviewer()
        || store::issuers::membership(&state.services.db, issuer, user.id)
            .await?
            .is_some();
    if !allowed {
        return Err(AppError::NotFound);
    }
    let record = store::issuers::document(&state.services.db, issuer, DocumentId(document))
        .await?
        .ok_or(AppError::NotFound)?;
    let blob = state
        .services
        .blobs
        .get(&record.blob_key)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, record.content_type),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{}-{}\"", record.kind.as_str(), record.id),
            ),
        ],
        blob.bytes,
    )
        .into_response())
}
