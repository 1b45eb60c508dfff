//! `keepsake monitor URL`: follows a log through its C2SP tiles the way a regulator or a
//! partner would, with nothing but the log's (and its witnesses') public keys. Each run reads
//! the published checkpoint, checks its signature and cosignatures, reads every entry added
//! since the checkpoint it saw last (kept in a local state file), rebuilds the tree from them
//! and requires the signed root, and checks the platform's rules from the entries alone
//! ([`crate::ledger::rules`]). A log that was rolled back, forked, tampered with or broke a
//! rule is reported by what it did, with the evidence; nothing of it enters the state.

pub mod state;

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;

use self::state::{MonitorState, StateError};
use crate::ledger::checkpoint::{self, VerifiedCheckpoint};
use crate::ledger::cosignature::WitnessKey;
use crate::ledger::merkle::{Frontier, LOG_HASH};
use crate::ledger::rules::{LogRules, Violation};
use crate::ledger::tiles::{TILE_WIDTH, Tile, TileKind, read_entry_bundle};

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What a monitor checks against.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// The log's tile prefix: `<public URL>/ledger`.
    pub url: String,
    /// The log's verifier keys (current and retired).
    pub keys: Vec<String>,
    pub witnesses: Vec<WitnessKey>,
    /// How many of `witnesses` must have cosigned the published checkpoint.
    pub quorum: usize,
    pub state_file: PathBuf,
}

/// What the log did that it must not: the report names it, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("the published checkpoint is not signed by the log's key ({reason}):\n{note}")]
    NotSigned { reason: String, note: String },
    #[error("the published checkpoint is cosigned by {cosigned} of the witnesses given, {quorum} needed:\n{note}")]
    NotWitnessed {
        cosigned: usize,
        quorum: usize,
        note: String,
    },
    #[error("the published checkpoint is for the log `{now}`, but this monitor follows `{seen}`")]
    OtherLog { seen: String, now: String },
    #[error(
        "the log was rolled back: it published a checkpoint of {now_size} entries after one of {seen_size}.\nSeen \
         before:\n{seen}\nPublished now:\n{now}"
    )]
    RolledBack {
        seen_size: u64,
        now_size: u64,
        seen: String,
        now: String,
    },
    #[error(
        "the log forked: it signed a checkpoint that does not extend the one seen before, a second history.\nSeen \
         before:\n{seen}\nPublished now:\n{now}"
    )]
    Forked { seen: String, now: String },
    #[error("the log was tampered with: {reason}.\nPublished checkpoint:\n{now}")]
    Tampered { reason: String, now: String },
    #[error("the log broke the platform's rules: {0}")]
    Rule(Violation),
}

/// Why a run could not check the log (the log may be fine).
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error(transparent)]
    Broken(#[from] Broken),
    #[error("cannot read {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(transparent)]
    State(#[from] StateError),
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub origin: String,
    pub from: u64,
    pub to: u64,
    /// The witnesses that cosigned the checkpoint, by name.
    pub witnessed_by: Vec<String>,
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.from == self.to {
            write!(f, "{}: unchanged at {} entries", self.origin, self.to)?;
        } else {
            write!(
                f,
                "{}: entries {} to {} checked, the tree rebuilt to the signed root, every rule kept",
                self.origin,
                self.from,
                self.to - 1
            )?;
        }
        if !self.witnessed_by.is_empty() {
            write!(f, "; cosigned by {}", self.witnessed_by.join(", "))?;
        }
        Ok(())
    }
}

