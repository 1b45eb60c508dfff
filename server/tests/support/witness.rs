//! `keepsake witness` processes for the tests: each with its own key and state file in a
//! directory of its own, on a port that stays its own across restarts.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::{DEADLINE, binary};

/// A running (or stopped) witness.
pub struct Witness {
    pub name: String,
    /// Its verifier key, as logs list it.
    pub key: String,
    /// Its base URL (`add-checkpoint` is under it).
    pub url: String,
    log_key: String,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Witness {
    /// Starts a witness named `name` that follows the log with verifier key `log_key`.
    pub async fn start(name: &str, log_key: &str) -> Witness {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut witness = Witness {
            name: name.to_owned(),
            key: String::new(),
            url: String::new(),
            log_key: log_key.to_owned(),
            child: None,
            dir,
        };
        witness.launch("127.0.0.1:0").await;
        witness
    }

    /// The `ledger.witnesses` item for this witness.
    pub fn setting(&self) -> String {
        format!("{} {}", self.url, self.key)
    }

    /// The witness's state file.
    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("witness.db")
    }

    async fn launch(&mut self, listen: &str) {
        let mut command = Command::new(binary());
        for (key, _) in std::env::vars() {
            if key.starts_with("KEEPSAKE_") || key == "DATABASE_URL" {
                command.env_remove(key);
            }
        }
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join("witness.log"))
            .unwrap();
        let mut child = command
            .args([
                "witness",
                "--listen",
                listen,
                "--name",
                &self.name,
                "--log",
                &self.log_key,
            ])
            .arg("--key-file")
            .arg(self.dir.path().join("witness.key"))
            .arg("--state")
            .arg(self.state_file())
            .current_dir(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("start keepsake witness");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let read = tokio::time::timeout(DEADLINE, stdout.read_line(&mut line)).await;
        assert!(
            matches!(read, Ok(Ok(n)) if n > 0),
            "the witness did not start: {}",
            self.log()
        );
        let (key, url) = line
            .trim()
            .strip_prefix("Witness ")
            .and_then(|rest| rest.split_once(" listening on "))
            .unwrap_or_else(|| panic!("unexpected first line: {line}"));
        (self.key, self.url) = (key.to_owned(), url.to_owned());
        self.child = Some(child);
    }

    /// Kills the witness (SIGKILL): it is down until [`start_again`](Self::start_again).
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill the witness");
        }
    }

    /// Starts the witness again on its port, with its key and state.
    pub async fn start_again(&mut self) {
        let listen = self.url.trim_start_matches("http://").to_owned();
        self.launch(&listen).await;
    }

    /// What the witness wrote to standard error.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("witness.log")).unwrap_or_default()
    }
}
