//! The platform's addresses that more than one layer needs: the pages services link to from
//! mail and handlers redirect to, and [`safe_next`], which keeps a `next=` parameter on this
//! platform.

use url::Url;

use crate::domain::ids::{CollectionId, IssuerId, TokenId};

/// The signed-in collector's own tokens.
pub const MY_COLLECTION: &str = "/me/collection";
/// Where a person asks for and downloads a copy of their data.
pub const ACCOUNT_DATA: &str = "/account/data";

/// Where collectors type a claim code.
pub const TYPE_A_CODE: &str = "/c";

pub fn token(id: TokenId) -> String {
    format!("/tokens/{id}")
}

pub fn collection(id: CollectionId) -> String {
    format!("/collections/{id}")
}

pub fn issuer(id: IssuerId) -> String {
    format!("/issuers/{id}")
}

/// An issuer's console.
pub fn console(issuer: IssuerId) -> String {
    format!("/console/{issuer}")
}

/// An issuer's filings and their renewal, in its console.
pub fn console_filings(issuer: IssuerId) -> String {
    format!("/console/{issuer}/filings")
}

/// A collection in its issuer's console.
pub fn console_collection(issuer: IssuerId, id: CollectionId) -> String {
    format!("/console/{issuer}/collections/{id}")
}

/// The page that redeems a claim code (its canonical form).
pub fn redeem(code: &str) -> String {
    format!("/c/{code}")
}

/// `path` URL-encoded for a `next=` parameter.
pub fn encoded(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// `base` with `?next=` when there is somewhere to go back to.
pub fn with_next(base: &str, next: &str) -> String {
    if next == "/" {
        base.to_owned()
    } else {
        format!("{base}?next={}", encoded(next))
    }
}

/// The identity page, leading on to `next` once verified.
pub fn identity(next: &str) -> String {
    with_next("/identity", next)
}

/// Where a `next=` parameter may send the visitor: a path on this platform, `/` otherwise.
///
/// The value is resolved the way a browser resolves a `Location` (the WHATWG URL parser, which
/// drops tabs and newlines and reads a backslash as a slash) and kept only if it stays on our
/// origin. What comes back is the parser's serialisation of the path, query and fragment: it
/// holds no control character, so it is always a valid header value.
pub fn safe_next(next: Option<&str>) -> String {
    static BASE: std::sync::LazyLock<Url> =
        std::sync::LazyLock::new(|| Url::parse("http://keepsake.invalid/").expect("a valid base"));
    let Some(next) = next.filter(|n| n.starts_with('/')) else {
        return "/".to_owned();
    };
    match BASE.join(next) {
        Ok(url) if url.origin() == BASE.origin() => {
            let mut local = url.path().to_owned();
            if let Some(query) = url.query() {
                local.push('?');
                local.push_str(query);
            }
            if let Some(fragment) = url.fragment() {
                local.push('#');
                local.push_str(fragment);
            }
            local
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/account?x=1")), "/account?x=1");
        assert_eq!(
            safe_next(Some("/c/7KQ2M9XD4TPA0HCF#claim")),
            "/c/7KQ2M9XD4TPA0HCF#claim"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "account",
            "javascript:alert(1)",
            "/\t/evil.test",
            "/\t\\evil.test",
            "/\n/evil.test",
            "/\r\n/evil.test",
            " //evil.test",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn what_comes_back_is_always_a_header_value() {
        for odd in [
            "/a\u{7f}b",
            "/\u{0}",
            "/\u{b}x",
            "/a\r\nSet-Cookie: x",
            "/中文?q=长城",
            "/%zz",
        ] {
            let next = safe_next(Some(odd));
            assert!(
                axum::http::HeaderValue::from_str(&next).is_ok() && next.starts_with('/') && !next.starts_with("//"),
                "{odd:?} gave {next:?}"
            );
        }
    }
}
