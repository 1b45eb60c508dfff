//! The platform rules, user agreement and privacy policy, end to end: public in both
//! languages, accepted at sign-up (recorded with their versions), and accepted again when one
//! changes before the person can claim.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::collections::{Terms, collectors, published_collection};
use crate::support::kyb::{PASSWORD, approved_issuer_with_key, scalar};
use crate::support::{Db, Server, location};

on_both_databases!(policies_are_accepted_at_sign_up_and_again_when_they_change);

async fn policies_are_accepted_at_sign_up_and_again_when_they_change(db: Db) {
    let server = Server::start(db).await;

    // Public, in both languages; unknown documents are 404.
    let visitor = server.client();
    for (slug, zh, en) in [
        ("rules", "平台公约", "Platform rules"),
        ("terms", "用户协议", "User agreement"),
        ("privacy", "隐私政策", "Privacy policy"),
    ] {
        let (status, page) = visitor.get_text(&format!("/policies/{slug}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(zh) && page.contains("data-version=\"1\""), "{slug}");
        let english = visitor
            .http
            .get(server.url(&format!("/policies/{slug}")))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(english.contains(en), "{slug} in English");
    }
    assert_eq!(visitor.get("/policies/cookies").await.status(), StatusCode::NOT_FOUND);

    // Signing up without accepting is refused and creates nothing.
    let response = visitor
        .post_form(
            "/signup",
            "/signup",
            &[
                ("email", "no-accept@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("id=\"policies-error\""));
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM users").await, 0);

    // Signing up accepts every current version, on the record.
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let collection = published_collection(
        &founder,
        &reviewer,
        issuer,
        "规则更新测试",
        Terms {
            edition_size: 5,
            per_person_limit: 1,
            claim_mode: "open",
        },
    )
    .await;
    let collector = &collectors(&server, &reviewer, 1, 1).await[0];
    let id = scalar(&server, "SELECT id FROM users WHERE email = 'collector1@example.com'").await;
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM policy_acceptances WHERE user_id = {id} AND version = 1")
        )
        .await,
        3
    );
    let (_, page) = collector.get_text("/explore").await;
    assert!(!page.contains("data-policies-outstanding"));

    // The rules change: what the collector accepted is now an older version.
    let db = server.db().await;
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!("UPDATE policy_acceptances SET version = 0 WHERE user_id = {id} AND document = 'rules'"),
    )
    .await
    .unwrap();
    let page_path = format!("/collections/{collection}");
    let (_, page) = collector.get_text(&page_path).await;
    assert!(
        page.contains("data-policies-outstanding"),
        "a banner asks for acceptance"
    );
    assert!(page.contains("data-claim-state=\"policies_not_accepted\""));
    let claim = |key: &'static str| {
        let collector = collector.clone();
        async move {
            let response = collector
                .http
                .post(collector.url(&format!("/api/v1/collections/{collection}/claims")))
                .header("Idempotency-Key", key)
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = claim("policy-claim-key-0001").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("policies_not_accepted"))
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {collection}")
        )
        .await,
        0
    );

    // Reading and accepting lets the claim through; the older acceptance stays on record.
    let accept = format!("/policies/accept?next=%2Fcollections%2F{collection}");
    let (_, page) = collector.get_text(&accept).await;
    assert!(page.contains("data-document=\"rules\"") && !page.contains("data-document=\"terms\""));
    let response = collector
        .post_form(&accept, "/policies/accept", &[("next", &page_path)])
        .await;
    assert_eq!(location(&response), page_path);
    let (status, body) = claim("policy-claim-key-0002").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM policy_acceptances WHERE user_id = {id} AND document = 'rules'")
        )
        .await,
        2
    );
    let response = collector.get("/policies/accept").await;
    assert_eq!(location(&response), "/", "nothing left to accept");
}
