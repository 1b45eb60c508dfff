//! Audit rows as people read them (the log page, a case's history): the action, subject and
//! states in the reader's language, the actor by (masked) address, the platform's recorded
//! details in words, and the time in Beijing time. The stored rows keep their stable machine
//! values; only the view translates.

use chrono::{DateTime, Utc};

use crate::domain::audit::{AuditDetails, action_key};
use crate::domain::claim_stats::mask_email;
use crate::domain::ids::UserId;
use crate::domain::report::ReportTarget;
use crate::services::audit::{Logged, transfer_period};
use crate::web::context::RequestContext;

/// One audit row, ready to show.
pub struct AuditLine {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    /// The subject's page, where reviewers have one.
    pub subject_link: Option<String>,
    /// "Published → Frozen", or the one state there is.
    pub change: Option<String>,
    pub details: Option<String>,
    pub reason: Option<String>,
    pub request_id: Option<String>,
}

/// The catalogue prefix of a subject type's states.
fn state_prefix(subject_type: &str) -> Option<&'static str> {
    match subject_type {
        "identity" => Some("identity.status_"),
        "issuer" => Some("issuer.status_"),
        "collection" => Some("collection.status_"),
        "token" => Some("token.status_"),
        "user" => Some("role."),
        "report" => Some("report.status_"),
        "appeal" => Some("appeal.status_"),
        _ => None,
    }
}

fn subject_link(ctx: &RequestContext, subject_type: &str, id: &str) -> Option<String> {
    let console = if ctx.is_reviewer() { "review" } else { "regulator" };
    match subject_type {
        "identity" if ctx.is_reviewer() => Some(format!("/review/identities/{id}")),
        "issuer" => Some(format!("/{console}/issuers/{id}")),
        "collection" => Some(format!("/{console}/collections/{id}")),
        "token" => Some(format!("/tokens/{id}")),
        "report" if ctx.is_reviewer() => Some(format!("/review/reports/{id}")),
        "appeal" if ctx.is_reviewer() => Some(format!("/review/appeals/{id}")),
        _ => None,
    }
}

/// A report's or an appeal's target (`collection:12`) as a subject is named (`Collection #12`).
fn target_words(ctx: &RequestContext, target: &str) -> String {
    match ReportTarget::parse(target) {
        Some(target) => ctx.tf(
            &format!("audit.subject_{}", target.kind()),
            &[("id", &target.id().to_string())],
        ),
        None => target.to_owned(),
    }
}

