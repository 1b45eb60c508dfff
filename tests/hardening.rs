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

    let server = Server::start_with(Options::new(Db::Sqlite).env("KEEPSAKE_LOG", "trace")).await;
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
