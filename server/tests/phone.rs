//! Mobile numbers end to end: adding one with a texted code (one number, one account), logging
//! in with a number and a code (single-use, short-lived, limited per number and per address,
//! wrong codes throttled, two-step verification still asked), the file transport under
//! `data/sms/`, and an SMS gateway spoken over HTTP with signed requests and its refusals.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::support::fake_sms::{FakeGateway, Mode};
use crate::support::kyb::{PASSWORD, scalar};
use crate::support::{Client, Db, Options, Server, location};

on_both_databases!(
    a_person_adds_a_number_with_a_texted_code_and_logs_in_with_it,
    one_number_is_one_account_and_codes_are_limited
);

const NUMBER: &str = "138 0013 8000";
const E164: &str = "+8613800138000";

/// The texts written under `data/sms/` to `to`, oldest first.
fn texts(server: &Server, to: &str) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(server.data_dir.join("sms"))
        .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .filter_map(|path| serde_json::from_slice::<Value>(&std::fs::read(path).ok()?).ok())
        .filter(|text| text["to"] == to)
        .collect()
}

/// Waits for the `count`th text to `to`: its code.
async fn code_texted(server: &Server, to: &str, count: usize) -> String {
    let start = Instant::now();
    loop {
        if let Some(text) = texts(server, to).get(count - 1) {
            return text["params"]["code"].as_str().unwrap().to_owned();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no text number {count} to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn add_number(client: &Client, server: &Server, number: &str, e164: &str, count: usize) {
    let response = client
        .post_form("/account/phone", "/account/phone", &[("number", number)])
        .await;
    assert_eq!(location(&response), "/account/phone", "a code texted to {number}");
    let code = code_texted(server, e164, count).await;
    let response = client
        .post_form("/account/phone", "/account/phone/confirm", &[("code", &code)])
        .await;
    assert_eq!(location(&response), "/account/phone?notice=added");
}

/// Asks for a log-in code to `number` in a fresh client: the client, left on the code form.
async fn ask_log_in_code(server: &Server, number: &str) -> Client {
    let client = server.client();
    let response = client
        .post_form("/login/sms", "/login/sms", &[("number", number)])
        .await;
    assert_eq!(location(&response), "/login/sms", "asked for a code");
    client
}

/// Moves every text two minutes into the past, past the pause between texts to one number.
async fn age_texts(server: &Server) {
    use sea_orm::Statement;
    let db = server.db().await;
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE sms_messages SET created_at = $1",
        [(chrono::Utc::now() - chrono::Duration::minutes(2)).into()],
    ))
    .await
    .unwrap();
}

async fn log_in_with(client: &Client, code: &str) -> reqwest::Response {
    client
        .post_form("/login/sms", "/login/sms/code", &[("code", code)])
        .await
}

async fn a_person_adds_a_number_with_a_texted_code_and_logs_in_with_it(db: Db) {
    let server = Server::start(db).await;
    let email = "mobile@example.com";
    let person = server.verified_user(email, PASSWORD).await;

    // A malformed or non-mobile number is refused with what to fix; nothing is texted.
    for (typed, message) in [("12345", "11 位"), ("call me", "请输入手机号")] {
        let response = person
            .post_form("/account/phone", "/account/phone", &[("number", typed)])
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{typed}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains(message) && page.contains(&format!("value=\"{typed}\"")),
            "{typed}"
        );
    }
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM sms_messages").await, 0);

    // The code texted to the number adds it; a wrong code first changes nothing.
    let response = person
        .post_form("/account/phone", "/account/phone", &[("number", NUMBER)])
        .await;
    assert_eq!(location(&response), "/account/phone");
    let code = code_texted(&server, E164, 1).await;
    let text = &texts(&server, E164)[0];
    assert_eq!(text["template"], "SMS_ADD_PHONE");
    assert!(text["text"].as_str().unwrap().contains(&format!("验证码是 {code}")));
    let (_, page) = person.get_text("/account/phone").await;
    assert!(
        page.contains("+86 138****8000") && !page.contains("13800138000"),
        "masked"
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let response = person
        .post_form("/account/phone", "/account/phone/confirm", &[("code", wrong)])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("验证码不正确"));
    let response = person
        .post_form("/account/phone", "/account/phone/confirm", &[("code", &code)])
        .await;
    assert_eq!(location(&response), "/account/phone?notice=added");
    let stored: String =
        crate::support::kyb::query(&server, &format!("SELECT phone_enc FROM users WHERE email = '{email}'")).await;
    assert!(
        stored.starts_with("p1:") && !stored.contains("13800138000"),
        "sealed under the person's key"
    );
    let sent_code: Option<String> = crate::support::kyb::query(&server, "SELECT code_enc FROM sms_messages").await;
    assert_eq!(sent_code, None, "a sent code is kept only as a hash");
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account.phone_added'"
        )
        .await,
        1
    );

    // Log-in with the number and a texted code; the code is good once.
    age_texts(&server).await;
    let phone = ask_log_in_code(&server, "+86 13800138000").await;
    let (_, form) = phone.get_text("/login/sms").await;
    assert!(form.contains("+86 138****8000") && form.contains("action=\"/login/sms/code\""));
    let code = code_texted(&server, E164, 2).await;
    assert_eq!(texts(&server, E164)[1]["template"], "SMS_LOG_IN");
    let response = log_in_with(&phone, wrong).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM login_failures").await,
        1,
        "counted like a password"
    );
    let response = log_in_with(&phone, &code).await;
    assert_eq!(location(&response), "/");
    let (status, account) = phone.get_text("/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(account.contains(email));
    age_texts(&server).await;
    let again = ask_log_in_code(&server, NUMBER).await;
    code_texted(&server, E164, 3).await;
    let response = log_in_with(&again, &code).await;
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "a used code logs nobody in"
    );

    // An unknown number gets the same answer, and no text.
    let stranger = ask_log_in_code(&server, "139 0013 9000").await;
    let (_, form) = stranger.get_text("/login/sms").await;
    assert!(form.contains("+86 139****9000"), "the same answer");
    let response = log_in_with(&stranger, "123456").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(texts(&server, "+8613900139000").is_empty(), "nothing texted");

    // A code expires.
    age_texts(&server).await;
    let late = ask_log_in_code(&server, NUMBER).await;
    let code = code_texted(&server, E164, 4).await;
    server
        .db()
        .await
        .execute_unprepared("UPDATE sms_messages SET expires_at = created_at")
        .await
        .unwrap();
    let response = log_in_with(&late, &code).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains("已过期"));

    // Removing the number needs the password; then it logs nobody in.
    let response = person
        .post_form(
            "/account/phone",
            "/account/phone/remove",
            &[("password", "not my password at all")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = person
        .post_form("/account/phone", "/account/phone/remove", &[("password", PASSWORD)])
        .await;
    assert_eq!(location(&response), "/account/phone");
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM users WHERE phone_index IS NOT NULL").await,
        0
    );
}

