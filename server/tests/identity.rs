//! Real-name verification end to end: a collector submits an identity, a reviewer claims and
//! decides it through the console, the applicant hears back by mail, every step leaves an
//! audit row, and the identity data never appears in clear text in the database or the log.

use crate::support::kyb::reviewer;
use crate::support::{Client, Db, Options, Server, location};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

const PASSWORD: &str = "correct horse battery";
const ID_NUMBER: &str = "11010519491231002X";
const NAME: &str = "王小明";

async fn query_strings(server: &Server, sql: &str) -> Vec<String> {
    let db = server.db().await;
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect()
}

async fn user_id(server: &Server, email: &str) -> i64 {
    let db = server.db().await;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT id FROM users WHERE email = '{email}'"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn submit(client: &Client, name: &str, number: &str) -> reqwest::Response {
    client
        .post_form(
            "/identity",
            "/identity",
            &[("legal_name", name), ("id_number", number), ("id_consent", "yes")],
        )
        .await
}

on_both_databases!(identity_is_submitted_reviewed_and_audited, one_person_one_account);

async fn identity_is_submitted_reviewed_and_audited(db: Db) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let reviewer_a = reviewer(&server, &admin, "reviewer-a@example.com").await;
    let reviewer_b = reviewer(&server, &admin, "reviewer-b@example.com").await;
    let collector = server.verified_user("collector@example.com", PASSWORD).await;
    let collector_id = user_id(&server, "collector@example.com").await;

    let (status, page) = collector.get_text("/identity").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("未认证"));

    for (number, message) in [
        ("110105194912310021", "校验码与前面的数字不符"),
        ("11010519490230002X", "不是有效日期"),
        ("1101051949123100", "完整的 18 位"),
    ] {
        let response = submit(&collector, NAME, number).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{number}");
        let html = response.text().await.unwrap();
        assert!(html.contains(message), "{number}: the page says what to fix");
        assert!(
            html.contains(&format!("value=\"{number}\"")),
            "{number}: what was typed is kept"
        );
    }
    let response = submit(&collector, NAME, "１１０１０５１９４９１２３１００２ｘ").await;
    assert_eq!(location(&response), "/identity", "full-width input is accepted");
    let (_, page) = collector.get_text("/identity").await;
    assert!(page.contains("审核中"));
    assert!(page.contains("1101**********002X"));
    assert!(!page.contains(ID_NUMBER), "only the masked number is shown");
    assert_eq!(
        submit(&collector, NAME, ID_NUMBER).await.status(),
        StatusCode::CONFLICT,
        "already pending"
    );

    // Collectors cannot see the queue or the case.
    assert_eq!(collector.get("/review").await.status(), StatusCode::FORBIDDEN);
    let case = format!("/review/identities/{collector_id}");
    assert_eq!(collector.get(&case).await.status(), StatusCode::FORBIDDEN);

    let (status, queue) = reviewer_a.get_text("/review").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains("1101**********002X"));
    assert!(!queue.contains(NAME));

    // Before claiming, the reviewer sees only the masked number.
    let (_, unclaimed) = reviewer_a.get_text(&case).await;
    assert!(!unclaimed.contains(ID_NUMBER) && !unclaimed.contains(NAME));

    let claim = format!("{case}/claim");
    assert_eq!(
        reviewer_a.post_form("/review", &claim, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        reviewer_b.post_form("/review", &claim, &[]).await.status(),
        StatusCode::CONFLICT,
        "one reviewer per case"
    );
    let (_, claimed) = reviewer_a.get_text(&case).await;
    assert!(
        claimed.contains(ID_NUMBER) && claimed.contains(NAME),
        "the claimant sees the submission"
    );
    let (_, mine) = reviewer_a.get_text("/review?claim=mine").await;
    assert!(mine.contains("1101**********002X"), "filter: claimed by me");
    let (_, theirs) = reviewer_b.get_text("/review?claim=mine").await;
    assert!(!theirs.contains("1101**********002X"));
    let (_, issuers_only) = reviewer_a.get_text("/review?kind=issuers").await;
    assert!(!issuers_only.contains("1101**********002X"), "filter: kind");
    let (_, other_view) = reviewer_b.get_text(&case).await;
    assert!(!other_view.contains(ID_NUMBER));

    let decision = format!("{case}/decision");
    let version = |html: &str| {
        let at = html.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    let v = version(&claimed);
    let no_reason = reviewer_a
        .post_form(
            &case,
            &decision,
            &[("decision", "reject"), ("reason", " "), ("version", &v)],
        )
        .await;
    assert_eq!(no_reason.status(), StatusCode::BAD_REQUEST);
    let by_other = reviewer_b
        .post_form(&case, &decision, &[("decision", "approve"), ("version", &v)])
        .await;
    assert_eq!(by_other.status(), StatusCode::CONFLICT, "only the claimant decides");
    let rejected = reviewer_a
        .post_form(
            &case,
            &decision,
            &[("decision", "reject"), ("reason", "照片与证件不符"), ("version", &v)],
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::SEE_OTHER);
    let stale = reviewer_a
        .post_form("/review", &decision, &[("decision", "approve"), ("version", &v)])
        .await;
    // A move the status does not allow is a conflict, for identities as for every other
    // decision (it was 400 here alone before one rule mapped them all).
    assert_eq!(
        stale.status(),
        StatusCode::CONFLICT,
        "a decided case cannot be decided again"
    );

    let mail = server.mailbox().wait_for("collector@example.com", 2).await;
    assert!(
        mail.iter().any(|m| m.text.contains("照片与证件不符")),
        "the applicant hears the reason"
    );
    assert!(
        mail.iter()
            .all(|m| !m.text.contains(ID_NUMBER) && !m.text.contains(NAME))
    );
    let (_, page) = collector.get_text("/identity").await;
    assert!(page.contains("未通过") && page.contains("照片与证件不符"));

    // Resubmission, then approval.
    assert_eq!(location(&submit(&collector, NAME, ID_NUMBER).await), "/identity");
    assert_eq!(
        reviewer_b.post_form("/review", &claim, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, claimed) = reviewer_b.get_text(&case).await;
    let approved = reviewer_b
        .post_form(
            &case,
            &decision,
            &[("decision", "approve"), ("version", &version(&claimed))],
        )
        .await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    let (_, page) = collector.get_text("/identity").await;
    assert!(page.contains("已认证"));
    assert!(
        !page.contains("action=\"/identity\"") && page.contains("action=\"/identity/correction\""),
        "once verified, only a correction (a new check) is offered"
    );
    server.mailbox().wait_for("collector@example.com", 3).await;

    // A reviewer cannot decide their own identity.
    assert_eq!(
        location(&submit(&reviewer_a, "李四", "44030419900307123X").await),
        "/identity",
        "sanity"
    );
    let reviewer_a_id = user_id(&server, "reviewer-a@example.com").await;
    let own = reviewer_a
        .post_form("/review", &format!("/review/identities/{reviewer_a_id}/claim"), &[])
        .await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);

    // The audit trail, on screen and as CSV.
    let actions = query_strings(&server, "SELECT action FROM audit_log ORDER BY id").await;
    for expected in [
        "role.granted",
        "identity.submitted",
        "identity.claimed",
        "identity.rejected",
        "identity.approved",
    ] {
        assert!(actions.iter().any(|a| a == expected), "{expected} in {actions:?}");
    }
    let request_ids = query_strings(&server, "SELECT request_id FROM audit_log WHERE request_id IS NOT NULL").await;
    assert_eq!(request_ids.len(), actions.len(), "every row names its request");
    let (status, audit) = reviewer_a
        .get_text(&format!("/review/audit?subject_id={collector_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        audit.contains("实名认证未通过") && audit.contains("照片与证件不符"),
        "actions in words"
    );
    assert!(audit.contains("审核中 → 未通过"), "states in words");
    assert!(!audit.contains(">identity.rejected<"), "no raw action names");
    assert!(!audit.contains(">授予角色</td>"), "filtered by subject");

    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let csv_path = format!("/admin/audit.csv?from={today}&to={today}");
    assert_eq!(
        reviewer_a.get(&csv_path).await.status(),
        StatusCode::FORBIDDEN,
        "export is for admins"
    );
    let csv = admin.get(&csv_path).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = csv.text().await.unwrap();
    assert!(body.starts_with("id,at,actor_user_id,action"));
    assert_eq!(body.lines().count(), actions.len() + 1);
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let empty = admin
        .get(&format!("/admin/audit.csv?from={yesterday}&to={yesterday}"))
        .await;
    assert_eq!(
        empty.text().await.unwrap().lines().count(),
        1,
        "only the header outside the range"
    );
    assert_eq!(
        admin.get("/admin/audit.csv").await.status(),
        StatusCode::BAD_REQUEST,
        "a range is required"
    );

    // Identity data is encrypted at rest and never logged.
    let stored = query_strings(
        &server,
        "SELECT legal_name_enc || id_number_enc || id_masked FROM identities",
    )
    .await;
    assert!(
        stored
            .iter()
            .all(|s| !s.contains(ID_NUMBER) && !s.contains(NAME) && !s.contains("0519491231"))
    );
    let log = server.log();
    assert!(log.contains("identity decided"), "the log was captured");
    assert!(!log.contains(ID_NUMBER) && !log.contains("11010519491231002x") && !log.contains(NAME));
}

async fn one_person_one_account(db: Db) {
    let server = Server::start(db).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let reviewer = reviewer(&server, &admin, "reviewer@example.com").await;
    let first = server.verified_user("first@example.com", PASSWORD).await;
    let second = server.verified_user("second@example.com", PASSWORD).await;

    assert_eq!(location(&submit(&first, NAME, ID_NUMBER).await), "/identity");
    let response = submit(&second, "别人", "11010519491231002x").await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let page = response.text().await.unwrap();
    assert!(page.contains("已绑定其他账号"));
    assert!(!page.contains("first@example.com"), "the holder is not revealed");

    // Once the first claim is rejected the number is free for its real owner.
    let first_id = user_id(&server, "first@example.com").await;
    let case = format!("/review/identities/{first_id}");
    reviewer.post_form("/review", &format!("{case}/claim"), &[]).await;
    let (_, html) = reviewer.get_text(&case).await;
    let at = html.find("name=\"version\" value=\"").unwrap() + 22;
    let v = html[at..at + html[at..].find('"').unwrap()].to_owned();
    reviewer
        .post_form(
            &case,
            &format!("{case}/decision"),
            &[("decision", "reject"), ("reason", "not your card"), ("version", &v)],
        )
        .await;
    assert_eq!(location(&submit(&second, NAME, ID_NUMBER).await), "/identity");
    let response = submit(&first, NAME, ID_NUMBER).await;
    assert_eq!(
        response.status(),
        StatusCode::CONFLICT,
        "now the first account is refused"
    );
}
