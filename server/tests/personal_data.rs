//! A person's rights over their own data, end to end: the separate consent to processing the
//! ID number (given with the identity form, withdrawn and given again, and what claims make of
//! it) and the copy of everything held about them.

use std::io::Read;
use std::path::Path;

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;

use crate::support::collections::{Terms, api_claim, id_number, published_collection};
use crate::support::kyb::{PASSWORD, approved_issuer_with_key, scalar, verified_person};
use crate::support::{Db, Server, location};

on_both_databases!(
    the_id_number_is_processed_only_with_separate_consent,
    a_person_downloads_everything_held_about_them,
    a_deleted_person_can_be_found_nowhere_and_their_tokens_stay,
    a_verified_person_corrects_their_identity_through_a_new_check,
    identities_sealed_before_person_keys_move_under_one
);

/// Every text and byte value in every table of the server's database, as text.
async fn database_text(server: &Server) -> String {
    use sea_orm::{DbBackend, Statement};
    let db = server.db().await;
    let backend = db.get_database_backend();
    let list = match backend {
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        _ => "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema()",
    };
    let tables = db
        .query_all_raw(Statement::from_string(backend, list.to_owned()))
        .await
        .unwrap();
    let mut text = String::new();
    for table in tables {
        let table: String = table.try_get_by_index(0).unwrap();
        let rows = db
            .query_all_raw(Statement::from_string(backend, format!("SELECT * FROM {table}")))
            .await
            .unwrap();
        for row in rows {
            for column in row.column_names() {
                if let Ok(Some(value)) = row.try_get::<Option<String>>("", &column) {
                    text.push_str(&value);
                } else if let Ok(Some(bytes)) = row.try_get::<Option<Vec<u8>>>("", &column) {
                    text.push_str(&String::from_utf8_lossy(&bytes));
                }
                text.push('\n');
            }
        }
    }
    text
}

/// Files under `dir` (recursively) whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// The file `name` in the zip `bytes`, as text.
fn unzipped(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} in the archive"))
        .read_to_string(&mut text)
        .unwrap();
    text
}

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

async fn a_person_downloads_everything_held_about_them(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 10,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "数据副本里的藏品", terms).await;
    let email = "archive@example.com";
    let person = verified_person(&server, &reviewer, email, &id_number(311)).await;
    let (status, body) = api_claim(&person, collection, "archive-claim-key-01").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let user = scalar(&server, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
    let (status, page) = person.get_text("/account/data").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"password\""));

    // The password first: a wrong one starts nothing.
    let response = person
        .post_form("/account/data", "/account/data", &[("password", "not my password")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("id=\"password-error\""));
    let exports = format!("SELECT COUNT(*) FROM data_exports WHERE user_id = {user}");
    assert_eq!(scalar(&server, &exports).await, 0);

    // With it, the archive is built in the background and announced by mail.
    let response = person
        .post_form("/account/data", "/account/data", &[("password", PASSWORD)])
        .await;
    assert_eq!(location(&response), "/account/data");
    server.mailbox().link_for(email, "/account/data").await;
    let (_, page) = person.get_text("/account/data").await;
    assert!(page.contains("data-archive-status=\"ready\""), "{page}");
    let id = scalar(&server, &format!("SELECT id FROM data_exports WHERE user_id = {user}")).await;
    let download = format!("/account/data/{id}/archive.zip");
    assert!(page.contains(&download));

    let response = person.get(&download).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let zip = response.bytes().await.unwrap();
    let data: serde_json::Value = serde_json::from_str(&unzipped(&zip, "data.json")).unwrap();
    assert_eq!(data["format"], "keepsake-personal-data/1");
    assert_eq!(data["account"]["email"], email);
    assert_eq!(data["identity"]["legal_name"], "测试用户");
    assert_eq!(data["identity"]["id_number"], id_number(311).as_str());
    assert_eq!(data["identity"]["status"], "verified");
    assert_eq!(data["consents"]["id_number"][0]["privacy_policy_version"], 1);
    assert_eq!(data["consents"]["policies"].as_array().unwrap().len(), 3);
    let tokens = data["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["collection_title"], "数据副本里的藏品");
    assert_eq!(tokens[0]["status"], "active");
    let audited: Vec<&str> = data["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["action"].as_str())
        .collect();
    for action in [
        "identity.submitted",
        "identity.consent_given",
        "identity.approved",
        "account.data_requested",
    ] {
        assert!(audited.contains(&action), "{action} in {audited:?}");
    }
    assert!(
        data["mails"].as_array().unwrap().iter().any(|mail| mail["to"] == email),
        "the mails sent to the person"
    );
    let html = unzipped(&zip, "index.html");
    assert!(html.contains("lang=\"zh-CN\"") && html.contains(&id_number(311)) && html.contains("测试用户"));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"/static"),
        "nothing loaded from elsewhere"
    );
    assert!(
        !html.contains("status_") && !html.contains("archive."),
        "no raw keys in the page"
    );
    assert_eq!(
        scalar(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'account.data_downloaded'"
        )
        .await,
        1
    );

    // Sealed at rest: the stored archive names no one.
    assert_eq!(
        files_containing(&server.data_dir, &id_number(311)),
        Vec::<String>::new()
    );

    // Nobody else gets it, and once its time is up it is gone, with the way to a new one.
    let stranger = server.verified_user("stranger@example.com", PASSWORD).await;
    assert_eq!(stranger.get(&download).await.status(), StatusCode::NOT_FOUND);
    server
        .db()
        .await
        .execute_unprepared(&format!(
            "UPDATE data_exports SET expires_at = requested_at WHERE id = {id}"
        ))
        .await
        .unwrap();
    let response = person.get(&download).await;
    assert_eq!(response.status(), StatusCode::GONE);
    let page = response.text().await.unwrap();
    assert!(page.contains("data-refusal") && page.contains("action=\"/account/data\""));
}

