//! The issuer application form (KYB), shared by a first application and a rejected issuer's
//! correction: reading the multipart form with its three documents, checking every field and
//! document at once, and showing the form again with its problems while keeping what was
//! typed and the documents that passed.

use askama::Template;
use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;

use crate::domain::age::beijing_date;
use crate::domain::documents::{DocumentError, DocumentKind};
use crate::domain::filing_dates::{Filing, FilingDateFields};
use crate::domain::filings::FilingError;
use crate::domain::issuer::{ApplicationError, ApplicationFields, Issuer, IssuerApplication, MemberStanding};
use crate::services::forms::FormKey;
use crate::services::issuers::{self, StoredDocument};
use crate::state::AppState;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::form_result;
use crate::web::render::render_with;

/// (form field, message key) pairs for every problem in an application.
pub type FieldErrors = Vec<(&'static str, &'static str)>;

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
        ApplicationError::FilingDate(filing) => (date_field(filing), "filings.error_date"),
    }
}

/// The form field of a filing's validity date.
pub fn date_field(filing: Filing) -> &'static str {
    match filing {
        Filing::BusinessLicence => "licence_valid_until",
        Filing::Icp => "icp_valid_until",
        Filing::Blockchain => "blockchain_valid_until",
    }
}

/// (field name, filing kind, typed value) of each validity date, in form order: the inputs
/// the application and the renewal forms show.
pub fn date_inputs(dates: &FilingDateFields) -> [(&'static str, &'static str, &str); 3] {
    Filing::ALL.map(|f| (date_field(f), f.as_str(), dates.get(f)))
}

/// The filing whose validity date a form field holds.
pub fn date_filing(field: &str) -> Option<Filing> {
    Filing::ALL.into_iter().find(|f| date_field(*f) == field)
}

fn document_error_key(error: DocumentError) -> &'static str {
    match error {
        DocumentError::Empty => "issuer.error_document_missing",
        DocumentError::TooLarge => "issuer.error_document_large",
        DocumentError::UnsupportedFormat => "issuer.error_document_format",
    }
}

#[derive(Template)]
#[template(path = "issuer_apply.html")]
pub struct ApplyTemplate {
    pub ctx: RequestContext,
    pub fields: ApplicationFields,
    pub errors: FieldErrors,
    /// Whether the applicant may act for a business (a resubmission's founder already did).
    pub standing: MemberStanding,
    /// Set when a rejected issuer corrects its application.
    pub resubmit_for: Option<i64>,
    /// The form's key: one application however often it is sent.
    pub form_key: FormKey,
    /// Documents that passed their checks in an earlier attempt: (field, sealed reference,
    /// what it is), so that the form need not ask for them again.
    pub held: Vec<(&'static str, String, String)>,
}

impl ApplyTemplate {
    pub fn new(ctx: RequestContext, fields: ApplicationFields, resubmit_for: Option<i64>) -> Self {
        ApplyTemplate {
            ctx,
            fields,
            errors: Vec::new(),
            standing: MemberStanding::Eligible,
            resubmit_for,
            form_key: FormKey::fresh(),
            held: Vec::new(),
        }
    }

    fn unverified(&self) -> bool {
        self.standing == MemberStanding::Unverified
    }

    fn too_young(&self) -> bool {
        self.standing == MemberStanding::TooYoung
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

    fn date_fields(&self) -> [(&'static str, &'static str, &str); 3] {
        date_inputs(&self.fields.filing_dates)
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

/// The form fields of an issuer's application as it stands.
pub fn fields_of(issuer: &Issuer) -> ApplicationFields {
    ApplicationFields {
        legal_name: issuer.legal_name.clone(),
        credit_code: issuer.credit_code.clone(),
        icp_filing: issuer.icp_filing.clone(),
        blockchain_filing: issuer.blockchain_filing.clone(),
        contact_name: issuer.contact_name.clone(),
        contact_email: issuer.contact_email.to_string(),
        contact_phone: issuer.contact_phone.clone(),
        filing_dates: FilingDateFields::of(&issuer.filings.dates),
    }
}

/// The multipart application as sent: text fields, uploads, held references, form key.
pub struct ApplicationForm {
    pub fields: ApplicationFields,
    uploads: Vec<(DocumentKind, Bytes)>,
    held: Vec<(DocumentKind, String)>,
    pub form_key: String,
}

/// Reads the multipart form: text fields, the three documents and references to documents an
/// earlier attempt already accepted.
pub async fn read(mut multipart: Multipart) -> AppResult<ApplicationForm> {
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
        if let Some(filing) = date_filing(&name) {
            *form.fields.filing_dates.get_mut(filing) = text;
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

/// An application that passed its checks, with its stored documents; or the form to show
/// again.
pub enum Checked {
    Valid(IssuerApplication, Vec<StoredDocument>),
    Again(Response),
}

/// Checks the fields and each document kind together, so every problem is reported at once.
/// A document is a new upload (stored at once when it passes, so that a form shown again for
/// another field keeps it), or else the one an earlier attempt held. On resubmission
/// (`resubmit_for`) documents are optional: the ones sent are added to those on file.
pub async fn check(
    state: &AppState,
    ctx: RequestContext,
    form: ApplicationForm,
    resubmit_for: Option<i64>,
) -> AppResult<Checked> {
    let application = IssuerApplication::parse(&form.fields, beijing_date(chrono::Utc::now()));
    let mut stored = Vec::new();
    let mut errors: FieldErrors = Vec::new();
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
                .and_then(|(_, reference)| form_result::held_upload::<StoredDocument>(&state.services, &ctx, reference))
                .filter(|document| document.kind == kind.as_str())
        };
        match upload {
            Some(bytes) => match issuers::accept_document(&state.services, kind, bytes).await? {
                Ok(document) => stored.push(document),
                Err(e) => errors.push((kind.as_str(), document_error_key(e))),
            },
            None => match held() {
                Some(document) => stored.push(document),
                None if resubmit_for.is_none() => {
                    errors.push((kind.as_str(), document_error_key(DocumentError::Empty)));
                }
                None => {}
            },
        }
    }
    match application {
        Ok(application) if errors.is_empty() => Ok(Checked::Valid(application, stored)),
        result => {
            if let Err(problems) = result {
                errors.splice(0..0, problems.into_iter().map(application_error_key));
            }
            again(state, ctx, form.fields, resubmit_for, errors, stored).map(Checked::Again)
        }
    }
}

/// The application form shown again with its problems, keeping what was typed and the
/// documents that passed.
fn again(
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
        let reference = form_result::hold_upload(&state.services, &page.ctx, document);
        page.held.push((kind.as_str(), reference, about));
    }
    render_with(StatusCode::UNPROCESSABLE_ENTITY, page)
}
