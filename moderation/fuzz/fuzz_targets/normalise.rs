//! The normaliser and the screener on arbitrary text: no panic, and every finding's span lies
//! on character boundaries of the original text.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use moderation::TextScreener;
use moderation::normalise::normalise;

static SCREENER: LazyLock<TextScreener> = LazyLock::new(TextScreener::starter);

fuzz_target!(|text: &str| {
    let normalised = normalise(text);
    let whole = normalised.original_range(0..normalised.as_str().len());
    assert!(text.get(whole).is_some());
    for finding in SCREENER.screen(text) {
        assert!(text.get(finding.span.clone()).is_some(), "{finding:?}");
    }
});