async fn a_deleted_person_can_be_found_nowhere_and_their_tokens_stay(db: Db) {
    use crate::support::Options;
    use crate::support::kyb::claim_and_decide;
    use keepsake::domain::ids::UserId;
    use keepsake::kyc::{Field, PiiVault, VaultError};

    let server = Server::start_with(Options::new(db).subprocess()).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 10,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "注销后仍在账本上", terms).await;
    let (email, name, number) = ("leaving@example.com", "注销测试人", id_number(321));
    let person = server.verified_user(email, PASSWORD).await;
    let response = person
        .post_form(
            "/identity",
            "/identity",
            &[("legal_name", name), ("id_number", &number), ("id_consent", "yes")],
        )
        .await;
    assert_eq!(location(&response), "/identity");
    let user = scalar(&server, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
    claim_and_decide(
        &reviewer,
        &format!("/review/identities/{user}"),
        ("decision", "approve"),
    )
    .await;
    let (status, body) = api_claim(&person, collection, "leaving-claim-key-01").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_i64().unwrap();
    let response = person
        .post_form("/account/data", "/account/data", &[("password", PASSWORD)])
        .await;
    assert_eq!(location(&response), "/account/data");
    server.mailbox().link_for(email, "/account/data").await;

    // What a backup taken now would hold: the sealed identity and the sealed copy of the data.
    let sealed: Vec<String> = {
        let db = server.db().await;
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT legal_name_enc, id_number_enc FROM identities WHERE user_id = {user}"),
            ))
            .await
            .unwrap()
            .unwrap();
        vec![row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()]
    };
    assert!(
        sealed.iter().all(|value| value.starts_with("p1:")),
        "sealed under the person's key"
    );
    let vault = PiiVault::load(&server.data_dir.join("keys")).unwrap();
    let wrapped: String = crate::support::kyb::query(
        &server,
        &format!("SELECT wrapped_key FROM person_keys WHERE user_id = {user}"),
    )
    .await;
    let key = vault.person_key(UserId(user), &wrapped).unwrap();
    assert_eq!(
        vault
            .open(Field::IdNumber, UserId(user), &sealed[1], Some(&key))
            .unwrap(),
        number,
        "readable while the person is here"
    );

    // Refusals first: unconfirmed, a wrong password, and accounts that answer for others.
    let response = person
        .post_form("/account/delete", "/account/delete", &[("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = person
        .post_form(
            "/account/delete",
            "/account/delete",
            &[("password", "not my password"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for staff_or_member in [&reviewer, &founder] {
        let response = staff_or_member
            .post_form(
                "/account/delete",
                "/account/delete",
                &[("password", PASSWORD), ("confirm", "yes")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert!(response.text().await.unwrap().contains("data-refusal"));
    }
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL").await,
        0,
        "nothing deleted yet"
    );

    let response = person
        .post_form(
            "/account/delete",
            "/account/delete",
            &[("password", PASSWORD), ("confirm", "yes")],
        )
        .await;
    assert_eq!(location(&response), "/account/deleted");
    assert_ne!(
        person.get("/account").await.status(),
        StatusCode::OK,
        "signed out for good"
    );
    let response = server.client().login(email, PASSWORD).await;
    assert!(
        response.headers().get("location").is_none_or(|to| to != "/"),
        "cannot log in"
    );

    // The key is gone, so no copy of what it sealed opens again, backups included.
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM person_keys WHERE user_id = {user}")
        )
        .await,
        0
    );
    for value in &sealed {
        assert!(matches!(
            vault.open(Field::LegalName, UserId(user), value, None),
            Err(VaultError::Shredded)
        ));
    }
    for table in ["identities", "sessions", "email_tokens", "email_changes"] {
        assert_eq!(
            scalar(&server, &format!("SELECT COUNT(*) FROM {table} WHERE user_id = {user}")).await,
            0,
            "{table}"
        );
    }
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM data_exports WHERE user_id = {user} AND blob_key IS NOT NULL")
        )
        .await,
        0,
        "the copy of the data is deleted"
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM outbox WHERE recipient = '{email}'")
        )
        .await,
        0,
        "no mail addressed to them is kept"
    );

    // The token stays, linked to no one.
    let (status, page) = server.client().get_text(&format!("/tokens/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-holder-left"));
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM tokens WHERE id = {token} AND holder_index = ''")
        )
        .await,
        1
    );

    // Their name and ID number are nowhere: not in the database, the blobs or the log.
    // (The address is in the mails delivered to it, which the file transport keeps as their
    // mailbox would, and may linger in the SQLite journal's free pages; no row holds it.)
    let everything = database_text(&server).await;
    for secret in [name, number.as_str(), email] {
        assert!(!everything.contains(secret), "{secret} left in the database");
    }
    for secret in [name, number.as_str()] {
        assert_eq!(
            files_containing(&server.data_dir, secret),
            Vec::<String>::new(),
            "{secret}"
        );
        assert!(!server.log().contains(secret), "{secret} in the log");
    }

    // The same person may come back, with the same address and the same ID number.
    let verify_links = || async {
        let mails = server.mailbox().messages_for(email).await;
        mails
            .iter()
            .filter_map(|mail| crate::support::link_in(&mail.text, "/verify-email/"))
            .collect::<Vec<_>>()
    };
    let old_links = verify_links().await;
    let back = server.client();
    assert_eq!(location(&back.signup(email, PASSWORD).await), "/signup/sent");
    let start = std::time::Instant::now();
    let link = loop {
        if let Some(link) = verify_links().await.into_iter().find(|link| !old_links.contains(link)) {
            break link;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "no new verification mail"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(location(&back.get_absolute(&link).await), "/verify-email/done");
    assert_eq!(back.login(email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let response = back
        .post_form(
            "/identity",
            "/identity",
            &[("legal_name", name), ("id_number", &number), ("id_consent", "yes")],
        )
        .await;
    assert_eq!(
        location(&response),
        "/identity",
        "one person, one account: the number is free again"
    );

    // Six months on, the records kept about the deleted account are purged.
    assert!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM audit_log WHERE actor_user_id = {user}")
        )
        .await
            > 0,
        "kept for now"
    );
    let past = match server.db().await.get_database_backend() {
        sea_orm::DbBackend::Sqlite => "datetime(deleted_at, '-184 days')",
        _ => "deleted_at - INTERVAL '184 days'",
    };
    let (server, ()) = server
        .restart_after(|db, _| async move {
            db.execute_unprepared(&format!("UPDATE users SET deleted_at = {past} WHERE id = {user}"))
                .await
                .unwrap();
        })
        .await;
    let purged = format!("SELECT COUNT(*) FROM users WHERE id = {user} AND purged_at IS NOT NULL");
    let start = std::time::Instant::now();
    while scalar(&server, &purged).await == 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "never purged");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for check in [
        format!("SELECT COUNT(*) FROM audit_log WHERE actor_user_id = {user} OR subject_id = '{user}'"),
        format!("SELECT COUNT(*) FROM id_number_consents WHERE user_id = {user}"),
        format!("SELECT COUNT(*) FROM data_exports WHERE user_id = {user}"),
    ] {
        assert_eq!(scalar(&server, &check).await, 0, "{check}");
    }
    assert_eq!(
        scalar(&server, &format!("SELECT COUNT(*) FROM tokens WHERE id = {token}")).await,
        1,
        "the token outlives every record of its holder"
    );
}

