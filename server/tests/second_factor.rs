//! Two-step verification end to end: staff pages closed until it is set up, the set-up with
//! the first code and the recovery codes shown once, the log-in's second step (a code good
//! once, the next step's accepted early, wrong codes throttled like passwords, recovery codes
//! single-use, a waiting log-in that expires), an administrator's reset for a lost phone, and a
//! collector who turns it on and off.

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;

use crate::support::authenticator::{self, code, current_step};
use crate::support::kyb::{PASSWORD, grant_role, reviewer, scalar};
use crate::support::{Client, Db, Server, location, recovery_codes_in};

on_both_databases!(
    staff_pages_open_only_after_two_step_verification_is_set_up,
    log_in_asks_for_a_code_once_and_recovery_codes_stand_in_for_a_lost_phone,
    an_administrator_resets_a_lost_second_factor_and_it_is_audited,
    a_collector_may_turn_two_step_verification_on_and_off
);

async fn user_id(server: &Server, email: &str) -> i64 {
    scalar(server, &format!("SELECT id FROM users WHERE email = '{email}'")).await
}

/// The key on the set-up page.
async fn key_on_page(client: &Client) -> String {
    let (status, html) = client.get_text("/account/two-factor").await;
    assert_eq!(status, StatusCode::OK);
    crate::support::attribute_in(&html, "data-secret").expect("a key while setting up")
}

/// Logs in with the password only, expecting the second step.
async fn password_step(server: &Server, email: &str, password: &str) -> Client {
    let client = server.client();
    let response = client
        .post_form("/login", "/login", &[("email", email), ("password", password)])
        .await;
    assert_eq!(location(&response), "/login/two-factor", "a second step for {email}");
    client
}

async fn staff_pages_open_only_after_two_step_verification_is_set_up(db: Db) {
    let server = Server::start(db).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let email = "fresh-reviewer@example.com";
    let person = server.verified_user(email, PASSWORD).await;
    let id = grant_role(&server, &admin, email, "reviewer").await;

    // The role alone opens nothing: every staff page leads to the set-up, which says why.
    for page in ["/review", "/review/audit", "/review/reports"] {
        let response = person.get(page).await;
        assert_eq!(
            location(&response),
            format!("/account/two-factor?next={}", page.replace('/', "%2F")),
            "{page}"
        );
    }
    let (_, home) = person.get_text("/").await;
    assert!(
        home.contains("href=\"/account/two-factor\""),
        "the menu leads to the set-up"
    );
    assert!(!home.contains("href=\"/review\""), "no review link before it");

    // The key stays the same until confirmed; wrong and malformed codes are refused and change
    // nothing.
    let key = key_on_page(&person).await;
    assert_eq!(key_on_page(&person).await, key, "a reload shows the same key");
    let wrong = code(&key, current_step() + 5);
    for (typed, message) in [(wrong.as_str(), "验证码不正确"), ("12ab", "6 位数字")] {
        let response = person
            .post_form(
                "/account/two-factor",
                "/account/two-factor",
                &[("code", typed), ("next", "/review")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
        assert!(response.text().await.unwrap().contains(message), "{typed}");
    }
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM second_factors WHERE user_id = {id} AND enrolled_at IS NOT NULL")
        )
        .await,
        0
    );

    // The right code: recovery codes shown once, then the review queue opens.
    let step = current_step();
    let response = person
        .post_form(
            "/account/two-factor",
            "/account/two-factor",
            &[("code", &code(&key, step)), ("next", "/review")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let shown_at = location(&response);
    assert!(shown_at.contains("next=%2Freview"), "{shown_at}");
    let (_, shown) = person.get_text(&shown_at).await;
    let codes = recovery_codes_in(&shown);
    assert_eq!(codes.len(), 10);
    assert!(
        shown.contains("href=\"/review\""),
        "a way on to where the person was going"
    );
    let stranger = server.client();
    let (_, elsewhere) = stranger.get_text(&shown_at).await;
    assert!(recovery_codes_in(&elsewhere).is_empty(), "shown to their owner only");
    assert_eq!(person.get("/review").await.status(), StatusCode::OK);
    let (_, settled) = person.get_text("/account/two-factor").await;
    assert!(!settled.contains(&key), "the key is not shown again once set up");
    assert!(settled.contains("data-two-factor=\"enrolled\""));

    // Stored sealed, never in the clear; the codes as hashes only.
    let stored: String = crate::support::kyb::query(
        &server,
        &format!("SELECT secret_enc FROM second_factors WHERE user_id = {id}"),
    )
    .await;
    assert!(!stored.contains(&key), "the key is sealed at rest");
    let hashes = scalar(
        &server,
        &format!("SELECT COUNT(*) FROM recovery_codes WHERE user_id = {id}"),
    )
    .await;
    assert_eq!(hashes, 10);
    for recovery in &codes {
        let found = scalar(
            &server,
            &format!(
                "SELECT COUNT(*) FROM recovery_codes WHERE code_hash LIKE '%{}%'",
                recovery.replace('-', "")
            ),
        )
        .await;
        assert_eq!(found, 0, "no recovery code in the clear");
    }

    // A staff member cannot turn it off.
    let response = person
        .post_form(
            "/account/two-factor",
            "/account/two-factor/remove",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("必须保持开启两步验证"));
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM second_factors WHERE user_id = {id}")
        )
        .await,
        1
    );
}

