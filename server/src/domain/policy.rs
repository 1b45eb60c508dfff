//! The platform's published rules: the platform rules (平台公约), the user agreement and the
//! privacy policy, each in numbered versions. People accept the current versions when they
//! sign up and again when one changes; until they have, they cannot claim.

/// One of the documents everyone accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyDocument {
    /// 平台公约: what may be issued, claimed and said here.
    Rules,
    /// 用户协议: the agreement between a person and the operator.
    Terms,
    /// 隐私政策: what personal information is processed, how and for how long.
    Privacy,
}

impl PolicyDocument {
    pub const ALL: [PolicyDocument; 3] = [PolicyDocument::Rules, PolicyDocument::Terms, PolicyDocument::Privacy];

    /// The stored name and the address (`/policies/rules`).
    pub fn slug(self) -> &'static str {
        match self {
            PolicyDocument::Rules => "rules",
            PolicyDocument::Terms => "terms",
            PolicyDocument::Privacy => "privacy",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|document| document.slug() == slug)
    }
}

/// A document at a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyVersion {
    pub document: PolicyDocument,
    pub version: u32,
}

/// The documents of `current` that `accepted` does not cover: never accepted, or accepted only
/// at an older version. An acceptance of a version that is not current does not count, so a
/// document that changes is accepted again.
pub fn outstanding(current: &[PolicyVersion], accepted: &[PolicyVersion]) -> Vec<PolicyDocument> {
    current
        .iter()
        .filter(|wanted| !accepted.contains(wanted))
        .map(|wanted| wanted.document)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(document: PolicyDocument, version: u32) -> PolicyVersion {
        PolicyVersion { document, version }
    }

    #[test]
    fn slugs_read_back() {
        for document in PolicyDocument::ALL {
            assert_eq!(PolicyDocument::parse(document.slug()), Some(document));
        }
        assert_eq!(PolicyDocument::parse("cookies"), None);
    }

    #[test]
    fn a_changed_document_is_accepted_again() {
        use PolicyDocument::{Privacy, Rules, Terms};
        let current = [at(Rules, 2), at(Terms, 1), at(Privacy, 1)];
        assert_eq!(outstanding(&current, &[]), vec![Rules, Terms, Privacy], "a new account");
        let signed_up = [at(Rules, 1), at(Terms, 1), at(Privacy, 1)];
        assert_eq!(outstanding(&current, &signed_up), vec![Rules], "the rules changed");
        let caught_up = [at(Rules, 1), at(Rules, 2), at(Terms, 1), at(Privacy, 1)];
        assert_eq!(outstanding(&current, &caught_up), Vec::<PolicyDocument>::new());
        let ahead = [at(Rules, 3), at(Terms, 1), at(Privacy, 1)];
        assert_eq!(
            outstanding(&current, &ahead),
            vec![Rules],
            "only the current version counts"
        );
    }
}
