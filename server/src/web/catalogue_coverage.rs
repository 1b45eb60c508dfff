//! The test that every message key the code can ask for is in both catalogues.
//!
//! A key missing at run time shows as `…` on the page (see [`Locale::t`]). Keys reach the
//! catalogue in three ways, and the test follows each, reading `server/src` (all of it) and
//! the expressions of `server/templates` (`{{ … }}`, `{% … %}`) by content, not by file name:
//!
//! - **Written out.** Every string literal that looks like a key (`section.name`, the first
//!   segment a catalogue section) must be a key. Taking every literal rather than the
//!   arguments of `t`/`tf` catches keys however they travel to a page: the labels of
//!   `NextStep`s, keys kept in tables and fields (`("title", "collection.error_title")`,
//!   `notice = Some("console.invited")`), the arguments of template macros. The few key-shaped
//!   literals that are not keys are recognised for what they are: audit action names,
//!   configuration settings, file names, and the prefix of a mail's keys (a catalogue table:
//!   `mail::Mail` appends the parts of a mail to it). A literal given straight to `t` or `tf`
//!   must be a key whatever it looks like.
//! - **A prefix and a value.** A literal that stops where a value goes on (`"token.status_"`,
//!   `"finding."`, given to `t2` or kept to give it), or a `format!` string with a key before
//!   its first placeholder (`"role.{}"`, `"audit.action_{}"`), builds a family of keys.
//!   [`families`] holds every family with every value it can be given, taken from the types
//!   that produce the values (`ALL` constants, one sample of every error, ledger entry and
//!   finding). The test fails on a family the code builds that the table does not know, on
//!   one the table knows that nothing builds any more, and on any member missing. Values a
//!   template loops over in a literal list (`{% for action in ["suspend", …] %}` …
//!   `t2("review.", action)`) join their family straight from the template.
//! - **Error pages.** The page of an error with code `c` shows `error.c.title` and
//!   `error.c.body` (`web::error_page`): the families `error.{}.title` and `error.{}.body`,
//!   whose values are the codes of [`AppError::samples`], every claim refusal among them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use moderation::{Category, Verdict};

use crate::config::ALL_SETTINGS;
use crate::domain::allowlist::RowProblem;
use crate::domain::appeal::{AppealStatus, AppealableDecision};
use crate::domain::audit::{AuditAction, AuditDetails, AuditSubject};
use crate::domain::claim::ClaimRefusal;
use crate::domain::collection::{ClaimMode, CollectionStatus};
use crate::domain::data_export::ExportStatus;
use crate::domain::documents::DocumentKind;
use crate::domain::filing_dates::Filing;
use crate::domain::governance::CountedRefusal;
use crate::domain::identity::IdentityStatus;
use crate::domain::issuer::IssuerStatus;
use crate::domain::policy::PolicyDocument;
use crate::domain::report::{ReportCategory, ReportStatus};
use crate::domain::role::Role;
use crate::domain::screening::{Finding, ReasonCode, TermKind};
use crate::domain::token::TokenStatus;
use crate::i18n::Locale;
use crate::ledger::entry::EntryBody;
use crate::ledger::receipt::field_pairs;
use crate::web::error::AppError;
use crate::web::filings_view;
use crate::web::pages::email_change;

/// Where the value goes in a family's pattern.
const VALUE: &str = "{}";

/// The parts of a mail, which `mail::Mail` looks up under the mail's prefix (`mail.verify.subject`).
const MAIL_PARTS: [&str; 4] = ["subject", "intro", "action", "note"];

fn names<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names.into_iter().map(str::to_owned).collect()
}

