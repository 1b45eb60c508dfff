//! Regulatory filing numbers shown on public pages: ICP filing (ICP备案) and
//! blockchain-information-service filing (区块链信息服务备案).
//!
//! Neither number carries a checksum, so only the form is validated; reviewers check the
//! number against the regulator's published lists.

use std::fmt;

/// Province-level abbreviations used as the first character of filing numbers.
const PROVINCES: &str = "京津沪渝冀豫云滇辽黑湘皖鲁新苏浙赣鄂桂甘陇晋蒙陕吉闽贵黔粤青藏川蜀宁琼";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    #[error("expected a filing number like 京ICP备12345678号-1")]
    MalformedIcp,
    #[error("expected a filing number like 京网信备11010819842097170019号 (20 digits)")]
    MalformedBlockchain,
}

/// An ICP filing number: `京ICP备12345678号`, optionally `-N` and a trailing app letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IcpFilingNumber(String);

impl IcpFilingNumber {
    pub fn parse(raw: &str) -> Result<Self, FilingError> {
        let raw = raw.trim();
        let rest = strip_province(raw).ok_or(FilingError::MalformedIcp)?;
        let rest = rest.strip_prefix("ICP备").ok_or(FilingError::MalformedIcp)?;
        let (digits, rest) = split_digits(rest);
        if !(6..=10).contains(&digits.len()) {
            return Err(FilingError::MalformedIcp);
        }
        let rest = rest.strip_prefix('号').ok_or(FilingError::MalformedIcp)?;
        if !rest.is_empty() {
            let site = rest.strip_prefix('-').ok_or(FilingError::MalformedIcp)?;
            let (number, suffix) = split_digits(site);
            let suffix_ok = suffix.is_empty() || (suffix.len() == 1 && suffix.bytes().all(|b| b.is_ascii_uppercase()));
            if number.is_empty() || !suffix_ok {
                return Err(FilingError::MalformedIcp);
            }
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IcpFilingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A blockchain-information-service filing number: `京网信备` + 20 digits + `号`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockchainFilingNumber(String);

impl BlockchainFilingNumber {
    pub fn parse(raw: &str) -> Result<Self, FilingError> {
        let raw = raw.trim();
        let rest = strip_province(raw).ok_or(FilingError::MalformedBlockchain)?;
        let rest = rest.strip_prefix("网信备").ok_or(FilingError::MalformedBlockchain)?;
        let (digits, rest) = split_digits(rest);
        if digits.len() != 20 || rest != "号" {
            return Err(FilingError::MalformedBlockchain);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlockchainFilingNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn strip_province(raw: &str) -> Option<&str> {
    let first = raw.chars().next()?;
    PROVINCES.contains(first).then(|| &raw[first.len_utf8()..])
}

fn split_digits(s: &str) -> (&str, &str) {
    let end = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icp_numbers_from_real_footers_parse() {
        for ok in [
            "京ICP备12345678号",
            "京ICP备12345678号-1",
            "黔ICP备2026001073号-1",
            "陕ICP备2024026116号-1A",
            " 粤ICP备123456号 ",
        ] {
            assert!(IcpFilingNumber::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn icp_malformed_numbers_are_refused() {
        for bad in [
            "",
            "京ICP证110507号",
            "ICP备12345678号",
            "X京ICP备12345678号",
            "京ICP备12345号",
            "京ICP备12345678901号",
            "京ICP备12345678",
            "京ICP备12345678号-",
            "京ICP备12345678号-1ab",
            "京ICP备12345678号1",
        ] {
            assert_eq!(IcpFilingNumber::parse(bad), Err(FilingError::MalformedIcp), "{bad}");
        }
    }

    #[test]
    fn blockchain_filing_numbers() {
        assert!(BlockchainFilingNumber::parse("粤网信备44030524273626860016号").is_ok());
        assert!(BlockchainFilingNumber::parse("京网信备11010819842097170019号").is_ok());
        for bad in [
            "京网信备1101081984209717001号",
            "京网信备110108198420971700190号",
            "京网信备11010819842097170019",
            "网信备11010819842097170019号",
            "京ICP备11010819842097170019号",
        ] {
            assert_eq!(
                BlockchainFilingNumber::parse(bad),
                Err(FilingError::MalformedBlockchain),
                "{bad}"
            );
        }
    }
}
