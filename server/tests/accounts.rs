//! End to end over HTTP against the real binary: sign-up, email verification, log-in and
//! log-out, password reset, CSRF, throttling and the admin's role grants. Every flow runs on
//! SQLite and, when `TEST_DATABASE_URL` is set, on PostgreSQL.

use crate::support;

use crate::support::{Db, Mailbox, Options, Server, location, service_var};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

const PASSWORD: &str = "correct horse battery";

fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn count(server: &Server, sql: &str) -> i64 {
    let db = server.db().await;
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

on_both_databases!(
    sign_up_verify_log_in_log_out,
    log_in_is_refused_until_the_email_is_verified,
    wrong_password_is_refused_and_creates_no_session,
    duplicate_email_is_refused,
    forms_without_csrf_token_are_refused_and_change_nothing,
    password_reset_link_works_once,
    expired_reset_link_is_refused,
    admin_grants_and_revokes_the_reviewer_role,
    collectors_cannot_open_the_admin_pages,
    log_in_is_throttled_per_account,
);

async fn sign_up_verify_log_in_log_out(db: Db) {
    let server = Server::start(db).await;
    let client = server.client();
    let email = unique_email("flow");

    let response = client.signup(&email, PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "sign-up answers with a redirect"
    );
    assert_eq!(location(&response), "/signup/sent");
    let (_, page) = client.get_text("/signup/sent").await;
    assert!(page.contains("请查收验证邮件"), "default language is zh-CN");

    let mail = server.mailbox().wait_for(&email, 1).await;
    assert_eq!(mail.len(), 1);
    let link = support::link_in(&mail[0].text, "/verify-email/").expect("verification link in the mail");
    assert!(link.starts_with(&server.base), "{link} points at this server");

    let (status, _) = client.get_text("/account").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "not logged in yet");

    let response = client.get_absolute(&link).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/verify-email/done");
    assert!(client.get_text("/verify-email/done").await.1.contains("邮箱已验证"));

    let response = client.login(&email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");

    let (status, account) = client.get_text("/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(account.contains(&email));
    assert!(account.contains("已验证"));
    assert!(!account.contains("/admin/users"), "a collector sees no admin link");

    let response = client.logout().await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = client.get("/account").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Faccount");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM sessions").await,
        0,
        "log-out ends the session"
    );

    let response = client.get_absolute(&link).await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "a verification link works once"
    );
}

