//! The message catalogue: every user-facing string in zh-CN and English.
//!
//! Catalogues live in `server/locales/*.toml` and are compiled into the binary. Pages and
//! emails look strings up by key; `{name}` placeholders are filled by [`Locale::tf`]. Tests
//! check that both catalogues hold the same keys and, in `web::catalogue_coverage`, that every
//! key the code and templates can ask for, written out or built from a prefix and a value, is
//! in both.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use crate::domain::collection::beijing;

/// A supported language. Simplified Chinese is the default for a platform regulated in China.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    ZhCn,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    /// The BCP 47 tag, used in `<html lang>`, cookies and the database.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// The language's name in itself, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::ZhCn => "中文",
            Locale::En => "English",
        }
    }

    /// Parses a tag stored in a cookie or the database.
    pub fn from_tag(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.tag().eq_ignore_ascii_case(tag))
    }

    /// Picks the best supported language from an `Accept-Language` header.
    pub fn negotiate(accept_language: &str) -> Option<Self> {
        let mut best: Option<(f32, Locale)> = None;
        for part in accept_language.split(',') {
            let mut pieces = part.trim().split(';');
            let range = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let locale = match range.split('-').next() {
                Some("zh") => Locale::ZhCn,
                Some("en") => Locale::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The message for `key`. A key the catalogue lacks is logged and shows as `…`
    /// ([`MISSING`]); the `web::catalogue_coverage` test keeps that from happening.
    pub fn t(self, key: &str) -> &'static str {
        let catalogue = &CATALOGUES[self as usize];
        match catalogue.get_key_value(key) {
            Some((_, v)) => v.as_str(),
            None => {
                tracing::warn!(key, locale = self.tag(), "missing message");
                MISSING
            }
        }
    }

    /// A moment as people here read it: Beijing time, to the minute, with the zone named.
    pub fn time(self, at: DateTime<Utc>) -> String {
        let local = at.with_timezone(&beijing()).format("%Y-%m-%d %H:%M");
        format!("{local} {}", self.t("time.beijing"))
    }

    /// The calendar day of a moment in Beijing time.
    pub fn date(self, at: DateTime<Utc>) -> String {
        at.with_timezone(&beijing()).format("%Y-%m-%d").to_string()
    }

    /// The message for `key` with each `{name}` replaced by its value.
    pub fn tf(self, key: &str, args: &[(&str, &str)]) -> String {
        args.iter().fold(self.t(key).to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
    }
}

/// What a missing message shows: a mark that something is wanting, never a raw key.
const MISSING: &str = "…";

#[cfg(test)]
impl Locale {
    /// Whether the catalogue holds `key`, for tests that check every key the code asks for.
    pub(crate) fn has(self, key: &str) -> bool {
        CATALOGUES[self as usize].contains_key(key)
    }

    /// Every key of the catalogue.
    pub(crate) fn keys(self) -> impl Iterator<Item = &'static str> {
        CATALOGUES[self as usize].keys().map(String::as_str)
    }
}

static CATALOGUES: LazyLock<[HashMap<String, String>; 2]> = LazyLock::new(|| {
    [
        parse_catalogue(include_str!("../locales/zh-CN.toml")),
        parse_catalogue(include_str!("../locales/en.toml")),
    ]
});

fn parse_catalogue(source: &str) -> HashMap<String, String> {
    let table: toml::Table = source.parse().expect("message catalogue is valid TOML");
    let mut out = HashMap::new();
    flatten("", &table, &mut out);
    out
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&full, inner, out),
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            other => panic!("catalogue entry {full} must be a string, found {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let zh: BTreeSet<_> = CATALOGUES[0].keys().collect();
        let en: BTreeSet<_> = CATALOGUES[1].keys().collect();
        assert_eq!(
            zh.difference(&en).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "missing in en"
        );
        assert_eq!(
            en.difference(&zh).collect::<Vec<_>>(),
            Vec::<&&String>::new(),
            "missing in zh-CN"
        );
    }

    #[test]
    fn placeholders_agree_between_languages() {
        let placeholders = |s: &str| -> BTreeSet<String> {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                .collect()
        };
        for (key, zh) in &CATALOGUES[0] {
            assert_eq!(placeholders(zh), placeholders(&CATALOGUES[1][key]), "{key}");
        }
    }

    #[test]
    fn accept_language_negotiation() {
        assert_eq!(Locale::negotiate("en-US,en;q=0.9"), Some(Locale::En));
        assert_eq!(Locale::negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Some(Locale::ZhCn));
        assert_eq!(Locale::negotiate("fr-FR, en;q=0.5, zh;q=0.7"), Some(Locale::ZhCn));
        assert_eq!(Locale::negotiate("zh-TW;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(Locale::negotiate("de, fr"), None);
        assert_eq!(Locale::negotiate(""), None);
    }

    #[test]
    fn times_are_beijing_time_with_the_zone_named() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T17:30:00Z").unwrap().to_utc();
        assert_eq!(Locale::ZhCn.time(at), "2026-12-02 01:30 北京时间");
        assert_eq!(Locale::En.time(at), "2026-12-02 01:30 Beijing time");
        assert_eq!(Locale::En.date(at), "2026-12-02");
    }

    #[test]
    fn interpolation_and_tags() {
        assert!(
            Locale::En
                .tf("mail.verify.intro", &[("operator", "Keepsake")])
                .contains("Keepsake")
        );
        assert_eq!(Locale::from_tag("ZH-cn"), Some(Locale::ZhCn));
        assert_eq!(Locale::from_tag("fr"), None);
        assert_ne!(Locale::En.t("nav.home"), Locale::ZhCn.t("nav.home"));
    }

    #[test]
    fn a_missing_key_shows_as_the_missing_mark() {
        // Not given to `t` as a literal, which the coverage test would require to be a key.
        let absent = "no_such.key";
        assert_eq!(Locale::En.t(absent), MISSING);
        assert_eq!(Locale::ZhCn.tf(absent, &[("name", "x")]), MISSING);
    }
}
