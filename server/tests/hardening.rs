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
    for sneaky in [
        "%2F%09%2Fevil.test",
        "%2F%09%5Cevil.test",
        "%2F%0A%2Fevil.test",
        "%2F%2Fevil.test",
    ] {
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
            &[
                ("email", "next@example.com"),
                ("password", PASSWORD),
                ("next", "/\u{7f}\u{0}"),
            ],
        )
        .await;
    assert_eq!(
        login.status(),
        StatusCode::SEE_OTHER,
        "a log-in with an odd next is no 500"
    );
    assert!(location(&login).starts_with('/'));
}

/// No one-time link, invitation or claim code reaches the log, at any level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_in_links_never_reach_the_log() {
    use crate::support::Options;
    use crate::support::collections::{Terms, claim_code_links, collectors, published_collection};
    use crate::support::kyb::approved_issuer_with_key;

    let server = Server::start_with(Options::new(Db::Sqlite).env("KEEPSAKE_LOG", "trace").subprocess()).await;
    let mut secrets = Vec::new();

    // Email verification and password reset.
    let client = server.client();
    client.signup("secrets@example.com", PASSWORD).await;
    let verify = server.mailbox().link_for("secrets@example.com", "/verify-email/").await;
    client.get_absolute(&verify).await;
    secrets.push(verify.rsplit('/').next().unwrap().to_owned());
    client
        .post_form(
            "/password/forgot",
            "/password/forgot",
            &[("email", "secrets@example.com")],
        )
        .await;
    let reset = server
        .mailbox()
        .link_for("secrets@example.com", "/password/reset/")
        .await;
    let reset_path = reset.strip_prefix(&server.base).unwrap().to_owned();
    client
        .post_form(
            &reset_path,
            &reset_path,
            &[
                ("password", "another good password"),
                ("password_confirm", "another good password"),
            ],
        )
        .await;
    secrets.push(reset.rsplit('/').next().unwrap().to_owned());

    // An invitation, and a claim code opened and redeemed.
    let (issuer, key, founder, reviewer) = approved_issuer_with_key(&server).await;
    secrets.push(key);
    let console = format!("/console/{issuer}");
    founder
        .post_form(
            &console,
            &format!("{console}/invitations"),
            &[("email", "invitee@example.com")],
        )
        .await;
    let invitation = server.mailbox().link_for("invitee@example.com", "/invitations/").await;
    let invitee = server.verified_user("invitee@example.com", PASSWORD).await;
    invitee.get_absolute(&invitation).await;
    secrets.push(invitation.rsplit('/').next().unwrap().to_owned());
    let terms = Terms {
        edition_size: 3,
        per_person_limit: 1,
        claim_mode: "claim_codes",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "秘密测试", terms).await;
    let code_link = claim_code_links(&founder, issuer, collection, 1).await.remove(0);
    let holder = &collectors(&server, &reviewer, 70, 1).await[0];
    let code_path = code_link.strip_prefix(&server.base).unwrap().to_owned();
    let (_, page) = holder.get_text(&code_path).await;
    let claim_key = page
        .split("name=\"claim_key\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let redeemed = holder
        .post_form(&code_path, &code_path, &[("claim_key", claim_key)])
        .await;
    assert_eq!(redeemed.status(), StatusCode::SEE_OTHER, "the code was used");
    let code = code_link.rsplit('/').next().unwrap().to_owned();
    secrets.push(format!(
        "{}-{}-{}-{}",
        &code[0..4],
        &code[4..8],
        &code[8..12],
        &code[12..16]
    ));
    secrets.push(code);

    let log = server.log();
    assert!(
        log.contains("/c/{secret}"),
        "the requests are logged, their secrets left out"
    );
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "{secret} is in the log");
    }
}

