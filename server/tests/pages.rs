//! Every page, as every role sees it, in both languages: `keepsake demo` fills a platform, then
//! each of its people (and a stranger) walks every page they can reach from the navigation.
//!
//! - No page shows a message key, a raw status or another stored value where words belong.
//! - Every address a form posts to answers a GET (a reload, a language switch) with a page
//!   or a redirect: never a bare 405.
//! - The demo refuses a database that holds anything else.

use crate::support;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::support::{Client, DemoAccount, Server};
use reqwest::StatusCode;

/// Pages each visitor starts from; the rest are found by following links.
const SEEDS: [&str; 14] = [
    "/",
    "/explore",
    "/c",
    "/verify",
    "/verify/offline",
    "/me/collection",
    "/account",
    "/identity",
    "/console",
    "/review",
    "/review/audit",
    "/admin/users",
    "/admin/moderation",
    "/signup",
];

/// The most pages one visitor's walk reads, so that a long list cannot make it endless.
const MOST_PAGES: usize = 120;

/// Stored values that must never reach a page as they are: statuses, modes, verdicts,
/// categories, roles, refusal codes.
const RAW_VALUES: [&str; 40] = [
    "draft",
    "submitted",
    "auto_rejected",
    "in_review",
    "changes_requested",
    "rejected",
    "approved",
    "published",
    "closed",
    "frozen",
    "unverified",
    "pending",
    "verified",
    "suspended",
    "revoked",
    "reinstated",
    "active",
    "claim_codes",
    "allowlist",
    "low_risk",
    "needs_review",
    "auto_reject",
    "financialisation",
    "pornographic",
    "gambling",
    "similar_image",
    "blocklisted_image",
    "issuer_member",
    "reviewer",
    "collector",
    "admin",
    "limit_reached",
    "not_on_allowlist",
    "identity_not_verified",
    "claims_frozen",
    "sold_out",
    "not_yet_open",
    "code_used",
    "moderation_policy",
    "hash_attestation",
];

/// Removes the elements whose content is not prose: scripts, styles, SVG drawings and
/// preformatted technical text (signed notes, commands).
fn strip_blocks(html: &str) -> String {
    let mut out = html.to_owned();
    for tag in ["script", "style", "svg", "pre"] {
        while let Some(start) = out.find(&format!("<{tag}")) {
            let close = format!("</{tag}>");
            let Some(end) = out[start..].find(&close) else {
                break;
            };
            out.replace_range(start..start + end + close.len(), " ");
        }
    }
    out
}

/// What a person reads on a page: text between tags, and the attributes browsers show or read
/// aloud. Elements marked `mono` (hashes, codes, keys) are left out.
fn readable(html: &str) -> Vec<String> {
    let html = strip_blocks(html);
    let mut pieces = Vec::new();
    let mut mono_depth = 0usize;
    for chunk in html.split('<').skip(1) {
        let Some((tag, text)) = chunk.split_once('>') else {
            continue;
        };
        let closing = tag.starts_with('/');
        if !closing
            && tag.contains("class=\"")
            && tag.split("class=\"").nth(1).is_some_and(|c| {
                c.split('"')
                    .next()
                    .unwrap_or_default()
                    .split_whitespace()
                    .any(|c| c == "mono")
            })
        {
            mono_depth += 1;
        } else if closing
            && mono_depth > 0
            && (tag.starts_with("/span") || tag.starts_with("/dd") || tag.starts_with("/td") || tag.starts_with("/p"))
        {
            mono_depth -= 1;
        }
        for attribute in ["title", "alt", "placeholder", "aria-label"] {
            let marker = format!("{attribute}=\"");
            if let Some(value) = tag.split(&marker).nth(1).and_then(|v| v.split('"').next()) {
                pieces.push(value.to_owned());
            }
        }
        if mono_depth == 0 {
            pieces.push(text.to_owned());
        }
    }
    pieces
        .into_iter()
        .map(|p| p.replace("&amp;", "&").replace("&quot;", "\"").replace("&#x27;", "'"))
        .filter(|p| !p.trim().is_empty())
        .collect()
}

