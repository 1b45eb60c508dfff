//! What a monitor remembers between runs, in its state file: the latest checkpoint it checked,
//! the tree's right edge at that size (all it needs to extend the tree with new entries) and
//! what the platform's rules need of the log so far. The file is replaced atomically, so a
//! monitor killed mid-run keeps the previous state.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::ledger::merkle::{Frontier, Hash, LOG_HASH};
use crate::ledger::rules::LogRules;
use crate::ledger::signed_record::replace_file;

/// The state file's contents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MonitorState {
    /// The log's name, once a checkpoint was checked.
    pub origin: Option<String>,
    /// The latest checkpoint checked (empty before the first).
    pub checkpoint: String,
    pub size: u64,
    /// The subtrees along the tree's right edge: (level, base64 root), largest first.
    edge: Vec<(u32, String)>,
    pub rules: LogRules,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the monitor's state {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the monitor's state {path} is damaged ({reason}); move it away to start over from the first entry")]
    Damaged { path: String, reason: String },
    #[error("cannot write the monitor's state {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

impl MonitorState {
    /// Reads the state at `path`; none yet is a monitor that has seen nothing.
    pub fn load(path: &Path) -> Result<Self, StateError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(StateError::Read { path: shown, source }),
        };
        let state: Self = serde_json::from_str(&text).map_err(|e| StateError::Damaged {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        state.frontier().ok_or(StateError::Damaged {
            path: shown,
            reason: "its tree edge is not one of its size".into(),
        })?;
        Ok(state)
    }

    /// Writes the state to `path`, replacing the old file atomically.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let json = serde_json::to_vec_pretty(self).expect("the state serializes");
        replace_file(path, &json).map_err(|source| StateError::Write {
            path: path.display().to_string(),
            source,
        })
    }

    /// The tree of the checkpoint checked last, ready to be extended.
    pub fn frontier(&self) -> Option<Frontier> {
        let edge = self
            .edge
            .iter()
            .map(|(level, hash)| Some((*level, Hash::try_from(STANDARD.decode(hash).ok()?).ok()?)))
            .collect::<Option<Vec<_>>>()?;
        Frontier::from_edge(LOG_HASH, self.size, edge)
    }

    /// Moves on to `checkpoint`, whose tree `frontier` is and whose entries `rules` took in.
    pub fn advance(&mut self, origin: &str, checkpoint: &str, frontier: &Frontier, rules: LogRules) {
        self.origin = Some(origin.to_owned());
        self.checkpoint = checkpoint.to_owned();
        self.size = frontier.size();
        self.edge = frontier
            .edge()
            .iter()
            .map(|(level, hash)| (*level, STANDARD.encode(hash)))
            .collect();
        self.rules = rules;
    }
}