/// An idempotency key names one claim: the same key sent to another collection is refused,
/// not answered with the first collection's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_key_is_scoped_to_its_collection() {
    use crate::support::collections::{Terms, collectors, published_collection};
    use crate::support::kyb::{approved_issuer_with_key, scalar};

    let server = Server::start(Db::Sqlite).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let open = || Terms {
        edition_size: 5,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let first = published_collection(&founder, &reviewer, issuer, "第一件", open()).await;
    let second = published_collection(&founder, &reviewer, issuer, "第二件", open()).await;
    let collector = &collectors(&server, &reviewer, 90, 1).await[0];
    let claim = |collection: i64| {
        let request = collector
            .http
            .post(collector.url(&format!("/api/v1/collections/{collection}/claims")))
            .header("Idempotency-Key", "one-key-for-one-claim");
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, minted) = claim(first).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = claim(second).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_key_reused"))
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {second}")
        )
        .await,
        0
    );
    let (status, again) = claim(first).await;
    assert_eq!(
        (status, &again["token"]),
        (StatusCode::CREATED, &minted["token"]),
        "a retry still works"
    );
}

/// Behind HTTPS the browser is told to stay on HTTPS, and the cookies cannot be set or shadowed
/// by a subdomain or a plain-HTTP page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_installations_send_hsts_and_host_only_cookies() {
    use crate::support::Options;

    let plain = Server::start(Db::Sqlite).await;
    let response = plain.client().get("/").await;
    assert!(response.headers().get("strict-transport-security").is_none());
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("ks_csrf=") && !cookie.contains("Secure"), "{cookie}");

    let secure = Server::start_with(Options::new(Db::Sqlite).env("KEEPSAKE_COOKIE_SECURE", "true")).await;
    let response = secure.client().get("/").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("__Host-ks_csrf=") && cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "host-only");
    let switched = secure.client().get("/lang/en?next=%2F").await;
    let names: Vec<&str> = switched
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split('=').next())
        .collect();
    assert!(names.contains(&"__Host-ks_lang"), "{names:?}");
}

