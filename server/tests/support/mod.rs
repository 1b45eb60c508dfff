//! Shared harness for the end-to-end tests: starts a server on an ephemeral port with its own
//! data directory (and, when asked, its own PostgreSQL database), gives a cookie-keeping HTTP
//! client, and reads the mail the server sent.
//!
//! A server runs inside the test process by default, in the test's runtime, with exactly the
//! settings the binary would get; `Options::subprocess()` starts the real `keepsake` binary
//! instead, for tests that need a process: to kill or signal it, to refuse its start, to read
//! its log (an in-process server has none) or its CPU time.
//!
//! Service-backed variants run when their variables are set (`TEST_DATABASE_URL`,
//! `TEST_SMTP_URL` + `TEST_SMTP_API`); with `KEEPSAKE_REQUIRE_SERVICES=1` (as in CI) a missing
//! variable fails the test instead of skipping it.

#![allow(dead_code)]

pub mod authenticator;
pub mod collections;
pub mod fake_provider;
pub mod fake_sms;
pub mod kyb;
pub mod seed;
pub mod witness;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long to wait for the server to start or for a mail to arrive.
const DEADLINE: Duration = Duration::from_secs(30);

/// Whether missing service variables are an error (CI) or a reason to skip (laptops).
pub fn services_required() -> bool {
    std::env::var("KEEPSAKE_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Reads a service variable; `None` means "skip this variant".
pub fn service_var(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if services_required() => panic!("{name} must be set when KEEPSAKE_REQUIRE_SERVICES=1"),
        _ => {
            eprintln!("skipped: set {name} to run this test against the real service");
            None
        }
    }
}

/// Which database a test server uses.
#[derive(Debug, Clone)]
pub enum Db {
    /// A SQLite file in the server's data directory (the embedded default).
    Sqlite,
    /// A fresh PostgreSQL database created for this test.
    Postgres(String),
}

impl Db {
    /// A new, empty PostgreSQL database on the `TEST_DATABASE_URL` server, or `None` to skip.
    pub async fn postgres() -> Option<Db> {
        let admin_url = service_var("TEST_DATABASE_URL")?;
        let name = format!("ks_test_{}", uuid::Uuid::new_v4().simple());
        let admin = keepsake::store::connect(&admin_url)
            .await
            .expect("connect to TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        let mut url = url::Url::parse(&admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        Some(Db::Postgres(url.to_string()))
    }
}

/// Declares an end-to-end test that runs once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Db::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = $crate::support::Db::postgres().await {
                        super::$name(db).await;
                    }
                }
            }
        )*
    };
}

/// A server process's resident memory, in KiB.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub resident_kib: u64,
    pub peak_kib: u64,
}

/// Options for starting a server.
#[derive(Debug, Clone)]
pub struct Options {
    pub db: Db,
    /// Extra environment variables (setting name → value).
    pub env: Vec<(String, String)>,
    /// Whether the server is the real binary in its own process rather than in the test's.
    pub subprocess: bool,
}

impl Options {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            env: Vec::new(),
            subprocess: false,
        }
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs the real `keepsake` binary, for a test that kills, signals or refuses the server,
    /// reads its log or measures its CPU time.
    pub fn subprocess(mut self) -> Self {
        self.subprocess = true;
        self
    }
}

/// An account `keepsake demo` printed.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: String,
    pub email: String,
    pub password: String,
    /// The two-step verification key of a staff account.
    pub second_factor: Option<String>,
}

/// A running server: in the test process, or a `keepsake serve` (or `demo`) process.
pub struct Server {
    running: Running,
    pub base: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    env: Vec<(String, String)>,
    _temp: tempfile::TempDir,
}

enum Running {
    Process(Box<Process>),
    InProcess(InProcess),
}

/// A server in its own process.
struct Process {
    child: Child,
    /// Kept open so the server never writes to a closed pipe.
    stdout: BufReader<ChildStdout>,
}

/// A server served by tasks of the test's runtime; dropping it tells the server to stop, so
/// that none outlives its test.
struct InProcess {
    shutdown: CancellationToken,
    stopped: Option<JoinHandle<anyhow::Result<()>>>,
}