/// Every family of keys built from a prefix and a value: its pattern, [`VALUE`] standing for
/// the value, and every value the code can give it.
fn families() -> BTreeMap<String, BTreeSet<String>> {
    let error_codes = names(AppError::samples().iter().map(|error| error.page().code));
    // `web::claim_box` words these refusals with keys of their own (or, for a signed-out
    // visitor, never meets them); every other refusal is `claim.refused_<code>`.
    let refused = ClaimRefusal::ALL.into_iter().filter(|refusal| {
        !matches!(
            refusal,
            ClaimRefusal::IdentityNotVerified
                | ClaimRefusal::IdConsentNeeded
                | ClaimRefusal::AgeRestricted
                | ClaimRefusal::PoliciesNotAccepted
                | ClaimRefusal::LimitReached
                | ClaimRefusal::NotOnAllowlist
                | ClaimRefusal::NotYetOpen
                | ClaimRefusal::Closed
                | ClaimRefusal::SoldOut
                | ClaimRefusal::CodeRequired
        )
    });
    let collection_states = names(CollectionStatus::ALL.iter().map(CollectionStatus::as_str));
    // A token page explains the state of a token that is not active.
    let token_sanctions = names(
        TokenStatus::ALL
            .iter()
            .filter(|status| **status != TokenStatus::Active)
            .map(TokenStatus::as_str),
    );
    let claim_modes = names(ClaimMode::ALL.map(ClaimMode::as_str));
    let subject_kinds = names(AuditSubject::ALL.iter().map(AuditSubject::kind));
    let bodies = entry_bodies();
    // An attestation's summary is `proof.summary_attestation`, whatever its kind.
    let summarised = bodies.iter().filter(|body| {
        !matches!(
            body,
            EntryBody::HashAttestation { .. } | EntryBody::LabelledHashAttestation { .. }
        )
    });
    BTreeMap::from([
        ("error.{}.title", error_codes.clone()),
        ("error.{}.body", error_codes),
        ("claim.refused_{}", names(refused.map(ClaimRefusal::code))),
        ("role.{}", names(Role::ALL.map(Role::as_str))),
        ("policy.title_{}", names(PolicyDocument::ALL.map(PolicyDocument::slug))),
        (
            "identity.status_{}",
            names(IdentityStatus::ALL.iter().map(IdentityStatus::as_str)),
        ),
        (
            "issuer.status_{}",
            names(IssuerStatus::ALL.iter().map(IssuerStatus::as_str)),
        ),
        ("collection.status_{}", collection_states.clone()),
        ("collection.help_{}", collection_states),
        (
            "token.status_{}",
            names(TokenStatus::ALL.iter().map(TokenStatus::as_str)),
        ),
        ("token.holder_notice_{}", token_sanctions.clone()),
        ("token.holder_next_{}", token_sanctions.clone()),
        ("token.public_notice_{}", token_sanctions),
        ("collection.mode_{}", claim_modes.clone()),
        ("explore.mode_{}", claim_modes),
        // The phases `web::explore` gives a collection's card; no type holds them.
        (
            "explore.phase_{}",
            names(["open", "upcoming", "ended", "sold_out", "paused"]),
        ),
        ("issuer.{}", names(DocumentKind::ALL.map(DocumentKind::as_str))),
        ("filings.name_{}", names(Filing::ALL.map(Filing::as_str))),
        ("filings.standing_name_{}", names(filings_view::STANDINGS)),
        ("email_change.title_{}", names(email_change::STEPS)),
        ("email_change.body_{}", names(email_change::STEPS)),
        ("email_change.button_{}", names(email_change::STEPS)),
        ("allowlist.problem_{}", names(RowProblem::ALL.map(RowProblem::as_str))),
        ("reason_code.{}", names(ReasonCode::ALL.map(ReasonCode::as_str))),
        ("finding.{}", finding_categories()),
        ("finding.severity_{}", names(TermKind::ALL.map(TermKind::as_str))),
        ("audit.verdict_{}", verdicts()),
        (
            "audit.action_{}",
            AuditAction::ALL
                .iter()
                .map(|action| action.as_str().replace('.', "_"))
                .collect(),
        ),
        (
            "audit.details_{}",
            names(AuditDetails::ALL.iter().map(AuditDetails::kind)),
        ),
        ("audit.subject_{}", subject_kinds.clone()),
        ("audit.kind_{}", subject_kinds),
        ("proof.kind_{}", names(bodies.iter().map(EntryBody::type_name))),
        ("proof.summary_{}", names(summarised.map(EntryBody::type_name))),
        (
            "proof.field_{}",
            bodies.iter().flat_map(field_pairs).map(|(name, _)| name).collect(),
        ),
        (
            "report.category_{}",
            names(ReportCategory::ALL.map(ReportCategory::as_str)),
        ),
        ("report.about_{}", names(["collection", "token", "issuer"])),
        ("data.status_{}", names(ExportStatus::ALL.map(ExportStatus::as_str))),
        (
            "report.status_{}",
            names(report_statuses().iter().map(ReportStatus::as_str)),
        ),
        (
            "appeal.decision_{}",
            names(AppealableDecision::ALL.map(AppealableDecision::as_str)),
        ),
        (
            "appeal.status_{}",
            names(appeal_statuses().iter().map(AppealStatus::as_str)),
        ),
        (
            "governance.refusal_{}",
            names(CountedRefusal::ALL.map(CountedRefusal::as_str)),
        ),
        // The review pages loop over their actions in a literal list, which the scan adds.
        ("review.{}", BTreeSet::new()),
        ("review.collection_{}", BTreeSet::new()),
    ])
    .into_iter()
    .map(|(pattern, values)| (pattern.to_owned(), values))
    .collect()
}

