//! What an issuer offers: the collection form as typed, its checked terms (title, text, edition,
//! per-person limit, claim window in Beijing time, minimum age) and the claim mode.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

use crate::domain::age::MinimumAge;

use crate::domain::visible_text::{TextKind, check_visible};

/// Most tokens one collection may have.
pub const MAX_EDITION_SIZE: u32 = 1_000_000;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 60;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;

/// Claim windows are entered and shown in Beijing time (UTC+8), the time of the people who
/// run and attend the campaigns; every page shows times in it.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// Reads an HTML `datetime-local` value (`2026-12-01T10:00`, seconds optional) as Beijing time.
pub fn parse_local_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .and_then(|naive| naive.and_local_timezone(beijing()).single())
        .map(|t| t.to_utc())
}

/// The `datetime-local` value for a stored time.
pub fn local_time_input(time: DateTime<Utc>) -> String {
    time.with_timezone(&beijing()).format("%Y-%m-%dT%H:%M").to_string()
}

/// How collectors get a token of the collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimMode {
    /// Any verified person may claim while the window is open and supply lasts.
    Open,
    /// Only with a one-time code printed on a product or handed out at an event (以实带虚).
    ClaimCodes,
    /// Only verified people whose email address the issuer listed.
    Allowlist,
}

impl ClaimMode {
    pub const ALL: [ClaimMode; 3] = [ClaimMode::Open, ClaimMode::ClaimCodes, ClaimMode::Allowlist];

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimMode::Open => "open",
            ClaimMode::ClaimCodes => "claim_codes",
            ClaimMode::Allowlist => "allowlist",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(ClaimMode::Open),
            "claim_codes" => Some(ClaimMode::ClaimCodes),
            "allowlist" => Some(ClaimMode::Allowlist),
            _ => None,
        }
    }
}

/// What an issuer typed into the collection form.
#[derive(Debug, Clone, Default)]
pub struct CollectionForm {
    pub title: String,
    pub description: String,
    pub edition_size: String,
    pub per_person_limit: String,
    pub claim_starts_at: Option<DateTime<Utc>>,
    pub claim_ends_at: Option<DateTime<Utc>>,
    pub claim_mode: String,
    /// Empty: the platform's minimum age applies.
    pub minimum_age: String,
    /// The issuer declares the artwork generated or synthesised by AI.
    pub ai_declared: bool,
}

/// The checked content and terms of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionTerms {
    pub title: String,
    pub description: String,
    pub edition_size: u32,
    pub per_person_limit: u32,
    pub claim_starts_at: DateTime<Utc>,
    pub claim_ends_at: DateTime<Utc>,
    pub claim_mode: ClaimMode,
    /// The youngest age that may claim, where the issuer set one; the platform's minimum
    /// applies when it is higher.
    pub minimum_age: Option<MinimumAge>,
    /// The issuer declared the artwork generated or synthesised by AI (人工智能生成合成).
    pub ai_declared: bool,
}

/// One problem with the form, named by field so the page can show it next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("enter a title of at most {MAX_TITLE_CHARS} characters")]
    Title,
    #[error("a description has at most {MAX_DESCRIPTION_CHARS} characters")]
    Description,
    #[error("the edition size is a whole number from 1 to {MAX_EDITION_SIZE}")]
    EditionSize,
    #[error("the per-person limit is a whole number from 1 to the edition size")]
    PerPersonLimit,
    #[error("the claim window needs a start and an end, the end after the start")]
    Window,
    #[error("the claim window has already ended")]
    WindowOver,
    #[error("the title holds an invisible or direction-changing character")]
    TitleHidden,
    #[error("the description holds an invisible or direction-changing character")]
    DescriptionHidden,
    #[error("choose how collectors claim: open, with claim codes, or by allowlist")]
    ClaimMode,
    #[error("a minimum age is a whole number of years from 14 to 99, or empty")]
    MinimumAge,
}

