//! Long lists read a page at a time and exports streamed: the issuer API's claims with a
//! cursor, the claims and audit CSV files, a collector's collection, the reviewers' audit log,
//! the explore page and the console's attestations, each continuing exactly where the page before stopped, and refusing a
//! cursor or a page size it did not hand out.

use migrations::MigratorTrait;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::collections::{Terms, claim, collectors, published_collection};
use crate::support::kyb::{approved_issuer_with_key, reviewer, scalar};
use crate::support::{Db, Server};

/// The API pages a collection's claims in serial order with a cursor; the CSV export has the
/// same claims; a bad page size or cursor is a clear 400 and no page.
async fn claims_come_a_page_at_a_time(db: Db) {
    let server = Server::start(db).await;
    let (issuer, key, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 7,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let id = published_collection(&founder, &reviewer, issuer, "翻页测试", terms).await;
    for (n, collector) in collectors(&server, &reviewer, 300, 7).await.iter().enumerate() {
        let csrf = collector.csrf(&format!("/collections/{id}")).await;
        let (status, _) = claim(collector, &csrf, id, &format!("paging-claim-key-{n:04}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "claim {n}");
    }

    let api = reqwest::Client::new();
    let page = |query: String| {
        let request = api
            .get(server.url(&format!("/api/v1/collections/{id}/claims{query}")))
            .bearer_auth(&key);
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (mut serials, mut pages, mut after) = (Vec::new(), 0, None::<String>);
    loop {
        let query = match &after {
            Some(cursor) => format!("?limit=3&after={cursor}"),
            None => "?limit=3".to_owned(),
        };
        let (status, body) = page(query).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let claims = body["claims"].as_array().unwrap();
        assert!(claims.len() <= 3, "{body}");
        serials.extend(claims.iter().map(|c| c["serial"].as_u64().unwrap()));
        pages += 1;
        match body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => {
                assert!(body["next"].is_null(), "{body}");
                break;
            }
        }
    }
    assert_eq!(serials, (1..=7).collect::<Vec<u64>>());
    assert_eq!(pages, 3, "3 + 3 + 1 claims");
    let (_, whole) = page(String::new()).await;
    assert_eq!(
        whole["claims"].as_array().unwrap().len(),
        7,
        "the default page holds them all"
    );
    assert!(whole["next"].is_null());

    for query in ["?limit=0", "?limit=1001", "?limit=ten", "?after=x", "?after=-1"] {
        let (status, body) = page(query.to_owned()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["error"]["code"], "invalid_page", "{query}");
    }

    let response = founder
        .get(&format!("/console/{issuer}/collections/{id}/claims.csv"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = response.text().await.unwrap();
    let exported: Vec<u64> = csv
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(exported, serials, "{csv}");

    // The per-minute claim counts the chart reads are what migration 18 counts from the
    // tokens of an existing installation: taken back and applied again, it finds all seven.
    let conn = server.db().await;
    migrations::Migrator::down(&conn, Some(1))
        .await
        .expect("migration 18 taken back");
    migrations::Migrator::up(&conn, None)
        .await
        .expect("migration 18 applied again");
    let counted = scalar(
        &server,
        &format!("SELECT CAST(SUM(claims) AS BIGINT) FROM claim_minutes WHERE collection_id = {id}"),
    )
    .await;
    assert_eq!(counted, 7);
}

on_both_databases!(claims_come_a_page_at_a_time);

/// A collector's collection shows the newest sixty and links to the rest, which continues
/// exactly after the last one shown.
async fn my_collection_pages_newest_first(db: Db) {
    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 61,
        per_person_limit: 61,
        claim_mode: "open",
    };
    let id = published_collection(&founder, &reviewer, issuer, "收藏翻页", terms).await;
    let collector = &collectors(&server, &reviewer, 320, 1).await[0];
    let csrf = collector.csrf(&format!("/collections/{id}")).await;
    for n in 0..61 {
        let (status, _) = claim(collector, &csrf, id, &format!("my-collection-key-{n:04}")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "claim {n}");
    }
    let tokens_on = |html: &str| -> Vec<i64> {
        html.match_indices("data-token=\"")
            .map(|(at, found)| {
                let rest = &html[at + found.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    };
    let (status, first) = collector.get_text("/me/collection").await;
    assert_eq!(status, StatusCode::OK);
    let newest = tokens_on(&first);
    assert_eq!(newest.len(), 60);
    assert!(newest.windows(2).all(|w| w[0] > w[1]), "newest first: {newest:?}");
    let older = first
        .split("rel=\"next\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .map(|href| href[..href.find('"').unwrap()].replace("&amp;", "&"))
        .expect("a link to older tokens");
    let (status, second) = collector.get_text(&older).await;
    assert_eq!(status, StatusCode::OK);
    let rest = tokens_on(&second);
    assert_eq!(rest.len(), 1);
    assert!(rest[0] < *newest.last().unwrap());
    assert!(!second.contains("rel=\"next\""), "the last page links nowhere further");
    let held = scalar(&server, "SELECT COUNT(*) FROM tokens").await;
    assert_eq!(held, 61);

    let (status, refused) = collector.get_text("/me/collection?before=not-a-token").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused.contains("href=\"/"), "the refusal offers a way on: {refused}");
}

on_both_databases!(my_collection_pages_newest_first);

/// The reviewers' audit log shows two hundred rows, then continues after the last of them; the
/// administrator's CSV has every row of the period, oldest first.
async fn the_audit_log_pages_and_exports_every_row(db: Db) {
    let server = Server::start(db).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let reviewer = reviewer(&server, &admin, "reviewer@example.com").await;
    let conn = server.db().await;
    // Rows in the shape the services write, many at one instant, as a batch of claims makes.
    let at = chrono::Utc::now() - chrono::Duration::minutes(1);
    let stored_at = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    for batch in 0..3 {
        let rows: Vec<String> = (0..100)
            .map(|n| format!("('{}', 'token_frozen', 'token', '{}')", stored_at, batch * 100 + n))
            .collect();
        let sql = format!(
            "INSERT INTO audit_log (at, action, subject_type, subject_id) VALUES {}",
            rows.join(", ")
        );
        sea_orm::ConnectionTrait::execute_unprepared(&conn, &sql).await.unwrap();
    }
    let total = scalar(&server, "SELECT COUNT(*) FROM audit_log").await;
    assert!(total > 300, "{total}");

    let ids_on = |html: &str| -> Vec<i64> {
        html.match_indices("data-audit=\"")
            .map(|(at, found)| {
                let rest = &html[at + found.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    };
    let (mut seen, mut next) = (Vec::new(), Some("/review/audit".to_owned()));
    while let Some(page) = next {
        let (status, html) = reviewer.get_text(&page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let ids = ids_on(&html);
        assert!(ids.len() <= 200);
        seen.extend(ids);
        next = html
            .split("rel=\"next\"")
            .next()
            .filter(|_| html.contains("rel=\"next\""))
            .and_then(|before| before.rsplit("href=\"").next())
            .map(|href| href[..href.find('"').unwrap()].replace("&amp;", "&"));
    }
    assert_eq!(seen.len() as i64, total, "every row once");
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no row twice");

    let day = chrono::Utc::now().format("%Y-%m-%d");
    let response = admin
        .get(&format!("/admin/audit.csv?from={}&to={}", at.format("%Y-%m-%d"), day))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap();
    let exported: Vec<(chrono::DateTime<chrono::Utc>, i64)> = csv
        .lines()
        .skip(1)
        .map(|line| {
            let mut cells = line.split(',');
            let id = cells.next().unwrap().parse().unwrap();
            let at = chrono::DateTime::parse_from_rfc3339(cells.next().unwrap())
                .unwrap()
                .to_utc();
            (at, id)
        })
        .collect();
    assert!(exported.len() >= 300, "{}", exported.len());
    let mut oldest_first = exported.clone();
    oldest_first.sort_unstable();
    assert_eq!(exported, oldest_first, "oldest first, ties in id order");
    let (status, _) = reviewer.get_text("/review/audit?before=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

on_both_databases!(the_audit_log_pages_and_exports_every_row);

/// The explore page lists what is open first, then the rest, each newest published first, a
/// page at a time: following its links shows every public collection once, in that order, and
/// a cursor it did not hand out is a clear 400.
async fn explore_pages_open_ones_first(db: Db) {
    use chrono::{Duration, Utc};
    use keepsake::store::entities::collections;
    use sea_orm::{ActiveModelTrait, ActiveValue::NotSet, EntityTrait, IntoActiveModel, Set};

    let server = Server::start(db).await;
    let (issuer, _, founder, reviewer) = approved_issuer_with_key(&server).await;
    let terms = Terms {
        edition_size: 5,
        per_person_limit: 1,
        claim_mode: "open",
    };
    let first = published_collection(&founder, &reviewer, issuer, "探索原件", terms).await;
    let db = server.db().await;
    let original = collections::Entity::find_by_id(first).one(&db).await.unwrap().unwrap();
    let published = original.published_at.unwrap();
    // Twenty-nine more in the same shape: every third one's claims ended, two pairs published
    // at the same moment (the id breaks the tie).
    let mut open = vec![(published, first)];
    let mut ended = Vec::new();
    for n in 1..30 {
        let mut copy = original.clone().into_active_model();
        let at = published - Duration::minutes(i64::from(n / 2) * 7);
        copy.id = NotSet;
        copy.title = Set(format!("探索副本 {n}"));
        copy.published_at = Set(Some(at));
        copy.ledger_queue_id = Set(None);
        if n % 3 == 0 {
            copy.claim_ends_at = Set(Utc::now() - Duration::hours(1));
        }
        let id = copy.insert(&db).await.unwrap().id;
        match n % 3 {
            0 => ended.push((at, id)),
            _ => open.push((at, id)),
        }
    }
    let newest_first = |list: &mut Vec<(chrono::DateTime<Utc>, i64)>| list.sort_by(|a, b| b.cmp(a));
    newest_first(&mut open);
    newest_first(&mut ended);
    let expected: Vec<i64> = open.iter().chain(&ended).map(|(_, id)| *id).collect();

    let visitor = server.client();
    let cards_on = |html: &str| -> Vec<i64> {
        html.match_indices("data-collection=\"")
            .map(|(at, found)| {
                let rest = &html[at + found.len()..];
                rest[..rest.find('"').unwrap()].parse().unwrap()
            })
            .collect()
    };
    let mut seen = Vec::new();
    let mut next = Some("/explore".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let (status, html) = visitor.get_text(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let cards = cards_on(&html);
        assert!(cards.len() <= 24, "a page holds at most 24");
        seen.extend(cards);
        pages += 1;
        next = html
            .split("rel=\"next\"")
            .next()
            .filter(|_| html.contains("rel=\"next\""))
            .and_then(|before| before.rsplit("href=\"").next())
            .map(|href| href[..href.find('"').unwrap()].replace("&amp;", "&"));
        if pages > 1 {
            assert!(
                html.contains("href=\"/explore\""),
                "a later page links back to the first"
            );
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, expected, "open ones first, each part newest first, nothing twice");

    let (_, searched) = visitor.get_text("/explore?q=%E5%89%AF%E6%9C%AC").await;
    assert_eq!(cards_on(&searched).len(), 24, "a search pages too");
    assert!(
        searched.contains("href=\"/explore?q=%E5%89%AF%E6%9C%AC&#38;after=more_"),
        "the next page keeps the search, and starts in the part that ended"
    );

    let (status, refused) = visitor.get_text("/explore?after=open_12").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused.contains("href=\"/"), "the refusal offers a way on: {refused}");
}

on_both_databases!(explore_pages_open_ones_first);

/// The console lists the issuer's attestations fifty at a time, newest first, and links to the
/// older ones, which continue exactly after the last one shown.
async fn console_attestations_page_newest_first(db: Db) {
    let server = Server::start(db).await;
    let (issuer, key, founder, _) = approved_issuer_with_key(&server).await;
    let http = reqwest::Client::new();
    let mut digests = Vec::new();
    for n in 0..51 {
        let digest = keepsake::crypto::sha3_hex(format!("合同 {n}").as_bytes());
        let response = http
            .post(server.url("/api/v1/attestations?wait=false"))
            .bearer_auth(&key)
            .json(&serde_json::json!({ "sha3_256": digest, "label": format!("合同 {n}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        digests.push(digest);
    }
    let shown = |html: &str| -> Vec<String> {
        html.match_indices("/verify?sha3_256=")
            .map(|(at, found)| html[at + found.len()..][..64].to_owned())
            .collect()
    };
    let console = format!("/console/{issuer}");
    let (status, first) = founder.get_text(&console).await;
    assert_eq!(status, StatusCode::OK);
    let newest: Vec<String> = digests.iter().rev().take(50).cloned().collect();
    assert_eq!(shown(&first), newest, "the newest fifty, newest first");
    let older = first
        .split("data-older-attestations")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .map(|href| href[..href.find('"').unwrap()].replace("&#38;", "&"))
        .expect("a link to older attestations");
    let (status, second) = founder.get_text(&older).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown(&second), vec![digests[0].clone()], "the rest");
    assert!(
        !second.contains("data-older-attestations"),
        "the last page links nowhere further"
    );
    assert!(
        second.contains(&format!("href=\"{console}#attestations\"")),
        "and back to the newest"
    );

    let (status, refused) = founder.get_text(&format!("{console}?attestations_before=x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused.contains("href=\"/"), "the refusal offers a way on: {refused}");
}

on_both_databases!(console_attestations_page_newest_first);
