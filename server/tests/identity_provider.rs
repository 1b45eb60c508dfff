//! Identity verification through an HTTP provider (a local fake that speaks the provider
//! protocol): errors leave the submission pending and retryable, never approved; only a
//! correctly signed callback for the submission in question decides it.

use crate::support::fake_provider::{FakeProvider, Mode};
use crate::support::{Client, Db, Options, Server, location};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

const PASSWORD: &str = "correct horse battery";

async fn server_with(provider: &FakeProvider, options: Options) -> Server {
    Server::start_with(
        options
            .env("KEEPSAKE_KYC_VERIFIER", "http")
            .env("KEEPSAKE_KYC_PROVIDER_URL", &provider.url)
            .env("KEEPSAKE_KYC_PROVIDER_KEY", &provider.key),
    )
    .await
}

async fn status_of(server: &Server, email: &str) -> String {
    let db = server.db().await;
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT i.status FROM identities i JOIN users u ON u.id = i.user_id WHERE u.email = '{email}'"),
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index::<String>(0)
    .unwrap()
}

async fn submit(client: &Client, number: &str) {
    let response = client
        .post_form(
            "/identity",
            "/identity",
            &[("legal_name", "赵六"), ("id_number", number), ("id_consent", "yes")],
        )
        .await;
    assert_eq!(location(&response), "/identity");
}

on_both_databases!(
    provider_errors_keep_the_submission_pending,
    signed_callbacks_decide,
    a_quick_provider_decides_while_the_person_waits,
);

/// A provider that answers within its own request, before the server has stored the
/// provider's id: the answer still decides the submission, and the person, who came from a
/// claim, is led back to it.
async fn a_quick_provider_decides_while_the_person_waits(db: Db) {
    let provider = FakeProvider::start(Mode::Approve).await;
    let server = server_with(&provider, Options::new(db)).await;
    let user = server.verified_user("quick@example.com", PASSWORD).await;
    let claim_page = "/c/7KQ2M9XD4TPA0HCF";
    let (_, form) = user
        .get_text(&format!("/identity?next={}", "%2Fc%2F7KQ2M9XD4TPA0HCF"))
        .await;
    assert!(
        form.contains(&format!("name=\"next\" value=\"{claim_page}\"")),
        "the form keeps where they were going"
    );
    let response = user
        .post_form(
            "/identity",
            "/identity",
            &[
                ("legal_name", "钱七"),
                ("id_number", "11010519491231002X"),
                ("id_consent", "yes"),
                ("next", claim_page),
            ],
        )
        .await;
    assert_eq!(location(&response), "/identity?next=%2Fc%2F7KQ2M9XD4TPA0HCF");
    let start = std::time::Instant::now();
    while status_of(&server, "quick@example.com").await != "verified" {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "the provider's answer was not taken"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, page) = user.get_text(&location(&response)).await;
    assert!(
        page.contains(&format!("href=\"{claim_page}\" data-continue")),
        "once verified, the page leads back to the claim"
    );
    let (_, status) = user.get_text("/identity/status").await;
    assert_eq!(status, r#"{"status":"verified"}"#);
    let mail = server.mailbox().wait_for("quick@example.com", 2).await;
    assert!(
        mail.iter()
            .any(|m| m.text.contains("/identity?next=%2Fc%2F7KQ2M9XD4TPA0HCF")),
        "the decision mail leads back too"
    );
}

async fn provider_errors_keep_the_submission_pending(db: Db) {
    let provider = FakeProvider::start(Mode::Unavailable).await;
    let server = server_with(&provider, Options::new(db).subprocess()).await;
    let user = server.verified_user("zhao@example.com", PASSWORD).await;
    submit(&user, "11010519491231002X").await;
    assert_eq!(provider.attempts(), 3, "an unavailable provider is retried");
    assert_eq!(
        status_of(&server, "zhao@example.com").await,
        "pending",
        "never approved on error"
    );
    let (_, page) = user.get_text("/identity").await;
    assert!(page.contains("实名认证服务暂时无法连接"));

    provider.set_mode(Mode::Refuse);
    assert_eq!(
        user.post_form("/identity", "/identity/retry", &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(provider.attempts(), 4, "a refusal is not retried");
    assert_eq!(status_of(&server, "zhao@example.com").await, "pending");

    provider.set_mode(Mode::Accept);
    user.post_form("/identity", "/identity/retry", &[]).await;
    let accepted = provider.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["id_number"], "11010519491231002X");
    assert_eq!(accepted[0]["name"], "赵六");
    assert!(accepted[0]["callback_url"].as_str().unwrap().starts_with(&server.base));
    let (_, page) = user.get_text("/identity").await;
    assert!(!page.contains("实名认证服务暂时无法连接"));
    assert!(page.contains("审核中"));
    assert!(
        page.contains("data-identity-waiting"),
        "the page shows that the provider is checking"
    );
    assert_eq!(
        user.post_form("/identity", "/identity/retry", &[]).await.status(),
        StatusCode::BAD_REQUEST,
        "nothing to retry once the provider has it"
    );
    assert!(
        !server.log().contains("11010519491231002X"),
        "the ID number is never logged"
    );
}

async fn signed_callbacks_decide(db: Db) {
    let provider = FakeProvider::start(Mode::Accept).await;
    let server = server_with(&provider, Options::new(db)).await;
    let first = server.verified_user("first@example.com", PASSWORD).await;
    let second = server.verified_user("second@example.com", PASSWORD).await;
    submit(&first, "11010519491231002X").await;
    submit(&second, "44030419900307123X").await;
    assert_eq!(provider.accepted().len(), 2);

    let forged = provider.call_back(0, "verified", None, "not-the-shared-secret").await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = forged.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_signature");
    assert_eq!(status_of(&server, "first@example.com").await, "pending");

    let key = provider.key.clone();
    assert_eq!(
        provider.call_back(0, "verified", None, &key).await.status(),
        StatusCode::OK
    );
    assert_eq!(status_of(&server, "first@example.com").await, "verified");
    let (_, page) = first.get_text("/identity").await;
    assert!(page.contains("已认证"));
    assert_eq!(
        provider.call_back(0, "rejected", Some("late"), &key).await.status(),
        StatusCode::CONFLICT,
        "a decided submission stays decided"
    );

    assert_eq!(
        provider
            .call_back(1, "rejected", Some("证件已失效"), &key)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(status_of(&server, "second@example.com").await, "rejected");
    let mail = server.mailbox().wait_for("second@example.com", 2).await;
    assert!(mail.iter().any(|m| m.text.contains("证件已失效")));

    let db = server.db().await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM audit_log WHERE action = 'identity.approved' AND actor_user_id IS NULL".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get_by_index::<i64>(0).unwrap(),
        1,
        "the provider's decision is audited"
    );
}
