//! Mobile numbers and the codes texted to them.
//!
//! Numbers are kept in E.164 (`+` and at most 15 digits, the country code first). Mainland
//! China numbers (+86) are checked as the MIIT numbering plan allots mobile numbers: eleven
//! digits beginning with 13–19; a number typed without a country code is taken as one. A code
//! is six digits, good for five minutes and one use, and dies after five wrong guesses; how
//! often one number or one client may ask for codes is limited here too.

use chrono::{DateTime, Duration, Utc};

/// How long a texted code is good for.
pub const CODE_LIFETIME: Duration = Duration::minutes(5);
/// Wrong guesses that end a code.
pub const MAX_GUESSES: i32 = 5;
/// The least time between two codes to one number.
pub const RESEND_AFTER: Duration = Duration::seconds(60);
/// Codes one number may be sent in an hour, and in a day.
pub const PER_NUMBER_HOURLY: u64 = 5;
pub const PER_NUMBER_DAILY: u64 = 10;
/// Codes one client address may ask for in an hour (shared addresses are common).
pub const PER_CLIENT_HOURLY: u64 = 20;

/// A mobile number in E.164 form. Its `Debug` masks the middle digits.
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneNumber(String);

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// Why a typed number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("a phone number is digits, with an optional + and country code")]
    Malformed,
    #[error("a mainland China mobile number has 11 digits and begins with 13 to 19")]
    NotMainlandMobile,
}

impl PhoneNumber {
    /// Reads a number as people type it: spaces, dashes, dots and brackets are ignored, `00`
    /// stands for `+`, and eleven digits without a country code are a mainland number.
    pub fn parse(typed: &str) -> Result<Self, PhoneError> {
        let kept: String = typed
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{3000}'))
            .collect();
        let (international, digits) = match kept.strip_prefix('+') {
            Some(rest) => (true, rest.to_owned()),
            None => match kept.strip_prefix("00") {
                Some(rest) => (true, rest.to_owned()),
                None => (false, kept),
            },
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneError::Malformed);
        }
        let digits = if international { digits } else { format!("86{digits}") };
        if let Some(national) = digits.strip_prefix("86") {
            let mobile =
                national.len() == 11 && national.starts_with('1') && matches!(national.as_bytes()[1], b'3'..=b'9');
            return if mobile {
                Ok(Self(format!("+{digits}")))
            } else {
                Err(PhoneError::NotMainlandMobile)
            };
        }
        if digits.starts_with('0') || !(8..=15).contains(&digits.len()) {
            return Err(PhoneError::Malformed);
        }
        Ok(Self(format!("+{digits}")))
    }

    /// The E.164 form, `+8613800138000`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with its middle hidden, as pages may show it: `+86 138****8000`, or for
    /// other countries the first three and last four digits, `+852****4567`.
    pub fn masked(&self) -> String {
        let digits = &self.0[1..];
        let (prefix, national) = match digits.strip_prefix("86") {
            Some(national) => ("+86 ", national),
            None => ("+", digits),
        };
        let tail = &national[national.len() - 4..];
        let head = &national[..3];
        format!("{prefix}{head}{}{tail}", "*".repeat(national.len() - 7))
    }

    /// The number as gateways in China take it: the national number for +86, else E.164 digits.
    pub fn for_gateway(&self) -> &str {
        self.0.strip_prefix("+86").unwrap_or(&self.0[1..])
    }
}

/// What a texted code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// Proving a number is the account's before it is added.
    AddPhone,
    /// Logging in with the number instead of the password.
    LogIn,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::AddPhone => "add_phone",
            CodePurpose::LogIn => "log_in",
        }
    }
}

/// A code from four random bytes: six decimal digits.
pub fn code_from(random: [u8; 4]) -> String {
    format!("{:06}", u32::from_be_bytes(random) % 1_000_000)
}

/// The codes sent lately, as the limits count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecentCodes {
    /// To this number: when the last one was sent, and how many in the last hour and day.
    pub number_last: Option<DateTime<Utc>>,
    pub number_hour: u64,
    pub number_day: u64,
    /// Asked for from this client address in the last hour.
    pub client_hour: u64,
}