/// A report in each status.
fn report_statuses() -> [ReportStatus; 3] {
    let (code, reason) = (ReasonCode::Other, String::new());
    [
        ReportStatus::Open,
        ReportStatus::Upheld {
            code,
            reason: reason.clone(),
        },
        ReportStatus::Dismissed { code, reason },
    ]
}

/// An appeal in each status.
fn appeal_statuses() -> [AppealStatus; 3] {
    [
        AppealStatus::Open,
        AppealStatus::Upheld { reason: String::new() },
        AppealStatus::Overturned { reason: String::new() },
    ]
}

/// One ledger entry of each kind.
fn entry_bodies() -> Vec<EntryBody> {
    let bodies = vec![
        EntryBody::HashAttestation {
            issuer_id: 1,
            sha3_256: [0; 32],
            label_sha3_256: [0; 32],
        },
        EntryBody::LabelledHashAttestation {
            issuer_id: 1,
            sha3_256: [0; 32],
            label: String::new(),
        },
        EntryBody::IssuerApproved {
            issuer_id: 1,
            credit_code: String::new(),
            legal_name: String::new(),
        },
        EntryBody::IssuerSuspended { issuer_id: 1 },
        EntryBody::IssuerReinstated { issuer_id: 1 },
        EntryBody::IssuerRevoked { issuer_id: 1 },
        EntryBody::IssuerFilingsLapsed { issuer_id: 1 },
        EntryBody::IssuerFilingsRenewed { issuer_id: 1 },
        EntryBody::CollectionPublished {
            issuer_id: 1,
            collection_id: 1,
            content_hash: [0; 32],
            edition_size: 1,
        },
        EntryBody::TokenMinted {
            collection_id: 1,
            serial: 1,
            content_hash: [0; 32],
            holder_commitment: [0; 32],
        },
        EntryBody::TokenFrozen {
            collection_id: 1,
            serial: 1,
        },
        EntryBody::TokenRevoked {
            collection_id: 1,
            serial: 1,
        },
        EntryBody::TokenUnfrozen {
            collection_id: 1,
            serial: 1,
        },
        EntryBody::LogContinued {
            previous_origin: String::new(),
            previous_size: 1,
            previous_root: [0; 32],
        },
        EntryBody::CollectionRevoked { collection_id: 1 },
    ];
    for body in &bodies {
        // No wildcard arm: a new kind of entry stops this compiling until it is named here, and
        // so reminds whoever adds it to add a sample above.
        match body {
            EntryBody::HashAttestation { .. }
            | EntryBody::LabelledHashAttestation { .. }
            | EntryBody::IssuerApproved { .. }
            | EntryBody::IssuerSuspended { .. }
            | EntryBody::IssuerReinstated { .. }
            | EntryBody::IssuerRevoked { .. }
            | EntryBody::IssuerFilingsLapsed { .. }
            | EntryBody::IssuerFilingsRenewed { .. }
            | EntryBody::CollectionPublished { .. }
            | EntryBody::TokenMinted { .. }
            | EntryBody::TokenFrozen { .. }
            | EntryBody::TokenRevoked { .. }
            | EntryBody::TokenUnfrozen { .. }
            | EntryBody::LogContinued { .. }
            | EntryBody::CollectionRevoked { .. } => {}
        }
    }
    bodies
}

