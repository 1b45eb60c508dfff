//! Property tests for the normaliser, standing in for a `cargo fuzz` target (which needs a
//! nightly toolchain this project does not assume): whatever the input, normalising must not
//! panic, every normalised range must map to a range of the original on character boundaries,
//! and normalising twice must equal normalising once.

use moderation::normalise::normalise;
use proptest::prelude::*;

/// Mostly the characters that matter to screening (CJK, Latin, separators, invisibles,
/// combining marks, full-width forms), with arbitrary characters mixed in.
fn text() -> impl Strategy<Value = String> {
    let interesting = prop_oneof![
        Just('升'),
        Just('值'),
        Just('炒'),
        Just(' '),
        Just('.'),
        Just('*'),
        Just('@'),
        Just('$'),
        Just('穩'),
        Just('値'),
        Just('\u{0430}'),
        Just('ě'),
        Just('。'),
        Just('\u{3000}'),
        Just('\u{200B}'),
        Just('\u{200D}'),
        Just('\u{FEFF}'),
        Just('\u{0301}'),
        Just('\u{0336}'),
        Just('İ'),
        Just('ß'),
        Just('ﬁ'),
        Just('①'),
        Just('㈱'),
        Just('\u{1100}'),
        Just('\u{1161}'),
        proptest::char::range('\u{FF01}', '\u{FF5E}'),
        proptest::char::range('a', 'z'),
        proptest::char::range('A', 'Z'),
        proptest::char::range('0', '9'),
        any::<char>(),
    ];
    proptest::collection::vec(interesting, 0..40).prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn normalising_is_idempotent(s in text()) {
        let once = normalise(&s);
        let twice = normalise(once.as_str());
        prop_assert_eq!(twice.as_str(), once.as_str());
    }

    #[test]
    fn every_range_maps_onto_char_boundaries_of_the_original(s in text()) {
        let n = normalise(&s);
        let bounds: Vec<usize> = n.as_str().char_indices().map(|(i, _)| i).chain([n.as_str().len()]).collect();
        for (i, &a) in bounds.iter().enumerate() {
            for &b in &bounds[i..] {
                let r = n.original_range(a..b);
                prop_assert!(r.start <= r.end && r.end <= s.len(), "{:?} -> {:?}", a..b, r);
                prop_assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
                if a < b {
                    prop_assert!(r.start < r.end, "a non-empty range must map to a non-empty one");
                }
            }
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let n = normalise(&s);
        let len = n.as_str().len();
        let r = n.original_range(0..len);
        prop_assert!(r.end <= s.len());
    }

    #[test]
    fn whole_normalised_text_maps_within_the_original_in_order(s in text()) {
        let n = normalise(&s);
        let mut previous_start = 0;
        for (i, c) in n.as_str().char_indices() {
            let r = n.original_range(i..i + c.len_utf8());
            prop_assert!(r.start >= previous_start, "spans go backwards");
            previous_start = r.start;
        }
    }
}