/// The platform's details in words.
fn details(ctx: &RequestContext, details: &AuditDetails) -> String {
    let key = format!("audit.details_{}", details.kind());
    match details {
        AuditDetails::Screened {
            verdict,
            score,
            findings,
            ..
        } => ctx.tf(
            &key,
            &[
                ("verdict", ctx.t2("audit.verdict_", verdict)),
                ("score", &score.to_string()),
                ("findings", &findings.to_string()),
            ],
        ),
        AuditDetails::ReasonCode { code } => ctx.tf(&key, &[("code", ctx.t2("reason_code.", code))]),
        AuditDetails::CodesGenerated {
            batch,
            count,
            through_api,
        } => ctx.tf(
            &key,
            &[
                ("batch", &batch.to_string()),
                ("count", &count.to_string()),
                (
                    "via",
                    ctx.t(if *through_api {
                        "audit.via_api"
                    } else {
                        "audit.via_console"
                    }),
                ),
            ],
        ),
        AuditDetails::AllowlistUploaded { read, added, left_out } => ctx.tf(
            &key,
            &[
                ("read", &read.to_string()),
                ("added", &added.to_string()),
                ("left_out", &left_out.to_string()),
            ],
        ),
        AuditDetails::MemberInvited { email } => ctx.tf(&key, &[("email", email)]),
        AuditDetails::ApiKeyCreated { prefix, label } => ctx.tf(&key, &[("prefix", prefix), ("label", label)]),
        AuditDetails::ApiKeyRevoked { key: id } => ctx.tf(&key, &[("key", &id.to_string())]),
        AuditDetails::TermsAdded {
            category,
            severity,
            added,
            terms,
        } => ctx.tf(
            &key,
            &[
                ("category", ctx.t2("finding.", category)),
                ("severity", ctx.t2("finding.severity_", severity)),
                ("added", &added.to_string()),
                ("terms", &terms.join("、")),
            ],
        ),
        AuditDetails::TermRemoved {
            category,
            severity,
            term,
        } => ctx.tf(
            &key,
            &[
                ("category", ctx.t2("finding.", category)),
                ("severity", ctx.t2("finding.severity_", severity)),
                ("term", term),
            ],
        ),
        AuditDetails::ImageBlocked { entry, label, .. } | AuditDetails::ImageUnblocked { entry, label, .. } => {
            ctx.tf(&key, &[("entry", &entry.to_string()), ("label", label)])
        }
        AuditDetails::ThresholdsChanged {
            four_eyes_before,
            four_eyes_after,
            distance_before,
            distance_after,
        } => ctx.tf(
            &key,
            &[
                ("four_eyes_before", &four_eyes_before.to_string()),
                ("four_eyes_after", &four_eyes_after.to_string()),
                ("distance_before", &distance_before.to_string()),
                ("distance_after", &distance_after.to_string()),
            ],
        ),
        AuditDetails::ArtworkReplaced | AuditDetails::TransferRefused => ctx.t(&key).to_owned(),
        AuditDetails::ReportFiled { target, category } => ctx.tf(
            &key,
            &[
                ("target", &target_words(ctx, target)),
                ("category", ctx.t2("report.category_", category)),
            ],
        ),
        AuditDetails::AppealFiled { decision, target } => ctx.tf(
            &key,
            &[
                ("decision", ctx.t2("appeal.decision_", decision)),
                ("target", &target_words(ctx, target)),
            ],
        ),
        AuditDetails::Revealed { reveal, reference } => {
            ctx.tf(&key, &[("reveal", &reveal.to_string()), ("reference", reference)])
        }
        AuditDetails::Exported {
            export,
            from,
            to,
            issuer,
        } => {
            let issuers = match issuer {
                Some(id) => ctx.tf("audit.export_one_issuer", &[("id", &id.to_string())]),
                None => ctx.t("audit.export_every_issuer").to_owned(),
            };
            ctx.tf(
                &key,
                &[
                    ("export", &export.to_string()),
                    ("from", from),
                    ("to", to),
                    ("issuers", &issuers),
                ],
            )
        }
    }
}

/// Logged rows as people read them.
pub fn lines(ctx: &RequestContext, logged: &Logged) -> Vec<AuditLine> {
    let me = ctx.user.as_ref().map(|u| u.id);
    logged
        .rows
        .iter()
        .cloned()
        .map(|row| {
            let actor = match row.actor_user_id.map(UserId) {
                None => ctx.t("audit.actor_platform").to_owned(),
                Some(id) if Some(id) == me => ctx.t("audit.actor_you").to_owned(),
                Some(id) => logged
                    .actors
                    .get(&id)
                    .map(|email| mask_email(email.as_str()))
                    .unwrap_or_else(|| ctx.t("audit.actor_gone").to_owned()),
            };
            let state = |value: &Option<String>| match (state_prefix(&row.subject_type), value) {
                (Some(prefix), Some(value)) => Some(ctx.t2(prefix, value).to_owned()),
                _ => None,
            };
            let change = match (state(&row.before_state), state(&row.after_state)) {
                (Some(before), Some(after)) => Some(format!("{before} → {after}")),
                (before, after) => after.or(before),
            };
            let details = match transfer_period(&row).and_then(|period| Some((period.1, logged.attempts_of(&row)?))) {
                Some((from, count)) => Some(ctx.tf(
                    "audit.details_transfer_attempts",
                    &[("count", &count.to_string()), ("from", &ctx.time(from))],
                )),
                None => row
                    .details
                    .as_deref()
                    .and_then(|json| serde_json::from_str::<AuditDetails>(json).ok())
                    .map(|d| details(ctx, &d)),
            };
            AuditLine {
                id: row.id,
                at: row.at,
                actor,
                action: ctx.t(&action_key(&row.action)).to_owned(),
                subject: ctx.tf(
                    &format!("audit.subject_{}", row.subject_type),
                    &[("id", row.subject_id.as_str())],
                ),
                subject_link: subject_link(ctx, &row.subject_type, &row.subject_id),
                change,
                details,
                reason: row.reason,
                request_id: row.request_id,
            }
        })
        .collect()
}