/// The categories a reviewer sees findings under: the term lists', and the image findings' own.
fn finding_categories() -> BTreeSet<String> {
    let mut categories = names(Category::ALL.map(Category::as_str));
    let images = [
        Finding::Blocklisted {
            entry: 1,
            label: String::new(),
            distance: 0,
        },
        Finding::Similar {
            collection: 1,
            distance: 0,
        },
    ];
    for finding in &images {
        // No wildcard arm: a new kind of finding has to be placed here.
        match finding {
            Finding::Text { .. } => unreachable!("a text finding has its term list's category"),
            Finding::Blocklisted { .. } | Finding::Similar { .. } => {
                categories.insert(finding.category().to_owned());
            }
        }
    }
    categories
}

/// Every screening verdict.
fn verdicts() -> BTreeSet<String> {
    let all = [Verdict::LowRisk, Verdict::NeedsReview, Verdict::AutoReject];
    // No wildcard arm: a new verdict stops this compiling until it is named here, and so
    // reminds whoever adds it to list it above.
    names(all.map(|verdict| match verdict {
        Verdict::LowRisk | Verdict::NeedsReview | Verdict::AutoReject => verdict.as_str(),
    }))
}

/// A string literal, with the last few characters of code before it (white space aside), which
/// say whether it is given straight to `t`, `tf` or `t2`.
struct Literal {
    text: String,
    before: String,
}

