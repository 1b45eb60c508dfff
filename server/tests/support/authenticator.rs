//! The tester's authenticator app: the two-step verification keys the tests set up, by
//! installation (its database) and account, with the recovery codes shown at set-up. Log-ins
//! through [`super::Client::login`] answer the second step from here, so every test that uses
//! a staff account goes through it as a person would.
//!
//! A code is good once (the server remembers the step it belongs to), and the server accepts
//! the next step's code early; a third log-in within one 30-second step uses a recovery code.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use totp_rs::{Algorithm, Builder, Secret};

/// One account's key as the app holds it.
#[derive(Debug, Clone)]
pub struct Authenticator {
    /// The key, base32 as the set-up page shows it.
    pub secret: String,
    last_step: Option<u64>,
    recovery_codes: Vec<String>,
}

static APPS: LazyLock<Mutex<HashMap<(String, String), Authenticator>>> = LazyLock::new(Default::default);

fn key(installation: &str, email: &str) -> (String, String) {
    (installation.to_owned(), email.trim().to_lowercase())
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The RFC 6238 code (HMAC-SHA1, six digits, 30-second steps) of `secret` for `step`.
pub fn code(secret: &str, step: u64) -> String {
    let bytes = Secret::try_from_base32(secret).expect("a base32 key");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(bytes)
        .build()
        .expect("an RFC 6238 key")
        .generate(step * 30)
        .to_string()
}

/// The step of this moment.
pub fn current_step() -> u64 {
    now_seconds() / 30
}

impl Authenticator {
    /// A key just set up with the code of `step`, and the recovery codes shown with it.
    pub fn new(secret: &str, step: u64, recovery_codes: Vec<String>) -> Self {
        Self {
            secret: secret.to_owned(),
            last_step: Some(step),
            recovery_codes,
        }
    }

    /// One of the recovery codes shown at set-up, left for the app.
    pub fn spare_recovery_code(&self) -> String {
        self.recovery_codes.last().cloned().expect("a recovery code left")
    }

    /// What to type at the second step: the first code the server has not seen, or a
    /// recovery code when no fresh code is acceptable yet.
    pub fn answer(&mut self) -> String {
        let now = current_step();
        let step = self.last_step.map_or(now, |last| (last + 1).max(now));
        if step > now + 1 {
            return self.recovery_codes.pop().expect("a recovery code left");
        }
        self.last_step = Some(step);
        code(&self.secret, step)
    }
}

/// Remembers the key set up for `email` on `installation`.
pub fn remember(installation: &str, email: &str, app: Authenticator) {
    APPS.lock().unwrap().insert(key(installation, email), app);
}

/// Forgets `email`'s key on `installation` (an administrator reset it).
pub fn forget(installation: &str, email: &str) {
    APPS.lock().unwrap().remove(&key(installation, email));
}

/// The answer to the second step for `email` on `installation`, if a key was set up.
pub fn answer(installation: &str, email: &str) -> Option<String> {
    APPS.lock()
        .unwrap()
        .get_mut(&key(installation, email))
        .map(Authenticator::answer)
}

/// The key set up for `email` on `installation`.
pub fn get(installation: &str, email: &str) -> Option<Authenticator> {
    APPS.lock().unwrap().get(&key(installation, email)).cloned()
}

/// Every key set up on `installation`, for a browser script's log-ins: by address, the key and
/// a recovery code taken for the script (for when no fresh code is acceptable yet).
pub fn hand_over(installation: &str) -> serde_json::Value {
    let mut apps = APPS.lock().unwrap();
    let handed: serde_json::Map<String, serde_json::Value> = apps
        .iter_mut()
        .filter(|((at, _), _)| at == installation)
        .map(|((_, email), app)| {
            let entry = serde_json::json!({ "key": app.secret, "recovery": app.recovery_codes.pop() });
            (email.clone(), entry)
        })
        .collect();
    serde_json::Value::Object(handed)
}
