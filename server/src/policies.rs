//! The published texts of the platform's rules, user agreement and privacy policy, at their
//! current versions, shipped with the server. A new version is a new pair of files and a
//! higher number here; everyone accepts it again before they claim.

use crate::domain::policy::{PolicyDocument, PolicyVersion};
use crate::i18n::Locale;

/// A document as published.
#[derive(Debug, Clone, Copy)]
pub struct Published {
    pub at: PolicyVersion,
    /// The day it took effect, in Beijing.
    pub effective: &'static str,
    zh_cn: &'static str,
    en: &'static str,
}

impl Published {
    /// The text, as trusted HTML shipped with the server.
    pub fn html(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::ZhCn => self.zh_cn,
            Locale::En => self.en,
        }
    }
}

/// A document at `version`, its texts in `server/policies/{slug}-{version}.{locale}.html`.
macro_rules! published {
    ($document:ident, $slug:literal, $version:literal, $effective:literal) => {
        Published {
            at: PolicyVersion {
                document: PolicyDocument::$document,
                version: $version,
            },
            effective: $effective,
            zh_cn: include_str!(concat!("../policies/", $slug, "-", $version, ".zh-CN.html")),
            en: include_str!(concat!("../policies/", $slug, "-", $version, ".en.html")),
        }
    };
}

const CURRENT: [Published; 3] = [
    published!(Rules, "rules", 1, "2026-12-07"),
    published!(Terms, "terms", 1, "2026-12-07"),
    published!(Privacy, "privacy", 1, "2026-12-07"),
];

/// The current version of `document`.
pub fn current(document: PolicyDocument) -> &'static Published {
    CURRENT
        .iter()
        .find(|published| published.at.document == document)
        .expect("every document is published")
}

/// The current version of every document.
pub fn current_versions() -> Vec<PolicyVersion> {
    CURRENT.iter().map(|published| published.at).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_is_published_once_in_both_languages() {
        for document in PolicyDocument::ALL {
            let published = current(document);
            assert!(published.at.version >= 1);
            for locale in [Locale::ZhCn, Locale::En] {
                assert!(published.html(locale).contains("<h2>"), "{document:?} {locale:?}");
            }
        }
        assert_eq!(current_versions().len(), PolicyDocument::ALL.len());
    }
}