async fn log_in_asks_for_a_code_once_and_recovery_codes_stand_in_for_a_lost_phone(db: Db) {
    let server = Server::start(db).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let email = "reviewer@example.com";
    let _reviewer = reviewer(&server, &admin, email).await;
    let app = authenticator::get(&server.database_url, email).expect("set up by the helper");

    // The password alone opens no session: a page needing one sends the person to log in.
    let waiting = password_step(&server, email, PASSWORD).await;
    assert_eq!(location(&waiting.get("/account").await), "/login?next=%2Faccount");
    let (status, page) = waiting.get_text("/login/two-factor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("autocomplete=\"one-time-code\""));

    // A wrong code is refused and counted; the code the set-up used is refused as used.
    let set_up_step = current_step();
    for (typed, message) in [
        (code(&app.secret, set_up_step + 7), "验证码不正确"),
        (code(&app.secret, set_up_step), "已使用过"),
    ] {
        let response = waiting.second_step(&typed).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{typed}");
        assert!(response.text().await.unwrap().contains(message));
    }
    let counted = scalar(&server, "SELECT COUNT(*) FROM login_failures").await;
    assert_eq!(counted, 2, "wrong second steps count like wrong passwords");

    // The next step's code is accepted early, once.
    let next = code(&app.secret, set_up_step + 1);
    let response = waiting.second_step(&next).await;
    assert_eq!(location(&response), "/");
    assert_eq!(waiting.get("/review").await.status(), StatusCode::OK);
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM login_challenges").await,
        0,
        "the waiting log-in is used up"
    );
    let replay = password_step(&server, email, PASSWORD).await;
    let response = replay.second_step(&next).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "a code is good once");

    // New recovery codes replace the old; one, typed any way, stands in for the phone, once.
    let response = waiting
        .post_form(
            "/account/two-factor",
            "/account/two-factor/recovery-codes",
            &[("password", "not my password at all")],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the password first"
    );
    let response = waiting
        .post_form(
            "/account/two-factor",
            "/account/two-factor/recovery-codes",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "new recovery codes");
    let (_, shown) = waiting.get_text(&location(&response)).await;
    let codes = recovery_codes_in(&shown);
    assert_eq!(codes.len(), 10);
    let typed = codes[3].to_uppercase().replace('-', " ");
    let response = replay.second_step(&typed).await;
    assert_eq!(location(&response), "/", "a recovery code logs in");
    let again = password_step(&server, email, PASSWORD).await;
    let response = again.second_step(&codes[3]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "each recovery code once");
    let old = app.spare_recovery_code();
    let response = again.second_step(&old).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "new codes replaced the old ones"
    );

    // A waiting log-in expires; answering it then says to log in again.
    server
        .db()
        .await
        .execute_unprepared("UPDATE login_challenges SET expires_at = created_at")
        .await
        .unwrap();
    let (_, expired) = again.get_text("/login/two-factor").await;
    assert!(expired.contains("重新用密码登录") && expired.contains("href=\"/login\""));
    let csrf = again.csrf("/login").await;
    let fresh_code = code(&app.secret, current_step() + 1);
    let response = again
        .post_raw("/login/two-factor", &[("csrf", &csrf), ("code", &fresh_code)])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains("重新用密码登录"));

    let audited = scalar(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'account.recovery_codes_renewed'",
    )
    .await;
    assert_eq!(audited, 1);
}

