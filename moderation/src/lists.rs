//! Term lists: categories, severities, the list file format and the bundled starter lists.
//!
//! The operator's real lists will live in the database and be edited at run time, so a list is
//! plain data ([`TermList`], [`Allowlist`]) that the server can build from rows. Each list
//! carries a version string so that the server can record which lists screened a submission:
//! one bad entry can block everything, and reviewers then need to know which submissions it
//! touched.
//!
//! The starter lists in `moderation/lists/` are deliberately small and neutral: enough to
//! exercise every category and to make the platform safe on day one, not a complete
//! vocabulary. Their format is one term per line, `#` comments, and `@severity block` or
//! `@severity review` lines that set the severity of the terms after them. A term ending in
//! `{number}` counts only when a number follows it (see [`crate::spellings`]). In the allowlist,
//! a line `term ~ word word …` is a context rule: a match of the term is dropped when one of the
//! words stands near it.

use std::fmt;

use thiserror::Error;

/// Why a term is on a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Illegal goods and services: drugs, weapons, forged documents.
    Illegal,
    /// Sexual content.
    Pornographic,
    /// Gambling and betting.
    Gambling,
    /// Scams and deceptive offers.
    Fraud,
    /// Language that presents a collectible as an investment: promised returns, appreciation,
    /// resale, speculation, a "secondary market". Forbidden for 数字藏品 by the regulator.
    Financialisation,
}

impl Category {
    /// Every category, in a stable order.
    pub const ALL: [Category; 5] = [
        Category::Illegal,
        Category::Pornographic,
        Category::Gambling,
        Category::Fraud,
        Category::Financialisation,
    ];

    /// A stable lower-case identifier, suitable for storage and for list file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Illegal => "illegal",
            Category::Pornographic => "pornographic",
            Category::Gambling => "gambling",
            Category::Fraud => "fraud",
            Category::Financialisation => "financialisation",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a match on a term means for the submission. Ordered so that `Block > Review`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// A human must look at it.
    Review,
    /// Rejected without review.
    Block,
}

impl Severity {
    /// A stable lower-case identifier, as written in list files.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Review => "review",
            Severity::Block => "block",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Terms of one category and one severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermList {
    pub category: Category,
    pub severity: Severity,
    /// Identifies this edition of the list, e.g. a database revision; copied into findings.
    pub version: String,
    pub terms: Vec<String>,
}

/// Longer words that cancel a match they contain, e.g. `炒菜` (stir-fry) for the term `炒`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    pub version: String,
    pub terms: Vec<String>,
}

/// A list that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ListError {
    #[error("line {line} of the {category} list: {message}")]
    Syntax {
        category: Category,
        line: usize,
        message: String,
    },
    #[error("the {category} list (version {version}) has a term {term:?} that is empty once normalised")]
    EmptyTerm {
        category: Category,
        version: String,
        term: String,
    },
    #[error(
        "the {category} block list (version {version}) has the one-character term {term:?}; a single character \
         matches inside too many ordinary words to reject without review, so it may only have review severity"
    )]
    SingleCharacterBlock {
        category: Category,
        version: String,
        term: String,
    },
    #[error("the term lists are too large to build a matcher: {0}")]
    TooLarge(String),
}

impl TermList {
    /// Parses the list file format (see the module documentation) into one list per severity
    /// that occurs in it. Terms before any `@severity` line are an error, so that a file never
    /// silently blocks what its author meant for review.
    pub fn parse(category: Category, version: &str, source: &str) -> Result<Vec<TermList>, ListError> {
        let mut lists: Vec<TermList> = Vec::new();
        for (index, raw) in source.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let syntax = |message: String| ListError::Syntax {
                category,
                line: index + 1,
                message,
            };
            if let Some(directive) = line.strip_prefix('@') {
                let severity = match directive.split_whitespace().collect::<Vec<_>>()[..] {
                    ["severity", "block"] => Severity::Block,
                    ["severity", "review"] => Severity::Review,
                    _ => {
                        return Err(syntax(format!(
                            "unknown directive {line:?}; expected `@severity block|review`"
                        )));
                    }
                };
                lists.push(TermList {
                    category,
                    severity,
                    version: version.to_owned(),
                    terms: Vec::new(),
                });
                continue;
            }
            match lists.last_mut() {
                Some(list) => list.terms.push(line.to_owned()),
                None => return Err(syntax(format!("term {line:?} comes before any `@severity` line"))),
            }
        }
        Ok(lists)
    }
}

impl Allowlist {
    /// Parses an allowlist file: one word per line, `#` comments.
    pub fn parse(version: &str, source: &str) -> Allowlist {
        Allowlist {
            version: version.to_owned(),
            terms: source
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Version string of the bundled starter lists.
pub const STARTER_VERSION: &str = "starter-1";

const STARTER_SOURCES: [(Category, &str); 5] = [
    (Category::Illegal, include_str!("../lists/illegal.txt")),
    (Category::Pornographic, include_str!("../lists/pornographic.txt")),
    (Category::Gambling, include_str!("../lists/gambling.txt")),
    (Category::Fraud, include_str!("../lists/fraud.txt")),
    (
        Category::Financialisation,
        include_str!("../lists/financialisation.txt"),
    ),
];

/// The bundled starter term lists, one per category and severity.
pub fn starter_lists() -> Vec<TermList> {
    STARTER_SOURCES
        .iter()
        .flat_map(|&(category, source)| {
            TermList::parse(category, STARTER_VERSION, source).expect("the bundled starter lists are well-formed")
        })
        .collect()
}

/// The bundled starter allowlist.
pub fn starter_allowlist() -> Allowlist {
    Allowlist::parse(STARTER_VERSION, include_str!("../lists/allow.txt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_severity_sections() {
        let lists = TermList::parse(
            Category::Financialisation,
            "v7",
            "# comment\n@severity block\n稳赚不赔\n\n@severity review\n升值\n  保值  \n",
        )
        .unwrap();
        assert_eq!(lists.len(), 2);
        assert_eq!(lists[0].severity, Severity::Block);
        assert_eq!(lists[0].terms, ["稳赚不赔"]);
        assert_eq!(lists[1].severity, Severity::Review);
        assert_eq!(lists[1].terms, ["升值", "保值"]);
        assert!(lists.iter().all(|l| l.version == "v7"));
    }

    #[test]
    fn refuses_terms_without_severity_and_unknown_directives() {
        let err = TermList::parse(Category::Fraud, "v1", "升值\n").unwrap_err();
        assert!(err.to_string().contains("line 1 of the fraud list"), "{err}");
        let err = TermList::parse(Category::Fraud, "v1", "@severity maybe\n").unwrap_err();
        assert!(matches!(err, ListError::Syntax { line: 1, .. }));
    }

    #[test]
    fn starter_lists_cover_every_category() {
        let lists = starter_lists();
        for category in Category::ALL {
            assert!(
                lists.iter().any(|l| l.category == category && !l.terms.is_empty()),
                "{category}"
            );
        }
        assert!(!starter_allowlist().terms.is_empty());
    }
}