/// The string literals of Rust code (or of a template's expressions), skipping comments and
/// character literals.
fn literals(code: &str) -> Vec<Literal> {
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let find = |from: usize, needle: &[u8]| {
        bytes[from.min(bytes.len())..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map_or(bytes.len(), |at| from + at)
    };
    let mut found = Vec::new();
    let mut push = |start: usize, end: usize, quote: usize| {
        let before = code[..quote].trim_end();
        let from = before.char_indices().rev().nth(7).map_or(0, |(at, _)| at);
        found.push(Literal {
            text: code[start..end].to_owned(),
            before: before[from..].to_owned(),
        });
    };
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = find(i, b"\n"),
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = find(i + 2, b"*/") + 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\\') => i = find(i + 3, b"'") + 1,
            b'\'' => {
                // A character literal, or a lifetime or label (no closing quote).
                let width = code[i + 1..].chars().next().map_or(1, char::len_utf8);
                i += if bytes.get(i + 1 + width) == Some(&b'\'') {
                    width + 2
                } else {
                    1
                };
            }
            b'"' => {
                let mut end = i + 1;
                while end < bytes.len() && bytes[end] != b'"' {
                    end += if bytes[end] == b'\\' { 2 } else { 1 };
                }
                let end = end.min(bytes.len());
                push(i + 1, end, i);
                i = end + 1;
            }
            b'r' if i == 0 || !is_ident(bytes[i - 1]) || matches!(bytes[i - 1], b'b' | b'c') => {
                let hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
                let open = i + 1 + hashes;
                if bytes.get(open) == Some(&b'"') {
                    let close = [b"\"".as_slice(), &vec![b'#'; hashes]].concat();
                    let end = find(open + 1, &close);
                    push(open + 1, end, open);
                    i = end + close.len();
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    found
}

/// The expressions and statements of a template (`{{ … }}`, `{% … %}`), one a line.
fn template_code(template: &str) -> String {
    let mut code = String::new();
    let mut rest = template;
    while let Some(open) = [rest.find("{{"), rest.find("{%")].into_iter().flatten().min() {
        let close = if rest[open..].starts_with("{{") { "}}" } else { "%}" };
        let inside = &rest[open + 2..];
        let end = inside.find(close).unwrap_or(inside.len());
        code.push_str(&inside[..end]);
        code.push('\n');
        rest = &inside[(end + 2).min(inside.len())..];
    }
    code
}

/// What a template's loops over a literal list give `t2`: `{% for action in ["a", "b"] %}` …
/// `t2("review.", action)` … `{% endfor %}` gives the family `review.{}` the values a and b.
fn loop_values(template: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for (start, _) in template.match_indices("{%") {
        let statement = template[start + 2..].trim_start_matches(['-', '+', '~']).trim_start();
        let Some((head, body)) = statement.strip_prefix("for ").and_then(|s| s.split_once("%}")) else {
            continue;
        };
        let Some((name, list)) = head.split_once(" in ") else {
            continue;
        };
        let list = list.trim_end_matches(['-', '+', '~']).trim();
        let Some(list) = list.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
            continue;
        };
        let values: Vec<String> = literals(list).into_iter().map(|l| l.text).collect();
        let body = body.split("endfor").next().unwrap_or_default();
        let argument = format!(", {})", name.trim());
        for call in body.split("t2(\"").skip(1) {
            if let Some((prefix, rest)) = call.split_once('"')
                && rest.starts_with(&argument)
            {
                found.push((format!("{prefix}{VALUE}"), values.clone()));
            }
        }
    }
    found
}

/// What a literal is to the catalogue.
#[derive(Debug, PartialEq, Eq)]
enum Shape {
    /// `section.name`: a key, or something named like one.
    Key,
    /// The pattern of a family of keys: `finding.` and `role.{}` are `finding.{}` and `role.{}`.
    Family(String),
    /// Not about the catalogue.
    Other,
}

/// The shape of `text`, given the catalogue's first segments.
fn shape(text: &str, sections: &BTreeSet<&str>) -> Shape {
    let (head, placeholder) = match text.split_once('{') {
        Some((head, rest)) => (head, Some(rest)),
        None => (text, None),
    };
    let keylike = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.".contains(&b))
    };
    let Some((section, _)) = head.split_once('.') else {
        return Shape::Other;
    };
    if !head.starts_with(|c: char| c.is_ascii_lowercase()) || !keylike(head) || !sections.contains(section) {
        return Shape::Other;
    }
    match placeholder {
        Some(rest) => match rest.split_once('}') {
            Some((_, tail)) if keylike(tail) => Shape::Family(format!("{head}{VALUE}{tail}")),
            _ => Shape::Other,
        },
        None if head.ends_with(['.', '_']) => Shape::Family(format!("{head}{VALUE}")),
        None if head.split('.').all(|segment| !segment.is_empty()) => Shape::Key,
        None => Shape::Other,
    }
}

/// Key-shaped literals that name something else: audit actions (`collection.screened`),
/// configuration settings (`mail.from`) and files (`login.html`).
fn names_something_else(text: &str) -> bool {
    AuditAction::ALL.iter().any(|action| action.as_str() == text)
        || ALL_SETTINGS.iter().any(|setting| setting.key == text)
        || text
            .rsplit('.')
            .next()
            .is_some_and(|extension| matches!(extension, "html" | "txt" | "csv" | "json" | "png" | "svg"))
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// What the scan found wrong, and how many keys it checked.
#[derive(Default)]
struct Report {
    problems: BTreeSet<String>,
    checked: BTreeSet<String>,
}

impl Report {
    fn key(&mut self, key: &str, origin: &str) {
        self.checked.insert(key.to_owned());
        for locale in Locale::ALL {
            if !locale.has(key) {
                self.problems
                    .insert(format!("`{key}` is missing in {} (used by {origin})", locale.tag()));
            }
        }
    }
}

/// Every key the code and templates can ask for is in both catalogues; the module doc says how
/// they are found.
#[test]
fn every_key_the_code_can_ask_for_is_in_both_catalogues() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let keys: BTreeSet<&str> = Locale::ALL.iter().flat_map(|l| l.keys()).collect();
    let sections: BTreeSet<&str> = keys.iter().filter_map(|key| key.split('.').next()).collect();
    let tables: BTreeSet<&str> = keys
        .iter()
        .flat_map(|key| key.match_indices('.').map(|(at, _)| &key[..at]))
        .collect();
    let mut families = families();
    // Each family the code builds, and where.
    let mut built: Vec<(String, String)> = Vec::new();
    let mut report = Report::default();
    let mut files = Vec::new();
    source_files(&root.join("src"), &mut files);
    source_files(&root.join("templates"), &mut files);
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        // This file's own literals are the table, not uses of it.
        if path.ends_with(file!()) {
            continue;
        }
        let origin = path.strip_prefix(root).unwrap().display().to_string();
        let code = if path.extension().is_some_and(|e| e == "rs") {
            text
        } else {
            for (pattern, values) in loop_values(&text) {
                if let Some(known) = families.get_mut(&pattern) {
                    known.extend(values);
                }
            }
            template_code(&text)
        };
        for literal in literals(&code) {
            let text = literal.text.as_str();
            if literal.before.ends_with("t2(") {
                built.push((format!("{text}{VALUE}"), origin.clone()));
                continue;
            }
            if literal.before.ends_with(".t(") || literal.before.ends_with(".tf(") {
                report.key(text, &origin);
                continue;
            }
            match shape(text, &sections) {
                Shape::Family(pattern) => built.push((pattern, origin.clone())),
                Shape::Key if keys.contains(text) => report.key(text, &origin),
                Shape::Key if names_something_else(text) => {}
                Shape::Key if text.starts_with("mail.") && tables.contains(text) => {
                    for part in MAIL_PARTS {
                        report.key(&format!("{text}.{part}"), &origin);
                    }
                }
                Shape::Key => {
                    report.problems.insert(format!(
                        "`{text}` in {origin} looks like a key but is in neither catalogue"
                    ));
                }
                Shape::Other => {}
            }
        }
    }
    for (pattern, origin) in &built {
        if !families.contains_key(pattern) {
            report.problems.insert(format!(
                "{origin} builds keys `{pattern}`, unknown to families(): list every value it can take there"
            ));
        }
    }
    for (pattern, values) in &families {
        if !built.iter().any(|(used, _)| used == pattern) {
            report
                .problems
                .insert(format!("families() lists `{pattern}`, which nothing builds any more"));
        }
        if values.is_empty() {
            report
                .problems
                .insert(format!("families() gives `{pattern}` no values"));
        }
        for value in values {
            report.key(&pattern.replace(VALUE, value), &format!("`{pattern}` with `{value}`"));
        }
    }
    assert!(
        report.problems.is_empty(),
        "{} problem(s) with message keys:\n{}",
        report.problems.len(),
        report.problems.iter().cloned().collect::<Vec<_>>().join("\n")
    );
    assert!(
        report.checked.len() > 700 && built.len() > 50,
        "the scan found only {} keys and {} families built: is it still reading the sources?",
        report.checked.len(),
        built.len()
    );
}

