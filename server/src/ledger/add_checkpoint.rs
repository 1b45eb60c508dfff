//! The C2SP [tlog-witness](https://c2sp.org/tlog-witness) `add-checkpoint` call: the request a
//! log sends a witness, and the rules by which the witness cosigns or refuses it. A witness
//! cosigns a checkpoint only if a log key it trusts signed it and it provably extends the
//! latest checkpoint it cosigned for that log, so it never cosigns two histories of one log.
//!
//! The request body is `old <size>\n`, one base64 consistency-proof hash per line (at most
//! 63), an empty line, and the signed checkpoint. The answers are the spec's: the cosignature
//! lines (200), 400 for a malformed request or an old size above the checkpoint's, 403 when no
//! trusted key signed it, 404 for a log the witness does not know, 409 with the witness's size
//! (`text/x.tlog.size`) when the old size is not the one it cosigned last, and 422 when the
//! proof does not show the new tree extends the one it cosigned.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::checkpoint::{self, NoteError};
use super::merkle::{Hash, LOG_HASH, verify_consistency};

/// The most proof lines a request may carry, as the spec says.
pub const MAX_PROOF_LINES: usize = 63;

/// The `text/x.tlog.size` media type of a 409's body.
pub const SIZE_MEDIA_TYPE: &str = "text/x.tlog.size";

/// An `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the latest checkpoint the log believes the witness cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint.
    pub checkpoint: String,
}

/// What a witness knows of one log: the latest checkpoint it cosigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cosigned {
    pub size: u64,
    pub root: Hash,
}

/// Why a witness does not cosign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error("the checkpoint's log is not one this witness follows")]
    UnknownLog,
    #[error("no key this witness trusts for the log signed the checkpoint")]
    NotSigned,
    #[error("the old size is larger than the checkpoint's")]
    OldSizeTooLarge,
    #[error("the latest checkpoint this witness cosigned for the log is of size {0}")]
    Conflict(u64),
    #[error("the consistency proof does not show that the checkpoint extends the one this witness cosigned")]
    BadProof,
}

impl Refusal {
    /// The HTTP status the spec gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) | Refusal::OldSizeTooLarge => 400,
            Refusal::NotSigned => 403,
            Refusal::UnknownLog => 404,
            Refusal::Conflict(_) => 409,
            Refusal::BadProof => 422,
        }
    }
}

/// A decimal as the spec writes sizes: ASCII digits, no sign, no leading zero but in `0`.
fn parse_size(text: &str) -> Option<u64> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// The size in a 409's `text/x.tlog.size` body.
pub fn parse_size_body(body: &str) -> Option<u64> {
    parse_size(body.strip_suffix('\n')?)
}

impl AddCheckpoint {
    /// The request body.
    pub fn encode(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            body.push_str(&STANDARD.encode(hash));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.checkpoint);
        body
    }

    /// Parses a request body.
    pub fn parse(body: &str) -> Result<Self, Refusal> {
        let (head, checkpoint) = body
            .split_once("\n\n")
            .ok_or(Refusal::Malformed("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old_size = lines
            .next()
            .and_then(|line| line.strip_prefix("old "))
            .and_then(parse_size)
            .ok_or(Refusal::Malformed("the first line is not `old <size>`"))?;
        let proof = lines
            .map(|line| {
                let hash = STANDARD.decode(line).ok().and_then(|h| Hash::try_from(h).ok());
                // Canonical base64 only: one hash, one spelling.
                hash.filter(|h| STANDARD.encode(h) == line)
            })
            .collect::<Option<Vec<Hash>>>()
            .ok_or(Refusal::Malformed("a proof line is not a base64 32-byte hash"))?;
        if proof.len() > MAX_PROOF_LINES {
            return Err(Refusal::Malformed("more than 63 proof lines"));
        }
        Ok(Self {
            old_size,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }
}

/// The log a signed checkpoint names: its first line.
pub fn origin_of(checkpoint: &str) -> Option<&str> {
    checkpoint
        .split_once('\n')
        .map(|(origin, _)| origin)
        .filter(|o| !o.is_empty())
}

/// Decides a request, as a witness that trusts `log_keys` (verifier keys of the checkpoint's
/// log; empty when it does not follow that log) and last cosigned `known` for it. Returns the
/// checkpoint's body and what the witness must record before it answers with its cosignature.
pub fn decide(
    request: &AddCheckpoint,
    log_keys: &[String],
    known: Option<Cosigned>,
) -> Result<(String, Cosigned), Refusal> {
    if log_keys.is_empty() {
        return Err(Refusal::UnknownLog);
    }
    let checked = checkpoint::verify_any(&request.checkpoint, log_keys).map_err(|err| match err {
        NoteError::Malformed => Refusal::Malformed("the checkpoint is not a signed note"),
        NoteError::BadKey | NoteError::NotSigned => Refusal::NotSigned,
    })?;
    if request.old_size > checked.size {
        return Err(Refusal::OldSizeTooLarge);
    }
    let known_size = known.map_or(0, |k| k.size);
    if request.old_size != known_size {
        return Err(Refusal::Conflict(known_size));
    }
    let consistent = match known {
        None => request.proof.is_empty() && (checked.size > 0 || checked.root == LOG_HASH.empty_root()),
        Some(known) => verify_consistency(
            LOG_HASH,
            known.size,
            checked.size,
            &known.root,
            &checked.root,
            &request.proof,
        ),
    };
    if !consistent {
        return Err(Refusal::BadProof);
    }
    let body = checkpoint::body(&checked.origin, checked.size, &checked.root);
    Ok((
        body,
        Cosigned {
            size: checked.size,
            root: checked.root,
        },
    ))
}

#[cfg(test)]
mod tests;
