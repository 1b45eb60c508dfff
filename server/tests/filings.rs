//! Filings that run out, end to end: validity dates entered with the application, reminders
//! mailed ahead, claims pausing the day after the first one runs out (with an audit row and a
//! ledger entry), a renewal sent from the console and refused or accepted by a reviewer, and
//! claims resuming; the operator's own filings warn administrators and pause every claim.
//! Time passing is the database's dates moved back, and the daily pass runs at each start.

use chrono::{FixedOffset, NaiveDate, TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::collections::{Terms, api_claim, collectors, published_collection};
use crate::support::kyb::{
    PDF, application, apply, approved_issuer_with_key, claim_and_decide, query, reviewer, scalar, verified_person,
};
use crate::support::{Client, Db, Options, Server, location};

on_both_databases!(a_filing_runs_out_claims_pause_and_resume_once_a_renewal_is_accepted);

/// Today's date in Beijing, `days` from now.
fn day(days: i64) -> String {
    let today: NaiveDate = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    (today + TimeDelta::days(days)).format("%Y-%m-%d").to_string()
}

fn open_terms() -> Terms {
    Terms {
        edition_size: 10,
        per_person_limit: 1,
        claim_mode: "open",
    }
}

/// Waits for mail to `to` whose subject says `words` (people here read Chinese, the
/// platform's default); answers how many there are.
async fn mails_saying(server: &Server, to: &str, words: &str) -> usize {
    let start = std::time::Instant::now();
    loop {
        let mails = server.mailbox().messages_for(to).await;
        let found = mails.iter().filter(|mail| mail.subject.contains(words)).count();
        if found > 0 {
            return found;
        }
        let subjects: Vec<&str> = mails.iter().map(|mail| mail.subject.as_str()).collect();
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "no mail to {to} saying {words}: {subjects:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits until `sql` (a count) is at least one.
async fn until_some(server: &Server, sql: &str) {
    let start = std::time::Instant::now();
    while scalar(server, sql).await == 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "never: {sql}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The ledger entries of `kind` about `issuer`, waiting until there are `count` of them.
async fn ledger_entries(server: &Server, kind: &str, issuer: i64, count: usize) {
    let start = std::time::Instant::now();
    loop {
        let mut found = 0;
        for index in 0.. {
            let response = reqwest::get(server.url(&format!("/api/v1/ledger/entries/{index}")))
                .await
                .unwrap();
            if response.status() == StatusCode::NOT_FOUND {
                break;
            }
            let entry: Value = response.json().await.unwrap();
            if entry["type"] == kind && entry["fields"]["issuer_id"] == issuer {
                found += 1;
            }
        }
        if found == count {
            return;
        }
        assert!(found < count, "{found} {kind} entries, expected {count}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{found} {kind} entries, expected {count}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Moves the issuer's business licence to end `days` from today.
async fn licence_ends(server: &Server, issuer: i64, days: i64) {
    let db = server.db().await;
    let sql = format!(
        "UPDATE issuers SET licence_valid_until = '{}' WHERE id = {issuer}",
        day(days)
    );
    sea_orm::ConnectionTrait::execute_unprepared(&db, &sql).await.unwrap();
}

async fn a_filing_runs_out_claims_pause_and_resume_once_a_renewal_is_accepted(db: Db) {
    let server = Server::start(db).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let reviewer = reviewer(&server, &admin, "reviewer@example.com").await;
    let founder = verified_person(&server, &reviewer, "founder@example.com", "11010519491231002X").await;

    // A validity date already past is refused with the form, and nothing is recorded.
    let form = application("91350100M000100Y43", PDF).text("icp_valid_until", day(-1));
    let response = apply(&server, &founder, form).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"icp_valid_until-error\""), "the date is named");
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM issuers").await, 0);

    let form = application("91350100M000100Y43", PDF)
        .text("licence_valid_until", day(400))
        .text("blockchain_valid_until", day(500));
    let response = apply(&server, &founder, form).await;
    let console = location(&response);
    let issuer: i64 = console.trim_start_matches("/console/").parse().unwrap();
    claim_and_decide(&reviewer, &format!("/review/issuers/{issuer}"), ("action", "approve")).await;
    let stored: String = query(
        &server,
        &format!("SELECT CAST(licence_valid_until AS TEXT) FROM issuers WHERE id = {issuer}"),
    )
    .await;
    assert_eq!(stored, day(400));
    let (_, page) = founder.get_text(&format!("{console}/filings")).await;
    assert!(page.contains("data-filings=\"current\""), "valid for long");
    assert!(
        page.contains(&day(400)) && page.contains(&day(365)),
        "dates and the ICP's re-check"
    );

    let collection = published_collection(&founder, &reviewer, issuer, "备案到期系列", open_terms()).await;
    let people = collectors(&server, &reviewer, 1, 3).await;
    let (status, _) = api_claim(&people[0], collection, "filings-claim-0001").await;
    assert_eq!(status, StatusCode::CREATED);

    // Five days before the licence runs out, the applicant is reminded once, however often
    // the daily pass runs.
    licence_ends(&server, issuer, 5).await;
    let server = server.restart_with(&[]).await;
    let reminder = format!("{} 后到期", day(5));
    assert_eq!(mails_saying(&server, "founder@example.com", &reminder).await, 1);
    let server = server.restart_with(&[]).await;
    let (founder, reviewer, admin) = (founder.at(&server), reviewer.at(&server), admin.at(&server));
    let people: Vec<Client> = people.iter().map(|p| p.at(&server)).collect();
    let (_, page) = founder.get_text(&format!("{console}/filings")).await;
    assert!(page.contains("data-filings=\"due\""));
    assert_eq!(
        mails_saying(&server, "founder@example.com", &reminder).await,
        1,
        "sent once"
    );

    // The day after it ran out, claims pause at once; the daily pass records it.
    licence_ends(&server, issuer, -1).await;
    let (status, body) = api_claim(&people[1], collection, "filings-claim-0002").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "filings_lapsed");
    let server = server.restart_with(&[]).await;
    let (founder, reviewer, admin) = (founder.at(&server), reviewer.at(&server), admin.at(&server));
    let people: Vec<Client> = people.iter().map(|p| p.at(&server)).collect();
    until_some(
        &server,
        &format!("SELECT COUNT(*) FROM issuers WHERE id = {issuer} AND filings_lapsed_at IS NOT NULL"),
    )
    .await;
    assert_eq!(
        scalar(
            &server,
            &format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'issuer.filings_lapsed' AND subject_id = '{issuer}'"
            )
        )
        .await,
        1
    );
    ledger_entries(&server, "issuer_filings_lapsed", issuer, 1).await;
    mails_saying(&server, "founder@example.com", "领取已暂停").await;
    let (_, public) = server.client().get_text(&format!("/issuers/{issuer}")).await;
    assert!(
        public.contains("data-filings=\"lapsed\""),
        "the public page says claims paused"
    );
    let (_, page) = people[1].get_text(&format!("/collections/{collection}")).await;
    assert!(
        page.contains("data-claim-state=\"filings_lapsed\""),
        "the collection page says why"
    );

    // A renewal with a past date is refused and changes nothing.
    let filings = format!("{console}/filings");
    let response = founder
        .post_form(&filings, &filings, &[("licence_valid_until", &day(-2))])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("id=\"licence_valid_until-error\"")
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM issuers WHERE id = {issuer} AND renewal_submitted_at IS NOT NULL")
        )
        .await,
        0
    );

    // A renewal sent, refused with a reason (which reaches the applicant), sent again.
    let send = |date: String| {
        let founder = &founder;
        let filings = filings.clone();
        async move {
            let response = founder
                .post_form(
                    &filings,
                    &filings,
                    &[("licence_valid_until", &date), ("blockchain_valid_until", &day(500))],
                )
                .await;
            assert_eq!(location(&response), format!("{filings}?notice=sent"));
        }
    };
    send(day(30)).await;
    let (_, queue) = reviewer.get_text("/review").await;
    assert!(queue.contains("data-renewals") && queue.contains(&format!("/review/issuers/{issuer}#filings")));
    let case = format!("/review/issuers/{issuer}");
    let decide = |action: &'static str, reason: &'static str| {
        let reviewer = &reviewer;
        let case = case.clone();
        async move {
            let (_, page) = reviewer.get_text(&case).await;
            assert!(page.contains("data-renewal"), "the renewal is on the case page");
            let version = crate::support::kyb::version_in(&page);
            reviewer
                .post_form(
                    &case,
                    &format!("{case}/renewal"),
                    &[("action", action), ("reason", reason), ("version", &version)],
                )
                .await
        }
    };
    assert_eq!(
        decide("refuse", "").await.status(),
        StatusCode::BAD_REQUEST,
        "a refusal says why"
    );
    assert_eq!(
        decide("refuse", "执照日期与扫描件不符").await.status(),
        StatusCode::SEE_OTHER
    );
    mails_saying(&server, "founder@example.com", "续期被驳回").await;
    assert!(
        server
            .mailbox()
            .messages_for("founder@example.com")
            .await
            .iter()
            .any(|mail| mail.text.contains("执照日期与扫描件不符"))
    );
    let (status, _) = api_claim(&people[1], collection, "filings-claim-0003").await;
    assert_eq!(status, StatusCode::CONFLICT, "still paused");

    // Accepted: claims resume, and the ledger says so.
    send(day(700)).await;
    assert_eq!(decide("accept", "").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        scalar(
            &server,
            &format!(
                "SELECT COUNT(*) FROM issuers WHERE id = {issuer} AND filings_lapsed_at IS NULL AND renewal_submitted_at IS NULL"
            )
        )
        .await,
        1
    );
    let (status, _) = api_claim(&people[1], collection, "filings-claim-0004").await;
    assert_eq!(status, StatusCode::CREATED, "claims resumed");
    ledger_entries(&server, "issuer_filings_renewed", issuer, 1).await;
    mails_saying(&server, "founder@example.com", "续期已通过").await;
    let (_, page) = founder.get_text(&filings).await;
    assert!(page.contains("data-filings=\"current\"") && page.contains(&day(500)));
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('issuer.filings_renewal_sent', 'issuer.filings_renewal_refused', 'issuer.filings_renewed')"
        )
        .await,
        4
    );

    // The governance report counts the year's lapse and renewals.
    let (_, report) = admin.get_text("/admin/governance").await;
    assert!(report.contains("备案到期，暂停领取"), "the lapse is counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_filings_warn_administrators_and_pause_every_claim() {
    let options = Options::new(Db::Sqlite).env("KEEPSAKE_OPERATOR_ICP_VALID_UNTIL", &day(6));
    let server = Server::start_with(options).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let collection = published_collection(&founder, &reviewer, issuer, "平台备案系列", open_terms()).await;
    let people = collectors(&server, &reviewer, 1, 2).await;
    // The next daily pass finds the administrator to remind.
    let server = server.restart_with(&[]).await;
    let (reviewer, people) = (reviewer.at(&server), [people[0].at(&server), people[1].at(&server)]);
    let admin = server.client();
    admin.login("boss@example.com", "root password 123").await;

    let (_, page) = admin.get_text("/review").await;
    assert!(
        page.contains("data-filings-alert=\"due\""),
        "admins see the banner on every page"
    );
    let (_, page) = reviewer.get_text("/review").await;
    assert!(!page.contains("data-filings-alert"), "only admins do");
    assert_eq!(
        mails_saying(&server, "boss@example.com", &format!("{} 后到期", day(6))).await,
        1
    );
    let (status, _) = api_claim(&people[0], collection, "operator-claim-0001").await;
    assert_eq!(status, StatusCode::CREATED, "claims go on until it runs out");

    let server = server
        .restart_with(&[("KEEPSAKE_OPERATOR_ICP_VALID_UNTIL", &day(-1))])
        .await;
    let (admin, people) = (admin.at(&server), [people[0].at(&server), people[1].at(&server)]);
    let (_, page) = admin.get_text("/review").await;
    assert!(page.contains("data-filings-alert=\"lapsed\""));
    let (status, body) = api_claim(&people[1], collection, "operator-claim-0002").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "filings_lapsed");
    mails_saying(&server, "boss@example.com", "领取已暂停").await;

    let server = server
        .restart_with(&[("KEEPSAKE_OPERATOR_ICP_VALID_UNTIL", &day(365))])
        .await;
    let (admin, people) = (admin.at(&server), [people[0].at(&server), people[1].at(&server)]);
    let (_, page) = admin.get_text("/review").await;
    assert!(!page.contains("data-filings-alert"), "renewed: no banner");
    let (status, _) = api_claim(&people[1], collection, "operator-claim-0003").await;
    assert_eq!(status, StatusCode::CREATED, "claims resume");
}