impl CollectionForm {
    /// Checks every field and reports every problem at once. An empty per-person limit means 1.
    /// A window that has ended by `now` is refused: nobody could ever claim.
    pub fn parse(&self, now: DateTime<Utc>) -> Result<CollectionTerms, Vec<TermsError>> {
        let mut errors = Vec::new();
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
            errors.push(TermsError::Title);
        } else if check_visible(title, TextKind::Name).is_err() {
            errors.push(TermsError::TitleHidden);
        }
        let description = self.description.trim();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.push(TermsError::Description);
        } else if check_visible(description, TextKind::Prose).is_err() {
            errors.push(TermsError::DescriptionHidden);
        }
        let edition_size = self
            .edition_size
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_EDITION_SIZE).contains(n));
        if edition_size.is_none() {
            errors.push(TermsError::EditionSize);
        }
        let limit = self.per_person_limit.trim();
        let per_person_limit = if limit.is_empty() {
            Some(1)
        } else {
            limit
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 1 && edition_size.is_none_or(|size| *n <= size))
        };
        if per_person_limit.is_none() {
            errors.push(TermsError::PerPersonLimit);
        }
        let window = match (self.claim_starts_at, self.claim_ends_at) {
            (Some(start), Some(end)) if end > start => Some((start, end)),
            _ => None,
        };
        match window {
            None => errors.push(TermsError::Window),
            Some((_, end)) if end <= now => errors.push(TermsError::WindowOver),
            Some(_) => {}
        }
        let claim_mode = ClaimMode::parse(self.claim_mode.trim());
        if claim_mode.is_none() {
            errors.push(TermsError::ClaimMode);
        }
        let minimum_age = match self.minimum_age.trim() {
            "" => Some(None),
            typed => MinimumAge::parse(typed).ok().map(Some),
        };
        if minimum_age.is_none() {
            errors.push(TermsError::MinimumAge);
        }
        match (edition_size, per_person_limit, window, claim_mode, minimum_age) {
            (
                Some(edition_size),
                Some(per_person_limit),
                Some((claim_starts_at, claim_ends_at)),
                Some(claim_mode),
                Some(minimum_age),
            ) if errors.is_empty() => Ok(CollectionTerms {
                title: title.to_owned(),
                description: description.to_owned(),
                edition_size,
                per_person_limit,
                claim_starts_at,
                claim_ends_at,
                claim_mode,
                minimum_age,
                ai_declared: self.ai_declared,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc()
    }

    fn form() -> CollectionForm {
        let start = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc();
        CollectionForm {
            title: "  新华社 · 2026 年度照片  ".into(),
            description: "十张年度新闻照片。\nTen photographs of the year.".into(),
            edition_size: "10000".into(),
            per_person_limit: String::new(),
            claim_starts_at: Some(start),
            claim_ends_at: Some(start + TimeDelta::days(30)),
            claim_mode: "open".into(),
            minimum_age: String::new(),
            ai_declared: false,
        }
    }

    #[test]
    fn a_complete_form_gives_terms() {
        let terms = form().parse(now()).unwrap();
        assert_eq!(terms.title, "新华社 · 2026 年度照片");
        assert_eq!((terms.edition_size, terms.per_person_limit), (10_000, 1));
        assert_eq!(terms.claim_mode, ClaimMode::Open);
        assert_eq!(terms.minimum_age, None, "the platform's minimum applies");
        assert!(!terms.ai_declared);
        let declared = CollectionForm {
            ai_declared: true,
            ..form()
        };
        assert!(declared.parse(now()).unwrap().ai_declared, "the declaration is kept");
    }

    #[test]
    fn a_minimum_age_is_optional_and_bounded() {
        for (typed, years) in [(" 20 ", Some(20)), ("14", Some(14)), ("99", Some(99))] {
            let candidate = CollectionForm {
                minimum_age: typed.into(),
                ..form()
            };
            let terms = candidate.parse(now()).unwrap();
            assert_eq!(terms.minimum_age.map(MinimumAge::years), years, "{typed:?}");
        }
        for typed in ["13", "100", "eighteen", "-18", "18岁"] {
            let candidate = CollectionForm {
                minimum_age: typed.into(),
                ..form()
            };
            assert_eq!(
                candidate.parse(now()).unwrap_err(),
                vec![TermsError::MinimumAge],
                "{typed:?}"
            );
        }
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let bad = CollectionForm {
            title: "x".repeat(MAX_TITLE_CHARS + 1),
            description: "bell\u{7}".into(),
            edition_size: "0".into(),
            per_person_limit: "-1".into(),
            claim_starts_at: form().claim_ends_at,
            claim_ends_at: form().claim_starts_at,
            claim_mode: "auction".into(),
            minimum_age: "12".into(),
            ai_declared: true,
        };
        assert_eq!(
            bad.parse(now()).unwrap_err(),
            vec![
                TermsError::Title,
                TermsError::DescriptionHidden,
                TermsError::EditionSize,
                TermsError::PerPersonLimit,
                TermsError::Window,
                TermsError::ClaimMode,
                TermsError::MinimumAge,
            ]
        );
    }

    #[test]
    fn sizes_and_limits_have_bounds() {
        for (size, limit, ok) in [
            ("1", "1", true),
            ("1000000", "", true),
            ("1000001", "", false),
            ("10", "10", true),
            ("10", "11", false),
            ("ten", "", false),
            ("10", "0", false),
            (" 10 ", " 2 ", true),
        ] {
            let candidate = CollectionForm {
                edition_size: size.into(),
                per_person_limit: limit.into(),
                ..form()
            };
            assert_eq!(candidate.parse(now()).is_ok(), ok, "size {size:?} limit {limit:?}");
        }
        let no_window = CollectionForm {
            claim_ends_at: None,
            ..form()
        };
        assert_eq!(no_window.parse(now()).unwrap_err(), vec![TermsError::Window]);
        let multi_line_title = CollectionForm {
            title: "two\nlines".into(),
            ..form()
        };
        assert_eq!(
            multi_line_title.parse(now()).unwrap_err(),
            vec![TermsError::TitleHidden]
        );
    }

    #[test]
    fn a_window_that_has_already_ended_is_refused() {
        let ends = form().claim_ends_at.unwrap();
        assert!(
            form().parse(ends - TimeDelta::minutes(1)).is_ok(),
            "still open for a minute"
        );
        assert_eq!(form().parse(ends).unwrap_err(), vec![TermsError::WindowOver]);
        assert_eq!(
            form().parse(ends + TimeDelta::days(400)).unwrap_err(),
            vec![TermsError::WindowOver]
        );
    }

    #[test]
    fn hidden_characters_in_the_title_or_description_are_refused() {
        let spoofed = CollectionForm {
            title: "限量\u{202E}品藏".into(),
            description: "正文\u{200B}里有零宽空格".into(),
            ..form()
        };
        assert_eq!(
            spoofed.parse(now()).unwrap_err(),
            vec![TermsError::TitleHidden, TermsError::DescriptionHidden]
        );
    }

    #[test]
    fn claim_windows_are_beijing_time() {
        let start = parse_local_time("2026-12-01T10:00").unwrap();
        assert_eq!(start.to_rfc3339(), "2026-12-01T02:00:00+00:00");
        assert_eq!(
            parse_local_time("2026-12-01T10:00:30").unwrap().timestamp() - start.timestamp(),
            30
        );
        assert_eq!(local_time_input(start), "2026-12-01T10:00");
        for bad in ["", "2026-12-01", "2026-13-01T10:00", "tomorrow"] {
            assert_eq!(parse_local_time(bad), None, "{bad:?}");
        }
    }
}
