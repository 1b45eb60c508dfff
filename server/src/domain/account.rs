//! Accounts: user ids, email addresses and the password policy.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Why an email address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("enter an email address like name@example.com")]
    Malformed,
    #[error("email addresses are at most 254 characters")]
    TooLong,
}

/// A syntactically valid email address in its one normal form: trimmed, NFKC-normalised (so
/// full-width `ｃ` or `＠` are `c` and `@`) and lower-cased, so that one mailbox is one account
/// whatever case or compatibility form it was typed in. Every lookup and uniqueness check goes
/// through this form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = normalise(raw);
        if email.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = email.split_once('@').ok_or(EmailError::Malformed)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let chars_ok = email.chars().all(|c| {
            !c.is_whitespace()
                && !c.is_control()
                && !matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']')
        });
        if !local_ok || !labels_ok || !chars_ok || domain.contains('@') {
            return Err(EmailError::Malformed);
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// NFKC, then lower case, then NFKC again (lower-casing can leave a string that NFKC would
/// change), trimmed: the same result for every spelling of one address, and a fixed point.
fn normalise(raw: &str) -> String {
    let nfkc: String = raw.trim().nfkc().collect();
    nfkc.to_lowercase().nfkc().collect::<String>().trim().to_owned()
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("passwords need at least {min} characters", min = PASSWORD_MIN_CHARS)]
    TooShort,
    #[error("passwords are at most {max} characters", max = PASSWORD_MAX_CHARS)]
    TooLong,
    #[error("this password is too easy to guess")]
    TooCommon,
    #[error("the password must not contain your email address")]
    ContainsEmail,
    #[error("the two passwords do not match")]
    Mismatch,
}

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Passwords that meet the length rule but are among the first tried by any attacker.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "0123456789",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "1q2w3e4r5t",
    "password123",
    "password1234",
    "iloveyou123",
    "qwerty123456",
    "abcdefghij",
    "a123456789",
    "woaini1314",
    "woaini520",
    "aa123456789",
    "keepsake123",
];

/// A password that satisfies the policy. It can only be built by [`NewPassword::parse`], so
/// the hasher never sees a password that broke the rules.
pub struct NewPassword(String);

impl NewPassword {
    /// Checks a password chosen at sign-up or reset. `confirmation` is the second field of the
    /// form; `email` is the account's address, which must not appear in the password.
    pub fn parse(password: &str, confirmation: &str, email: &Email) -> Result<Self, PasswordError> {
        let chars = password.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        let folded = password.to_lowercase();
        let mut distinct: Vec<char> = folded.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 4 || COMMON_PASSWORDS.contains(&folded.as_str()) {
            return Err(PasswordError::TooCommon);
        }
        let local = email.as_str().split('@').next().unwrap_or_default();
        if folded.contains(email.as_str()) || (local.chars().count() >= 4 && folded.contains(local)) {
            return Err(PasswordError::ContainsEmail);
        }
        if password != confirmation {
            return Err(PasswordError::Mismatch);
        }
        Ok(Self(password.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("li.hua@example.cn").unwrap()
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Li.Hua@Example.CN ").unwrap().as_str(),
            "li.hua@example.cn"
        );
        assert!(Email::parse("张三@例子.中国").is_ok());
    }

    #[test]
    fn compatibility_forms_are_one_address() {
        let plain = Email::parse("cat@example.com").unwrap();
        for spelling in [
            "ｃat@example.com",
            "ＣＡＴ＠ＥＸＡＭＰＬＥ．ＣＯＭ",
            "CAT@example.com",
            " cａt@example.com\u{3000}",
        ] {
            assert_eq!(Email::parse(spelling).unwrap(), plain, "{spelling:?}");
        }
        let once = Email::parse("Ｍüller@Exämple.de").unwrap();
        assert_eq!(Email::parse(once.as_str()).unwrap(), once, "the normal form is stable");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b-.com",
            "<a>@b.com",
            "a@b.c\nom",
            "a@b_c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::Malformed));
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert_eq!(
            NewPassword::parse("短密码", "短密码", &email()).unwrap_err(),
            PasswordError::TooShort
        );
        assert!(NewPassword::parse("数字藏品真好看啊朋友们", "数字藏品真好看啊朋友们", &email()).is_ok());
        let long = "ab1!".repeat(33);
        assert_eq!(
            NewPassword::parse(&long, &long, &email()).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn weak_passwords_are_refused() {
        for weak in ["aaaaaaaaaaaa", "ababababab", "Password123", "1234567890", "WOAINI1314"] {
            assert_eq!(
                NewPassword::parse(weak, weak, &email()).unwrap_err(),
                PasswordError::TooCommon,
                "{weak}"
            );
        }
    }

    #[test]
    fn password_must_not_contain_the_email() {
        let p = "my-li.hua-secret";
        assert_eq!(
            NewPassword::parse(p, p, &email()).unwrap_err(),
            PasswordError::ContainsEmail
        );
    }

    #[test]
    fn confirmation_must_match() {
        assert_eq!(
            NewPassword::parse("correct horse battery", "correct horse batterY", &email()).unwrap_err(),
            PasswordError::Mismatch
        );
        let ok = NewPassword::parse("correct horse battery", "correct horse battery", &email()).unwrap();
        assert_eq!(ok.expose(), "correct horse battery");
        assert!(!format!("{ok:?}").contains("horse"));
    }
}
