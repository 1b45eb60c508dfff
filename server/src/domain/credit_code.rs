//! The Unified Social Credit Code (统一社会信用代码, GB 32100-2015) that identifies every
//! registered organisation in China.

use std::fmt;

use super::identity::fold_full_width;

/// The code's alphabet; a character's value is its position (I, O, S, V and Z are unused).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1 to 17: 3^i mod 31.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/// Weights of the embedded organisation code (positions 9 to 16, GB 11714).
const ORGANISATION_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a Unified Social Credit Code has 18 characters")]
    Length,
    #[error("a Unified Social Credit Code uses only digits and the capital letters A–Y except I, O, S, V and Z")]
    Characters,
    #[error("the check character does not match; please check the code for typing errors")]
    CheckCharacter,
}

/// A well-formed credit code with a valid check character.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnifiedSocialCreditCode(String);

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

impl UnifiedSocialCreditCode {
    pub fn parse(raw: &str) -> Result<Self, CreditCodeError> {
        let folded: String = raw.chars().map(fold_full_width).collect();
        let code = folded.trim().to_ascii_uppercase();
        if code.chars().count() != 18 {
            return Err(CreditCodeError::Length);
        }
        let values: Vec<u32> = code
            .bytes()
            .map(value)
            .collect::<Option<_>>()
            .ok_or(CreditCodeError::Characters)?;
        let sum: u32 = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
        let check = (31 - sum % 31) % 31;
        if values[17] != check {
            return Err(CreditCodeError::CheckCharacter);
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the embedded organisation code (characters 9 to 17) passes its own GB 11714
    /// check. Some legitimate early codes fail it, so a failure is a warning for the
    /// reviewer, not a refusal.
    pub fn organisation_code_valid(&self) -> bool {
        let bytes = self.0.as_bytes();
        let Some(digits) = bytes[8..16].iter().map(|&b| value(b)).collect::<Option<Vec<u32>>>() else {
            return false;
        };
        let sum: u32 = digits.iter().zip(ORGANISATION_WEIGHTS).map(|(d, w)| d * w).sum();
        let expected = match 11 - sum % 11 {
            10 => b'X',
            11 => b'0',
            n => b'0' + n as u8,
        };
        bytes[16] == expected
    }
}

impl fmt::Display for UnifiedSocialCreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UnifiedSocialCreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UnifiedSocialCreditCode({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(body: &str) -> String {
        let sum: u32 = body
            .bytes()
            .map(|b| value(b).unwrap())
            .zip(WEIGHTS)
            .map(|(v, w)| v * w)
            .sum();
        format!("{body}{}", ALPHABET[((31 - sum % 31) % 31) as usize] as char)
    }

    #[test]
    fn the_standards_example_is_valid() {
        let code = UnifiedSocialCreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
        assert!(code.organisation_code_valid());
    }

    #[test]
    fn codes_in_the_forms_people_type() {
        for typed in [
            "91350100m000100y43",
            " 91350100M000100Y43\t",
            "９１３５０１００Ｍ０００１００Ｙ４３",
        ] {
            assert_eq!(
                UnifiedSocialCreditCode::parse(typed).unwrap().as_str(),
                "91350100M000100Y43",
                "{typed:?}"
            );
        }
        for body in [
            "91110000100000000",
            "12100000MB0000000",
            "52440300MJ0000000",
            "Y1110108MA0000000",
        ] {
            let code = with_check(body);
            assert!(UnifiedSocialCreditCode::parse(&code).is_ok(), "{code}");
        }
    }

    #[test]
    fn wrong_check_characters_are_refused() {
        for bad in ["91350100M000100Y44", "91350100M000100Y4A", "91350100M000101Y43"] {
            assert_eq!(
                UnifiedSocialCreditCode::parse(bad),
                Err(CreditCodeError::CheckCharacter),
                "{bad}"
            );
        }
    }

    #[test]
    fn malformed_codes_are_refused() {
        for (bad, error) in [
            ("", CreditCodeError::Length),
            ("91350100M000100Y4", CreditCodeError::Length),
            ("91350100M000100Y433", CreditCodeError::Length),
            ("91350100M000100Y4I", CreditCodeError::Characters),
            ("91350100O000100Y43", CreditCodeError::Characters),
            ("91350100S000100Y43", CreditCodeError::Characters),
            ("91350100 000100Y43", CreditCodeError::Characters),
            ("91350100-000100Y43", CreditCodeError::Characters),
            ("9135０100M000100中43", CreditCodeError::Characters),
        ] {
            assert_eq!(UnifiedSocialCreditCode::parse(bad), Err(error), "{bad:?}");
        }
    }

    #[test]
    fn a_failed_organisation_check_is_only_a_warning() {
        // Valid overall check character, but characters 9 to 17 fail GB 11714.
        let code = UnifiedSocialCreditCode::parse(&with_check("91350100M00010051")).unwrap();
        assert!(!code.organisation_code_valid());
    }
}
