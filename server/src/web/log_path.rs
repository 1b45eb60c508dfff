//! What of a request's path goes into the log. One-time links (password reset, email
//! verification, unlocking a locked account, confirming or undoing a change of address,
//! invitations), claim codes and report tickets carry their secret in the path; the log gets a
//! marker in its place, so that reading the log gives nobody an account or a collectible.

use std::borrow::Cow;

/// Paths whose next segment is a secret.
const SECRET_AFTER: [&str; 8] = [
    "/password/reset/",
    "/account/email/confirm/",
    "/account/email/undo/",
    "/verify-email/",
    "/login/unlock/",
    "/invitations/",
    "/c/",
    "/reports/",
];

/// Pages under those prefixes whose names are not secrets.
const NAMED_PAGES: [&str; 4] = [
    "/password/reset/done",
    "/verify-email/done",
    "/verify-email/sent",
    "/verify-email/resend",
];

/// The marker that stands for a secret segment.
const SECRET: &str = "{secret}";

/// `path` with every secret segment replaced by a marker.
pub fn loggable(path: &str) -> Cow<'_, str> {
    if NAMED_PAGES.contains(&path) {
        return Cow::Borrowed(path);
    }
    for prefix in SECRET_AFTER {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            let tail = rest.find('/').map_or("", |at| &rest[at..]);
            return Cow::Owned(format!("{prefix}{SECRET}{tail}"));
        }
    }
    Cow::Borrowed(path)
}

#[cfg(test)]
mod tests {
    use super::loggable;

    #[test]
    fn secret_segments_are_replaced_and_the_rest_kept() {
        assert_eq!(loggable("/password/reset/abc123"), "/password/reset/{secret}");
        assert_eq!(loggable("/verify-email/abc123"), "/verify-email/{secret}");
        assert_eq!(loggable("/invitations/abc123"), "/invitations/{secret}");
        assert_eq!(loggable("/login/unlock/abc123"), "/login/unlock/{secret}");
        assert_eq!(loggable("/c/7KQ2M9XD4TPA0HCF"), "/c/{secret}");
        assert_eq!(loggable("/c/7KQ2M9XD4TPA0HCF/more"), "/c/{secret}/more");
        assert_eq!(loggable("/reports/7KQ2M9XD4TPA0HCF"), "/reports/{secret}");
        assert_eq!(
            loggable("/account/email/confirm/abc123"),
            "/account/email/confirm/{secret}"
        );
        assert_eq!(loggable("/account/email/undo/abc123"), "/account/email/undo/{secret}");
        for plain in [
            "/c",
            "/login/unlocked",
            "/verify-email/done",
            "/password/reset/done",
            "/collections/1",
            "/console/2/collections/3/codes",
        ] {
            assert_eq!(loggable(plain), plain);
        }
    }
}