/// Checks the log once: from the state file's checkpoint to the published one.
pub async fn check(http: &reqwest::Client, options: &MonitorOptions) -> Result<Checked, MonitorError> {
    let mut state = MonitorState::load(&options.state_file)?;
    let note = String::from_utf8_lossy(&fetch(http, options, "checkpoint").await?).into_owned();
    let checked = checkpoint::verify_any(&note, &options.keys).map_err(|err| Broken::NotSigned {
        reason: err.to_string(),
        note: note.clone(),
    })?;
    let witnessed_by: Vec<String> = options
        .witnesses
        .iter()
        .filter(|witness| witness.cosignature_in(&note).is_some())
        .map(|witness| witness.name().to_owned())
        .collect();
    if witnessed_by.len() < options.quorum {
        return Err(Broken::NotWitnessed {
            cosigned: witnessed_by.len(),
            quorum: options.quorum,
            note,
        }
        .into());
    }
    if let Some(seen) = state.origin.as_ref().filter(|seen| **seen != checked.origin) {
        return Err(Broken::OtherLog {
            seen: seen.clone(),
            now: checked.origin,
        }
        .into());
    }
    let from = state.size;
    if checked.size < from {
        return Err(Broken::RolledBack {
            seen_size: from,
            now_size: checked.size,
            seen: state.checkpoint,
            now: note,
        }
        .into());
    }
    let mut frontier = state.frontier().ok_or_else(|| StateError::Damaged {
        path: options.state_file.display().to_string(),
        reason: "its tree edge is not one of its size".into(),
    })?;
    let mut rules = state.rules.clone();
    let violation = follow(http, options, from, (&checked, &note), &mut frontier, &mut rules).await?;
    if frontier.root() != checked.root {
        // Whether the log disagrees with itself, or only with what this monitor saw of it.
        let alone = if from == 0 {
            None
        } else {
            let mut fresh = Frontier::empty(LOG_HASH);
            follow(
                http,
                options,
                0,
                (&checked, &note),
                &mut fresh,
                &mut LogRules::default(),
            )
            .await?;
            Some(fresh.root() == checked.root)
        };
        return Err(match alone {
            Some(true) => Broken::Forked {
                seen: state.checkpoint,
                now: note,
            },
            _ => Broken::Tampered {
                reason: format!(
                    "its entries 0 to {} do not hash to the root its checkpoint signs",
                    checked.size.saturating_sub(1)
                ),
                now: note,
            },
        }
        .into());
    }
    if let Some(violation) = violation {
        return Err(Broken::Rule(violation).into());
    }
    if checked.size > from || state.origin.is_none() {
        state.advance(&checked.origin, &note, &frontier, rules);
        state.save(&options.state_file)?;
    }
    Ok(Checked {
        origin: checked.origin,
        from,
        to: checked.size,
        witnessed_by,
    })
}

/// Reads entries `from..` up to the checkpoint's size from the entry bundles, pushing each
/// leaf onto `frontier` and each entry through `rules`; answers the first rule broken.
async fn follow(
    http: &reqwest::Client,
    options: &MonitorOptions,
    from: u64,
    (checked, note): (&VerifiedCheckpoint, &str),
    frontier: &mut Frontier,
    rules: &mut LogRules,
) -> Result<Option<Violation>, MonitorError> {
    let mut violation = None;
    let bundles = Tile::added_between(from, checked.size)
        .into_iter()
        .filter(|tile| tile.kind() == TileKind::Entries);
    for bundle in bundles {
        let entries = bundle_entries(http, options, &bundle, note).await?;
        for (index, entry) in bundle.span().zip(&entries).filter(|(index, _)| *index >= from) {
            frontier.push(LOG_HASH.leaf(entry), &mut Vec::new());
            if violation.is_none() {
                violation = rules.apply(index, entry).err();
            }
        }
    }
    Ok(violation)
}

/// The entries of an entry bundle. A partial bundle the log no longer serves is read from the
/// full one, as the spec allows: its first entries are the partial one's.
async fn bundle_entries(
    http: &reqwest::Client,
    options: &MonitorOptions,
    bundle: &Tile,
    note: &str,
) -> Result<Vec<Vec<u8>>, MonitorError> {
    let (path, bytes) = match get(http, options, &bundle.path()).await? {
        Some(bytes) => (bundle.path(), bytes),
        None if !bundle.is_full() => {
            let full = bundle.path().split(".p/").next().unwrap_or_default().to_owned();
            let bytes = fetch(http, options, &full).await?;
            (full, bytes)
        }
        None => return Err(not_found(options, &bundle.path())),
    };
    let width = if path == bundle.path() {
        bundle.width()
    } else {
        TILE_WIDTH
    };
    let entries = read_entry_bundle(&bytes, width).map_err(|err| Broken::Tampered {
        reason: format!("entry bundle {path}: {err}"),
        now: note.to_owned(),
    })?;
    Ok(entries
        .into_iter()
        .take(bundle.width() as usize)
        .map(<[u8]>::to_vec)
        .collect())
}

fn url_of(options: &MonitorOptions, path: &str) -> String {
    format!("{}/{path}", options.url.trim_end_matches('/'))
}

fn not_found(options: &MonitorOptions, path: &str) -> MonitorError {
    MonitorError::Unreachable {
        url: url_of(options, path),
        reason: "404 Not Found".into(),
    }
}

/// The object at `path` under the log's prefix.
async fn fetch(http: &reqwest::Client, options: &MonitorOptions, path: &str) -> Result<Vec<u8>, MonitorError> {
    get(http, options, path).await?.ok_or_else(|| not_found(options, path))
}

/// The object at `path` under the log's prefix; `None` when the log answers 404.
async fn get(http: &reqwest::Client, options: &MonitorOptions, path: &str) -> Result<Option<Vec<u8>>, MonitorError> {
    let url = url_of(options, path);
    let unreachable = |reason: String| MonitorError::Unreachable {
        url: url.clone(),
        reason,
    };
    let response = http
        .get(&url)
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|err| unreachable(err.without_url().to_string()))?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Ok(None),
        status => return Err(unreachable(status.to_string())),
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|err| unreachable(err.without_url().to_string()))?;
    Ok(Some(bytes.to_vec()))
}
