//! A second factor for log-in: time-based one-time passwords (TOTP, RFC 6238: HMAC-SHA1, six
//! digits, 30-second steps, one step of tolerance either way) and single-use recovery codes.
//!
//! Staff (reviewers, administrators, regulators) reveal identities and revoke tokens, so their
//! pages stay closed until they enrol; anyone else may enrol. A code is accepted once: the
//! step it belongs to must come after the last step accepted for the person (RFC 6238 §5.2),
//! so a code read over a shoulder is worth nothing once used.

use chrono::{DateTime, Duration, Utc};
use totp_rs::{Builder, Secret, Totp};

use super::role::{Role, Roles};

/// The length of a TOTP step, in seconds.
const STEP_SECONDS: u64 = 30;
/// How many recovery codes an enrolment gets.
pub const RECOVERY_CODES: usize = 10;
/// How long a log-in may wait between the right password and the second factor.
pub const CHALLENGE_LIFETIME: Duration = Duration::minutes(5);
/// The issuer name authenticator apps show next to the account.
const ISSUER: &str = "Keepsake";

/// The roles whose pages need a second factor.
pub const REQUIRED_FOR: [Role; 3] = [Role::Reviewer, Role::Admin, Role::Regulator];

/// Whether someone holding `roles` must have a second factor before their staff pages open.
pub fn required(roles: &Roles) -> bool {
    REQUIRED_FOR.iter().any(|role| roles.has(*role))
}

/// Whether `role`'s pages need a second factor.
pub fn guards(role: Role) -> bool {
    REQUIRED_FOR.contains(&role)
}

/// The 160-bit secret shared with the person's authenticator app. Its `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; 20]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

impl TotpSecret {
    pub fn from_bytes(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The secret as apps take it typed in: RFC 4648 base32 without padding.
    pub fn base32(&self) -> String {
        Secret::new_stack(self.0).to_base32()
    }

    /// The secret from its base32 form.
    pub fn parse_base32(text: &str) -> Option<Self> {
        let bytes = Secret::try_from_base32(text.trim()).ok()?;
        Some(Self(bytes.as_ref().try_into().ok()?))
    }

    fn totp(&self, account: &str) -> Totp {
        Builder::new()
            .with_secret(Secret::new_stack(self.0))
            .with_digits(6)
            .with_step_duration(STEP_SECONDS)
            .with_skew(1)
            .with_account_name(account.replace(':', " "))
            .with_issuer(Some(ISSUER))
            .build_noncompliant()
    }

    /// The `otpauth://` address an authenticator app scans, naming the account `account`.
    pub fn otpauth_url(&self, account: &str) -> String {
        self.totp(account)
            .to_url()
            .unwrap_or_else(|_| format!("otpauth://totp/{ISSUER}?secret={}&issuer={ISSUER}", self.base32()))
    }

    /// The code of the step `now` falls in (for the command line's demonstration and tests).
    pub fn code_at(&self, now: DateTime<Utc>) -> String {
        self.totp("").generate(seconds(now)).to_string()
    }
}

fn seconds(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or_default()
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("the code is not six digits")]
    Malformed,
    #[error("the code does not match")]
    Wrong,
    #[error("the code was used already")]
    Used,
}

/// Checks a typed `code` against `secret` at `now`: the step it belongs to, which must come
/// after `last_step` (the last one accepted for this person). The caller records the step in
/// the same write that depends on it, so two requests cannot both use it.
pub fn check(secret: &TotpSecret, code: &str, last_step: Option<u64>, now: DateTime<Utc>) -> Result<u64, CodeRefusal> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeRefusal::Malformed);
    }
    let step = secret.totp("").check(&code, seconds(now)).ok_or(CodeRefusal::Wrong)?;
    if last_step.is_some_and(|last| step <= last) {
        return Err(CodeRefusal::Used);
    }
    Ok(step)
}

/// Whether what was typed looks like a recovery code rather than a TOTP code.
pub fn is_recovery_code(typed: &str) -> bool {
    normalise_recovery_code(typed).len() == 10
}

/// A recovery code in the form it is hashed in: letters and digits only, lower case.
pub fn normalise_recovery_code(typed: &str) -> String {
    typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Ten characters of Crockford-style base32 from random bytes, shown as `xxxxx-xxxxx`.
pub fn recovery_code(random: &[u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let code: String = random
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(byte % 32)]))
        .collect();
    format!("{}-{}", &code[..5], &code[5..])
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// The SHA-1 secret of RFC 6238's test vectors (Appendix B).
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(*b"12345678901234567890")
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // Appendix B gives eight digits; six are its last six.
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(rfc_secret().code_at(at(time)), eight[2..], "at {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_within_one_step_either_way_and_only_once() {
        let secret = rfc_secret();
        let now = at(1_111_111_111);
        let code = secret.code_at(now);
        let step = check(&secret, &code, None, now).unwrap();
        assert_eq!(step, 1_111_111_111 / 30);
        assert_eq!(check(&secret, &code, Some(step), now), Err(CodeRefusal::Used));
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check(&secret, &spaced, Some(step - 1), now), Ok(step), "spaces ignored");
        assert_eq!(
            check(&secret, &code, None, now + Duration::seconds(30)),
            Ok(step),
            "a step late"
        );
        assert_eq!(
            check(&secret, &code, None, now - Duration::seconds(30)),
            Ok(step),
            "a step early"
        );
        assert_eq!(
            check(&secret, &code, None, now + Duration::seconds(61)),
            Err(CodeRefusal::Wrong)
        );
        let next = secret.code_at(now + Duration::seconds(30));
        assert_eq!(
            check(&secret, &next, Some(step), now),
            Ok(step + 1),
            "the next step's code"
        );
        for bad in ["", "12345", "1234567", "12a456"] {
            assert_eq!(check(&secret, bad, None, now), Err(CodeRefusal::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn the_secret_travels_as_base32_and_in_an_otpauth_address() {
        let secret = rfc_secret();
        assert_eq!(secret.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::parse_base32(&secret.base32()), Some(secret.clone()));
        assert_eq!(TotpSecret::parse_base32("not base32!"), None);
        let url = secret.otpauth_url("reviewer@example.com");
        assert!(
            url.starts_with("otpauth://totp/Keepsake:reviewer%40example.com?"),
            "{url}"
        );
        assert!(url.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") && url.contains("issuer=Keepsake"));
        assert_eq!(format!("{secret:?}"), "TotpSecret([redacted])");
    }

    #[test]
    fn recovery_codes_are_ten_characters_typed_any_way() {
        let code = recovery_code(&[0, 1, 2, 3, 31, 32, 33, 200, 254, 255]);
        assert_eq!(code, "0123z-018yz");
        let typed = format!(" {} ", code.to_uppercase().replace('-', " "));
        assert_eq!(normalise_recovery_code(&typed), code.replace('-', ""));
        assert!(is_recovery_code(&typed));
        assert!(!is_recovery_code("123456"));
    }

    #[test]
    fn staff_roles_need_a_second_factor() {
        assert!(required(&Roles::new([Role::Reviewer], false)));
        assert!(required(&Roles::new([Role::Regulator], false)));
        assert!(required(&Roles::new([Role::Admin], true)));
        assert!(!required(&Roles::new([], true)), "issuer members may enrol");
        assert!(!required(&Roles::new([], false)));
        assert!(guards(Role::Admin) && !guards(Role::Collector) && !guards(Role::IssuerMember));
    }
}