async fn one_number_is_one_account_and_codes_are_limited(db: Db) {
    let server = Server::start(db).await;
    let first = server.verified_user("first@example.com", PASSWORD).await;
    let second = server.verified_user("second@example.com", PASSWORD).await;
    add_number(&first, &server, NUMBER, E164, 1).await;

    // Another account cannot have it, nor the first add it again.
    let response = second
        .post_form("/account/phone", "/account/phone", &[("number", "13800138000")])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("已绑定其他账户"));
    let response = first
        .post_form("/account/phone", "/account/phone", &[("number", E164)])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);

    // A second code to one number within a minute is refused with the wait.
    age_texts(&server).await;
    let guesser = ask_log_in_code(&server, NUMBER).await;
    let response = server
        .client()
        .post_form("/login/sms", "/login/sms", &[("number", NUMBER)])
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.text().await.unwrap().contains("秒后再试"));

    // Five wrong guesses end a code, even the right one after them.
    let code = code_texted(&server, E164, 2).await;
    server
        .db()
        .await
        .execute_unprepared("UPDATE sms_messages SET guesses = 5")
        .await
        .unwrap();
    let response = log_in_with(&guesser, &code).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // With two-step verification, a texted code is only the first step.
    first.set_up_second_factor("first@example.com").await;
    age_texts(&server).await;
    let staff_like = ask_log_in_code(&server, NUMBER).await;
    let code = code_texted(&server, E164, 3).await;
    let response = log_in_with(&staff_like, &code).await;
    assert_eq!(location(&response), "/login/two-factor");
    assert_eq!(
        staff_like.get("/account").await.status(),
        StatusCode::SEE_OTHER,
        "no session yet"
    );
    let answer = crate::support::authenticator::answer(&server.database_url, "first@example.com").unwrap();
    assert_eq!(location(&staff_like.second_step(&answer).await), "/");
    assert_eq!(staff_like.get("/account").await.status(), StatusCode::OK);

    // One address asking for codes to many numbers is stopped too.
    let asker = server.client();
    let mut refused = false;
    for n in 0..25 {
        let number = format!("1370013{n:04}");
        let response = asker
            .post_form("/login/sms", "/login/sms", &[("number", &number)])
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = true;
            break;
        }
    }
    assert!(refused, "the per-address limit");

    // Deleting the account frees the number and forgets its texts.
    let response = first
        .post_form(
            "/account/delete",
            "/account/delete",
            &[("password", PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(location(&response), "/account/deleted");
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM users WHERE phone_index IS NOT NULL OR phone_enc IS NOT NULL"
        )
        .await,
        0
    );
    let index_rows = scalar(
        &server,
        "SELECT COUNT(*) FROM sms_messages WHERE purpose = 'add_phone' OR user_id IS NOT NULL",
    )
    .await;
    assert_eq!(index_rows, 0, "the deleted person's texts are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_go_through_a_signed_gateway_which_may_refuse_or_fail() {
    let gateway = FakeGateway::start(Mode::SystemError).await;
    let mut options = Options::new(Db::Sqlite).subprocess();
    for (name, value) in gateway.settings() {
        options = options.env(name, &value);
    }
    let server = Server::start_with(options).await;
    let person = server.verified_user("gateway@example.com", PASSWORD).await;

    // The provider fails: the code waits and is sent again once it is back.
    person
        .post_form("/account/phone", "/account/phone", &[("number", NUMBER)])
        .await;
    let start = Instant::now();
    while gateway.attempts() == 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "the gateway is called");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(gateway.sent().is_empty());
    gateway.set_mode(Mode::Accept);
    let start = Instant::now();
    loop {
        let status: String = crate::support::kyb::query(&server, "SELECT status FROM sms_messages").await;
        if status == "pending" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "marked for a retry, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
        .db()
        .await
        .execute_unprepared("UPDATE sms_messages SET next_attempt_at = created_at")
        .await
        .unwrap();
    let start = Instant::now();
    while gateway.sent().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "sent on the retry");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (number, template, code) = gateway.sent()[0].clone();
    assert_eq!((number.as_str(), template.as_str()), ("13800138000", "SMS_ADD_PHONE"));
    let response = person
        .post_form("/account/phone", "/account/phone/confirm", &[("code", &code)])
        .await;
    assert_eq!(location(&response), "/account/phone?notice=added");

    // A number the provider refuses is given up at once, not retried.
    gateway.set_mode(Mode::IllegalNumber);
    let other = server.verified_user("other@example.com", PASSWORD).await;
    let before = gateway.attempts();
    other
        .post_form("/account/phone", "/account/phone", &[("number", "+852 9123 4567")])
        .await;
    let start = Instant::now();
    loop {
        let failed = scalar(&server, "SELECT COUNT(*) FROM sms_messages WHERE status = 'failed'").await;
        if failed == 1 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "given up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(gateway.attempts(), before + 1, "tried once");
    let error: String =
        crate::support::kyb::query(&server, "SELECT last_error FROM sms_messages WHERE status = 'failed'").await;
    assert!(error.contains("isv.MOBILE_NUMBER_ILLEGAL"), "{error}");

    // Neither numbers nor codes are written to the log.
    let log = server.log();
    for secret in ["13800138000", "91234567", &code] {
        assert!(!log.contains(secret), "{secret} in the server log");
    }
}
