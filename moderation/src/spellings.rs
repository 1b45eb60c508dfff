//! The other spellings a listed term is also matched in, generated when a screener is built so
//! that screening itself stays one scan:
//!
//! - **Pinyin**: a term of two or more Han characters is also matched romanised, from the
//!   `pinyin` crate's readings (the commonest reading of each character), written joined
//!   (`wenzhuanbupei`), syllable by syllable (`wen zhuan bu pei`) or in words (`wenzhuan
//!   bupei`; every grouping up to five syllables, pairs beyond); tone marks are already
//!   folded away by the normaliser, and `ü` may be written `u` or `v`. Single characters are
//!   left out: one syllable (`chao`) is too often a name or a place.
//! - **English inflections**: each word of a Latin term is also matched with `-s`, `-es`,
//!   `-ed`, `-ing` (doubling a final consonant or dropping a silent `e` as English does), kept only
//!   where the Snowball English stemmer (`rust-stemmers`) agrees that the form is the same word.
//!   Irregular forms (`resold`) belong in the lists themselves.
//! - **Amounts**: a term written `售价{number}` stands for the word followed by a number in
//!   digits or Chinese numerals, optionally after a linking word (`售价为99元`, `标价：一百`).
//!
//! Every spelling is returned normalised, ready for the automaton.

use pinyin::ToPinyin;
use rust_stemmers::{Algorithm, Stemmer};

use crate::normalise::{is_unspaced, normalise};

/// The placeholder for an amount at the end of a term.
pub const NUMBER: &str = "{number}";

/// How a term with [`NUMBER`] is shown to a reviewer.
pub fn display(term: &str) -> String {
    term.replace(NUMBER, "N")
}

/// The normalised spellings of `term`, its own normalised form first. Empty if the term
/// normalises to nothing.
pub fn spellings(term: &str, stemmer: &Stemmer) -> Vec<String> {
    if let Some(prefix) = term.strip_suffix(NUMBER) {
        return amounts(prefix);
    }
    let own = normalise(term).as_str().to_owned();
    if own.is_empty() {
        return Vec::new();
    }
    let mut all = vec![own.clone()];
    all.extend(romanised(&own));
    all.extend(inflected(&own, stemmer));
    all.dedup();
    all
}

/// A stemmer for [`spellings`].
pub fn english_stemmer() -> Stemmer {
    Stemmer::create(Algorithm::English)
}

fn amounts(prefix: &str) -> Vec<String> {
    const LINKS: [&str; 5] = ["", "为", "是", "仅", "只要"];
    const FIRST_DIGITS: &str = "0123456789零一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾";
    let prefix = normalise(prefix).as_str().to_owned();
    if prefix.is_empty() {
        return Vec::new();
    }
    LINKS
        .iter()
        .flat_map(|link| FIRST_DIGITS.chars().map(move |d| (link, d)))
        .map(|(link, d)| format!("{prefix}{link}{d}"))
        .map(|s| normalise(&s).as_str().to_owned())
        .collect()
}

fn romanised(term: &str) -> Vec<String> {
    if term.chars().count() < 2 || !term.chars().all(is_unspaced) {
        return Vec::new();
    }
    let Some(syllables) = term
        .chars()
        .map(|c| c.to_pinyin().map(|p| p.plain()))
        .collect::<Option<Vec<&str>>>()
    else {
        return Vec::new();
    };
    let mut forms = Vec::new();
    for u in ["u", "v"] {
        let syllables: Vec<String> = syllables.iter().map(|s| s.replace(['ü', 'v'], u)).collect();
        forms.extend(groupings(&syllables));
    }
    let mut forms: Vec<String> = forms.iter().map(|f| normalise(f).as_str().to_owned()).collect();
    forms.sort();
    forms.dedup();
    forms
}