async fn a_verified_person_corrects_their_identity_through_a_new_check(db: Db) {
    use crate::support::kyb::version_in;

    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 10,
        per_person_limit: 3,
        claim_mode: "open",
    };
    let collection = published_collection(&founder, &reviewer, issuer, "更正前后都能领取", terms).await;
    let email = "correcting@example.com";
    let person = verified_person(&server, &reviewer, email, &id_number(331)).await;
    verified_person(&server, &reviewer, "holder-of-332@example.com", &id_number(332)).await;
    let user = scalar(&server, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
    let case = format!("/review/identities/{user}");
    let correct = |name: &'static str, number: String| {
        let person = &person;
        async move {
            person
                .post_form(
                    "/identity",
                    "/identity/correction",
                    &[("legal_name", name), ("id_number", &number), ("id_consent", "yes")],
                )
                .await
        }
    };
    let status_on_page = || async {
        let (_, page) = person.get_text("/identity").await;
        let status = page
            .split("data-identity-status=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        (status, page)
    };
    let (_, page) = status_on_page().await;
    assert!(
        page.contains("action=\"/identity/correction\""),
        "a verified person is offered the correction"
    );

    // Another account's ID number: one person, one account; nothing changes.
    let response = correct("测试用户", id_number(332)).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().await.unwrap().contains("id=\"id-error\""));
    assert_eq!(status_on_page().await.0, "verified");

    // A correction is a new check: claims wait; the reviewer sees what it would replace.
    let response = correct("更正后的姓名", id_number(333)).await;
    assert_eq!(location(&response), "/identity");
    let (status, page) = status_on_page().await;
    assert_eq!(status, "pending");
    assert!(page.contains("data-correcting"));
    let (status, body) = api_claim(&person, collection, "correcting-claim-01").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("identity_not_verified"))
    );
    reviewer.post_form("/review", &format!("{case}/claim"), &[]).await;
    let (_, html) = reviewer.get_text(&case).await;
    assert!(html.contains("data-correction") && html.contains("1101**********"));
    assert!(
        html.contains("更正后的姓名") && html.contains(&id_number(333)),
        "the reviewer checks the new one"
    );

    // Refused: the identity verified before stays, and the person is told why.
    let response = reviewer
        .post_form(
            &case,
            &format!("{case}/decision"),
            &[
                ("decision", "reject"),
                ("reason", "证件照片与号码不符"),
                ("version", &version_in(&html)),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, page) = status_on_page().await;
    assert_eq!(status, "verified");
    assert!(
        page.contains(&format!("1101**********{}", &id_number(331)[14..])),
        "the old number, masked"
    );
    let mails = server.mailbox().wait_for(email, 3).await;
    assert!(
        mails
            .iter()
            .any(|mail| mail.text.contains("证件照片与号码不符") && mail.subject.contains("更正")),
        "the refusal is mailed with its reason"
    );
    let (status, body) = api_claim(&person, collection, "correcting-claim-02").await;
    assert_eq!(status, StatusCode::CREATED, "verified again: {body}");

    // Accepted: the corrected identity replaces the old, whose number is free again.
    let response = correct("更正后的姓名", id_number(333)).await;
    assert_eq!(location(&response), "/identity");
    crate::support::kyb::claim_and_decide(&reviewer, &case, ("decision", "approve")).await;
    let (status, page) = status_on_page().await;
    assert_eq!(status, "verified");
    assert!(page.contains(&format!("1101**********{}", &id_number(333)[14..])));
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM audit_log WHERE action = 'identity.correction_submitted' AND actor_user_id = {user}")
        )
        .await,
        2,
        "each correction is audited"
    );
    verified_person(&server, &reviewer, "now-331@example.com", &id_number(331)).await;
}

