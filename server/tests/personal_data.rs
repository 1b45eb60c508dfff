//! A person's rights over their own data, end to end: the separate consent to processing the
//! ID number, given with the identity form, withdrawn and given again, and what claims make of
//! it.

use reqwest::StatusCode;

use crate::support::collections::{Terms, api_claim, id_number, published_collection};
use crate::support::kyb::{PASSWORD, approved_issuer_with_key, scalar, verified_person};
use crate::support::{Db, Server, location};

on_both_databases!(the_id_number_is_processed_only_with_separate_consent);

async fn the_id_number_is_processed_only_with_separate_consent(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 10,
        per_person_limit: 2,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "同意之后才能领取", terms).await;

    // Without the separate box ticked nothing is taken, and the form says why.
    let person = server.verified_user("consent@example.com", PASSWORD).await;
    let response = person
        .post_form(
            "/identity",
            "/identity",
            &[("legal_name", "测试用户"), ("id_number", &id_number(301))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"consent-error\""), "the consent box is marked");
    assert!(
        page.contains(&id_number(301)),
        "what was typed is kept for the next try"
    );
    let user = scalar(&server, "SELECT id FROM users WHERE email = 'consent@example.com'").await;
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE user_id = {user}");
    assert_eq!(scalar(&server, &count("identities")).await, 0, "no identity kept");
    assert_eq!(scalar(&server, &count("id_number_consents")).await, 0);

    // With it, the consent is recorded with the policy version, and audited.
    drop(person);
    let person = verified_person(&server, &reviewer, "consent2@example.com", &id_number(302)).await;
    let user = scalar(&server, "SELECT id FROM users WHERE email = 'consent2@example.com'").await;
    let live = format!(
        "SELECT COUNT(*) FROM id_number_consents WHERE user_id = {user} AND withdrawn_at IS NULL AND policy_version = 1"
    );
    assert_eq!(scalar(&server, &live).await, 1);
    let audited =
        |action: &str| format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND actor_user_id = {user}");
    assert_eq!(scalar(&server, &audited("identity.consent_given")).await, 1);
    let (status, body) = api_claim(&person, collection, "consent-claim-key-001").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, page) = person.get_text("/identity").await;
    assert!(page.contains("data-consent=\"given\""));

    // Withdrawn: claims stop with their own refusal, which leads back to the identity page.
    let response = person
        .post_form("/identity", "/identity/consent/withdraw", &[("next", "/")])
        .await;
    assert_eq!(location(&response), "/identity");
    assert_eq!(scalar(&server, &live).await, 0);
    assert_eq!(scalar(&server, &audited("identity.consent_withdrawn")).await, 1);
    let (status, body) = api_claim(&person, collection, "consent-claim-key-002").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("id_consent_needed"))
    );
    let (_, page) = person.get_text(&format!("/collections/{collection}")).await;
    assert!(
        page.contains("data-claim-state=\"id_consent_needed\""),
        "the claim area says so"
    );
    let (_, page) = person.get_text("/identity").await;
    assert!(page.contains("data-consent=\"absent\""));
    let response = person
        .post_form("/identity", "/identity/consent/withdraw", &[("next", "/")])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT, "nothing left to withdraw");
    assert_eq!(scalar(&server, &audited("identity.consent_withdrawn")).await, 1);

    // Given again (the box is needed here too): claims resume.
    let response = person
        .post_form("/identity", "/identity/consent", &[("next", "/")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "unticked");
    let response = person
        .post_form(
            "/identity",
            "/identity/consent",
            &[("id_consent", "yes"), ("next", "/")],
        )
        .await;
    assert_eq!(location(&response), "/identity");
    assert_eq!(scalar(&server, &live).await, 1);
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM id_number_consents WHERE user_id = {user}")
        )
        .await,
        2,
        "the history keeps the withdrawn consent"
    );
    let (status, body) = api_claim(&person, collection, "consent-claim-key-003").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // While a check is being decided the consent cannot be withdrawn.
    let pending = server.verified_user("consent3@example.com", PASSWORD).await;
    let response = pending
        .post_form(
            "/identity",
            "/identity",
            &[
                ("legal_name", "测试用户"),
                ("id_number", &id_number(303)),
                ("id_consent", "yes"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/identity");
    let response = pending
        .post_form("/identity", "/identity/consent/withdraw", &[("next", "/")])
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("结果出来后再撤回"));
}
