//! The mail outbox's delivery guarantees against real databases (SQLite always, PostgreSQL
//! when `TEST_DATABASE_URL` is set): each message is claimed by one worker only, retries wait
//! for their back-off, and a message whose worker died mid-delivery is parked as `uncertain`
//! and never sent a second time. Also delivery through the real file and SMTP transports.

use crate::support::kyb::scalar;
use crate::support::{Db, Mailbox, Server, service_var};
use chrono::{Duration, Utc};
use keepsake::domain::outbox::{LEASE, OutboxStatus};
use keepsake::mail::Transport;
use keepsake::store::{self, outbox};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

async fn database(db: Db) -> (DatabaseConnection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = match db {
        Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("outbox.db").display()),
        Db::Postgres(url) => url,
    };
    let conn = store::connect(&url).await.unwrap();
    store::migrate(&conn).await.unwrap();
    (conn, dir)
}

fn mail(to: &str) -> outbox::NewMail {
    outbox::NewMail {
        recipient: to.to_owned(),
        subject: "Outbox test".to_owned(),
        text_body: "plain body".to_owned(),
        html_body: "<p>html body</p>".to_owned(),
    }
}

on_both_databases!(
    a_message_is_claimed_once,
    sent_messages_are_not_claimed_again,
    retries_wait_for_their_back_off,
    a_message_interrupted_by_a_crash_is_never_sent_twice,
);

async fn a_message_is_claimed_once(db: Db) {
    let (conn, _dir) = database(db).await;
    let now = Utc::now();
    let id = outbox::enqueue(&conn, mail("a@example.com"), now).await.unwrap();
    let (first, second) = tokio::join!(outbox::claim_due(&conn, now, 10), outbox::claim_due(&conn, now, 10));
    let claimed: Vec<i64> = first
        .unwrap()
        .iter()
        .chain(second.unwrap().iter())
        .map(|m| m.id)
        .collect();
    assert_eq!(
        claimed,
        vec![id],
        "two racing workers claim the message once between them"
    );
    assert!(outbox::claim_due(&conn, now, 10).await.unwrap().is_empty());
    assert_eq!(outbox::status_of(&conn, id).await.unwrap(), Some(OutboxStatus::Sending));
}

async fn sent_messages_are_not_claimed_again(db: Db) {
    let (conn, _dir) = database(db).await;
    let now = Utc::now();
    let id = outbox::enqueue(&conn, mail("a@example.com"), now).await.unwrap();
    let claimed = outbox::claim_due(&conn, now, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].mail.recipient, "a@example.com");
    outbox::mark_sent(&conn, id, now).await.unwrap();
    assert_eq!(outbox::status_of(&conn, id).await.unwrap(), Some(OutboxStatus::Sent));
    let much_later = now + Duration::days(30);
    assert!(outbox::claim_due(&conn, much_later, 10).await.unwrap().is_empty());
    assert_eq!(outbox::park_abandoned(&conn, much_later).await.unwrap(), 0);
}