async fn an_administrator_resets_a_lost_second_factor_and_it_is_audited(db: Db) {
    let server = Server::start(db).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let email = "lost-phone@example.com";
    let reviewer = reviewer(&server, &admin, email).await;
    let id = user_id(&server, email).await;
    let boss = user_id(&server, "boss@example.com").await;

    // Nobody resets their own; an unknown account or one without a second factor is not found.
    for (target, status) in [(boss, StatusCode::FORBIDDEN), (999_999, StatusCode::NOT_FOUND)] {
        let response = admin
            .post_form("/admin/users", &format!("/admin/users/{target}/two-factor/reset"), &[])
            .await;
        assert_eq!(response.status(), status, "{target}");
    }
    let (_, list) = admin.get_text("/admin/users").await;
    assert!(
        !list.contains(&format!("/admin/users/{boss}/two-factor/reset")),
        "no button for oneself"
    );
    assert!(list.contains(&format!("/admin/users/{id}/two-factor/reset")));
    // Another reviewer cannot reset anyone.
    let response = reviewer
        .post_form("/", &format!("/admin/users/{boss}/two-factor/reset"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = admin
        .post_form("/admin/users", &format!("/admin/users/{id}/two-factor/reset"), &[])
        .await;
    assert_eq!(location(&response), "/admin/users");
    authenticator::forget(&server.database_url, email);
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM second_factors WHERE user_id = {id}")
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM recovery_codes WHERE user_id = {id}")
        )
        .await,
        0
    );
    assert_eq!(
        scalar(&server, &format!("SELECT COUNT(*) FROM sessions WHERE user_id = {id}")).await,
        0,
        "logged out everywhere"
    );
    assert_eq!(location(&reviewer.get("/review").await), "/login?next=%2Freview");
    let audited = scalar(
        &server,
        &format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account.second_factor_reset' \
             AND subject_id = '{id}' AND actor_user_id = {boss}"
        ),
    )
    .await;
    assert_eq!(audited, 1);
    let link = server.mailbox().link_for(email, "/account/two-factor").await;
    assert!(link.ends_with("/account/two-factor"), "{link}");

    // The password alone logs in again, and staff pages wait for a new set-up.
    let back = server.client();
    assert_eq!(location(&back.login(email, PASSWORD).await), "/");
    assert_eq!(
        location(&back.get("/review").await),
        "/account/two-factor?next=%2Freview"
    );
    back.set_up_second_factor(email).await;
    assert_eq!(back.get("/review").await.status(), StatusCode::OK);
}

async fn a_collector_may_turn_two_step_verification_on_and_off(db: Db) {
    let server = Server::start(db).await;
    let email = "careful@example.com";
    let collector = server.verified_user(email, PASSWORD).await;
    let (_, account) = collector.get_text("/account").await;
    assert!(account.contains("href=\"/account/two-factor\""));
    collector.set_up_second_factor(email).await;

    let again = server.client();
    assert_eq!(
        location(&again.login(email, PASSWORD).await),
        "/",
        "with the second step"
    );

    // Turning it off needs the password.
    let response = collector
        .post_form(
            "/account/two-factor",
            "/account/two-factor/remove",
            &[("password", "not my password at all")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM second_factors").await, 1);
    let response = collector
        .post_form(
            "/account/two-factor",
            "/account/two-factor/remove",
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&response), "/account");
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM second_factors").await, 0);
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM recovery_codes").await, 0);
    authenticator::forget(&server.database_url, email);
    let plain = server.client();
    let response = plain.login(email, PASSWORD).await;
    assert_eq!(location(&response), "/", "the password alone again");
    let actions = scalar(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE action IN ('account.second_factor_enrolled', 'account.second_factor_removed')",
    )
    .await;
    assert_eq!(actions, 2);
}