#[test]
fn literals_are_found_in_code_but_not_in_comments() {
    let code = r##"
        // ctx.t("in.comment")
        let c = '"'; let l: &'a str = "a.b"; /* "in.block" */
        let raw = r#"raw "quoted" text"#; let e = "esc\"aped";
        ctx.t2(
            "token.status_", status)
    "##;
    let found: Vec<(String, bool)> = literals(code)
        .into_iter()
        .map(|l| (l.text, l.before.ends_with("t2(")))
        .collect();
    let expected = [
        ("a.b", false),
        (r#"raw "quoted" text"#, false),
        (r#"esc\"aped"#, false),
        ("token.status_", true),
    ];
    assert_eq!(found, expected.map(|(text, t2)| (text.to_owned(), t2)));
}

#[test]
fn shapes_of_keys_and_families() {
    let sections = BTreeSet::from(["nav", "error", "finding"]);
    assert_eq!(shape("nav.home", &sections), Shape::Key);
    assert_eq!(
        shape("error.{}.title", &sections),
        Shape::Family("error.{}.title".to_owned())
    );
    assert_eq!(shape("finding.", &sections), Shape::Family("finding.{}".to_owned()));
    assert_eq!(
        shape("nav.status_{name}", &sections),
        Shape::Family("nav.status_{}".to_owned())
    );
    assert_eq!(shape("other.home", &sections), Shape::Other);
    assert_eq!(shape("nav.Home", &sections), Shape::Other);
    assert_eq!(shape("nav.{a}.{b}", &sections), Shape::Other);
    assert_eq!(shape("/nav/{id}", &sections), Shape::Other);
}

#[test]
fn template_loops_give_their_values() {
    let template = r#"{% for action in ["suspend", "revoke"] %}<b>{{ ctx.t2("review.", action) }}</b>{% endfor %}
        {% for other in list %}{{ ctx.t2("finding.", other) }}{% endfor %}"#;
    assert_eq!(
        loop_values(template),
        [("review.{}".to_owned(), vec!["suspend".to_owned(), "revoke".to_owned()])]
    );
}