/// The ways of writing syllables as words: every grouping for a term of up to five syllables
/// (`mianfei lingqu`), else all joined, all apart, or in pairs.
fn groupings(syllables: &[String]) -> Vec<String> {
    let n = syllables.len();
    let cut_sets: Vec<Vec<bool>> = if n <= 5 {
        (0..1u32 << (n - 1))
            .map(|mask| (0..n - 1).map(|i| mask & (1 << i) != 0).collect())
            .collect()
    } else {
        vec![
            vec![false; n - 1],
            vec![true; n - 1],
            (0..n - 1).map(|i| i % 2 == 1).collect(),
        ]
    };
    cut_sets
        .iter()
        .map(|cuts| {
            let mut word = syllables[0].clone();
            for (syllable, &cut) in syllables[1..].iter().zip(cuts) {
                if cut {
                    word.push(' ');
                }
                word.push_str(syllable);
            }
            word
        })
        .collect()
}

fn inflected(term: &str, stemmer: &Stemmer) -> Vec<String> {
    let words: Vec<&str> = term.split(' ').collect();
    let mut forms = Vec::new();
    for (i, word) in words.iter().enumerate() {
        if word.len() < 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            continue;
        }
        for form in inflections(word, stemmer) {
            let mut changed = words.clone();
            changed[i] = &form;
            forms.push(changed.join(" "));
        }
    }
    forms
}

/// Inflected forms of an English word that the stemmer takes for the same word.
fn inflections(word: &str, stemmer: &Stemmer) -> Vec<String> {
    let stem = stemmer.stem(word);
    let mut bases = vec![word.to_owned()];
    if ["ing", "ed", "s"].iter().any(|end| word.ends_with(end)) && stem != word {
        bases.push(stem.to_string());
        bases.push(format!("{stem}e"));
    }
    let mut candidates = Vec::new();
    for base in &bases {
        candidates.extend([
            base.clone(),
            format!("{base}s"),
            format!("{base}es"),
            format!("{base}ed"),
            format!("{base}ing"),
        ]);
        if let Some(bare) = base.strip_suffix('e') {
            candidates.extend([format!("{bare}ing"), format!("{base}d")]);
        }
        if let Some(bare) = base.strip_suffix('y') {
            candidates.extend([format!("{bare}ies"), format!("{bare}ied")]);
        }
        if let Some(last) = base.chars().last()
            && !"aeiouwxy".contains(last)
            && base.chars().rev().nth(1).is_some_and(|c| "aeiou".contains(c))
        {
            candidates.extend([format!("{base}{last}ing"), format!("{base}{last}ed")]);
        }
    }
    candidates.sort();
    candidates.dedup();
    candidates.retain(|c| c != word && c.len() >= 3 && stemmer.stem(c) == stem);
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(term: &str) -> Vec<String> {
        spellings(term, &english_stemmer())
    }

    #[test]
    fn han_terms_are_also_matched_in_pinyin() {
        let all = of("稳赚不赔");
        assert!(all.contains(&"wenzhuanbupei".to_owned()), "{all:?}");
        assert!(all.contains(&"wen zhuan bu pei".to_owned()), "{all:?}");
        assert!(all.contains(&"wenzhuan bupei".to_owned()), "{all:?}");
        assert_eq!(of("炒"), ["炒"]);
    }

    #[test]
    fn english_terms_are_also_matched_inflected() {
        let all = of("profit");
        for form in ["profits", "profited", "profiting"] {
            assert!(all.contains(&form.to_owned()), "{form}: {all:?}");
        }
        let all = of("betting");
        assert!(
            all.contains(&"bet".to_owned()) && all.contains(&"bets".to_owned()),
            "{all:?}"
        );
        let all = of("guaranteed profit");
        assert!(all.contains(&"guaranteed profits".to_owned()), "{all:?}");
        assert!(!of("resale").contains(&"resal".to_owned()));
    }

    #[test]
    fn amounts_follow_the_word() {
        let all = of("售价{number}");
        for form in ["售价9", "售价为1", "售价一"] {
            assert!(all.contains(&form.to_owned()), "{form}");
        }
        assert!(!all.contains(&"售价".to_owned()));
        assert_eq!(display("售价{number}"), "售价N");
    }
}
