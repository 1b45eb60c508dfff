//! Outgoing mail: what each message says, and how it leaves.
//!
//! A service renders a [`Mail`] in the recipient's language and queues it in the outbox in the
//! same transaction as the change that caused it; the outbox worker in `jobs` delivers it
//! through a [`Transport`]. Bodies are askama templates (`templates/emails/`), text and HTML.

mod transport;

use askama::Template;

pub use transport::{SendError, Transport};

use crate::domain::account::Email;
use crate::domain::email_token::TokenPurpose;
use crate::domain::filing_dates::Filing;
use crate::i18n::Locale;
use crate::store::outbox::NewMail;

/// Every message the platform sends.
#[derive(Debug, Clone, Copy)]
pub enum Mail<'a> {
    VerifyEmail {
        link: &'a str,
    },
    ResetPassword {
        link: &'a str,
    },
    /// Failed log-ins from many places locked the account; the link unlocks it.
    UnlockLogin {
        link: &'a str,
    },
    /// To a new address: the link makes it the account's.
    ConfirmEmailChange {
        link: &'a str,
    },
    /// To the old address once the change is made: the link puts it back.
    EmailChanged {
        link: &'a str,
    },
    /// To the old address once it is back: the link leads to a new password.
    EmailChangeUndone {
        link: &'a str,
    },
    /// The archive of a person's data is ready; the link leads to the page it is downloaded
    /// from, after logging in.
    DataArchiveReady {
        link: &'a str,
    },
    /// An administrator removed the account's second factor; the link leads to setting up a
    /// new one.
    SecondFactorReset {
        link: &'a str,
    },
    /// A correction was refused; the identity verified before stays.
    IdentityCorrectionRefused {
        link: &'a str,
        reason: &'a str,
    },
    IdentityVerified {
        link: &'a str,
    },
    IdentityRejected {
        link: &'a str,
        reason: &'a str,
    },
    /// An issuer's registration changed status (`status` is the new one); `reason` may be empty.
    IssuerStatus {
        link: &'a str,
        issuer: &'a str,
        status: IssuerNotice,
        reason: &'a str,
    },
    IssuerInvitation {
        link: &'a str,
        issuer: &'a str,
    },
    /// A reviewer froze, unfroze or revoked a holder's token (`collection` names it, with its
    /// serial).
    TokenStatus {
        link: &'a str,
        collection: &'a str,
        status: TokenNotice,
        reason: &'a str,
    },
    /// Screening or a reviewer decided a collection; `reason` is the note the issuer sees.
    CollectionStatus {
        link: &'a str,
        collection: &'a str,
        status: CollectionNotice,
        reason: &'a str,
    },
    /// To a reporter who left an address: their report was decided (`upheld` or dismissed),
    /// with the reviewer's reason; the link is the report's status page.
    ReportDecided {
        link: &'a str,
        reason: &'a str,
        upheld: bool,
    },
    /// To an appellant: another reviewer decided their appeal (`overturned` or upheld), with
    /// the reason; the link is where they see the decision.
    AppealDecided {
        link: &'a str,
        reason: &'a str,
        overturned: bool,
    },
    /// To every administrator: a regulator opened one person's identity on a legal request.
    IdentityRevealed {
        link: &'a str,
        reference: &'a str,
    },
    /// An organisation's filings: a reminder before `filing` runs out after `last_day`, its
    /// lapse, or a renewal decided (`reason` for a refusal). `issuer` is empty for the
    /// operator's own filings, which go to administrators.
    Filings {
        link: &'a str,
        issuer: &'a str,
        notice: FilingNotice,
        filing: Filing,
        last_day: chrono::NaiveDate,
        reason: &'a str,
    },
}

/// What a mail about filings reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingNotice {
    /// The issuer's first filing runs out soon.
    Due,
    /// It ran out: claims on the issuer's collections paused.
    Lapsed,
    /// A reviewer accepted the issuer's renewal.
    Renewed,
    /// A reviewer refused the issuer's renewal.
    RenewalRefused,
    /// The operator's first filing runs out soon.
    OperatorDue,
    /// The operator's filing ran out: every claim paused.
    OperatorLapsed,
}

/// A reviewer froze, unfroze or revoked one of the recipient's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenNotice {
    Frozen,
    Unfrozen,
    Revoked,
}

