//! Changing an account's email address, end to end: asked for with the password, made from
//! the link mailed to the new address (every session ends), told to the old address with a
//! link that puts it back for a week; refusals change nothing, and no link is in the log.

use reqwest::StatusCode;

use crate::support::kyb::{query, scalar};
use crate::support::{Db, Options, Server, location};

on_both_databases!(an_address_changes_from_the_new_mailbox_and_the_old_one_can_take_it_back);

const PASSWORD: &str = "correct horse battery";

async fn email_of(server: &Server, user: i64) -> String {
    query(server, &format!("SELECT email FROM users WHERE id = {user}")).await
}

async fn an_address_changes_from_the_new_mailbox_and_the_old_one_can_take_it_back(db: Db) {
    // A process of its own, whose log the test reads.
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let client = server.verified_user("old@example.com", PASSWORD).await;
    let other_device = server.client();
    assert_eq!(
        other_device.login("old@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    server.verified_user("taken@example.com", PASSWORD).await;
    let user = scalar(&server, "SELECT id FROM users WHERE email = 'old@example.com'").await;

    // Refusals say what to fix and change nothing.
    for (fields, field) in [
        (
            [("new_email", "new@example.com"), ("password", "not the password")],
            "password-error",
        ),
        (
            [("new_email", "not an address"), ("password", PASSWORD)],
            "new_email-error",
        ),
        (
            [("new_email", " OLD@example.com"), ("password", PASSWORD)],
            "new_email-error",
        ),
        (
            [("new_email", "Taken@Example.com"), ("password", PASSWORD)],
            "new_email-error",
        ),
    ] {
        let response = client.post_form("/account/email", "/account/email", &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(response.text().await.unwrap().contains(&format!("id=\"{field}\"")));
    }
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM email_changes").await, 0);

    let response = client
        .post_form(
            "/account/email",
            "/account/email",
            &[("new_email", "New@Example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&response), "/account/email?sent=1");
    assert_eq!(
        email_of(&server, user).await,
        "old@example.com",
        "nothing changes before the new address answers"
    );
    let link = server
        .mailbox()
        .link_for("new@example.com", "/account/email/confirm/")
        .await;
    let path = link.strip_prefix(&server.base).unwrap().to_owned();

    // Opening the link only asks; the button makes the change.
    let stranger = server.client();
    let (status, page) = stranger.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-email-change-step=\"confirm\""));
    assert_eq!(email_of(&server, user).await, "old@example.com");
    let response = stranger.post_form(&path, &path, &[]).await;
    assert_eq!(location(&response), "/account/email/changed");
    assert_eq!(email_of(&server, user).await, "new@example.com");
    assert_eq!(stranger.get(&path).await.status(), StatusCode::BAD_REQUEST, "used once");

    // Every session ended; the new address logs in, the old one no longer does.
    for session in [&client, &other_device] {
        assert_eq!(location(&session.get("/account").await), "/login?next=%2Faccount");
    }
    let fresh = server.client();
    assert_eq!(
        fresh.login("old@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fresh.login("new@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    // While the old address can undo, the address cannot move on again (which would leave that
    // link undoing only to the middle address).
    let response = fresh
        .post_form(
            "/account/email",
            "/account/email",
            &[("new_email", "third@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("id=\"new_email-error\""));

    // The old address is told, and its link puts it back and ends every session again.
    let undo = server
        .mailbox()
        .link_for("old@example.com", "/account/email/undo/")
        .await;
    let undo = undo.strip_prefix(&server.base).unwrap().to_owned();
    let response = stranger.post_form(&undo, &undo, &[]).await;
    assert_eq!(location(&response), "/account/email/restored");
    assert_eq!(email_of(&server, user).await, "old@example.com");
    assert_eq!(location(&fresh.get("/account").await), "/login?next=%2Faccount");
    server.mailbox().link_for("old@example.com", "/password/forgot").await;
    assert_eq!(
        stranger.get(&undo).await.status(),
        StatusCode::BAD_REQUEST,
        "undone once"
    );

    assert_eq!(
        scalar(
            &server,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE subject_id = '{user}' AND action IN \
                 ('account.email_change_requested', 'account.email_changed', 'account.email_change_undone')"
            )
        )
        .await,
        3
    );
    let log = server.log();
    let token = path.rsplit('/').next().unwrap();
    assert!(!log.contains(token), "the confirmation link is not in the log");
    assert!(log.contains("/account/email/confirm/{secret}"));
}