/// Why a code was not sent, with how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many codes asked for; try again in {} s", .retry_after.num_seconds())]
pub struct CodeLimited {
    pub retry_after: Duration,
}

/// Whether another code may be sent at `now`.
pub fn may_send(recent: &RecentCodes, now: DateTime<Utc>) -> Result<(), CodeLimited> {
    if recent.client_hour >= PER_CLIENT_HOURLY || recent.number_hour >= PER_NUMBER_HOURLY {
        return Err(CodeLimited {
            retry_after: Duration::hours(1),
        });
    }
    if recent.number_day >= PER_NUMBER_DAILY {
        return Err(CodeLimited {
            retry_after: Duration::days(1),
        });
    }
    if let Some(last) = recent.number_last
        && now < last + RESEND_AFTER
    {
        let wait = last + RESEND_AFTER - now;
        return Err(CodeLimited {
            retry_after: Duration::seconds((wait.num_milliseconds() + 999) / 1000),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_numbers_are_read_as_people_type_them() {
        for typed in [
            "13800138000",
            "138 0013 8000",
            "+86 138-0013-8000",
            "0086 13800138000",
            "(+86) 138.0013.8000",
        ] {
            assert_eq!(PhoneNumber::parse(typed).unwrap().as_str(), "+8613800138000", "{typed}");
        }
        for typed in ["12800138000", "1380013800", "138001380001", "+86 010 6552 9988"] {
            assert_eq!(PhoneNumber::parse(typed), Err(PhoneError::NotMainlandMobile), "{typed}");
        }
        for typed in ["", "+", "138o0138000", "+0 1234 5678", "+1 234", "+1234567890123456"] {
            assert_eq!(PhoneNumber::parse(typed), Err(PhoneError::Malformed), "{typed}");
        }
        assert_eq!(PhoneNumber::parse("+852 9123 4567").unwrap().as_str(), "+85291234567");
    }

    #[test]
    fn a_number_shows_only_its_ends() {
        let number = PhoneNumber::parse("13800138000").unwrap();
        assert_eq!(number.masked(), "+86 138****8000");
        assert_eq!(format!("{number:?}"), "PhoneNumber(+86 138****8000)");
        assert_eq!(number.for_gateway(), "13800138000");
        let hk = PhoneNumber::parse("+852 9123 4567").unwrap();
        assert_eq!(hk.masked(), "+852****4567");
        assert_eq!(hk.for_gateway(), "85291234567");
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(code_from([0, 0, 0, 7]), "000007");
        assert_eq!(code_from([255, 255, 255, 255]), "967295");
    }

    #[test]
    fn codes_are_limited_per_number_and_per_client() {
        let now = Utc::now();
        assert_eq!(may_send(&RecentCodes::default(), now), Ok(()));
        let just_sent = RecentCodes {
            number_last: Some(now - Duration::seconds(20)),
            number_hour: 1,
            number_day: 1,
            client_hour: 1,
        };
        assert_eq!(
            may_send(&just_sent, now).unwrap_err().retry_after,
            Duration::seconds(40)
        );
        let a_minute_on = RecentCodes {
            number_last: Some(now - RESEND_AFTER),
            ..just_sent
        };
        assert_eq!(may_send(&a_minute_on, now), Ok(()));
        let busy_number = RecentCodes {
            number_hour: PER_NUMBER_HOURLY,
            ..a_minute_on
        };
        assert_eq!(may_send(&busy_number, now).unwrap_err().retry_after, Duration::hours(1));
        let busy_day = RecentCodes {
            number_day: PER_NUMBER_DAILY,
            number_hour: 0,
            ..a_minute_on
        };
        assert_eq!(may_send(&busy_day, now).unwrap_err().retry_after, Duration::days(1));
        let busy_client = RecentCodes {
            client_hour: PER_CLIENT_HOURLY,
            ..RecentCodes::default()
        };
        assert!(may_send(&busy_client, now).is_err());
    }
}