/// A holder whose address begins with `=` shows in the issuer's claims export as text, not as a
/// spreadsheet formula, as every other CSV file the platform writes.
async fn claims_csv_defuses_formulas(db: Db) {
    use crate::support::collections::{Terms, claim, id_number, published_collection};
    use crate::support::kyb::{approved_issuer_with_key, verified_person};

    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 3,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let id = published_collection(&founder, &reviewer, issuer, "公式测试", terms).await;
    let holder = verified_person(&server, &reviewer, "=cmd@example.com", &id_number(120)).await;
    let csrf = holder.csrf(&format!("/collections/{id}")).await;
    let (status, _) = claim(&holder, &csrf, id, "formula-claim-key-0001").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "claimed");

    let response = founder
        .get(&format!("/console/{issuer}/collections/{id}/claims.csv"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    let row = csv.lines().nth(1).expect("one claim row");
    let holder_cell = row.split(',').nth(2).unwrap();
    assert_eq!(holder_cell, "'=***@example.com", "{csv}");
    assert!(
        !csv.lines()
            .any(|line| line.split(',').any(|cell| cell.starts_with('='))),
        "{csv}"
    );
}

on_both_databases!(claims_csv_defuses_formulas);

/// The collection form as a browser sends it, with the window given in Beijing time offsets
/// from now, to `action` (a new collection, or `…/edit`).
async fn send_collection(
    founder: &crate::support::Client,
    form_page: &str,
    action: &str,
    title: &str,
    description: &str,
    window: (chrono::TimeDelta, chrono::TimeDelta),
) -> (StatusCode, String) {
    use reqwest::multipart::{Form, Part};
    let beijing = |offset: chrono::TimeDelta| {
        (chrono::Utc::now() + offset)
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let token = founder.csrf(form_page).await;
    let mut form = Form::new()
        .text("title", title.to_owned())
        .text("description", description.to_owned())
        .text("edition_size", "10")
        .text("per_person_limit", "1")
        .text("claim_starts_at", beijing(window.0))
        .text("claim_ends_at", beijing(window.1))
        .text("claim_mode", "open")
        .part(
            "artwork",
            Part::bytes(crate::support::collections::artwork_png(7)).file_name("art.png"),
        );
    if let Some(key) = crate::support::form_key_in(&founder.get_text(form_page).await.1, action) {
        form = form.text("form_key", key);
    }
    let response = founder
        .http
        .post(founder.url(&format!("{action}?csrf={token}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = if status == StatusCode::SEE_OTHER {
        location(&response)
    } else {
        response.text().await.unwrap()
    };
    (status, body)
}

/// A collection whose claim window has already ended, or whose title or description hides
/// characters (a right-to-left override, a zero-width space), is refused with a form error,
/// on creation and on edit, and nothing is stored.
async fn ended_windows_and_hidden_characters_are_refused(db: Db) {
    use chrono::TimeDelta;

    use crate::support::kyb::{approved_issuer_with_key, scalar};

    let server = Server::start(db).await;
    let (issuer, _, founder, _) = approved_issuer_with_key(&server).await;
    founder.get("/lang/en?next=%2F").await;
    let list = format!("/console/{issuer}/collections");
    let new = format!("{list}/new");
    let open = (TimeDelta::hours(-1), TimeDelta::days(1));
    let ended = (TimeDelta::days(-3), TimeDelta::days(-1));

    let (status, page) = send_collection(&founder, &new, &list, "已经结束", "描述", ended).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("This claim window has already ended."), "{page}");
    for (title, description) in [
        ("限量\u{202E}品藏", "描述"),
        ("标题", "正文\u{200B}里"),
        ("a\u{2066}b", "x"),
    ] {
        let (status, page) = send_collection(&founder, &new, &list, title, description, open).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{title:?} {description:?}");
        assert!(page.contains("invisible or direction-changing character"), "{page}");
    }
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM collections").await, 0);

    let (status, detail) = send_collection(&founder, &new, &list, "正常的藏品", "描述", open).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let id: i64 = detail.rsplit('/').next().unwrap().parse().unwrap();
    let edit = format!("{detail}/edit");
    let (status, page) = send_collection(&founder, &edit, &edit, "正常的藏品", "描述", ended).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an edit cannot end the window either"
    );
    assert!(page.contains("This claim window has already ended."));
    let (status, _) = send_collection(&founder, &edit, &edit, "正常\u{202D}藏品", "描述", open).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let title: String =
        crate::support::kyb::query(&server, &format!("SELECT title FROM collections WHERE id = {id}")).await;
    assert_eq!(title, "正常的藏品", "nothing changed");
    let ends_in_future = scalar(
        &server,
        &format!("SELECT COUNT(*) FROM collections WHERE id = {id} AND claim_ends_at > CURRENT_TIMESTAMP"),
    )
    .await;
    assert_eq!(ends_in_future, 1);
}

/// An issuer's name, a contact name or an API key label with a hidden character is refused.
async fn names_with_hidden_characters_are_refused(db: Db) {
    use crate::support::kyb::{apply, approved_issuer_with_key, scalar, verified_person};

    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let person = verified_person(
        &server,
        &reviewer,
        "applicant@example.com",
        &crate::support::collections::id_number(130),
    )
    .await;
    person.get("/lang/en?next=%2F").await;
    let before = scalar(&server, "SELECT COUNT(*) FROM issuers").await;
    use crate::support::kyb::{PDF, PNG};
    use reqwest::multipart::{Form, Part};
    let spoofed = Form::new()
        .text("legal_name", "北京\u{202E}司公限有")
        .text("credit_code", "91350100M000100Y43")
        .text("icp_filing", "京ICP备12345678号-1")
        .text("blockchain_filing", "京网信备11010819842097170019号")
        .text("contact_name", "李雷")
        .text("contact_email", "li.lei@example.cn")
        .text("contact_phone", "+86 138 0013 8000")
        .part("business_licence", Part::bytes(PDF).file_name("licence.pdf"))
        .part("icp_certificate", Part::bytes(PNG).file_name("icp.png"))
        .part("blockchain_certificate", Part::bytes(PDF).file_name("chain.pdf"));
    let response = apply(&server, &person, spoofed).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("invisible or direction-changing character"), "{page}");
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM issuers").await, before);

    let console = format!("/console/{issuer}");
    let keys = scalar(&server, "SELECT COUNT(*) FROM api_keys").await;
    let response = founder
        .post_form(
            &console,
            &format!("{console}/api-keys"),
            &[("label", "prod\u{200B}key")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM api_keys").await, keys);
}

/// An address that differs from an account's only by case or compatibility forms (full-width
/// letters) is that account: it cannot sign up again, and it logs in and resets the password.
async fn full_width_addresses_are_the_same_account(db: Db) {
    let server = Server::start(db).await;
    server.verified_user("cat@example.com", PASSWORD).await;
    let again = server.client();
    again.get("/lang/en?next=%2F").await;
    for spelling in ["ｃat@example.com", "ＣＡＴ＠ｅｘａｍｐｌｅ．ｃｏｍ"] {
        let response = again.signup(spelling, "another good password").await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{spelling}");
        assert!(response.text().await.unwrap().contains("already registered"));
    }
    let users = crate::support::kyb::scalar(&server, "SELECT COUNT(*) FROM users").await;
    assert_eq!(users, 1);
    let login = server.client().login("ＣＡＴ@example.com", PASSWORD).await;
    assert_eq!(
        login.status(),
        StatusCode::SEE_OTHER,
        "log-in with a full-width spelling"
    );
    server
        .client()
        .post_form(
            "/password/forgot",
            "/password/forgot",
            &[("email", "ｃａｔ@example.com")],
        )
        .await;
    server.mailbox().link_for("cat@example.com", "/password/reset/").await;
}

/// Addresses stored before the normal form are brought to it by the migration; where two
/// accounts would become one address, the later spelling is left for an operator.
async fn the_migration_normalises_stored_addresses(db: Db) {
    use sea_orm::ConnectionTrait;

    use crate::support::kyb::{query, scalar};

    let server = Server::start(db).await;
    server.verified_user("dog@example.com", PASSWORD).await;
    server.verified_user("bird@example.com", PASSWORD).await;
    server.verified_user("fish@example.com", PASSWORD).await;
    let conn = server.db().await;
    for sql in [
        "UPDATE users SET email = 'ｄog@example.com' WHERE email = 'dog@example.com'",
        "UPDATE users SET email = 'ｆish@example.com' WHERE email = 'bird@example.com'",
        "DELETE FROM seaql_migrations WHERE version = 'm20261202_000014_normalised_emails'",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }
    let out = server.run_cli(&["migrate"], "").await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM users WHERE email = 'dog@example.com'").await,
        1
    );
    let kept: String = query(
        &server,
        "SELECT email FROM users WHERE email LIKE '%ish@example.com' AND email <> 'fish@example.com'",
    )
    .await;
    assert_eq!(kept, "ｆish@example.com", "a collision is left as it was");
    let login = server.client().login("dog@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
}

on_both_databases!(
    ended_windows_and_hidden_characters_are_refused,
    names_with_hidden_characters_are_refused,
    full_width_addresses_are_the_same_account,
    the_migration_normalises_stored_addresses,
);

/// Moves every recorded log-in failure `by` into the past, as if that time had gone by.
async fn age_login_failures(server: &Server, by: chrono::TimeDelta) {
    use keepsake::store::entities::login_failures;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let db = server.db().await;
    for row in login_failures::Entity::find().all(&db).await.unwrap() {
        let failed_at = row.failed_at - by;
        let mut row: login_failures::ActiveModel = row.into();
        row.failed_at = Set(failed_at);
        row.update(&db).await.unwrap();
    }
}

fn retry_after(response: &reqwest::Response) -> i64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

/// Wrong passwords from one address slow that address down, with a wait that doubles with
/// each further failure, and never lock out the owner logging in from somewhere else.
async fn wrong_passwords_from_one_address_do_not_lock_out_another(db: Db) {
    let server = Server::start(db).await;
    server.verified_user("owner@example.com", PASSWORD).await;
    let attacker = server.client_from("127.0.0.2".parse().unwrap());
    for _ in 0..5 {
        let response = attacker.login("owner@example.com", "wrong password!!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let waiting = attacker.login("owner@example.com", PASSWORD).await;
    assert_eq!(waiting.status(), StatusCode::TOO_MANY_REQUESTS, "this address waits");
    let first_wait = retry_after(&waiting);
    assert!((1..=30).contains(&first_wait), "{first_wait}");

    let owner = server.client_from("127.0.0.3".parse().unwrap());
    let login = owner.login("ＯＷＮＥＲ@example.com", PASSWORD).await;
    assert_eq!(
        login.status(),
        StatusCode::SEE_OTHER,
        "the owner elsewhere is not locked out"
    );

    // Once the wait is over, one more failure makes the next wait twice as long.
    age_login_failures(&server, chrono::TimeDelta::seconds(31)).await;
    let response = attacker.login("owner@example.com", "wrong password!!").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "the wait was over");
    let waiting = attacker.login("owner@example.com", "wrong password!!").await;
    assert_eq!(waiting.status(), StatusCode::TOO_MANY_REQUESTS);
    let second_wait = retry_after(&waiting);
    assert!((31..=60).contains(&second_wait), "the wait doubled: {second_wait}");
}

/// Behind a trusted reverse proxy the throttle counts the address the proxy forwards for, so
/// visitors sharing the proxy do not share a back-off; from anyone else `X-Forwarded-For` is
/// ignored, so a guesser cannot escape its back-off by naming another address.
async fn a_trusted_proxy_names_the_client_and_nobody_else_does(db: Db) {
    let server =
        Server::start_with(crate::support::Options::new(db).env("KEEPSAKE_TRUSTED_PROXIES", "127.0.0.1")).await;
    server.verified_user("shared@example.com", PASSWORD).await;
    let proxy: std::net::IpAddr = "127.0.0.1".parse().unwrap();
    let guesser = server.client_forwarded_for(proxy, "1.2.3.4, 198.51.100.7");
    for _ in 0..5 {
        let response = guesser.login("shared@example.com", "wrong password!!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let waiting = guesser.login("shared@example.com", PASSWORD).await;
    assert_eq!(waiting.status(), StatusCode::TOO_MANY_REQUESTS, "the guesser waits");
    // Made-up entries to the left of what the proxy appended change nothing.
    let same = server.client_forwarded_for(proxy, "203.0.113.1, 198.51.100.7");
    assert_eq!(
        same.login("shared@example.com", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let owner = server.client_forwarded_for(proxy, "198.51.100.8");
    assert_eq!(
        owner.login("shared@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "another visitor behind the same proxy is not held up"
    );

    // A client that is not a trusted proxy is its own address, whatever it forwards.
    let direct = "127.0.0.2".parse().unwrap();
    let pretender = server.client_forwarded_for(direct, "198.51.100.9");
    for _ in 0..5 {
        let response = pretender.login("shared@example.com", "wrong password!!").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let renamed = server.client_forwarded_for(direct, "198.51.100.10");
    assert_eq!(
        renamed.login("shared@example.com", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "naming another address does not escape the back-off"
    );
    let forwarded = server.client_forwarded_for(proxy, "198.51.100.9");
    assert_eq!(
        forwarded.login("shared@example.com", PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "the address it named was never counted"
    );
}

/// Failures from everywhere up to the account's ceiling lock it for everyone, the right
/// password included; the owner is mailed a link that unlocks it, and the link never reaches
/// the log.
async fn the_ceiling_locks_everyone_until_the_mailed_link_unlocks(db: Db) {
    use keepsake::kyc::PiiVault;
    use keepsake::kyc::vault::Counted;
    use keepsake::store::entities::login_failures;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};

    let server = Server::start_with(
        crate::support::Options::new(db)
            .env("KEEPSAKE_LOG", "trace")
            .subprocess(),
    )
    .await;
    server.verified_user("target@example.com", PASSWORD).await;
    // 99 failures from 99 places in the last hour (arranged in the database, under the
    // pseudonyms the server keeps: each address alone stays under its back-off), then the
    // 100th over HTTP.
    let vault = PiiVault::load(&server.data_dir.join("keys")).unwrap();
    let conn = server.db().await;
    let now = chrono::Utc::now();
    for n in 0..99 {
        login_failures::ActiveModel {
            account: Set(vault.pseudonym(Counted::LoginAccount, "target@example.com")),
            ip: Set(vault.pseudonym(Counted::ClientAddress, &format!("10.0.{}.{}", n / 200, n % 200 + 1))),
            failed_at: Set(now - chrono::TimeDelta::minutes(30)),
            ..Default::default()
        }
        .insert(&conn)
        .await
        .unwrap();
    }
    let last = server.client_from("127.0.0.4".parse().unwrap());
    let response = last.login("TARGET@example.com", "wrong password!!").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // Who failed from where is kept, and logged, only as pseudonyms.
    let rows = login_failures::Entity::find().all(&conn).await.unwrap();
    assert_eq!(rows.len(), 100);
    for row in &rows {
        for clear in ["target@example.com", "TARGET@example.com", "127.0.0.4", "10.0."] {
            assert!(!row.account.contains(clear) && !row.ip.contains(clear), "{row:?}");
        }
    }

    let owner = server.client_from("127.0.0.5".parse().unwrap());
    owner.get("/lang/en?next=%2F").await;
    let locked = owner.login("target@example.com", PASSWORD).await;
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the ceiling locks everyone"
    );
    assert!(retry_after(&locked) > 0);
    let page = locked.text().await.unwrap();
    assert!(page.contains("emailed its owner a link"), "{page}");

    let link = server.mailbox().link_for("target@example.com", "/login/unlock/").await;
    let unlocked = owner.get_absolute(&link).await;
    assert_eq!(location(&unlocked), "/login/unlocked");
    let (status, page) = owner.get_text("/login/unlocked").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Account unlocked"));
    let login = owner.login("target@example.com", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "unlocked");
    let again = server.client().get_absolute(&link).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "the link works once");

    let token = link.rsplit('/').next().unwrap();
    let log = server.log();
    assert!(log.contains("/login/unlock/{secret}"), "the request is logged");
    assert!(!log.contains(token), "the unlock token is not");
    assert!(
        log.contains("log-in failed") && log.contains("log-in throttled"),
        "the refusals are logged"
    );
    for clear in ["127.0.0.4", "127.0.0.5", "target@example.com"] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(clear)).collect();
        assert!(lines.is_empty(), "{clear} is in the log: {lines:#?}");
    }
}

on_both_databases!(
    wrong_passwords_from_one_address_do_not_lock_out_another,
    a_trusted_proxy_names_the_client_and_nobody_else_does,
    the_ceiling_locks_everyone_until_the_mailed_link_unlocks,
);

/// Refused transfers are answered as ever, but what anyone can make the platform store by
/// asking is bounded: 1000 anonymous attempts from one address leave one counter row for the
/// token's hour, one allowance row for the address and the one audit row of the hour's first
/// attempt; past the address's allowance of 30 the answer is 429 with Retry-After, while
/// another address, and the holder, are still refused normally and counted.
async fn transfer_attempts_store_a_bounded_amount_whoever_sends_them(db: Db) {
    use crate::support::collections::{Terms, claim, collectors, published_collection};
    use crate::support::kyb::{approved_issuer_with_key, scalar};
    use chrono::{DurationRound, TimeDelta, Utc};

    let server = Server::start_with(crate::support::Options::new(db).subprocess()).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 5,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "不可转让", terms).await;
    let holder = &collectors(&server, &reviewer, 140, 1).await[0];
    let csrf = holder.csrf(&format!("/collections/{collection}")).await;
    let (status, target) = claim(holder, &csrf, collection, "transfer-bound-claim-01").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let token: i64 = target.strip_prefix("/tokens/").unwrap().parse().unwrap();
    let transfer = server.url(&format!("/api/v1/tokens/{token}/transfer"));
    let audit_rows = || scalar(&server, "SELECT COUNT(*) FROM audit_log");
    let transfer_audit_rows = || {
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'token.transfer_refused'",
        )
    };
    let counter_rows = || scalar(&server, "SELECT COUNT(*) FROM transfer_attempts");
    let counted = || {
        scalar(
            &server,
            "SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM transfer_attempts",
        )
    };
    let allowance_rows = || scalar(&server, "SELECT COUNT(*) FROM transfer_allowances");
    let audit_before = audit_rows().await;
    let hour = || Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap();

    let from = |ip: &str| {
        reqwest::Client::builder()
            .local_address(ip.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let attempt = |client: &reqwest::Client| {
        let request = client
            .post(&transfer)
            .json(&serde_json::json!({ "to": "buyer@example.com" }));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let wait = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
            let body: serde_json::Value = response.json().await.unwrap();
            (status, wait, body["error"]["code"].as_str().unwrap().to_owned())
        }
    };

    let anonymous = from("127.0.0.2");
    let first_hour = hour();
    let started = std::time::Instant::now();
    let mut answers = Vec::with_capacity(1000);
    for _ in 0..1000 {
        answers.push(attempt(&anonymous).await);
    }
    let elapsed = started.elapsed();
    let same_hour = hour() == first_hour;

    let refused = (StatusCode::FORBIDDEN, None, "transfers_prohibited".to_owned());
    for (n, answer) in answers.iter().take(30).enumerate() {
        assert_eq!(answer, &refused, "attempt {n} is refused as ever");
    }
    let (status, wait, code) = &answers[30];
    assert_eq!(
        (*status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "the 31st is over the allowance"
    );
    assert!(matches!(wait, Some(1..=20)), "{wait:?}");
    for (status, wait, code) in &answers[30..] {
        match *status {
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(code, "rate_limited");
                assert!(matches!(wait, Some(1..=20)), "one share refills in 20 s: {wait:?}");
            }
            other => assert_eq!((other, wait, code), (refused.0, &None, &refused.2)),
        }
    }
    // The allowance refills by one every 20 s: the loop's own duration is the only slack.
    let answered = answers.iter().filter(|a| **a == refused).count() as i64;
    let refills = (elapsed.as_secs() / 20) as i64;
    assert!(
        (30..=30 + refills).contains(&answered),
        "{answered} refused in {elapsed:?}"
    );

    assert_eq!(counted().await, answered, "every refused attempt is counted");
    assert_eq!(allowance_rows().await, 1, "one allowance row for the address");
    if same_hour {
        assert_eq!(counter_rows().await, 1, "one counter row for the token's hour");
        assert_eq!(
            transfer_audit_rows().await,
            1,
            "one audit row, the hour's first attempt"
        );
        assert_eq!(audit_rows().await, audit_before + 1, "nothing else audited");
    } else {
        // The clock hour turned during the loop: one counter row, and one audit row, per hour.
        assert_eq!(counter_rows().await, 2);
        assert_eq!(transfer_audit_rows().await, 2);
    }
    let counters = counter_rows().await;
    let audited = audit_rows().await;

    // Another address is answered as ever, and counted with the rest.
    let elsewhere = from("127.0.0.3");
    assert_eq!(attempt(&elsewhere).await, refused, "another address is not limited");
    // So is the holder, signed in, from a third: the same counter, the same bound.
    assert_eq!(attempt(&holder.http).await, refused);
    assert_eq!(counted().await, answered + 2);
    assert_eq!(allowance_rows().await, 3);
    if hour() == first_hour {
        assert_eq!(counter_rows().await, counters);
        assert_eq!(audit_rows().await, audited, "no further audit row this hour");
    }

    // Nonsense and unknown tokens are answered without a 500 and store nothing.
    let stranger = from("127.0.0.4");
    for path in [
        "/api/v1/tokens/not-a-number/transfer",
        "/api/v1/tokens/99999999/transfer",
    ] {
        let response = stranger.post(server.url(path)).send().await.unwrap();
        assert!(response.status().is_client_error(), "{path}: {}", response.status());
    }
    assert_eq!(allowance_rows().await, 3, "refusing an unknown token writes nothing");
    // The addresses are kept, and logged, only as pseudonyms.
    let kept = scalar(
        &server,
        "SELECT COUNT(*) FROM transfer_allowances WHERE client LIKE '127.%'",
    )
    .await;
    assert_eq!(kept, 0, "no client address in clear");
    let log = server.log();
    assert!(log.contains("transfer attempts rate-limited"));
    assert!(!log.contains("127.0.0.2"), "no client address in the log");

    // Reviewers still see the attempts, counted, in the audit log.
    if same_hour && hour() == first_hour {
        let (status, page) = reviewer.get_text("/review/audit?action=token.transfer_refused").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(&format!("共有 {} 次转让尝试", answered + 2)),
            "the audit view shows the hour's count: {page}"
        );
        let admin = server.admin("audit-admin@example.com", PASSWORD).await;
        let today = Utc::now().format("%Y-%m-%d");
        let csv = admin
            .get(&format!("/admin/audit.csv?from={today}&to={today}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(csv.lines().next().unwrap().ends_with(",transfer_attempts_in_hour"));
        let refusal = csv.lines().find(|l| l.contains("token.transfer_refused")).unwrap();
        assert!(
            refusal.ends_with(&format!(",{}", answered + 2)),
            "the export has the hour's count: {refusal}"
        );
    }
}

on_both_databases!(transfer_attempts_store_a_bounded_amount_whoever_sends_them);
