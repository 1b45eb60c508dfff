//! Regressions found by trying the platform as an attacker and as a careless issuer would:
//! each test here failed before its fix.

use reqwest::StatusCode;

use crate::support::{Db, Server, location};

const PASSWORD: &str = "correct horse battery";

/// `next` never leads off the site, and odd characters in it never break the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_stays_on_the_site_and_odd_characters_do_not_break_it() {
    let server = Server::start(Db::Sqlite).await;
    let visitor = server.client();
    for sneaky in ["%2F%09%2Fevil.test", "%2F%09%5Cevil.test", "%2F%0A%2Fevil.test", "%2F%2Fevil.test"] {
        let switched = visitor.get(&format!("/lang/en?next={sneaky}")).await;
        assert_eq!(location(&switched), "/", "{sneaky}");
        let (_, page) = visitor.get_text(&format!("/login?next={sneaky}")).await;
        assert!(page.contains("name=\"next\" value=\"/\""), "{sneaky}");
    }
    for control in ["%2F%7F", "%2F%00", "%2Fa%0Bb"] {
        let switched = visitor.get(&format!("/lang/en?next={control}")).await;
        assert_eq!(switched.status(), StatusCode::SEE_OTHER, "{control}: no 500");
        assert!(location(&switched).starts_with('/'), "{control}");
    }
    server.verified_user("next@example.com", PASSWORD).await;
    let fresh = server.client();
    let login = fresh
        .post_form(
            "/login",
            "/login",
            &[("email", "next@example.com"), ("password", PASSWORD), ("next", "/\u{7f}\u{0}")],
        )
        .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "a log-in with an odd next is no 500");
    assert!(location(&login).starts_with('/'));
}
