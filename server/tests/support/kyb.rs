//! Helpers for tests that need verified people and issuer applications.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ConnectionTrait, Statement, TryGetable};

use super::{Client, Server, location};

pub const PASSWORD: &str = "correct horse battery";
pub const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// The first column of the first row of `sql`.
pub async fn query<T: TryGetable>(server: &Server, sql: &str) -> T {
    let db = server.db().await;
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no row for {sql}"))
        .try_get_by_index::<T>(0)
        .unwrap()
}

pub async fn scalar(server: &Server, sql: &str) -> i64 {
    query(server, sql).await
}

pub fn version_in(html: &str) -> String {
    let at = html.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// The reviewer claims the case at `case` and decides it with `decision` (a field name and
/// value, e.g. `("action", "approve")`) at the version the case page shows.
pub async fn claim_and_decide(reviewer: &Client, case: &str, decision: (&str, &str)) {
    reviewer.post_form("/review", &format!("{case}/claim"), &[]).await;
    let (_, html) = reviewer.get_text(case).await;
    let response = reviewer
        .post_form(
            case,
            &format!("{case}/decision"),
            &[decision, ("version", &version_in(&html))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "decision on {case}");
}

/// A signed-in user whose identity a reviewer has approved.
pub async fn verified_person(server: &Server, reviewer: &Client, email: &str, id_number: &str) -> Client {
    let client = server.verified_user(email, PASSWORD).await;
    let response = client
        .post_form(
            "/identity",
            "/identity",
            &[
                ("legal_name", "测试用户"),
                ("id_number", id_number),
                ("id_consent", "yes"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/identity", "{email}: {}", response.status());
    let (_, page) = client.get_text("/identity").await;
    if page.contains("data-identity-waiting") || page.contains("data-identity-status=\"verified\"") {
        // An identity provider decides, within seconds.
        let start = std::time::Instant::now();
        while !client.get_text("/identity/status").await.1.contains("\"verified\"") {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(20),
                "{email} was never verified"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        return client;
    }
    let user = scalar(server, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
    claim_and_decide(reviewer, &format!("/review/identities/{user}"), ("decision", "approve")).await;
    client
}

/// The text fields of an application by 新华文创 with `credit_code`.
pub fn application_fields(credit_code: &str) -> Form {
    Form::new()
        .text("legal_name", "新华文创（北京）有限公司")
        .text("credit_code", credit_code.to_owned())
        .text("icp_filing", "京ICP备12345678号-1")
        .text("blockchain_filing", "京网信备11010819842097170019号")
        .text("contact_name", "李雷")
        .text("contact_email", "li.lei@example.cn")
        .text("contact_phone", "+86 138 0013 8000")
}

/// A whole application: the fields, `licence` as the business licence, and the two filings.
pub fn application(credit_code: &str, licence: &'static [u8]) -> Form {
    application_fields(credit_code)
        .part("business_licence", Part::bytes(licence).file_name("licence.pdf"))
        .part("icp_certificate", Part::bytes(PNG).file_name("icp.png"))
        .part("blockchain_certificate", Part::bytes(PDF).file_name("chain.pdf"))
}

/// Sends an application with the CSRF token and form key of the application page (which an
/// unverified person's page does not have).
pub async fn apply(server: &Server, client: &Client, form: Form) -> reqwest::Response {
    let (_, page) = client.get_text("/issuers/apply").await;
    let token = super::csrf_in(&page).expect("a CSRF token");
    let form = match super::form_key_in(&page, "/issuers/apply") {
        Some(key) => form.text("form_key", key),
        None => form,
    };
    client
        .http
        .post(server.url(&format!("/issuers/apply?csrf={token}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A signed-in user whom `admin` has made a reviewer, with two-step verification set up.
pub async fn reviewer(server: &Server, admin: &Client, email: &str) -> Client {
    let reviewer = server.verified_user(email, PASSWORD).await;
    grant_role(server, admin, email, "reviewer").await;
    reviewer.set_up_second_factor(email).await;
    reviewer
}

/// `admin` grants `role` to the account at `email` on the users page; answers its id.
pub async fn grant_role(server: &Server, admin: &Client, email: &str, role: &str) -> i64 {
    let id = scalar(server, &format!("SELECT id FROM users WHERE email = '{email}'")).await;
    let response = admin
        .post_form(
            "/admin/users",
            &format!("/admin/users/{id}/roles"),
            &[("role", role), ("change", "grant")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{role} granted to {email}");
    id
}

/// An approved issuer with a fresh API key: (issuer id, API key, its admin, the reviewer).
pub async fn approved_issuer_with_key(server: &Server) -> (i64, String, Client, Client) {
    let admin = server.admin("boss@example.com", "root password 123").await;
    let reviewer = reviewer(server, &admin, "reviewer@example.com").await;
    let founder = verified_person(server, &reviewer, "founder@example.com", "11010519491231002X").await;
    let response = apply(server, &founder, application("91350100M000100Y43", PDF)).await;
    let console = location(&response);
    let issuer: i64 = console.trim_start_matches("/console/").parse().unwrap();
    claim_and_decide(&reviewer, &format!("/review/issuers/{issuer}"), ("action", "approve")).await;
    let response = founder
        .post_form(&console, &format!("{console}/api-keys"), &[("label", "test")])
        .await;
    let (_, html) = founder.get_text(&location(&response)).await;
    let at = html.find("id=\"new-api-key\">").unwrap() + "id=\"new-api-key\">".len();
    let key = html[at..at + html[at..].find('<').unwrap()].to_owned();
    (issuer, key, founder, reviewer)
}
