//! Issuer onboarding end to end: a verified user applies with documents, a reviewer approves,
//! the public page shows the filings, members are invited, API keys are created, used and
//! revoked, and the issuer is suspended and reinstated, with an audit row for each step.

use crate::support;

use crate::support::kyb::{
    PASSWORD, PDF, application, application_fields, apply, reviewer, scalar, verified_person, version_in,
};
use crate::support::{Db, Options, Server, location};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

on_both_databases!(issuer_onboarding_members_and_api_keys);

async fn issuer_onboarding_members_and_api_keys(db: Db) {
    let server = Server::start_with(Options::new(db).subprocess()).await;
    let admin = server.admin("boss@example.com", "root password 123").await;
    let reviewer = reviewer(&server, &admin, "reviewer@example.com").await;

    // Without a verified identity, nobody may apply.
    let unverified = server.verified_user("unverified@example.com", PASSWORD).await;
    let (_, page) = unverified.get_text("/issuers/apply").await;
    assert!(page.contains("需要先完成个人实名认证"));
    assert_eq!(
        apply(&server, &unverified, application("91350100M000100Y43", PDF))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    let founder = verified_person(&server, &reviewer, "founder@example.com", "11010519491231002X").await;
    let bad = apply(
        &server,
        &founder,
        application("91350100M000100Y44", b"GIF89a not a pdf"),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    assert!(html.contains("请核对统一社会信用代码"), "the form says what to fix");
    assert!(html.contains("此文件不是 PDF、JPEG 或 PNG"));
    assert!(
        html.contains("value=\"新华文创（北京）有限公司\""),
        "what was typed is kept"
    );
    for kept in ["icp_certificate", "blockchain_certificate"] {
        assert!(
            html.contains(&format!("data-held=\"{kept}\"")),
            "the accepted {kept} is kept"
        );
    }
    assert!(
        !html.contains("data-held=\"business_licence\""),
        "the refused file is not"
    );
    let held = |name: &str| {
        let marker = format!("name=\"held_{name}\" value=\"");
        let at = html.find(&marker).unwrap() + marker.len();
        html[at..at + html[at..].find('"').unwrap()].to_owned()
    };
    let (held_icp, held_chain) = (held("icp_certificate"), held("blockchain_certificate"));
    let form_key = support::form_key_in(&html, "/issuers/apply").unwrap();
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM issuers").await,
        0,
        "nothing stored"
    );

    // Multipart forms need the CSRF token too.
    let forged = founder
        .http
        .post(server.url("/issuers/apply"))
        .multipart(application("91350100M000100Y43", PDF))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // The corrected application sends only the licence again; the other two are re-attached.
    let token = founder.csrf("/issuers/apply").await;
    let corrected = application_fields("91350100M000100Y43")
        .text("form_key", form_key.clone())
        .text("held_icp_certificate", held_icp.clone())
        .text("held_blockchain_certificate", held_chain.clone())
        .part("business_licence", Part::bytes(PDF).file_name("licence.pdf"));
    let send = |form: Form| {
        founder
            .http
            .post(server.url(&format!("/issuers/apply?csrf={token}")))
            .multipart(form)
            .send()
    };
    let response = send(corrected).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let console = location(&response);
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM issuer_documents").await,
        3,
        "the held documents were filed"
    );
    let replayed = send(Form::new().text("form_key", form_key)).await.unwrap();
    assert_eq!(
        location(&replayed),
        console,
        "the same form sent again leads to the same application"
    );
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM issuers").await, 1);
    // A held document opens only for the visitor it was held for.
    let stranger = verified_person(&server, &reviewer, "stranger@example.com", "110105198001011019").await;
    let stolen = application_fields("91350100M000100Y43")
        .text("held_icp_certificate", held_icp)
        .text("held_blockchain_certificate", held_chain)
        .part("business_licence", Part::bytes(PDF).file_name("licence.pdf"));
    let stolen = apply(&server, &stranger, stolen).await;
    assert_eq!(
        stolen.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "another visitor's reference does not open"
    );
    let issuer = console.trim_start_matches("/console/").parse::<i64>().unwrap();
    let (status, page) = founder.get_text(&console).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("审核中"));

    let public = format!("/issuers/{issuer}");
    assert_eq!(
        server.client().get(&public).await.status(),
        StatusCode::NOT_FOUND,
        "not public before approval"
    );

    // Documents are for the issuer's members and reviewers only.
    let document = scalar(
        &server,
        &format!("SELECT MIN(id) FROM issuer_documents WHERE issuer_id = {issuer}"),
    )
    .await;
    let document_path = format!("/issuers/{issuer}/documents/{document}");
    let outsider = verified_person(&server, &reviewer, "outsider@example.com", "44030419900307123X").await;
    assert_eq!(outsider.get(&document_path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        outsider.get(&console).await.status(),
        StatusCode::NOT_FOUND,
        "not a member"
    );
    assert_eq!(
        server.client().get(&document_path).await.status(),
        StatusCode::SEE_OTHER
    );
    let served = reviewer.get(&document_path).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "application/pdf");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PDF);

    // The reviewer claims and approves.
    let case = format!("/review/issuers/{issuer}");
    let (_, queue) = reviewer.get_text("/review").await;
    assert!(queue.contains("新华文创（北京）有限公司"));
    assert_eq!(outsider.get(&case).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        reviewer
            .post_form("/review", &format!("{case}/claim"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (_, html) = reviewer.get_text(&case).await;
    let decision = format!("{case}/decision");
    let response = reviewer
        .post_form(
            &case,
            &decision,
            &[
                ("action", "reject"),
                ("reason", "联系电话无法接通"),
                ("version", &version_in(&html)),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mail = server.mailbox().wait_for("founder@example.com", 3).await;
    assert!(
        mail.iter().any(|m| m.text.contains("联系电话无法接通")),
        "the applicant hears why"
    );

    // The applicant corrects the application; documents on file are kept.
    let resubmit = format!("{console}/resubmit");
    let (status, form) = founder.get_text(&resubmit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("91350100M000100Y43"), "the form is prefilled");
    assert_eq!(outsider.get(&resubmit).await.status(), StatusCode::NOT_FOUND);
    let token = founder.csrf(&console).await;
    let corrected = reqwest::multipart::Form::new()
        .text("legal_name", "新华文创（北京）有限公司")
        .text("credit_code", "91350100M000100Y43")
        .text("icp_filing", "京ICP备12345678号-1")
        .text("blockchain_filing", "京网信备11010819842097170019号")
        .text("contact_name", "李雷")
        .text("contact_email", "li.lei@example.cn")
        .text("contact_phone", "010-6512 3456");
    let response = founder
        .http
        .post(server.url(&format!("{resubmit}?csrf={token}")))
        .multipart(corrected)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), console);
    let (_, page) = founder.get_text(&console).await;
    assert!(page.contains("审核中"));
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM issuer_documents WHERE issuer_id = {issuer}")
        )
        .await,
        3
    );
    assert_eq!(
        founder.get(&resubmit).await.status(),
        StatusCode::FORBIDDEN,
        "nothing to correct while in review"
    );

    assert_eq!(
        reviewer
            .post_form("/review", &format!("{case}/claim"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (_, html) = reviewer.get_text(&case).await;
    assert!(html.contains("01065123456"));
    let response = reviewer
        .post_form(
            &case,
            &decision,
            &[("action", "approve"), ("version", &version_in(&html))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, page) = server.client().get_text(&public).await;
    assert_eq!(status, StatusCode::OK);
    for fact in [
        "91350100M000100Y43",
        "京ICP备12345678号-1",
        "京网信备11010819842097170019号",
    ] {
        assert!(page.contains(fact), "public page shows {fact}");
    }
    let mail = server.mailbox().wait_for("founder@example.com", 4).await;
    assert!(mail.iter().any(|m| m.text.contains("已通过审核")));

    // API keys: created once, used, revoked.
    let keys = format!("{console}/api-keys");
    let form_key = founder.form_key(&console, &keys).await;
    let fields = [("label", "ERP"), ("form_key", form_key.as_str())];
    let response = founder.post_form(&console, &keys, &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let shown_at = location(&response);
    let (_, html) = founder.get_text(&shown_at).await;
    let at = html.find("id=\"new-api-key\">").unwrap() + "id=\"new-api-key\">".len();
    let key = html[at..at + html[at..].find('<').unwrap()].to_owned();
    assert!(key.starts_with("ks_"));
    let (_, reloaded) = founder.get_text(&shown_at).await;
    assert!(reloaded.contains(&key), "a reload shows the new key again, for a while");
    let again = founder.post_form(&console, &keys, &fields).await;
    assert_eq!(
        location(&again),
        shown_at,
        "sending the form again creates no second key"
    );
    assert_eq!(scalar(&server, "SELECT COUNT(*) FROM api_keys").await, 1);
    let (_, again) = founder.get_text(&console).await;
    assert!(!again.contains(&key), "the console itself never shows it");
    let stored = scalar(
        &server,
        &format!("SELECT COUNT(*) FROM api_keys WHERE key_hash = '{key}'"),
    )
    .await;
    assert_eq!(stored, 0, "only a hash is stored");

    let api = reqwest::Client::new();
    let call = |key: Option<String>| {
        let mut request = api.get(server.url("/api/v1/issuer"));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    let ok = call(Some(key.clone())).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body["id"], issuer);
    assert_eq!(body["status"], "approved");
    let missing = call(None).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "api_key_required");
    assert_eq!(
        call(Some("ks_wrong".into())).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, page) = founder.get_text(&console).await;
    assert!(!page.contains("从未使用"), "last use is shown");

    // Members: invited by email, accepted by a verified person, without admin powers.
    let member = verified_person(&server, &reviewer, "member@example.com", "310115200002290005").await;
    founder
        .post_form(
            &console,
            &format!("{console}/invitations"),
            &[("email", "member@example.com")],
        )
        .await;
    let link = server.mailbox().link_for("member@example.com", "/invitations/").await;
    let invitation = link.strip_prefix(&server.base).unwrap().to_owned();
    let (_, page) = outsider.get_text(&invitation).await;
    assert!(page.contains("该邀请发给了另一个邮箱地址"));
    assert_eq!(
        outsider.post_form(&invitation, &invitation, &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    let accepted = member.post_form(&invitation, &invitation, &[]).await;
    assert_eq!(location(&accepted), console);
    assert_eq!(member.get(&console).await.status(), StatusCode::OK);
    assert_eq!(
        member.post_form(&invitation, &invitation, &[]).await.status(),
        StatusCode::BAD_REQUEST,
        "used once"
    );
    assert_eq!(
        member
            .post_form(&console, &format!("{console}/api-keys"), &[("label", "x")])
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "only issuer admins manage keys"
    );

    // Suspension stops the issuer; reinstatement restores it.
    let (_, html) = reviewer.get_text(&case).await;
    let no_reason = reviewer
        .post_form(
            &case,
            &decision,
            &[("action", "suspend"), ("reason", ""), ("version", &version_in(&html))],
        )
        .await;
    assert_eq!(no_reason.status(), StatusCode::BAD_REQUEST);
    let response = reviewer
        .post_form(
            &case,
            &decision,
            &[
                ("action", "suspend"),
                ("reason", "营业执照过期"),
                ("version", &version_in(&html)),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(call(Some(key.clone())).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(server.client().get(&public).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        founder
            .post_form(&console, &format!("{console}/api-keys"), &[("label", "x")])
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let (_, html) = reviewer.get_text(&case).await;
    let response = reviewer
        .post_form(
            &case,
            &decision,
            &[("action", "reinstate"), ("version", &version_in(&html))],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(call(Some(key.clone())).await.unwrap().status(), StatusCode::OK);
    let stale = reviewer
        .post_form(
            &case,
            &decision,
            &[
                ("action", "suspend"),
                ("reason", "stale"),
                ("version", &version_in(&html)),
            ],
        )
        .await;
    assert_eq!(
        stale.status(),
        StatusCode::CONFLICT,
        "a decision on a stale version is refused"
    );

    let key_id = scalar(&server, &format!("SELECT id FROM api_keys WHERE issuer_id = {issuer}")).await;
    let revoke = format!("{console}/api-keys/{key_id}/revoke");
    let unconfirmed = founder.post_form(&console, &revoke, &[]).await;
    assert_eq!(
        unconfirmed.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "revoking is confirmed first"
    );
    assert_eq!(
        call(Some(key.clone())).await.unwrap().status(),
        StatusCode::OK,
        "still works"
    );
    founder.post_form(&console, &revoke, &[("confirm", "yes")]).await;
    assert_eq!(
        call(Some(key)).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "revoked keys stop working"
    );

    for action in [
        "issuer.submitted",
        "issuer.claimed",
        "issuer.rejected",
        "issuer.approved",
        "issuer.api_key_created",
        "issuer.member_invited",
        "issuer.member_joined",
        "issuer.suspended",
        "issuer.reinstated",
        "issuer.api_key_revoked",
    ] {
        let rows = scalar(
            &server,
            &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}' AND subject_id = '{issuer}'"),
        )
        .await;
        assert!(rows >= 1, "audit row for {action}");
    }
    assert!(
        !server.log().contains("11010519491231002X"),
        "identity numbers never reach the log"
    );
}
