//! Operations, end to end against the real binary: probes, request ids, error pages in both
//! languages and as JSON, configuration errors, the CLI and graceful shutdown.

use std::time::{Duration, Instant};

use crate::support::{Db, Options, Server, command, service_var};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_answer_and_every_response_has_a_request_id() {
    let server = Server::start(Db::Sqlite).await;
    let client = server.client();
    let health = client.get("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    let id = health.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID request id");
    assert_eq!(client.get("/readyz").await.status(), StatusCode::OK);

    let page = client.get("/").await;
    assert_ne!(page.headers()["x-request-id"].to_str().unwrap(), id);
    for header in ["content-security-policy", "x-frame-options", "x-content-type-options"] {
        assert!(page.headers().contains_key(header), "{header}");
    }
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("京ICP备12345678号-1"), "footer shows the ICP filing");
    assert!(
        html.contains("京网信备11010819842097170019号"),
        "footer shows the blockchain filing"
    );
    assert_eq!(client.get("/static/keepsake.css").await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let Db::Postgres(url) = &db else { unreachable!() };
    let name = url.rsplit('/').next().unwrap().to_owned();
    let server = Server::start(db.clone()).await;
    let client = server.client();
    assert_eq!(client.get("/readyz").await.status(), StatusCode::OK);

    let admin = keepsake::store::connect(&service_var("TEST_DATABASE_URL").unwrap())
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    assert_eq!(client.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(client.get("/healthz").await.status(), StatusCode::OK, "still alive");

    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    assert_eq!(
        client.get("/readyz").await.status(),
        StatusCode::OK,
        "recovers with the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_pages_get_a_localised_404_or_json() {
    let server = Server::start(Db::Sqlite).await;
    let client = server.client();
    let (status, zh) = client.get_text("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(zh.contains("页面不存在"));
    assert!(zh.contains("京ICP备12345678号-1"), "error pages keep the footer");

    let en = client
        .http
        .get(server.url("/no/such/page"))
        .header("accept-language", "en-US,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), StatusCode::NOT_FOUND);
    assert!(en.text().await.unwrap().contains("Page not found"));

    let json = client.http.get(server.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(json.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_setting_stops_start_up_and_is_named() {
    let temp = tempfile::tempdir().unwrap();
    let cases = [
        ("KEEPSAKE_BIND", "not-an-address", "`bind` (KEEPSAKE_BIND)"),
        ("DATABASE_URL", "mysql://localhost/x", "`database_url` (DATABASE_URL)"),
        (
            "KEEPSAKE_ICP_FILING",
            "ICP 123",
            "`operator.icp_filing` (KEEPSAKE_ICP_FILING)",
        ),
        ("KEEPSAKE_SMTP_URL", "ftp://mail", "`mail.smtp_url` (KEEPSAKE_SMTP_URL)"),
    ];
    for (variable, value, named) in cases {
        let db_url = format!("sqlite://{}?mode=rwc", temp.path().join("k.db").display());
        let out = command(temp.path(), &db_url, &[(variable.to_owned(), value.to_owned())])
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{variable}: {stderr}");
        assert!(stderr.contains(named), "{variable}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_explains_itself_and_migrates() {
    let temp = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}?mode=rwc", temp.path().join("k.db").display());
    let help = command(temp.path(), &db_url, &[]).arg("--help").output().await.unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for word in ["serve", "migrate", "create-admin", "--config"] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
    let migrate = command(temp.path(), &db_url, &[])
        .arg("migrate")
        .output()
        .await
        .unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    assert!(temp.path().join("k.db").is_file(), "the SQLite database was created");

    let weak = command(temp.path(), &db_url, &[])
        .args(["create-admin", "--email", "boss@example.com"])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!weak.status.success(), "an empty password is refused");
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_admin_refuses_an_existing_email() {
    let server = Server::start(Db::Sqlite).await;
    server.admin("boss@example.com", "admin password 123").await;
    let again = server
        .run_cli(
            &["create-admin", "--email", "boss@example.com"],
            "another password 456\n",
        )
        .await;
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

/// SIGTERM lets a request that is already being received finish, then the process exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_requests() {
    let server = Server::start_with(
        Options::new(Db::Sqlite)
            .env("KEEPSAKE_LOG", "info,tower_http=debug")
            .subprocess(),
    )
    .await;
    let address = server.base.strip_prefix("http://").unwrap().to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let body = "email=a%40example.com&password=x&password_confirm=x";
    let head = format!(
        "POST /signup HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();

    // Wait until the server has started handling the request (its trace says so).
    let start = Instant::now();
    while !server.log().contains("started processing request") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "request never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let pid_server = tokio::spawn(server.terminate_later());
    stream.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(
        response.starts_with("HTTP/1.1 403"),
        "the in-flight request was answered: {response}"
    );
    let status = pid_server.await.unwrap();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
}
