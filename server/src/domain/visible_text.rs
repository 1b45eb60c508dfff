//! Free text that names something (a collection's title, an issuer's or a person's name, an
//! API key's label) or describes it is shown to others exactly as typed, so it must not hide
//! anything: no bidirectional overrides or isolates that make `exe.txt` read as `txt.exe`, no
//! zero-width or other invisible characters that make two names look alike, no control
//! characters. One rule, used by every form that takes such text.

/// What kind of text is checked: a name is one line; prose may also hold line breaks and tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Name,
    Prose,
}

/// The first hidden character found, by code point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the text holds an invisible or direction-changing character (U+{:04X})", *.0 as u32)]
pub struct HiddenCharacter(pub char);

/// Characters that change how text around them is shown, or show nothing at all.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                      // soft hyphen
            | '\u{034F}'                // combining grapheme joiner
            | '\u{061C}'                // Arabic letter mark
            | '\u{115F}' | '\u{1160}'   // Hangul fillers
            | '\u{17B4}' | '\u{17B5}'   // Khmer inherent vowels
            | '\u{180E}'                // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}'   // zero-width space, joiners, LRM, RLM
            | '\u{202A}'..='\u{202E}'   // bidirectional embeddings and overrides
            | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}'   // bidirectional isolates, deprecated format characters
            | '\u{3164}'                // Hangul filler
            | '\u{FEFF}'                // zero-width no-break space (byte-order mark)
            | '\u{FFA0}'                // half-width Hangul filler
            | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
            | '\u{1D173}'..='\u{1D17A}' // musical formatting
            | '\u{E0000}'..='\u{E007F}' // tags
    )
}

/// Refuses text that holds a hidden character. In prose, line breaks (`\n`, or `\r\n` as
/// browsers send them) and tabs are allowed, and so are the zero-width joiner and non-joiner,
/// which emoji sequences and several scripts need (screening folds them away when it looks
/// for terms); every other control or invisible character is hidden.
pub fn check_visible(text: &str, kind: TextKind) -> Result<(), HiddenCharacter> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let prose = kind == TextKind::Prose;
        let allowed_control = prose && (c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n')));
        let joiner = prose && matches!(c, '\u{200C}' | '\u{200D}');
        if (c.is_control() && !allowed_control) || (invisible(c) && !joiner) {
            return Err(HiddenCharacter(c));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_and_prose_pass() {
        for name in [
            "新华社 · 2026 年度照片",
            "Li Lei",
            "Ünïcødé—“quoted” 😀",
            "北京某某文化传媒有限公司",
        ] {
            assert_eq!(check_visible(name, TextKind::Name), Ok(()), "{name}");
        }
        assert_eq!(check_visible("第一行\r\n第二行\n\t缩进", TextKind::Prose), Ok(()));
    }

    #[test]
    fn direction_changes_and_invisible_characters_are_refused() {
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{2060}',
            '\u{2064}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{061C}',
            '\u{E0041}',
            '\u{0}',
            '\u{7}',
            '\u{1B}',
            '\u{7F}',
            '\u{85}',
        ] {
            let text = format!("invoice{c}gpj.exe");
            assert_eq!(check_visible(&text, TextKind::Name), Err(HiddenCharacter(c)), "{c:?}");
            if !matches!(c, '\u{200C}' | '\u{200D}') {
                assert_eq!(check_visible(&text, TextKind::Prose), Err(HiddenCharacter(c)), "{c:?}");
            }
        }
    }

    #[test]
    fn prose_keeps_the_joiners_emoji_and_scripts_need() {
        assert_eq!(check_visible("一家人 👨\u{200D}👩\u{200D}👧", TextKind::Prose), Ok(()));
        assert_eq!(check_visible("می\u{200C}خواهم", TextKind::Prose), Ok(()));
        assert!(check_visible("👨\u{200D}👩", TextKind::Name).is_err());
    }

    #[test]
    fn names_are_one_line_and_prose_has_no_stray_carriage_return() {
        for text in ["two\nlines", "tab\there", "cr\r\nlf"] {
            assert!(check_visible(text, TextKind::Name).is_err(), "{text:?}");
        }
        assert_eq!(check_visible("old\rmac", TextKind::Prose), Err(HiddenCharacter('\r')));
    }

    #[test]
    fn the_error_names_the_code_point() {
        assert_eq!(
            HiddenCharacter('\u{202E}').to_string(),
            "the text holds an invisible or direction-changing character (U+202E)"
        );
    }
}
