//! Due process, end to end: a report filed by anyone and decided by a reviewer, its reporter
//! told; a freeze taken at once on a report, noticed to the issuer with its reason and appeal
//! window, appealed, refused to the reviewer who froze, and overturned by another, who reverses
//! it; a window that closed refuses the appeal.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

use crate::support::collections::{Terms, claim, collectors, published_collection};
use crate::support::kyb::{approved_issuer_with_key, query, reviewer, scalar, version_in};
use crate::support::{Client, Db, Server, location};

on_both_databases!(a_report_is_filed_by_anyone_and_its_decision_reaches_the_reporter);
on_both_databases!(a_freeze_is_appealed_and_another_reviewer_overturns_it);
on_both_databases!(an_appeal_after_its_window_is_refused);

fn terms() -> Terms {
    Terms {
        edition_size: 10,
        per_person_limit: 1,
        claim_mode: "open",
    }
}

/// Freezes `collection` as `reviewer`, with a reason code and a note.
async fn freeze(reviewer: &Client, collection: i64, note: &str) {
    let case = format!("/review/collections/{collection}");
    let (_, page) = reviewer.get_text(&case).await;
    let response = reviewer
        .post_form(
            &case,
            &format!("{case}/decision"),
            &[
                ("action", "freeze"),
                ("reason_code", "copyright"),
                ("note", note),
                ("version", &version_in(&page)),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "frozen");
}

/// Waits for a mail to `to` that says `words`.
async fn mail_saying(server: &Server, to: &str, words: &str) {
    let start = std::time::Instant::now();
    while !server
        .mailbox()
        .messages_for(to)
        .await
        .iter()
        .any(|mail| mail.text.contains(words))
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "no mail to {to} saying {words}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn collection_status(server: &Server, collection: i64) -> String {
    query(
        server,
        &format!("SELECT status FROM collections WHERE id = {collection}"),
    )
    .await
}

async fn a_report_is_filed_by_anyone_and_its_decision_reaches_the_reporter(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let collection = published_collection(&founder, &reviewer, issuer, "举报测试系列", terms()).await;
    let stranger = server.client();
    let form = format!("/report?target=collection:{collection}");
    let (status, page) = stranger.get_text(&form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-report-form"));
    assert_eq!(
        stranger.get("/report?target=collection:999999").await.status(),
        StatusCode::NOT_FOUND
    );
    let target = format!("collection:{collection}");
    let description = "该藏品图片盗用了我方的原创插画作品，请核查处理。";
    for (fields, what) in [
        (
            vec![
                ("target", target.as_str()),
                ("category", "infringement"),
                ("description", "太短"),
                ("contact", ""),
            ],
            "description too short",
        ),
        (
            vec![
                ("target", target.as_str()),
                ("category", "nonsense"),
                ("description", description),
                ("contact", ""),
            ],
            "no category",
        ),
        (
            vec![
                ("target", target.as_str()),
                ("category", "infringement"),
                ("description", description),
                ("contact", "not an address"),
            ],
            "bad address",
        ),
    ] {
        let response = stranger.post_form(&form, "/report", &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{what}");
    }
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM reports").await, 0);

    let response = stranger
        .post_form(
            &form,
            "/report",
            &[
                ("target", &target),
                ("category", "infringement"),
                ("description", description),
                ("contact", "reporter@example.com"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let status_page = location(&response);
    assert!(status_page.starts_with("/reports/"));
    let (_, page) = stranger.get_text(&status_page).await;
    assert!(page.contains("data-report-status=\"open\""));
    assert!(
        !page.contains(description),
        "the status page does not repeat the description"
    );
    let report = scalar(&server, "SELECT id FROM reports").await;
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM audit_log WHERE action = 'report.filed'").await,
        1
    );

    // Reviewers see it in their queue; the decision needs the case's claim and a reason.
    let (_, queue) = reviewer.get_text("/review/reports").await;
    assert!(queue.contains(&format!("data-report=\"{report}\"")));
    let case = format!("/review/reports/{report}");
    let decide = |reason: &'static str| {
        let reviewer = reviewer.clone();
        let case = case.clone();
        async move {
            let (_, page) = reviewer.get_text(&case).await;
            let version = page
                .split("name=\"version\" value=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or("0")
                .to_owned();
            reviewer
                .post_form(
                    &case,
                    &format!("{case}/decision"),
                    &[
                        ("decision", "uphold"),
                        ("reason_code", "copyright"),
                        ("reason", reason),
                        ("version", &version),
                    ],
                )
                .await
                .status()
        }
    };
    assert_eq!(decide("已冻结").await, StatusCode::CONFLICT, "not claimed");
    reviewer.post_form(&case, &format!("{case}/claim"), &[]).await;
    // Taken down at once: the reviewer freezes the collection, then decides the report.
    freeze(&reviewer, collection, "涉嫌侵犯他人著作权，核查期间暂停领取").await;
    assert_eq!(collection_status(&server, collection).await, "frozen");
    assert_eq!(decide(" ").await, StatusCode::BAD_REQUEST, "a reason is required");
    assert_eq!(decide("经核查属实，已冻结该藏品系列").await, StatusCode::SEE_OTHER);
    assert_eq!(decide("again").await, StatusCode::CONFLICT, "decided once");

    let (_, page) = stranger.get_text(&status_page).await;
    assert!(page.contains("data-report-status=\"upheld\""));
    assert!(page.contains("经核查属实，已冻结该藏品系列"));
    let mails = server.mailbox().wait_for("reporter@example.com", 1).await;
    assert!(mails[0].text.contains(&status_page), "the mail links to the report");
    assert!(mails[0].text.contains("经核查属实"));
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'report.upheld' AND before_state = 'open'"
        )
        .await,
        1
    );
    // An unknown or malformed ticket is simply not found.
    assert_eq!(
        stranger.get("/reports/0000000000000000").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(stranger.get("/reports/nonsense").await.status(), StatusCode::NOT_FOUND);
}

async fn a_freeze_is_appealed_and_another_reviewer_overturns_it(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, first) = approved_issuer_with_key(&server).await;
    let collection = published_collection(&founder, &first, issuer, "申诉测试系列", terms()).await;
    freeze(&first, collection, "涉嫌侵犯他人著作权，核查期间暂停领取").await;

    // The notice: on the console, with the reason and a way to appeal.
    let console = format!("/console/{issuer}/collections/{collection}");
    let (_, page) = founder.get_text(&console).await;
    assert!(page.contains("data-appeal-link") && page.contains("涉嫌侵犯他人著作权"));
    let appeal_page = format!("/appeal?subject=collection:{collection}");
    let (status, page) = founder.get_text(&appeal_page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-notice=\"collection_frozen\"") && page.contains("name=\"statement\""));
    // Only the issuer's members appeal its collection.
    let stranger = server
        .verified_user("stranger@example.com", "correct horse battery")
        .await;
    assert_eq!(stranger.get(&appeal_page).await.status(), StatusCode::NOT_FOUND);

    let subject = format!("collection:{collection}");
    let short = founder
        .post_form(&appeal_page, "/appeal", &[("subject", &subject), ("statement", "不服")])
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let statement = "该插画为我方原创，著作权登记号 国作登字-2026-F-00012345，请复核。";
    let filed = founder
        .post_form(
            &appeal_page,
            "/appeal",
            &[("subject", &subject), ("statement", statement)],
        )
        .await;
    assert_eq!(filed.status(), StatusCode::SEE_OTHER);
    let (_, page) = founder.get_text(&location(&filed)).await;
    assert!(page.contains("data-appeal-status=\"open\""));
    let again = founder
        .post_form(
            &appeal_page,
            "/appeal",
            &[("subject", &subject), ("statement", statement)],
        )
        .await;
    assert_eq!(
        again.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "one appeal per decision"
    );
    let (_, public) = server.client().get_text(&format!("/collections/{collection}")).await;
    assert!(
        public.contains("data-under-appeal"),
        "the public page says it is under appeal"
    );
    let appeal = scalar(&server, "SELECT id FROM appeals").await;

    // The reviewer who froze it may not decide the appeal.
    let case = format!("/review/appeals/{appeal}");
    let refused = first.post_form(&case, &format!("{case}/claim"), &[]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let (_, page) = first.get_text(&case).await;
    assert!(!page.contains(&format!("{case}/decision")));

    let admin = server.client();
    admin.login("boss@example.com", "root password 123").await;
    let second = reviewer(&server, &admin, "second-reviewer@example.com").await;
    let (_, queue) = second.get_text("/review/appeals").await;
    assert!(queue.contains(&format!("data-appeal=\"{appeal}\"")));
    assert_eq!(
        second.post_form(&case, &format!("{case}/claim"), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, page) = second.get_text(&case).await;
    let response = second
        .post_form(
            &case,
            &format!("{case}/decision"),
            &[
                ("outcome", "overturn"),
                ("reason", "登记证书与作品一致，原冻结决定撤销"),
                ("version", &version_in(&page)),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        collection_status(&server, collection).await,
        "published",
        "the freeze is reversed"
    );
    for action in ["appeal.overturned", "collection.unfrozen"] {
        let rows = scalar(
            &server,
            &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"),
        )
        .await;
        assert_eq!(rows, 1, "{action} audited");
    }
    mail_saying(&server, "founder@example.com", "登记证书与作品一致").await;
    let (_, public) = server.client().get_text(&format!("/collections/{collection}")).await;
    assert!(!public.contains("data-under-appeal"));
    let (_, page) = founder.get_text(&appeal_page).await;
    assert!(!page.contains("name=\"statement\""), "nothing left to appeal");

    // The year's governance report counts the takedown, the appeal and its outcome, on the
    // admin's page, in its CSV file and from the command line alike.
    let year = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y")
        .to_string();
    let (status, page) = admin.get_text(&format!("/admin/governance?year={year}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-figure"));
    let (status, document) = admin
        .get_text(&format!("/admin/governance/report.html?year={year}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(document.contains(&year) && document.contains("<table>"));
    let (_, csv) = admin
        .get_text(&format!("/admin/governance/report.csv?year={year}"))
        .await;
    for row in [
        "takedowns,collection.frozen,1",
        "appeals_by_decision,collection_frozen,1",
        "appeals_by_status,overturned,1",
        "decisions,collection.approved,1",
        "decisions_by_reason_code,copyright,1",
        "appeal_times,decided,1",
    ] {
        assert!(csv.contains(row), "{row} in\n{csv}");
    }
    let out = server
        .run_cli(&["report", "governance", "--year", &year, "--format", "csv"], "")
        .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        csv,
        "the command line writes the same file"
    );
    assert_eq!(
        admin.get("/admin/governance?year=1900").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(first.get("/admin/governance").await.status(), StatusCode::FORBIDDEN);
}

async fn an_appeal_after_its_window_is_refused(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let collection = published_collection(&founder, &reviewer, issuer, "申诉期测试", terms()).await;
    let holder = collectors(&server, &reviewer, 1, 1).await.remove(0);
    let csrf = holder.csrf(&format!("/collections/{collection}")).await;
    let (status, _) = claim(&holder, &csrf, collection, "window-claim-key-0001").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let token = scalar(
        &server,
        &format!("SELECT id FROM tokens WHERE collection_id = {collection}"),
    )
    .await;
    let response = reviewer
        .post_form(
            &format!("/tokens/{token}"),
            &format!("/review/tokens/{token}/decision"),
            &[("action", "freeze"), ("reason", "投诉核查中")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = holder.get_text(&format!("/tokens/{token}")).await;
    assert!(
        page.contains(&format!("/appeal?subject=token:{token}")),
        "the holder is offered an appeal"
    );

    // Eight days on, the seven-day window has closed.
    let db = server.db().await;
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE audit_log SET at = $1 WHERE action = 'token.frozen'",
        [(Utc::now() - Duration::days(8)).into()],
    ))
    .await
    .unwrap();
    let appeal_page = format!("/appeal?subject=token:{token}");
    let (_, page) = holder.get_text(&appeal_page).await;
    assert!(!page.contains("name=\"statement\""), "no form once the window closed");
    let response = holder
        .post_form(
            &appeal_page,
            "/appeal",
            &[
                ("subject", &format!("token:{token}")),
                ("statement", "我从未参与任何转售，请复核冻结决定。"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM appeals").await, 0);
}