async fn log_in_is_refused_until_the_email_is_verified(db: Db) {
    let server = Server::start(db).await;
    let client = server.client();
    let email = unique_email("unverified");
    assert_eq!(location(&client.signup(&email, PASSWORD).await), "/signup/sent");

    let response = client.login(&email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = response.text().await.unwrap();
    assert!(page.contains("/verify-email/resend"), "offers to resend the mail");

    let response = client
        .post_form("/login", "/verify-email/resend", &[("email", &email)])
        .await;
    assert_eq!(location(&response), "/verify-email/sent");
    let mails = server.mailbox().wait_for(&email, 2).await;
    let links: Vec<_> = mails
        .iter()
        .filter_map(|m| support::link_in(&m.text, "/verify-email/"))
        .collect();
    assert_eq!(links.len(), 2);
    assert_ne!(links[0], links[1]);
    // The newer link supersedes the older one: exactly one of the two works, and only once.
    let mut statuses = Vec::new();
    for link in &links {
        statuses.push(client.get_absolute(link).await.status());
    }
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::BAD_REQUEST]);
    for link in &links {
        assert_eq!(client.get_absolute(link).await.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(client.login(&email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
}

async fn wrong_password_is_refused_and_creates_no_session(db: Db) {
    let server = Server::start(db).await;
    let email = unique_email("wrong");
    server.verified_user(&email, PASSWORD).await;
    let sessions_before = count(&server, "SELECT COUNT(*) FROM sessions").await;

    let client = server.client();
    let response = client.login(&email, "not the password at all").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains("邮箱或密码不正确"));
    let response = client.login("nobody-here@example.com", PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "unknown accounts answer the same"
    );

    assert_eq!(client.get("/account").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM sessions").await, sessions_before);
}

async fn duplicate_email_is_refused(db: Db) {
    let server = Server::start(db).await;
    let email = unique_email("dup");
    assert_eq!(
        location(&server.client().signup(&email, PASSWORD).await),
        "/signup/sent"
    );

    let response = server
        .client()
        .signup(&email.to_uppercase(), "another good password")
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("该邮箱已注册"));
    assert_eq!(count(&server, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(server.mailbox().wait_for(&email, 1).await.len(), 1, "no second mail");
}

async fn forms_without_csrf_token_are_refused_and_change_nothing(db: Db) {
    let server = Server::start(db).await;
    let client = server.client();
    client.get("/signup").await;
    let email = unique_email("csrf");

    let fields = [
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
    ];
    let response = client.post_raw("/signup", &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("表单已失效"));

    let mut forged = vec![("csrf", "forged-token")];
    forged.extend_from_slice(&fields);
    assert_eq!(
        client.post_raw("/signup", &forged).await.status(),
        StatusCode::FORBIDDEN
    );

    // A token taken from another visitor's page is not valid for this visitor.
    let other = server.client();
    let foreign = other.csrf("/signup").await;
    let mut stolen = vec![("csrf", foreign.as_str())];
    stolen.extend_from_slice(&fields);
    assert_eq!(
        client.post_raw("/signup", &stolen).await.status(),
        StatusCode::FORBIDDEN
    );

    assert_eq!(count(&server, "SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(count(&server, "SELECT COUNT(*) FROM outbox").await, 0);

    // Logged-in forms are protected too: log-out without a token keeps the session.
    let user = server.verified_user(&unique_email("csrf-user"), PASSWORD).await;
    assert_eq!(user.post_raw("/logout", &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(user.get("/account").await.status(), StatusCode::OK);

    let response = client
        .http
        .post(server.url("/signup"))
        .header("accept", "application/json")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_rejected");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));

    // An upload refused before its body is read still gets its answer: the server reads the
    // rest of the body first, so the client is not cut off with a reset half-way through
    // sending it. A few megabytes is more than the socket buffers hold.
    let upload = || {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(vec![b'x'; 4 * 1024 * 1024]).file_name("big.bin"),
        )
    };
    let response = client
        .http
        .post(server.url("/verify/file"))
        .multipart(upload())
        .send()
        .await
        .expect("the refusal arrives, not a broken pipe");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("表单已失效"));

    // The same for a form refused after the CSRF check, because nobody is signed in.
    let token = client.csrf("/signup").await;
    let response = client
        .http
        .post(server.url(&format!("/issuers/apply?csrf={token}")))
        .multipart(upload())
        .send()
        .await
        .expect("the refusal arrives, not a broken pipe");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn password_reset_link_works_once(db: Db) {
    let server = Server::start(db).await;
    let email = unique_email("reset");
    let first_session = server.verified_user(&email, PASSWORD).await;

    let client = server.client();
    let response = client
        .post_form("/password/forgot", "/password/forgot", &[("email", &email)])
        .await;
    assert_eq!(location(&response), "/password/forgot/sent");
    let unknown = client
        .post_form(
            "/password/forgot",
            "/password/forgot",
            &[("email", "nobody-here@example.com")],
        )
        .await;
    assert_eq!(
        (unknown.status(), location(&unknown)),
        (response.status(), location(&response)),
        "the answer does not reveal whether the account exists"
    );

    let link = server.mailbox().link_for(&email, "/password/reset/").await;
    let path = link.strip_prefix(&server.base).unwrap().to_owned();
    assert_eq!(client.get(&path).await.status(), StatusCode::OK);

    let weak = client
        .post_form(&path, &path, &[("password", "short"), ("password_confirm", "short")])
        .await;
    assert_eq!(
        weak.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "policy applies; link still usable"
    );

    let new_password = "a brand new passphrase";
    let response = client
        .post_form(
            &path,
            &path,
            &[("password", new_password), ("password_confirm", new_password)],
        )
        .await;
    assert_eq!(location(&response), "/password/reset/done");
    assert!(client.get_text("/password/reset/done").await.1.contains("密码已更新"));

    assert_eq!(
        first_session.get("/account").await.status(),
        StatusCode::SEE_OTHER,
        "old sessions end"
    );
    assert_eq!(client.login(&email, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(client.login(&email, new_password).await.status(), StatusCode::SEE_OTHER);

    let again = server.client();
    assert_eq!(
        again.get(&path).await.status(),
        StatusCode::BAD_REQUEST,
        "a reset link works once"
    );
    let token = again.csrf("/password/forgot").await;
    let reuse = again
        .post_raw(
            &path,
            &[
                ("csrf", &token),
                ("password", "yet another passphrase"),
                ("password_confirm", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
    assert_eq!(again.login(&email, new_password).await.status(), StatusCode::SEE_OTHER);
}

async fn expired_reset_link_is_refused(db: Db) {
    let server = Server::start(db).await;
    let email = unique_email("expired");
    server.verified_user(&email, PASSWORD).await;
    let client = server.client();
    client
        .post_form("/password/forgot", "/password/forgot", &[("email", &email)])
        .await;
    let link = server.mailbox().link_for(&email, "/password/reset/").await;
    let path = link.strip_prefix(&server.base).unwrap().to_owned();
    assert_eq!(client.get(&path).await.status(), StatusCode::OK);

    let db = server.db().await;
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let sql = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            format!("UPDATE email_tokens SET expires_at = '{past}' WHERE purpose = 'reset_password'")
        }
        _ => format!(
            "UPDATE email_tokens SET expires_at = '{}' WHERE purpose = 'reset_password'",
            (chrono::Utc::now() - chrono::Duration::minutes(1)).format("%Y-%m-%d %H:%M:%S%.f+00:00")
        ),
    };
    let updated = db.execute_unprepared(&sql).await.unwrap();
    assert_eq!(updated.rows_affected(), 1);

    let response = client.get(&path).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("链接无效"));
    let new_password = "a brand new passphrase";
    let token = client.csrf("/password/forgot").await;
    let response = client
        .post_raw(
            &path,
            &[
                ("csrf", &token),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        client.login(&email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "password unchanged"
    );
}

async fn admin_grants_and_revokes_the_reviewer_role(db: Db) {
    let server = Server::start(db).await;
    let admin = server.admin("root@example.com", "admin password 123").await;
    let email = unique_email("future-reviewer");
    let user = server.verified_user(&email, PASSWORD).await;

    let (status, page) = admin.get_text("/admin/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&email));
    assert!(page.contains("root@example.com"));
    let (_, home) = admin.get_text("/").await;
    assert!(
        home.contains("href=\"/admin/users\""),
        "the admin's navigation links the console"
    );

    let user_id = count(&server, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
    let action = format!("/admin/users/{user_id}/roles");
    let response = admin
        .post_form("/admin/users", &action, &[("role", "reviewer"), ("change", "grant")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, account) = user.get_text("/account").await;
    assert!(account.contains("审核员"), "the user now holds the reviewer role");

    let refused = admin
        .post_form("/admin/users", &action, &[("role", "collector"), ("change", "grant")])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let admin_id = count(&server, "SELECT id FROM users WHERE email = 'root@example.com'").await;
    let self_demotion = admin
        .post_form(
            "/admin/users",
            &format!("/admin/users/{admin_id}/roles"),
            &[("role", "admin"), ("change", "revoke")],
        )
        .await;
    assert_eq!(self_demotion.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = admin
        .post_form("/admin/users", &action, &[("role", "reviewer"), ("change", "revoke")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, account) = user.get_text("/account").await;
    assert!(!account.contains("审核员"));
    let missing = admin
        .post_form(
            "/admin/users",
            "/admin/users/999999/roles",
            &[("role", "reviewer"), ("change", "grant")],
        )
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn collectors_cannot_open_the_admin_pages(db: Db) {
    let server = Server::start(db).await;
    let collector = server.verified_user(&unique_email("collector"), PASSWORD).await;
    let response = collector.get("/admin/users").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("没有权限"));

    let collector_id = count(&server, "SELECT MAX(id) FROM users").await;
    let response = collector
        .post_form(
            "/account",
            &format!("/admin/users/{collector_id}/roles"),
            &[("role", "admin"), ("change", "grant")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM user_roles").await,
        0,
        "nothing was granted"
    );

    let anonymous = server.client();
    let response = anonymous.get("/admin/users").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fadmin%2Fusers");
}

async fn log_in_is_throttled_per_account(db: Db) {
    let server = Server::start(db).await;
    let email = unique_email("throttle");
    server.verified_user(&email, PASSWORD).await;
    let client = server.client();
    for _ in 0..5 {
        assert_eq!(
            client.login(&email, "wrong password!!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let response = client.login(&email, PASSWORD).await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(response.text().await.unwrap().contains("尝试次数过多"));
    let other = unique_email("not-throttled");
    server.verified_user(&other, PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_mail_goes_out_over_smtp() {
    let (Some(smtp), Some(api)) = (service_var("TEST_SMTP_URL"), service_var("TEST_SMTP_API")) else {
        return;
    };
    let server = Server::start_with(Options::new(Db::Sqlite).env("KEEPSAKE_SMTP_URL", &smtp)).await;
    let email = unique_email("smtp");
    let client = server.client();
    assert_eq!(location(&client.signup(&email, PASSWORD).await), "/signup/sent");
    let mailbox = Mailbox::Maildev(api);
    let mail = mailbox.wait_for(&email, 1).await;
    assert!(
        mail[0].subject.contains("Keepsake Test"),
        "subject: {}",
        mail[0].subject
    );
    let link = mailbox.link_for(&email, "/verify-email/").await;
    assert_eq!(client.get_absolute(&link).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(client.login(&email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    assert!(
        std::fs::read_dir(server.data_dir.join("mail")).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound),
        "nothing written to the file transport"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_speakers_get_english_pages_and_mail() {
    let server = Server::start(Db::Sqlite).await;
    let client = server.client();
    let token = {
        let response = client
            .http
            .get(server.url("/signup"))
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await
            .unwrap();
        let html = response.text().await.unwrap();
        assert!(html.contains("<html lang=\"en\">"));
        assert!(html.contains("Create an account"));
        support::csrf_in(&html).unwrap()
    };
    let email = unique_email("english");
    let response = client
        .http
        .post(server.url("/signup"))
        .header("accept-language", "en-GB,en;q=0.9")
        .form(&[
            ("csrf", token.as_str()),
            ("email", &email),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("accept_policies", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/signup/sent");
    // A browser that asks for English, with the language cookie it may have.
    let in_english = |path: &'static str| {
        let (client, server) = (&client, &server);
        async move {
            let request = client.http.get(server.url(path)).header("accept-language", "en");
            request.send().await.unwrap().text().await.unwrap()
        }
    };
    assert!(in_english("/signup/sent").await.contains("Check your inbox"));
    let mail = server.mailbox().wait_for(&email, 1).await;
    assert!(mail[0].text.contains("Thank you for signing up"), "{}", mail[0].text);

    let response = client.get("/lang/zh-CN?next=%2Fsignup").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/signup");
    let html = in_english("/signup").await;
    assert!(
        html.contains("<html lang=\"zh-CN\">"),
        "the switch overrides Accept-Language"
    );
    assert_eq!(client.get("/lang/xx").await.status(), StatusCode::NOT_FOUND);
    let response = client.get("/lang/en?next=https%3A%2F%2Fevil.example").await;
    assert_eq!(location(&response), "/", "no open redirect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_passwords_and_bad_addresses_are_explained() {
    let server = Server::start(Db::Sqlite).await;
    let client = server.client();
    let cases = [
        ("not-an-email", PASSWORD, "请输入有效的邮箱地址"),
        ("short@example.com", "short", "密码至少需要 10 个字符"),
        ("common@example.com", "1234567890", "这个密码太容易被猜到"),
    ];
    for (email, password, message) in cases {
        let response = client.signup(email, password).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{email}");
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{email}: {message}");
    }
    let response = client
        .post_form(
            "/signup",
            "/signup",
            &[
                ("email", "mismatch@example.com"),
                ("password", PASSWORD),
                ("password_confirm", "something else entirely"),
            ],
        )
        .await;
    assert!(response.text().await.unwrap().contains("两次输入的密码不一致"));
    assert_eq!(count(&server, "SELECT COUNT(*) FROM users").await, 0);
}
