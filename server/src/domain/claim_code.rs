//! Claim codes (以实带虚): one-time codes printed on products or handed out at events.
//!
//! A code is 80 random bits written as 16 Crockford base-32 characters in four groups
//! (`7KQ2-M9XD-4TPA-0HCF`). Typing is forgiving: case, spaces and dashes are ignored, and the
//! letters people confuse with digits (O, I, L) read as 0 and 1. Only a hash of each code is
//! stored; the codes themselves are shown once, when they are generated.

use sha3::{Digest, Sha3_256};

/// Crockford's base-32 alphabet: no I, L, O or U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH: usize = 16;
/// Most codes one request may generate.
pub const MAX_CODES_PER_BATCH: u32 = 10_000;

/// A well-formed claim code, in canonical form (16 characters, no dashes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimCode(String);

impl ClaimCode {
    /// A fresh code from 80 bits of the operating system's randomness.
    pub fn generate(random: [u8; 10]) -> Self {
        let mut bits: u128 = 0;
        for byte in random {
            bits = (bits << 8) | u128::from(byte);
        }
        let code = (0..LENGTH)
            .rev()
            .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
            .collect();
        ClaimCode(code)
    }

    /// Reads a code as a person typed or scanned it; `None` if it cannot be one.
    pub fn parse(input: &str) -> Option<Self> {
        let mut code = String::with_capacity(LENGTH);
        for c in input.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if ALPHABET.contains(&(c as u8)) && c.is_ascii() => c,
                _ => return None,
            };
            code.push(c);
        }
        (code.len() == LENGTH).then_some(ClaimCode(code))
    }

    /// The canonical form, as used in `/c/{code}` links.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Four dash-separated groups, for print.
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|group| std::str::from_utf8(group).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// What is stored: SHA3-256 of the canonical form.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha3_256::new();
        hasher.update(b"keepsake-claim-code/1\n");
        hasher.update(self.0.as_bytes());
        hasher.finalize().into()
    }
}

/// How many codes an issuer asked for, within bounds.
pub fn parse_count(text: &str) -> Option<u32> {
    text.trim()
        .parse()
        .ok()
        .filter(|n| (1..=MAX_CODES_PER_BATCH).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_eighty_bits_in_sixteen_characters() {
        let code = ClaimCode::generate([0xFF; 10]);
        assert_eq!(code.as_str(), "ZZZZZZZZZZZZZZZZ");
        let zero = ClaimCode::generate([0; 10]);
        assert_eq!(zero.as_str(), "0000000000000000");
        let one = ClaimCode::generate([0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(one.as_str(), "0000000000000001");
        assert_eq!(ClaimCode::generate([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).as_str().len(), 16);
    }

    #[test]
    fn typing_is_forgiving_but_strict_about_length_and_alphabet() {
        let code = ClaimCode::generate([0x3C, 0xA1, 0x55, 0x0F, 0x99, 0x42, 0x7E, 0x81, 0x24, 0xD6]);
        let typed = code.grouped().to_lowercase();
        assert_eq!(ClaimCode::parse(&typed), Some(code.clone()));
        assert_eq!(ClaimCode::parse(&format!(" {} ", code.as_str())), Some(code.clone()));
        assert_eq!(
            ClaimCode::parse("OOOO-IIII-LLLL-0000").unwrap().as_str(),
            "0000111111110000"
        );
        for bad in [
            "",
            "ABC",
            "ZZZZ-ZZZZ-ZZZZ-ZZZ",
            "ZZZZ-ZZZZ-ZZZZ-ZZZZZ",
            "ZZZZ-ZZZZ-ZZZZ-ZZZU",
            "ZZZZ/ZZZZ/ZZZZ/ZZZZ",
            "ＺZZZZZZZZZZZZZZZ",
        ] {
            assert_eq!(ClaimCode::parse(bad), None, "{bad:?}");
        }
        assert_eq!(code.grouped().len(), 19);
    }

    #[test]
    fn digests_differ_per_code() {
        let a = ClaimCode::generate([1; 10]);
        let b = ClaimCode::generate([2; 10]);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), ClaimCode::parse(&a.grouped()).unwrap().digest());
    }

    #[test]
    fn batch_sizes_are_bounded() {
        assert_eq!(parse_count("500"), Some(500));
        assert_eq!(parse_count("0"), None);
        assert_eq!(parse_count("10001"), None);
        assert_eq!(parse_count("many"), None);
    }
}