impl InProcess {
    /// Stops the server and waits until it has answered what was in flight, drained its
    /// workers and closed its database.
    async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(stopped) = self.stopped.take() {
            stopped
                .await
                .expect("the server task")
                .expect("the server stops cleanly");
        }
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The variable the binary reads its log filter from: the process's, not a setting.
const LOG_FILTER: &str = "KEEPSAKE_LOG";

/// The environment every test server starts with, before its own variables.
fn test_env(data_dir: &Path, database_url: &str) -> [(&'static str, String); 7] {
    [
        ("KEEPSAKE_DATA_DIR", data_dir.display().to_string()),
        ("DATABASE_URL", database_url.to_owned()),
        ("KEEPSAKE_BIND", "127.0.0.1:0".to_owned()),
        (LOG_FILTER, "info,sqlx=warn".to_owned()),
        ("KEEPSAKE_ICP_FILING", "京ICP备12345678号-1".to_owned()),
        (
            "KEEPSAKE_BLOCKCHAIN_FILING",
            "京网信备11010819842097170019号".to_owned(),
        ),
        ("KEEPSAKE_OPERATOR_NAME", "Keepsake Test".to_owned()),
    ]
}

/// The configuration the binary would read from the environment `command` gives it, mapped
/// from variables to settings: an in-process server never reads the test's environment.
fn in_process_config(data_dir: &Path, database_url: &str, extra: &[(String, String)]) -> keepsake::config::Config {
    let base = test_env(data_dir, database_url)
        .into_iter()
        .filter(|(name, _)| *name != LOG_FILTER)
        .map(|(name, value)| (name.to_owned(), value));
    let mut values = std::collections::BTreeMap::new();
    for (name, value) in base.chain(extra.iter().cloned()) {
        let setting = keepsake::config::ALL_SETTINGS
            .iter()
            .find(|setting| setting.env == name)
            .unwrap_or_else(|| {
                panic!("{name} is no setting: start this server with Options::subprocess() to give it {name}")
            });
        values.insert(setting.key, value);
    }
    keepsake::config::Config::from_values(&values).unwrap_or_else(|err| panic!("the test's settings: {err}"))
}

/// The `keepsake` binary built for these tests.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_keepsake")
}

/// A command for the binary with a clean, test-specific environment.
pub fn command(data_dir: &Path, database_url: &str, extra: &[(String, String)]) -> Command {
    let mut cmd = Command::new(binary());
    for (key, _) in std::env::vars() {
        if key.starts_with("KEEPSAKE_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    cmd.envs(test_env(data_dir, database_url))
        .current_dir(data_dir)
        .kill_on_drop(true);
    for (key, value) in extra {
        cmd.env(key, value);
    }
    // Benches compare allocators on the server alone, not on the load generator beside it.
    if let Ok(library) = std::env::var("KEEPSAKE_BENCH_SERVER_PRELOAD") {
        cmd.env("LD_PRELOAD", library);
    }
    cmd
}

impl Server {
    /// A server in the test process.
    pub async fn start(db: Db) -> Server {
        Self::start_with(Options::new(db)).await
    }

    pub async fn start_with(options: Options) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        let database_url = match &options.db {
            Db::Sqlite => format!("sqlite://{}?mode=rwc", data_dir.join("keepsake.db").display()),
            Db::Postgres(url) => url.clone(),
        };
        Self::launch(temp, data_dir, database_url, &options.env, options.subprocess).await
    }

    /// Starts a server in the test process, or the binary when `subprocess`.
    async fn launch(
        temp: tempfile::TempDir,
        data_dir: PathBuf,
        database_url: String,
        env: &[(String, String)],
        subprocess: bool,
    ) -> Server {
        if subprocess {
            return Self::spawn(temp, data_dir, database_url, env, &[]).await;
        }
        let config = in_process_config(&data_dir, &database_url, env);
        let shutdown = CancellationToken::new();
        let started = tokio::time::timeout(DEADLINE, keepsake::server::start(config, shutdown.clone()))
            .await
            .expect("the server starts within the deadline")
            .unwrap_or_else(|err| panic!("server did not start: {err:#}"));
        Server {
            running: Running::InProcess(InProcess {
                shutdown,
                stopped: Some(started.stopped),
            }),
            base: format!("http://{}", started.bound),
            data_dir,
            database_url,
            env: env.to_vec(),
            _temp: temp,
        }
    }

    fn is_subprocess(&self) -> bool {
        matches!(self.running, Running::Process(_))
    }

    /// Fails the test when `what`, which only a process can do, is asked of an in-process
    /// server.
    #[track_caller]
    fn needs_process(&self, what: &str) {
        assert!(
            self.is_subprocess(),
            "{what} needs a real process: start this server with Options::subprocess()"
        );
    }

    /// The server's process, for `what`.
    #[track_caller]
    fn process(&mut self, what: &str) -> &mut Process {
        self.needs_process(what);
        let Running::Process(process) = &mut self.running else {
            unreachable!("checked above")
        };
        process
    }

    /// `keepsake demo` on a fresh SQLite data directory, once its demonstration data is in:
    /// the server and the accounts it printed.
    pub async fn start_demo() -> (Server, Vec<DemoAccount>) {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        let database_url = format!("sqlite://{}?mode=rwc", data_dir.join("keepsake.db").display());
        Self::spawn(temp, data_dir, database_url, &[], &["demo"])
            .await
            .demo_accounts()
            .await
    }

    /// Stops the server and runs `keepsake demo` again on its data directory and database.
    pub async fn restart_as_demo(mut self) -> (Server, Vec<DemoAccount>) {
        self.process("restart_as_demo")
            .child
            .kill()
            .await
            .expect("stop the server");
        let Server {
            data_dir,
            database_url,
            env,
            _temp,
            ..
        } = self;
        Self::spawn(_temp, data_dir, database_url, &env, &["demo"])
            .await
            .demo_accounts()
            .await
    }

    /// Reads what `keepsake demo` prints until it is ready: the accounts.
    async fn demo_accounts(mut self) -> (Server, Vec<DemoAccount>) {
        let mut accounts = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            let stdout = &mut self.process("demo").stdout;
            let read = tokio::time::timeout(Duration::from_secs(120), stdout.read_line(&mut line)).await;
            match read {
                Ok(Ok(n)) if n > 0 => {}
                _ => panic!("the demo did not get ready; log:\n{}", self.log()),
            }
            if line.trim() == "Demo ready." {
                break;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if let Some(at) = words.iter().position(|w| w.contains("@demo.")) {
                let second_factor = words.get(at + 2).map(|key| (*key).to_owned());
                if let Some(key) = &second_factor {
                    // The demo used a code of about now to set it up, and printed no recovery codes.
                    let app = authenticator::Authenticator::new(key, authenticator::current_step(), Vec::new());
                    authenticator::remember(&self.database_url, words[at], app);
                }
                accounts.push(DemoAccount {
                    role: words[..at].join(" "),
                    email: words[at].to_owned(),
                    password: words.get(at + 1).copied().unwrap_or_default().to_owned(),
                    second_factor,
                });
            }
        }
        (self, accounts)
    }

    async fn spawn(
        temp: tempfile::TempDir,
        data_dir: PathBuf,
        database_url: String,
        env: &[(String, String)],
        args: &[&str],
    ) -> Server {
        let log = std::fs::File::create(temp.path().join("server.log")).unwrap();
        let mut child = command(&data_dir, &database_url, env)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start keepsake");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let read = tokio::time::timeout(DEADLINE, stdout.read_line(&mut line)).await;
        let base = match read {
            Ok(Ok(n)) if n > 0 => line
                .trim()
                .strip_prefix("Keepsake listening on ")
                .unwrap_or_else(|| panic!("unexpected first line: {line}"))
                .to_owned(),
            _ => panic!("server did not start; log:\n{}", read_log(temp.path())),
        };
        Server {
            running: Running::Process(Box::new(Process { child, stdout })),
            base,
            data_dir,
            database_url,
            env: env.to_vec(),
            _temp: temp,
        }
    }

    /// A second server on the same database, with its own data directory but this server's
    /// settings and keys: another node of one installation, started the way this one was.
    pub async fn start_sibling(&self) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let data_dir = temp.path().join("data");
        std::fs::create_dir_all(&data_dir).unwrap();
        let mut env = self.env.clone();
        env.push((
            "KEEPSAKE_KEYS_DIR".to_owned(),
            self.data_dir.join("keys").display().to_string(),
        ));
        Self::launch(temp, data_dir, self.database_url.clone(), &env, self.is_subprocess()).await
    }

    /// Kills the process with SIGKILL: no graceful shutdown, transactions cut off mid-way.
    pub async fn kill(mut self) {
        self.process("kill").child.kill().await.expect("SIGKILL the server");
    }

    /// Kills the process with SIGKILL, then starts it again on the same data directory and
    /// database, as an operator would after a crash. The new process listens on a new port.
    pub async fn crash_and_restart(mut self) -> Server {
        self.process("crash_and_restart")
            .child
            .kill()
            .await
            .expect("SIGKILL the server");
        let Server {
            data_dir,
            database_url,
            env,
            _temp,
            ..
        } = self;
        Self::spawn(_temp, data_dir, database_url, &env, &[]).await
    }

    /// Stops the server gracefully and starts it again on the same data directory and
    /// database with `extra` settings on top of its own.
    pub async fn restart_with(mut self, extra: &[(&str, &str)]) -> Server {
        self.stop().await;
        let subprocess = self.is_subprocess();
        let Server {
            data_dir,
            database_url,
            mut env,
            _temp,
            ..
        } = self;
        env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Self::launch(_temp, data_dir, database_url, &env, subprocess).await
    }

    /// Stops the server gracefully, runs `keepsake <args>` on its installation while it is
    /// down, and starts it again; returns the command's output too.
    pub async fn restart_after_command(mut self, args: &[&str]) -> (Server, std::process::Output) {
        self.stop().await;
        let output = self.run_cli(args, "").await;
        (self.restart_with(&[]).await, output)
    }

    /// Stops the server gracefully, runs `change` on its database and data directory while it
    /// is down, and starts it again; returns what `change` returned too.
    pub async fn restart_after<T, F, Fut>(mut self, change: F) -> (Server, T)
    where
        F: FnOnce(DatabaseConnection, PathBuf) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        self.stop().await;
        let changed = change(self.db().await, self.data_dir.clone()).await;
        (self.restart_with(&[]).await, changed)
    }