/// Which collection decision a notice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionNotice {
    AutoRejected,
    Approved,
    ChangesRequested,
    Rejected,
    Frozen,
    Unfrozen,
}

/// Which issuer decision a notice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerNotice {
    Approved,
    Rejected,
    Suspended,
    Reinstated,
    Revoked,
}

#[derive(Template, Clone, Copy)]
#[template(path = "emails/action.txt")]
struct ActionText<'a> {
    greeting: &'a str,
    intro: &'a str,
    action: &'a str,
    link: &'a str,
    note: &'a str,
    signature: &'a str,
}

#[derive(Template)]
#[template(path = "emails/action.html")]
struct ActionHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    /// The same words as the plain-text part.
    text: ActionText<'a>,
}

impl<'a> Mail<'a> {
    /// The mail that carries a one-time link of `purpose`.
    pub fn for_link(purpose: TokenPurpose, link: &'a str) -> Self {
        match purpose {
            TokenPurpose::VerifyEmail => Mail::VerifyEmail { link },
            TokenPurpose::ResetPassword => Mail::ResetPassword { link },
            TokenPurpose::UnlockLogin => Mail::UnlockLogin { link },
            TokenPurpose::ConfirmEmailChange => Mail::ConfirmEmailChange { link },
            TokenPurpose::UndoEmailChange => Mail::EmailChanged { link },
        }
    }

