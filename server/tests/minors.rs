//! Minors, end to end: ages come from the date of birth in the verified ID number, counted on
//! the day in Beijing. Nobody under 14 is verified at all (nothing of theirs is kept); the
//! platform's minimum age (18 by default, `platform.minimum_age`) applies to claiming and to
//! founding or joining an issuer; a collection may set a higher one.

use chrono::{Datelike, FixedOffset, NaiveDate, TimeDelta, Utc};
use reqwest::StatusCode;

use crate::support::collections::{
    Terms, api_claim, claim, published_collection, published_collection_with, with_check_character,
};
use crate::support::kyb::{PASSWORD, PDF, application, apply, approved_issuer_with_key, scalar, verified_person};
use crate::support::{Db, Server};

on_both_databases!(ages_decide_who_is_verified_who_claims_and_who_joins_an_issuer);

/// The date of the `years`th anniversary of a birth `days` days from today's date in Beijing:
/// `born(18, 10)` turns 18 in ten days, `born(19, -10)` turned 19 ten days ago. Ten days keep
/// the test clear of midnight; the day itself is the domain tests' business.
fn born(years: i32, days: i64) -> NaiveDate {
    let today = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    today.with_year(today.year() - years).expect("not a 29 February") + TimeDelta::days(days)
}

/// A valid resident ID number carrying `birth`.
fn id_number(birth: NaiveDate, sequence: u32) -> String {
    with_check_character(&format!("110105{}{sequence:03}", birth.format("%Y%m%d")))
}

fn open_terms() -> Terms {
    Terms {
        edition_size: 10,
        per_person_limit: 1,
        claim_mode: "open",
    }
}

fn claim_state(page: &str) -> &str {
    page.split("data-claim-state=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a claim area")
}

async fn tokens_of(server: &Server, collection: i64) -> i64 {
    scalar(
        server,
        &format!("SELECT COUNT(*) FROM tokens WHERE collection_id = {collection}"),
    )
    .await
}

async fn ages_decide_who_is_verified_who_claims_and_who_joins_an_issuer(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let open = published_collection(&founder, &reviewer, issuer, "全年龄开放", open_terms()).await;
    let twenty = published_collection_with(
        &founder,
        &reviewer,
        issuer,
        "二十周岁及以上",
        open_terms(),
        &[("minimum_age", "20")],
    )
    .await;

    // Under 14 the identity is not taken: a clear refusal, and nothing of it stored.
    let child = server.verified_user("child@example.com", PASSWORD).await;
    let response = child
        .post_form(
            "/identity",
            "/identity",
            &[
                ("legal_name", "测试儿童"),
                ("id_number", &id_number(born(14, 10), 101)),
                ("id_consent", "yes"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("id=\"id-error\"") && page.contains("14"),
        "the refusal says why"
    );
    assert!(!page.contains("测试儿童"), "what was typed is not even shown back");
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM identities i JOIN users u ON u.id = i.user_id WHERE u.email = 'child@example.com'"
        )
        .await,
        0,
        "nothing of the child's identity is kept"
    );

    // From 14 people are verified, but below the platform's 18 they cannot claim.
    let teen_number = id_number(born(18, 10), 102);
    let teen = verified_person(&server, &reviewer, "teen@example.com", &teen_number).await;
    let adult = verified_person(&server, &reviewer, "adult@example.com", &id_number(born(19, -10), 103)).await;
    let page_of = |id: i64| format!("/collections/{id}");
    let (_, page) = teen.get_text(&page_of(open)).await;
    assert_eq!(
        claim_state(&page),
        "age_restricted",
        "the page says so before any claim"
    );
    assert!(
        page.contains("data-minimum-age=\"18\""),
        "the platform's minimum is shown"
    );
    let csrf = teen.csrf(&page_of(open)).await;
    let (status, _) = claim(&teen, &csrf, open, "teen-claim-key-00001").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = api_claim(&teen, open, "teen-claim-key-00002").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("age_restricted"))
    );
    assert_eq!(tokens_of(&server, open).await, 0, "nothing minted for the teen");

    // A collection's own, higher minimum holds against a 19-year-old, who claims elsewhere.
    let (status, body) = api_claim(&adult, open, "adult-claim-key-0001").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, page) = adult.get_text(&page_of(twenty)).await;
    assert_eq!(claim_state(&page), "age_restricted");
    assert!(page.contains("data-minimum-age=\"20\""));
    let (status, body) = api_claim(&adult, twenty, "adult-claim-key-0002").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("age_restricted"))
    );
    assert_eq!(tokens_of(&server, twenty).await, 0);

    // Below the platform's minimum nobody founds or joins an issuer.
    let (_, page) = teen.get_text("/issuers/apply").await;
    assert!(page.contains("data-refusal=\"age_restricted\""));
    let issuers = scalar(&server, "SELECT COUNT(*) FROM issuers").await;
    let response = apply(&server, &teen, application("91350100M000100Y43", PDF)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM issuers").await,
        issuers,
        "no application"
    );
    let console = format!("/console/{issuer}");
    founder
        .post_form(
            &console,
            &format!("{console}/invitations"),
            &[("email", "teen@example.com")],
        )
        .await;
    let link = server.mailbox().link_for("teen@example.com", "/invitations/").await;
    let invitation = link.strip_prefix(&server.base).unwrap().to_owned();
    let (_, page) = teen.get_text(&invitation).await;
    assert!(page.contains("data-blocker=\"invitation.too_young\""));
    assert_eq!(
        teen.post_form(&invitation, &invitation, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let teen_id = scalar(&server, "SELECT id FROM users WHERE email = 'teen@example.com'").await;
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM issuer_members WHERE user_id = {teen_id}")
        )
        .await,
        0
    );

    // An operator who sets the platform's minimum to 16 lets the 17-year-old claim; the
    // collection's own 20 still holds.
    let server = server.restart_with(&[("KEEPSAKE_MINIMUM_AGE", "16")]).await;
    let teen = teen.at(&server);
    let (status, body) = api_claim(&teen, open, "teen-claim-key-00003").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = api_claim(&teen, twenty, "teen-claim-key-00004").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("age_restricted"))
    );
    assert_eq!(tokens_of(&server, open).await, 2);

    // The governance report counts these refusals by kind and day, and by nothing else.
    let refused = |kind: &'static str| {
        let server = &server;
        async move {
            scalar(
                server,
                &format!("SELECT CAST(COALESCE(SUM(refusals), 0) AS BIGINT) FROM refusal_counts WHERE kind = '{kind}'"),
            )
            .await
        }
    };
    assert_eq!(refused("minor_identity").await, 1);
    assert!(
        refused("age_restricted_claim").await >= 2,
        "the page and the API claims"
    );
    assert!(refused("too_young_member").await >= 1);
}