    /// Stops the server gracefully and starts it again the same way, expecting it to refuse
    /// to start: returns what it said on standard error. The data directory stays.
    pub async fn restart_refused(&mut self) -> String {
        self.needs_process("restart_refused");
        self.stop().await;
        let output = tokio::time::timeout(
            DEADLINE,
            command(&self.data_dir, &self.database_url, &self.env).output(),
        )
        .await
        .expect("the server gave up in time")
        .expect("run keepsake");
        assert!(!output.status.success(), "the server started");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Stops the server gracefully: SIGTERM to a process, then waits for it to end.
    async fn stop(&mut self) {
        match &mut self.running {
            Running::Process(process) => {
                if let Some(pid) = process.child.id() {
                    let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
                }
                process.child.wait().await.expect("the server stops");
            }
            Running::InProcess(server) => server.stop().await,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server process wrote to standard error (an in-process server has no log).
    #[track_caller]
    pub fn log(&self) -> String {
        self.needs_process("log");
        read_log(self._temp.path())
    }

    /// A fresh browser-like client (own cookie jar, redirects not followed).
    pub fn client(&self) -> Client {
        Client::of(&self.base, &self.database_url)
    }

    /// A fresh client whose connections come from `local`, another loopback address such as
    /// `127.0.0.2`: to the server, a client somewhere else.
    pub fn client_from(&self, local: std::net::IpAddr) -> Client {
        self.client_forwarded(local, None)
    }

    /// A fresh client whose connections come from `local` and whose requests say, as a
    /// reverse proxy would, that they were forwarded for `client` (`X-Forwarded-For`).
    pub fn client_forwarded_for(&self, local: std::net::IpAddr, client: &str) -> Client {
        self.client_forwarded(local, Some(client))
    }

    fn client_forwarded(&self, local: std::net::IpAddr, forwarded_for: Option<&str>) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(client) = forwarded_for {
            headers.insert("x-forwarded-for", client.parse().unwrap());
        }
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(local)
            .default_headers(headers)
            .build()
            .unwrap();
        Client {
            http,
            base: self.base.clone(),
            installation: self.database_url.clone(),
        }
    }

    /// The server's own database, for checking what was (not) stored and for ageing rows.
    pub async fn db(&self) -> DatabaseConnection {
        keepsake::store::connect(&self.database_url)
            .await
            .expect("connect to the server's database")
    }

    /// Runs a `keepsake` subcommand against this server's data directory and database.
    pub async fn run_cli(&self, args: &[&str], stdin: &str) -> std::process::Output {
        use tokio::io::AsyncWriteExt;
        let mut child = command(&self.data_dir, &self.database_url, &[])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run keepsake");
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        child.wait_with_output().await.unwrap()
    }

    /// Creates a verified admin through the CLI and returns a client logged in as them, with
    /// two-step verification set up (staff pages need it).
    pub async fn admin(&self, email: &str, password: &str) -> Client {
        let out = self
            .run_cli(&["create-admin", "--email", email], &format!("{password}\n"))
            .await;
        assert!(
            out.status.success(),
            "create-admin failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let client = self.client();
        let response = client.login(email, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "admin log-in");
        client.set_up_second_factor(email).await;
        client
    }

    /// The CPU time the server process has used so far, user and system, from `/proc`.
    #[track_caller]
    pub fn cpu_time(&self) -> Duration {
        let pid = self.pid("cpu_time");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/<pid>/stat");
        // Fields after the command name in parentheses; utime and stime are fields 14 and 15.
        let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // Linux reports them in USER_HZ, which is 100 per second on x86 and ARM.
        Duration::from_millis(ticks * 10)
    }

    /// The server process's resident memory now and at its peak since the last
    /// [`Server::reset_peak_memory`], in KiB, from `/proc/<pid>/status`.
    #[track_caller]
    pub fn memory(&self) -> Memory {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid("memory"))).expect("/proc/<pid>/status");
        let kib = |field: &str| -> u64 {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{field} in /proc/<pid>/status"))
        };
        Memory {
            resident_kib: kib("VmRSS:"),
            peak_kib: kib("VmHWM:"),
        }
    }

    /// Starts a new peak for [`Server::memory`] (Linux resets it when 5 is written to
    /// `/proc/<pid>/clear_refs`).
    #[track_caller]
    pub fn reset_peak_memory(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid("reset_peak_memory")), "5").expect("clear_refs");
    }

    #[track_caller]
    fn pid(&self, what: &str) -> u32 {
        self.needs_process(what);
        let Running::Process(process) = &self.running else {
            unreachable!("checked above")
        };
        process.child.id().expect("server still running")
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub async fn terminate(self) -> std::process::ExitStatus {
        self.terminate_later().await
    }

    /// Sends SIGTERM now and returns a future that waits for the exit.
    pub fn terminate_later(mut self) -> impl std::future::Future<Output = std::process::ExitStatus> + Send {
        let pid = self.process("terminate").child.id().expect("server still running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        async move {
            let status = tokio::time::timeout(DEADLINE, self.process("terminate").child.wait())
                .await
                .expect("server stops within the deadline")
                .unwrap();
            drop(self);
            status
        }
    }

    /// The mail box the server writes to (the `.eml` directory).
    /// The installation's identity vault, to seal what seeded rows hold as the server would.
    pub fn vault(&self) -> keepsake::kyc::PiiVault {
        let keys = self
            .env
            .iter()
            .find(|(name, _)| name == "KEEPSAKE_KEYS_DIR")
            .map_or_else(|| self.data_dir.join("keys"), |(_, dir)| PathBuf::from(dir));
        keepsake::kyc::PiiVault::load(&keys).expect("the installation's keys")
    }

    pub fn mailbox(&self) -> Mailbox {
        Mailbox::Files(self.data_dir.join("mail"))
    }

    /// Signs up a new account, follows the verification mail and returns a logged-in client.
    pub async fn verified_user(&self, email: &str, password: &str) -> Client {
        let client = self.client();
        let response = client.signup(email, password).await;
        assert_eq!(location(&response), "/signup/sent", "sign-up of {email}");
        let link = self.mailbox().link_for(email, "/verify-email/").await;
        let response = client.get_absolute(&link).await;
        assert_eq!(location(&response), "/verify-email/done", "verification of {email}");
        let response = client.login(email, password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "log-in of {email}");
        client
    }
}

fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
}

/// An HTTP client with its own cookie jar that does not follow redirects.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    base: String,
    /// The installation (its database) the client talks to, for the tester's authenticator.
    installation: String,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self::of(base, base)
    }

    fn of(base: &str, installation: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            http,
            base: base.to_owned(),
            installation: installation.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The same browser (cookie jar) talking to the installation at `base` (a proxy in front).
    pub fn at_url(&self, base: &str) -> Client {
        Client {
            http: self.http.clone(),
            base: base.to_owned(),
            installation: self.installation.clone(),
        }
    }

    /// The same browser (cookie jar) talking to another server of the installation.
    pub fn at(&self, server: &Server) -> Client {
        Client {
            http: self.http.clone(),
            base: server.base.clone(),
            installation: server.database_url.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_absolute(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }

    /// The CSRF token from a form on `path` (which also sets the CSRF cookie).
    pub async fn csrf(&self, path: &str) -> String {
        let (_, html) = self.get_text(path).await;
        csrf_in(&html).unwrap_or_else(|| panic!("no csrf field on {path}"))
    }

    /// Posts a form with the CSRF token of the page at `form_page`, and the form key of the
    /// form on it that posts to `action`, as a browser would.
    pub async fn post_form(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let (_, html) = self.get_text(form_page).await;
        let token = csrf_in(&html).unwrap_or_else(|| panic!("no csrf field on {form_page}"));
        let form_key = form_key_in(&html, action);
        let mut all: Vec<(&str, &str)> = vec![("csrf", &token)];
        if let Some(key) = &form_key
            && !fields.iter().any(|(name, _)| *name == "form_key")
        {
            all.push(("form_key", key));
        }
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    /// The form key of the form on `page` that posts to `action` (query string aside).
    pub async fn form_key(&self, page: &str, action: &str) -> String {
        let (_, html) = self.get_text(page).await;
        form_key_in(&html, action).unwrap_or_else(|| panic!("no form posting to {action} with a form key on {page}"))
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{action}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded(fields))
            .send()
            .await
            .unwrap()
    }

    pub async fn signup(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/signup",
            "/signup",
            &[
                ("email", email),
                ("password", password),
                ("password_confirm", password),
                ("accept_policies", "yes"),
            ],
        )
        .await
    }

    /// Logs in with a password, answering the second step from the tester's authenticator
    /// when the account has two-step verification set up in a test.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        let response = self
            .post_form("/login", "/login", &[("email", email), ("password", password)])
            .await;
        if location(&response) != "/login/two-factor" {
            return response;
        }
        match authenticator::answer(&self.installation, email) {
            Some(code) => self.second_step(&code).await,
            None => response,
        }
    }

    /// Answers the log-in's second step with `code`.
    pub async fn second_step(&self, code: &str) -> reqwest::Response {
        self.post_form("/login/two-factor", "/login/two-factor", &[("code", code)])
            .await
    }

    /// Sets up two-step verification for the signed-in `email` as a person would: reads the
    /// key off the page, types the code of the moment, and keeps the recovery codes shown.
    pub async fn set_up_second_factor(&self, email: &str) -> authenticator::Authenticator {
        let (status, html) = self.get_text("/account/two-factor").await;
        assert_eq!(status, StatusCode::OK, "the set-up page");
        let secret = attribute_in(&html, "data-secret").expect("the key on the set-up page");
        let step = authenticator::current_step();
        let code = authenticator::code(&secret, step);
        let response = self
            .post_form("/account/two-factor", "/account/two-factor", &[("code", &code)])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "the first code confirms the set-up"
        );
        let (_, shown) = self.get_text(&location(&response)).await;
        let codes = recovery_codes_in(&shown);
        assert_eq!(codes.len(), 10, "ten recovery codes shown once");
        let app = authenticator::Authenticator::new(&secret, step, codes);
        authenticator::remember(&self.installation, email, app.clone());
        app
    }

    pub async fn logout(&self) -> reqwest::Response {
        self.post_form("/", "/logout", &[]).await
    }
}