    fn catalogue_prefix(&self) -> &'static str {
        match self {
            Mail::VerifyEmail { .. } => "mail.verify",
            Mail::ResetPassword { .. } => "mail.reset",
            Mail::UnlockLogin { .. } => "mail.unlock",
            Mail::ConfirmEmailChange { .. } => "mail.email_change_confirm",
            Mail::EmailChanged { .. } => "mail.email_changed",
            Mail::EmailChangeUndone { .. } => "mail.email_change_undone",
            Mail::DataArchiveReady { .. } => "mail.data_archive_ready",
            Mail::SecondFactorReset { .. } => "mail.second_factor_reset",
            Mail::IdentityVerified { .. } => "mail.identity_verified",
            Mail::IdentityRejected { .. } => "mail.identity_rejected",
            Mail::IdentityCorrectionRefused { .. } => "mail.identity_correction_refused",
            Mail::IssuerStatus { status, .. } => match status {
                IssuerNotice::Approved => "mail.issuer_approved",
                IssuerNotice::Rejected => "mail.issuer_rejected",
                IssuerNotice::Suspended => "mail.issuer_suspended",
                IssuerNotice::Reinstated => "mail.issuer_reinstated",
                IssuerNotice::Revoked => "mail.issuer_revoked",
            },
            Mail::IssuerInvitation { .. } => "mail.issuer_invitation",
            Mail::TokenStatus { status, .. } => match status {
                TokenNotice::Frozen => "mail.token_frozen",
                TokenNotice::Unfrozen => "mail.token_unfrozen",
                TokenNotice::Revoked => "mail.token_revoked",
            },
            Mail::CollectionStatus { status, .. } => match status {
                CollectionNotice::AutoRejected => "mail.collection_auto_rejected",
                CollectionNotice::Approved => "mail.collection_approved",
                CollectionNotice::ChangesRequested => "mail.collection_changes_requested",
                CollectionNotice::Rejected => "mail.collection_rejected",
                CollectionNotice::Frozen => "mail.collection_frozen",
                CollectionNotice::Unfrozen => "mail.collection_unfrozen",
            },
            Mail::IdentityRevealed { .. } => "mail.identity_revealed",
            Mail::ReportDecided { upheld: true, .. } => "mail.report_upheld",
            Mail::ReportDecided { upheld: false, .. } => "mail.report_dismissed",
            Mail::AppealDecided { overturned: true, .. } => "mail.appeal_overturned",
            Mail::AppealDecided { overturned: false, .. } => "mail.appeal_upheld",
            Mail::Filings { notice, .. } => match notice {
                FilingNotice::Due => "mail.filings_due",
                FilingNotice::Lapsed => "mail.filings_lapsed",
                FilingNotice::Renewed => "mail.filings_renewed",
                FilingNotice::RenewalRefused => "mail.filings_refused",
                FilingNotice::OperatorDue => "mail.operator_filings_due",
                FilingNotice::OperatorLapsed => "mail.operator_filings_lapsed",
            },
        }
    }

    /// Renders subject and bodies in `locale`.
    pub fn render(&self, to: &Email, locale: Locale, operator: &str) -> Result<NewMail, askama::Error> {
        let (link, reason, issuer, collection) = match *self {
            Mail::VerifyEmail { link }
            | Mail::ResetPassword { link }
            | Mail::UnlockLogin { link }
            | Mail::ConfirmEmailChange { link }
            | Mail::EmailChanged { link }
            | Mail::EmailChangeUndone { link }
            | Mail::DataArchiveReady { link }
            | Mail::SecondFactorReset { link }
            | Mail::IdentityVerified { link } => (link, "", "", ""),
            Mail::IdentityRejected { link, reason } | Mail::IdentityCorrectionRefused { link, reason } => {
                (link, reason, "", "")
            }
            Mail::IssuerStatus {
                link, issuer, reason, ..
            } => (link, reason, issuer, ""),
            Mail::IssuerInvitation { link, issuer } => (link, "", issuer, ""),
            Mail::CollectionStatus {
                link,
                collection,
                reason,
                ..
            }
            | Mail::TokenStatus {
                link,
                collection,
                reason,
                ..
            } => (link, reason, "", collection),
            Mail::IdentityRevealed { link, reference } => (link, reference, "", ""),
            Mail::ReportDecided { link, reason, .. } | Mail::AppealDecided { link, reason, .. } => {
                (link, reason, "", "")
            }
            Mail::Filings {
                link, issuer, reason, ..
            } => (link, reason, issuer, ""),
        };
        let (filing, day) = match *self {
            Mail::Filings { filing, last_day, .. } => (
                locale.t(&format!("filings.name_{}", filing.as_str())),
                last_day.format("%Y-%m-%d").to_string(),
            ),
            _ => ("", String::new()),
        };
        let key = |suffix: &str| format!("{}.{suffix}", self.catalogue_prefix());
        let args = [
            ("operator", operator),
            ("reason", reason),
            ("issuer", issuer),
            ("collection", collection),
            ("filing", filing),
            ("day", &day),
        ];
        let subject = locale.tf(&key("subject"), &args);
        let greeting = locale.t("mail.greeting");
        let intro = locale.tf(&key("intro"), &args);
        let action = locale.t(&key("action"));
        let note = locale.t(&key("note"));
        let signature = locale.tf("mail.signature", &args);
        let words = ActionText {
            greeting,
            intro: &intro,
            action,
            link,
            note,
            signature: &signature,
        };
        let text = words.render()?;
        let html = ActionHtml {
            lang: locale.tag(),
            subject: &subject,
            text: words,
        }
        .render()?;
        Ok(NewMail {
            recipient: to.as_str().to_owned(),
            subject,
            text_body: text,
            html_body: html,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_render_in_both_languages_with_the_link() {
        let to = Email::parse("a@example.com").unwrap();
        for locale in Locale::ALL {
            for mail in [
                Mail::VerifyEmail {
                    link: "https://k.example/verify/abc",
                },
                Mail::ResetPassword {
                    link: "https://k.example/reset/abc",
                },
                Mail::UnlockLogin {
                    link: "https://k.example/login/unlock/abc",
                },
            ] {
                let rendered = mail.render(&to, locale, "Keepsake").unwrap();
                let (Mail::VerifyEmail { link } | Mail::ResetPassword { link } | Mail::UnlockLogin { link }) = mail
                else {
                    unreachable!()
                };
                assert!(rendered.text_body.contains(link));
                assert!(rendered.html_body.contains(&format!("href=\"{link}\"")));
                assert!(rendered.subject.contains("Keepsake"));
                assert_eq!(rendered.recipient, "a@example.com");
            }
        }
        let rejected = Mail::IdentityRejected {
            link: "https://k.example/identity",
            reason: "照片模糊 blurry photo",
        };
        for locale in Locale::ALL {
            let rendered = rejected.render(&to, locale, "Keepsake").unwrap();
            assert!(
                rendered.text_body.contains("照片模糊 blurry photo"),
                "the reason reaches the applicant"
            );
        }
        let zh = Mail::VerifyEmail { link: "x" }.render(&to, Locale::ZhCn, "K").unwrap();
        let en = Mail::VerifyEmail { link: "x" }.render(&to, Locale::En, "K").unwrap();
        assert_ne!(zh.subject, en.subject);
    }
}