/// Words of `text` that look like a message key (`audit.action_role_granted`) or a stored
/// snake_case or dotted value; addresses, paths and file names are not words here.
fn machine_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "，。、：；（）“”()[]·|,;:!?".contains(c))
        .map(|w| w.trim_matches(|c: char| c == '.' || c == '…' || c == '"' || c == '\''))
        .filter(|w| !w.is_empty() && !w.contains(['@', '/', '=', '#', '-']))
        .filter(|w| {
            let ascii_lower = w
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.' || c.is_ascii_digit());
            let keyish = w.contains('_')
                || (w.contains('.') && !w.ends_with(".csv") && !w.ends_with(".json") && !w.ends_with(".png"));
            ascii_lower && keyish && w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        })
        .map(str::to_owned)
        .collect()
}

/// The same-site pages a page links to, without the ones that are files, actions or other
/// languages.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&"))
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.split('#').next().unwrap_or_default().to_owned())
        .filter(|href| {
            ![
                "/static/",
                "/lang/",
                "/api/",
                "/logout",
                "/artwork/",
                "/certificate.",
                "/documents/",
                ".csv",
                "/verify/keepsake",
                "format=csv",
            ]
            .iter()
            .any(|skip| href.contains(skip))
        })
        .collect()
}

/// The addresses the page's forms post to.
fn post_actions(html: &str) -> Vec<String> {
    html.split("<form")
        .skip(1)
        .filter_map(|form| {
            let tag = form.split('>').next()?;
            if !tag.contains("method=\"post\"") {
                return None;
            }
            let action = tag.split("action=\"").nth(1)?.split('"').next()?;
            Some(
                action
                    .replace("&amp;", "&")
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// Walks every page `client` can reach from the seeds and `more`; returns (path, status, page).
async fn walk(client: &Client, more: &[String]) -> Vec<(String, StatusCode, String)> {
    let mut queue: VecDeque<String> = SEEDS
        .iter()
        .map(|s| s.to_string())
        .chain(more.iter().cloned())
        .collect();
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut pages = Vec::new();
    while let Some(path) = queue.pop_front() {
        if pages.len() >= MOST_PAGES {
            break;
        }
        let response = client.get(&path).await;
        let status = response.status();
        let is_html = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if !is_html {
            continue;
        }
        let html = response.text().await.unwrap();
        for link in links(&html) {
            // A page with other filters, list positions or a place to come back to is the same
            // page for this walk; a ledger entry on /verify is a page of its own.
            let key = match link.split_once('?') {
                Some(("/verify", query)) if query.starts_with("entry=") => link.clone(),
                Some((page, _)) => page.to_owned(),
                None => link.clone(),
            };
            if seen.insert(key) {
                queue.push_back(link);
            }
        }
        pages.push((path, status, html));
    }
    pages
}

/// The problems a page has in `locale`: machine words in either language, raw values and
/// English status words in Chinese pages, and lower-case raw values in badges.
fn problems(html: &str, locale: &str) -> Vec<String> {
    let mut found = Vec::new();
    for piece in readable(html) {
        for word in machine_words(&piece) {
            found.push(format!("machine word {word:?} in {piece:?}"));
        }
        if locale == "zh-CN" {
            let prose = piece.split_whitespace().filter(|w| !w.contains(['@', '/']));
            for word in prose.flat_map(|w| w.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')) {
                if RAW_VALUES.contains(&word) {
                    found.push(format!("raw value {word:?} in {piece:?}"));
                }
            }
        }
    }
    for badge in html.split("class=\"badge").skip(1) {
        let text = badge
            .split('>')
            .nth(1)
            .and_then(|t| t.split('<').next())
            .unwrap_or_default()
            .trim();
        if RAW_VALUES.contains(&text) {
            found.push(format!("raw value {text:?} in a badge"));
        }
    }
    found
}

async fn log_in(server: &Server, account: &DemoAccount) -> Client {
    let client = server.client();
    let response = client.login(&account.email, &account.password).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{} logs in", account.email);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_speaks_the_readers_language_and_every_form_address_answers_get() {
    let (server, accounts) = Server::start_demo().await;
    assert_eq!(accounts.len(), 6, "the demo prints its accounts: {accounts:?}");
    let mut visitors = vec![("a stranger".to_owned(), server.client())];
    for account in &accounts {
        visitors.push((account.role.clone(), log_in(&server, account).await));
    }
    // States the demo does not show by itself: a frozen and a revoked token, and an identity
    // check waiting for a reviewer.
    let reviewer = &visitors.iter().find(|(who, _)| who == "reviewer").unwrap().1;
    for (token, fields) in [
        (1, vec![("action", "freeze"), ("reason", "投诉核查中")]),
        (4, vec![("action", "revoke"), ("reason", "侵权"), ("confirm", "yes")]),
    ] {
        let page = format!("/tokens/{token}");
        let decided = reviewer
            .post_form(&page, &format!("/review/tokens/{token}/decision"), &fields)
            .await;
        assert_eq!(decided.status(), StatusCode::SEE_OTHER, "token {token} decided");
    }
    let applicant = server
        .verified_user("applicant@example.com", "correct horse battery")
        .await;
    let submitted = applicant
        .post_form(
            "/identity",
            "/identity",
            &[
                ("legal_name", "待审核"),
                ("id_number", "11010519491231002X"),
                ("id_consent", "yes"),
            ],
        )
        .await;
    assert_eq!(
        submitted.status(),
        StatusCode::CONFLICT,
        "that number is the brand's already"
    );
    let submitted = applicant
        .post_form(
            "/identity",
            "/identity",
            &[
                ("legal_name", "待审核"),
                ("id_number", "110105198001011035"),
                ("id_consent", "yes"),
            ],
        )
        .await;
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    visitors.push(("someone waiting for a check".to_owned(), applicant));

    // Pages nothing links to for everyone: tokens, ledger entries, a claim code's page, the
    // pages after account forms, and a page that does not exist.
    let codes = std::fs::read_to_string(server.data_dir.join("demo-claim-codes.csv")).unwrap();
    let code_link = codes.lines().nth(2).and_then(|l| l.split_once(',')).unwrap().1;
    let mut more: Vec<String> = (1..=4).map(|t| format!("/tokens/{t}")).collect();
    more.extend(
        [
            "/verify?entry=1",
            "/signup/sent",
            "/verify-email/sent",
            "/verify-email/done?next=%2Fexplore",
            "/password/forgot/sent",
            "/no-such-page",
        ]
        .map(str::to_owned),
    );
    more.push(code_link.trim_start_matches(&server.base).to_owned());

    let mut failures = BTreeMap::new();
    let mut actions = BTreeSet::new();
    for (who, client) in &visitors {
        for locale in ["zh-CN", "en"] {
            let switched = client.get(&format!("/lang/{locale}?next=%2F")).await;
            assert_eq!(switched.status(), StatusCode::SEE_OTHER);
            let pages = walk(client, &more).await;
            eprintln!("{who} in {locale}: {} pages", pages.len());
            assert!(pages.len() >= 8, "{who} reaches the pages ({})", pages.len());
            for (path, status, html) in &pages {
                assert!(
                    !status.is_server_error(),
                    "{who} got {status} from {path}:\n{}",
                    server.log()
                );
                assert!(html.contains(&format!("<html lang=\"{locale}\"")), "{path} in {locale}");
                let found = problems(html, locale);
                if !found.is_empty() {
                    failures.insert(format!("{who} {locale} {path}"), found);
                }
                for action in post_actions(html) {
                    actions.insert((who.clone(), action));
                }
            }
        }
    }
    assert!(failures.is_empty(), "pages that show machine values:\n{failures:#?}");
    assert!(
        !server.log().contains("missing message"),
        "every message a page asked for exists:\n{}",
        server.log()
    );

    // Every address a form posts to answers a browser's GET: with a page or a redirect.
    let clients: BTreeMap<&str, &Client> = visitors.iter().map(|(who, c)| (who.as_str(), c)).collect();
    assert!(actions.len() >= 20, "forms found: {actions:?}");
    for (who, action) in &actions {
        let response = clients[who.as_str()].get(action).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "GET {action} as {who}");
        assert!(
            status.is_redirection() || body.contains("<html"),
            "GET {action} as {who} answers {status} with a page: {body:?}"
        );
    }

    // A method no route takes gets a page that says so, in the reader's language.
    let stranger = &visitors[0].1;
    let token = stranger.csrf("/login").await;
    let put = stranger
        .http
        .put(server.url("/explore"))
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        put.text()
            .await
            .unwrap()
            .contains("This address cannot be opened directly")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_a_populated_platform_marked_as_such_and_refuses_real_data() {
    let (server, accounts) = Server::start_demo().await;
    let stranger = server.client();
    let (status, explore) = stranger.get_text("/explore").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        explore.matches("data-phase=\"open\"").count(),
        3,
        "a published collection in each claim mode"
    );
    for mode in ["公开领取", "凭兑换码", "受邀名单"] {
        assert!(explore.contains(mode), "{mode}");
    }
    assert!(explore.contains("data-demo"), "every page says it is a demonstration");
    let (_, home) = stranger.get_text("/").await;
    assert!(
        home.contains("data-demo") && home.contains("collection-card"),
        "the home page features them"
    );
    let codes = std::fs::read_to_string(server.data_dir.join("demo-claim-codes.csv")).unwrap();
    assert_eq!(codes.lines().count(), 13, "a header and twelve codes");
    let collector = accounts.iter().find(|a| a.email.starts_with("collector1")).unwrap();
    let collector = log_in(&server, collector).await;
    let (_, mine) = collector.get_text("/me/collection").await;
    assert_eq!(
        mine.matches("data-token=").count(),
        2,
        "the demo collector holds two tokens"
    );
    let reviewer = accounts.iter().find(|a| a.role == "reviewer").unwrap();
    let (_, queue) = log_in(&server, reviewer).await.get_text("/review").await;
    assert!(queue.contains("演示文创"), "the reviewer sees the issuer");

    // Started again on its own data, it serves the same data and the same accounts.
    let (server, again) = server.restart_as_demo().await;
    assert_eq!(
        again.iter().map(|a| &a.password).collect::<Vec<_>>(),
        accounts.iter().map(|a| &a.password).collect::<Vec<_>>()
    );
    assert_eq!(
        support::kyb::scalar(&server, "SELECT COUNT(*) FROM collections").await,
        3,
        "nothing twice"
    );

    // On a database that holds anything else, the demo refuses and adds nothing.
    let real = Server::start(support::Db::Sqlite).await;
    real.admin("boss@example.com", "root password 123").await;
    let refused = real.run_cli(&["demo"], "").await;
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("not demonstration data"), "{message}");
    assert_eq!(
        support::kyb::scalar(&real, "SELECT COUNT(*) FROM users").await,
        1,
        "nothing added"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_are_found_without_a_link_and_shared_with_a_preview() {
    let (server, _) = Server::start_demo().await;
    let visitor = server.client();
    let cards = |html: &str| html.matches("class=\"collection-card\"").count();

    let (_, home) = visitor.get_text("/").await;
    assert_eq!(cards(&home), 3, "the home page features what is open");
    assert!(home.contains("href=\"/c\""), "typing a code is in the navigation");
    let (_, all) = visitor.get_text("/explore").await;
    assert_eq!(cards(&all), 3);
    let (_, found) = visitor.get_text("/explore?q=%E9%95%BF%E5%9F%8E").await;
    assert_eq!(cards(&found), 1, "search by title: 长城");
    assert!(found.contains("长城日出"));
    for odd in ["%25", "_", "%5C", "x%27%3B--"] {
        let (status, page) = visitor.get_text(&format!("/explore?q={odd}")).await;
        assert_eq!(
            (status, cards(&page)),
            (StatusCode::OK, 0),
            "{odd} is searched for as typed"
        );
    }
    let (_, by_issuer) = visitor.get_text("/explore?issuer=1").await;
    assert_eq!(cards(&by_issuer), 3);
    assert!(by_issuer.contains("演示文创（北京）有限公司"), "the filter is named");
    assert!(!all.contains("class=\"pager\""), "one page holds them all");
    let (_, issuer) = visitor.get_text("/issuers/1").await;
    assert_eq!(cards(&issuer), 3, "the issuer's page lists its collections");

    // Links shared in chat apps carry a preview, a copy control and a QR code of the page.
    for (path, image) in [
        ("/collections/1", "/collections/1/artwork/1024"),
        ("/tokens/1", "/tokens/1/certificate.png"),
        ("/issuers/1", "/artwork/1024"),
    ] {
        let (_, page) = visitor.get_text(path).await;
        assert!(page.contains("<meta property=\"og:title\""), "{path}");
        assert!(
            page.contains(&format!("<meta property=\"og:url\" content=\"{}{path}\"", server.base)),
            "{path}"
        );
        let og_image = page
            .split("property=\"og:image\" content=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            og_image.starts_with(&server.base) && og_image.ends_with(image),
            "{path}: {og_image}"
        );
        let preview = visitor.get_absolute(og_image).await;
        assert_eq!(preview.status(), StatusCode::OK, "{path}: the preview image loads");
        assert!(
            page.contains("data-copy=") && page.contains("share-qr"),
            "{path}: share controls"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_destination_is_kept_through_sign_up_confirmation_and_log_in() {
    let server = Server::start(support::Db::Sqlite).await;
    let visitor = server.client();
    let claim = "/c/7KQ2M9XD4TPA0HCF";
    let (_, form) = visitor
        .get_text(&format!("/signup?next={}", "%2Fc%2F7KQ2M9XD4TPA0HCF"))
        .await;
    assert!(form.contains(&format!("name=\"next\" value=\"{claim}\"")));
    let response = visitor
        .post_form(
            "/signup",
            "/signup",
            &[
                ("email", "newcomer@example.com"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
                ("accept_policies", "yes"),
                ("next", claim),
            ],
        )
        .await;
    assert_eq!(support::location(&response), "/signup/sent");
    // The link is followed on another device: the destination travels with the link.
    let link = server
        .mailbox()
        .link_for("newcomer@example.com", "/verify-email/")
        .await;
    let elsewhere = server.client();
    let confirmed = elsewhere.get_absolute(&link).await;
    assert_eq!(
        support::location(&confirmed),
        "/verify-email/done?next=%2Fc%2F7KQ2M9XD4TPA0HCF"
    );
    let (_, done) = elsewhere.get_text(&support::location(&confirmed)).await;
    assert!(
        done.contains("href=\"/login?next=%2Fc%2F7KQ2M9XD4TPA0HCF\""),
        "log in and carry on"
    );
    let login = elsewhere
        .post_form(
            "/login?next=%2Fc%2F7KQ2M9XD4TPA0HCF",
            "/login",
            &[
                ("email", "newcomer@example.com"),
                ("password", "correct horse battery"),
                ("next", claim),
            ],
        )
        .await;
    assert_eq!(support::location(&login), claim, "back at the claim");
    // A destination elsewhere is not followed.
    let (_, outside) = server
        .client()
        .get_text("/signup?next=https%3A%2F%2Fevil.example")
        .await;
    assert!(outside.contains("name=\"next\" value=\"/\""));
}