fn serde_urlencoded(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The `form_key` of the form in `html` whose action is `action` (ignoring its query string).
pub fn form_key_in(html: &str, action: &str) -> Option<String> {
    html.split("<form").skip(1).find_map(|form| {
        let form = &form[..form.find("</form>").unwrap_or(form.len())];
        let at = form.find("action=\"")? + "action=\"".len();
        let target = &form[at..at + form[at..].find('"')?];
        if target.split('?').next() != Some(action.split('?').next().unwrap_or(action)) {
            return None;
        }
        let at = form.find("name=\"form_key\" value=\"")? + "name=\"form_key\" value=\"".len();
        Some(form[at..at + form[at..].find('"')?].to_owned())
    })
}

/// The value of the first `name="csrf"` hidden field in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")?;
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// Where a redirect points.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// A delivered message, decoded.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Where a test server's outgoing mail can be read.
#[derive(Debug, Clone)]
pub enum Mailbox {
    /// `.eml` files written by the file transport.
    Files(PathBuf),
    /// A maildev capture server's HTTP API.
    Maildev(String),
}

impl Mailbox {
    /// Every message delivered so far to `to`.
    pub async fn messages_for(&self, to: &str) -> Vec<ReceivedMail> {
        match self {
            Mailbox::Files(dir) => {
                let Ok(entries) = std::fs::read_dir(dir) else {
                    return Vec::new();
                };
                let mut found = Vec::new();
                for entry in entries {
                    let path = entry.unwrap().path();
                    if path.extension().is_some_and(|e| e == "eml") {
                        let raw = std::fs::read_to_string(&path).unwrap_or_default();
                        // The file transport writes in place: a message still being written
                        // has no closing MIME boundary yet, and is read on the next poll.
                        if !raw.trim_end().ends_with("--") {
                            continue;
                        }
                        let mail = parse_eml(&raw);
                        if mail.to.contains(to) {
                            found.push(mail);
                        }
                    }
                }
                found
            }
            Mailbox::Maildev(api) => {
                let list: Vec<serde_json::Value> = reqwest::get(format!("{api}/api/email"))
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                list.into_iter()
                    .filter(|m| {
                        m["to"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|r| r["address"].as_str() == Some(to)))
                    })
                    .map(|m| ReceivedMail {
                        to: to.to_owned(),
                        subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                        text: m["text"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect()
            }
        }
    }

    /// Waits until `count` messages for `to` have arrived and returns them.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<ReceivedMail> {
        let start = Instant::now();
        loop {
            let found = self.messages_for(to).await;
            if found.len() >= count {
                return found;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "expected {count} mail(s) for {to}, found {}",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the latest mail to `to` with a link containing `path` and returns the link.
    pub async fn link_for(&self, to: &str, path: &str) -> String {
        let start = Instant::now();
        loop {
            let links: Vec<String> = self
                .messages_for(to)
                .await
                .iter()
                .filter_map(|m| link_in(&m.text, path))
                .collect();
            if let Some(link) = links.into_iter().next_back() {
                return link;
            }
            assert!(start.elapsed() < DEADLINE, "no mail to {to} with a {path} link");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The first URL in `text` whose path contains `path`.
pub fn link_in(text: &str, path: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.starts_with("http") && w.contains(path))
        .map(str::to_owned)
}

/// A minimal MIME reader for the messages this server writes: headers, then a
/// multipart/alternative body whose text part may be base64 or quoted-printable.
pub fn parse_eml(raw: &str) -> ReceivedMail {
    let raw = raw.replace("\r\n", "\n");
    let (headers, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let header = |name: &str| -> String {
        let mut value = String::new();
        let mut in_header = false;
        for line in headers.lines() {
            if in_header && line.starts_with([' ', '\t']) {
                value.push_str(line.trim_start());
                continue;
            }
            in_header = line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name)
                && line.as_bytes()[name.len()] == b':';
            if in_header {
                value = line[name.len() + 1..].trim().to_owned();
            }
        }
        value
    };
    let mut text = String::new();
    for part in body.split("\n--") {
        let (part_headers, part_body) = part.split_once("\n\n").unwrap_or(("", ""));
        let lower = part_headers.to_ascii_lowercase();
        if !lower.contains("content-type: text/plain") {
            continue;
        }
        text = if lower.contains("content-transfer-encoding: base64") {
            let joined: String = part_body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        } else if lower.contains("content-transfer-encoding: quoted-printable") {
            decode_quoted_printable(part_body)
        } else {
            part_body.to_owned()
        };
    }
    ReceivedMail {
        to: header("To"),
        subject: decode_encoded_words(&header("Subject")),
        text,
    }
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) in a header value.
fn decode_encoded_words(value: &str) -> String {
    let mut out = Vec::new();
    let mut rest = value;
    let mut after_word = false;
    while let Some(start) = rest.find("=?") {
        let plain = &rest[..start];
        // Whitespace between two encoded words is folding, not text.
        if !(after_word && plain.trim().is_empty()) {
            out.extend_from_slice(plain.as_bytes());
        }
        let word = &rest[start + 2..];
        let mut parts = word.splitn(3, '?');
        let (Some(_charset), Some(encoding), Some(tail)) = (parts.next(), parts.next(), parts.next()) else {
            break;
        };
        let Some(end) = tail.find("?=") else {
            break;
        };
        let text = &tail[..end];
        if encoding.eq_ignore_ascii_case("b") {
            out.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap_or_default(),
            );
        } else {
            out.extend(decode_quoted_printable(&text.replace('_', " ")).into_bytes());
        }
        rest = &tail[end + 2..];
        after_word = true;
    }
    out.extend_from_slice(rest.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_quoted_printable(input: &str) -> String {
    let joined = input.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() && u8::from_str_radix(&joined[i + 1..i + 3], 16).is_ok() {
            out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Copies the directory `from` into `to`, files and subdirectories: a backup of a stopped
/// server's data directory, or its restore.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// Runs `keepsake verify` the way a stranger would: no configuration, no database, no
/// network, in an empty directory.
pub async fn stranger_verifies(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    stranger_runs(dir, &all).await
}

/// Runs `keepsake <args>` the way a stranger would: none of the platform's settings, in `dir`.
pub async fn stranger_runs(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut command = tokio::process::Command::new(binary());
    for (key, _) in std::env::vars() {
        if key.starts_with("KEEPSAKE_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command.args(args).current_dir(dir).output().await.unwrap()
}

/// The value of the first `name="..."` attribute in `html`.
pub fn attribute_in(html: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let at = html.find(&marker)? + marker.len();
    Some(html[at..at + html[at..].find('"')?].to_owned())
}

/// The recovery codes listed on a page that shows them once.
pub fn recovery_codes_in(html: &str) -> Vec<String> {
    let Some(start) = html.find("id=\"recovery-codes\"") else {
        return Vec::new();
    };
    let list = &html[start..html[start..].find("</ol>").map_or(html.len(), |end| start + end)];
    list.split("<li>")
        .skip(1)
        .filter_map(|item| item.split("</li>").next())
        .map(|code| code.trim().to_owned())
        .collect()
}