async fn identities_sealed_before_person_keys_move_under_one(db: Db) {
    use keepsake::domain::ids::UserId;
    use keepsake::kyc::Field;

    let legacy = "SELECT COUNT(*) FROM identities WHERE id_number_enc LIKE 'v1:%' OR legal_name_enc LIKE 'v1:%'";
    let server = Server::start(db).await;
    let vault = server.vault();
    // Seeded while the server is down, so that no clean-up runs before they are counted; the
    // clean-up then runs as the server starts.
    let (server, people) = server
        .restart_after(|conn, _| async move {
            let people = crate::support::seed::people(&conn, &vault, "legacy", 3, true, chrono::Utc::now()).await;
            let row = conn
                .query_one_raw(sea_orm::Statement::from_string(
                    conn.get_database_backend(),
                    legacy.to_owned(),
                ))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 3, "sealed the old way");
            people
        })
        .await;
    let start = std::time::Instant::now();
    while scalar(&server, legacy).await > 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "never moved");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let vault = server.vault();
    for user in people {
        let (sealed, wrapped): (String, String) = {
            let db = server.db().await;
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    format!(
                        "SELECT i.id_number_enc, k.wrapped_key FROM identities i \
                         JOIN person_keys k ON k.user_id = i.user_id WHERE i.user_id = {user}"
                    ),
                ))
                .await
                .unwrap()
                .expect("a person key");
            (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap())
        };
        assert!(sealed.starts_with("p1:"));
        let key = vault.person_key(UserId(user), &wrapped).unwrap();
        assert_eq!(
            vault.open(Field::IdNumber, UserId(user), &sealed, Some(&key)).unwrap(),
            "11010519491231002X",
            "the same number, now under the person's key"
        );
    }
}
