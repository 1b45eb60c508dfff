//! Finding where ASCII ends, eight bytes at a time: screening skips or takes whole runs of ASCII
//! in mixed Chinese and English text, and a byte-by-byte search for the end of each run would
//! cost more than the rest of the work on it.

/// The length of the ASCII run at the start of `bytes`.
pub(crate) fn ascii_prefix_len(bytes: &[u8]) -> usize {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let mut len = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of eight bytes"));
        if word & HIGH_BITS != 0 {
            break;
        }
        len += 8;
    }
    len + bytes[len..]
        .iter()
        .position(|b| !b.is_ascii())
        .unwrap_or(bytes.len() - len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_byte_beyond_ascii_at_any_offset() {
        for len in 0..40 {
            for tail in ["", "升", "é", "\u{80}"] {
                let text = format!("{}{tail}abc", "x".repeat(len));
                let expected = if tail.is_empty() { text.len() } else { len };
                assert_eq!(ascii_prefix_len(text.as_bytes()), expected, "{text:?}");
            }
        }
    }
}