async fn retries_wait_for_their_back_off(db: Db) {
    let (conn, _dir) = database(db).await;
    let now = Utc::now();
    let id = outbox::enqueue(&conn, mail("a@example.com"), now).await.unwrap();
    outbox::claim_due(&conn, now, 10).await.unwrap();
    let retry_at = now + Duration::seconds(30);
    outbox::mark_retry(&conn, id, retry_at, "connection refused".to_owned())
        .await
        .unwrap();
    assert_eq!(outbox::status_of(&conn, id).await.unwrap(), Some(OutboxStatus::Pending));
    assert!(
        outbox::claim_due(&conn, now + Duration::seconds(29), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = outbox::claim_due(&conn, retry_at, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2, "the attempt is counted");
    outbox::mark_failed(&conn, id, "mailbox does not exist".to_owned())
        .await
        .unwrap();
    assert_eq!(outbox::status_of(&conn, id).await.unwrap(), Some(OutboxStatus::Failed));
    assert!(
        outbox::claim_due(&conn, retry_at + Duration::days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_message_interrupted_by_a_crash_is_never_sent_twice(db: Db) {
    let (conn, _dir) = database(db).await;
    let now = Utc::now();
    let interrupted = outbox::enqueue(&conn, mail("a@example.com"), now).await.unwrap();
    // The worker claims it and dies before recording the outcome.
    assert_eq!(outbox::claim_due(&conn, now, 1).await.unwrap().len(), 1);
    let waiting = outbox::enqueue(&conn, mail("b@example.com"), now).await.unwrap();

    // A restarted worker within the lease leaves it alone but still delivers other mail.
    let soon = now + Duration::minutes(1);
    assert_eq!(outbox::park_abandoned(&conn, soon).await.unwrap(), 0);
    let claimed: Vec<i64> = outbox::claim_due(&conn, soon, 10)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(claimed, vec![waiting]);
    outbox::mark_sent(&conn, waiting, soon).await.unwrap();

    // After the lease it is parked for a person to check, and never claimed again.
    let after_lease = now + LEASE + Duration::seconds(1);
    assert_eq!(outbox::park_abandoned(&conn, after_lease).await.unwrap(), 1);
    assert_eq!(
        outbox::status_of(&conn, interrupted).await.unwrap(),
        Some(OutboxStatus::Uncertain)
    );
    assert!(
        outbox::claim_due(&conn, after_lease + Duration::days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        outbox::count_with_status(&conn, OutboxStatus::Uncertain).await.unwrap(),
        1
    );
    // A late report from the dead worker does not resurrect it.
    outbox::mark_retry(&conn, interrupted, after_lease, "late".to_owned())
        .await
        .unwrap();
    assert_eq!(
        outbox::status_of(&conn, interrupted).await.unwrap(),
        Some(OutboxStatus::Uncertain)
    );
}

fn queued(to: &str, subject: &str) -> outbox::QueuedMail {
    outbox::QueuedMail {
        id: 42,
        attempts: 1,
        created_at: Utc::now(),
        mail: outbox::NewMail {
            subject: subject.to_owned(),
            ..mail(to)
        },
    }
}

fn mail_config(smtp_url: Option<&str>) -> keepsake::config::MailConfig {
    let mut values = std::collections::BTreeMap::new();
    if let Some(url) = smtp_url {
        values.insert(keepsake::config::SMTP_URL.key, url.to_owned());
    }
    keepsake::config::Config::from_values(&values).unwrap().mail
}

#[tokio::test]
async fn the_file_transport_writes_an_eml_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = mail_config(None);
    let transport = Transport::from_config(&config, dir.path()).unwrap();
    let message = Transport::build(&config.from, &queued("file@example.com", "验证邮件 file test")).unwrap();
    transport.send(message).await.unwrap();
    let received = Mailbox::Files(dir.path().join("mail"))
        .wait_for("file@example.com", 1)
        .await;
    assert_eq!(received[0].text.trim(), "plain body");
    assert!(received[0].subject.contains("=?utf-8?") || received[0].subject.contains("file test"));
}

#[tokio::test]
async fn the_smtp_transport_delivers_to_a_real_server() {
    let (Some(smtp), Some(api)) = (service_var("TEST_SMTP_URL"), service_var("TEST_SMTP_API")) else {
        return;
    };
    let to = format!("smtp-{}@example.com", uuid::Uuid::new_v4().simple());
    let config = mail_config(Some(&smtp));
    let transport = Transport::from_config(&config, std::path::Path::new("/nonexistent")).unwrap();
    let message = Transport::build(&config.from, &queued(&to, "SMTP delivery test")).unwrap();
    transport.send(message).await.unwrap();
    let received = Mailbox::Maildev(api).wait_for(&to, 1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].subject, "SMTP delivery test");
    assert_eq!(received[0].text.trim(), "plain body");
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_a_temporary_failure() {
    let config = mail_config(Some("smtp://127.0.0.1:9"));
    let transport = Transport::from_config(&config, std::path::Path::new("/nonexistent")).unwrap();
    let message = Transport::build(&config.from, &queued("x@example.com", "never arrives")).unwrap();
    let error = transport.send(message).await.unwrap_err();
    assert!(!error.permanent, "a refused connection is retried: {error}");
}

/// A stop does not wait for a long queue (a revoked edition queues a mail per holder): the
/// worker stops between batches, leaving the rest queued and nothing claimed but unsent, and
/// the next start delivers the rest, each message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_leaves_a_long_queue_for_the_next_start() {
    const QUEUED: usize = 3_000;
    let server = Server::start(Db::Sqlite).await;
    let (server, ()) = server
        .restart_after(|db, _| async move {
            let mails = (0..QUEUED).map(|n| mail(&format!("reader{n}@queue.test"))).collect();
            outbox::enqueue_many(&db, mails, Utc::now()).await.unwrap();
        })
        .await;
    let sent = "SELECT COUNT(*) FROM outbox WHERE status = 'sent'";
    let started = std::time::Instant::now();
    while scalar(&server, sent).await == 0 {
        assert!(started.elapsed().as_secs() < 30, "delivery never started");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (server, (delivered, sending)) = server
        .restart_after(|db, _| async move {
            let count = |status: &'static str| {
                let db = db.clone();
                async move {
                    let sql = format!("SELECT COUNT(*) AS n FROM outbox WHERE status = '{status}'");
                    let row = db
                        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                        .await
                        .unwrap()
                        .unwrap();
                    row.try_get::<i64>("", "n").unwrap()
                }
            };
            (count("sent").await, count("sending").await)
        })
        .await;
    assert!(
        (1..QUEUED as i64).contains(&delivered),
        "the stop came before the queue was drained: {delivered} sent"
    );
    assert_eq!(sending, 0, "the worker stopped between batches");

    let mailbox = server.mailbox();
    let received = mailbox.wait_for("@queue.test", QUEUED).await;
    let readers: std::collections::HashSet<&str> = received.iter().map(|m| m.to.as_str()).collect();
    assert_eq!((received.len(), readers.len()), (QUEUED, QUEUED), "each message once");
    assert_eq!(scalar(&server, sent).await, QUEUED as i64);
}
