//! Witnessing: the log sends its latest checkpoint to each configured witness (a C2SP
//! tlog-witness `add-checkpoint` call) with a consistency proof from the size that witness
//! last cosigned, and adds the cosignatures it gets back to the stored checkpoint. Once the
//! quorum has cosigned one, it is witnessed: published as the log's checkpoint and used for
//! receipts. A witness that is down only delays this; sequencing never waits for it.
//!
//! A witness that refuses (its cosigned tree is larger than the log's, or the proof does not
//! reach its root) has seen another history of this log: a database restored from an older
//! backup, or a fork. The log then stays unpublished past the last witnessed checkpoint.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::join_all;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use super::log;
use crate::config::WitnessPeer;
use crate::ledger::add_checkpoint::{AddCheckpoint, SIZE_MEDIA_TYPE, parse_size_body};
use crate::services::{ServiceResult, Services};
use crate::store;
use crate::store::ledger::CheckpointRow;

/// How long a witness may take to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The most attempts at adding cosignatures while another server adds some too.
const MERGE_ATTEMPTS: usize = 8;

/// What the log knows of each witness between rounds (by verifier key): the size it last
/// cosigned. Unknown at first; the witness's first 409 tells.
pub type WitnessSizes = HashMap<String, u64>;

/// Why a witness did not cosign in a round.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessTrouble {
    #[error("cannot reach the witness: {0}")]
    Unreachable(String),
    #[error(
        "the witness cosigned a tree of {witnessed} entries, larger than this log's {logged}: the log was rolled back \
         or restored from an older backup, and its new entries are a second history the witness will not cosign"
    )]
    AheadOfLog { witnessed: u64, logged: u64 },
    #[error(
        "the witness refused the checkpoint ({status}: {reason}); if it says the proof is wrong, this log's tree does \
         not extend the one it cosigned: the log has forked"
    )]
    Refused { status: u16, reason: String },
    #[error("the witness's answer is not its cosignature of the checkpoint")]
    BadAnswer,
}

impl WitnessTrouble {
    /// Whether the witness refused this log's history, not just failed to answer.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, WitnessTrouble::Unreachable(_))
    }
}

/// What a round did.
#[derive(Debug, Default)]
pub struct Round {
    /// The checkpoint's size.
    pub size: u64,
    /// Whether the checkpoint now has its quorum.
    pub witnessed: bool,
    /// The witnesses that did not cosign, by name, and why.
    pub troubles: Vec<(String, WitnessTrouble)>,
}

/// Sends the latest checkpoint to the witnesses that have not cosigned it; `None` when there
/// is no checkpoint, or the latest is witnessed already.
pub async fn round(
    services: &Services,
    http: &reqwest::Client,
    sizes: &mut WitnessSizes,
) -> ServiceResult<Option<Round>> {
    let Some(latest) = log::latest_checkpoint(services).await? else {
        return Ok(None);
    };
    if latest.witnessed {
        return Ok(None);
    }
    let size = latest.tree_size as u64;
    let waiting: Vec<&WitnessPeer> = services
        .witnesses
        .list
        .iter()
        .filter(|witness| witness.key.cosignature_in(&latest.note).is_none())
        .collect();
    let asked = waiting.iter().map(|witness| {
        let known = sizes.get(witness.key.as_str()).copied().unwrap_or(0);
        ask(services, http, witness, &latest, known)
    });
    let mut lines = String::new();
    let mut troubles = Vec::new();
    for (witness, (answer, known)) in waiting.iter().zip(join_all(asked).await) {
        if let Some(known) = known {
            sizes.insert(witness.key.as_str().to_owned(), known);
        }
        match answer? {
            Ok(line) => {
                sizes.insert(witness.key.as_str().to_owned(), size);
                lines.push_str(&line);
                lines.push('\n');
            }
            Err(trouble) => troubles.push((witness.key.name().to_owned(), trouble)),
        }
    }
    let witnessed = add_cosignatures(services, size, &lines).await?;
    Ok(Some(Round {
        size,
        witnessed,
        troubles,
    }))
}

/// Asks `witness` to cosign `checkpoint`, from the size it is believed to hold; answers its
/// cosignature line or why not, and the size it turned out to hold, if it said.
async fn ask(
    services: &Services,
    http: &reqwest::Client,
    witness: &WitnessPeer,
    checkpoint: &CheckpointRow,
    mut known: u64,
) -> (ServiceResult<Result<String, WitnessTrouble>>, Option<u64>) {
    let size = checkpoint.tree_size as u64;
    let mut told = None;
    // A 409 names the size the witness holds; one more request from there settles it.
    for _ in 0..2 {
        if known > size {
            let ahead = WitnessTrouble::AheadOfLog {
                witnessed: known,
                logged: size,
            };
            return (Ok(Err(ahead)), told);
        }
        let proof = match log::consistency_proof(services, known, size).await {
            Ok(proof) => proof,
            Err(err) => return (Err(err), told),
        };
        let request = AddCheckpoint {
            old_size: known,
            proof,
            checkpoint: checkpoint.note.clone(),
        };
        match send(http, witness, &request).await {
            Sent::Cosigned(text) => {
                // Only the witness's own valid cosignature of this checkpoint is kept.
                let answered = format!("{}{text}", checkpoint.note);
                let line = witness.key.cosignature_in(&answered).map(|(line, _)| line.to_owned());
                return (Ok(line.ok_or(WitnessTrouble::BadAnswer)), told);
            }
            Sent::Conflict(holds) => {
                known = holds;
                told = Some(holds);
            }
            Sent::Trouble(trouble) => return (Ok(Err(trouble)), told),
        }
    }
    let refused = WitnessTrouble::Refused {
        status: 409,
        reason: "it keeps naming another size".into(),
    };
    (Ok(Err(refused)), told)
}

enum Sent {
    Cosigned(String),
    Conflict(u64),
    Trouble(WitnessTrouble),
}

async fn send(http: &reqwest::Client, witness: &WitnessPeer, request: &AddCheckpoint) -> Sent {
    let url = format!("{}/add-checkpoint", witness.url.as_str().trim_end_matches('/'));
    let response = match http
        .post(url)
        .timeout(ANSWER_TIMEOUT)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(request.encode())
        .send()
        .await
    {
        Ok(response) => response,
        Err(err) => return Sent::Trouble(WitnessTrouble::Unreachable(err.without_url().to_string())),
    };
    let status = response.status();
    let size_body = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes() == SIZE_MEDIA_TYPE.as_bytes());
    let text = match response.text().await {
        Ok(text) => text,
        Err(err) => return Sent::Trouble(WitnessTrouble::Unreachable(err.without_url().to_string())),
    };
    match status {
        StatusCode::OK => Sent::Cosigned(text),
        StatusCode::CONFLICT if size_body => match parse_size_body(&text) {
            Some(size) => Sent::Conflict(size),
            None => Sent::Trouble(WitnessTrouble::BadAnswer),
        },
        status if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS => {
            Sent::Trouble(WitnessTrouble::Unreachable(format!("it answered {status}")))
        }
        status => Sent::Trouble(WitnessTrouble::Refused {
            status: status.as_u16(),
            reason: text.lines().next().unwrap_or_default().chars().take(200).collect(),
        }),
    }
}

/// Adds `lines` (cosignatures) to the stored checkpoint of `size`, keeping any another server
/// added meanwhile, and marks it witnessed once the quorum of the configured witnesses is in;
/// answers whether it is.
async fn add_cosignatures(services: &Services, size: u64, lines: &str) -> ServiceResult<bool> {
    let witnesses = &services.witnesses;
    for _ in 0..MERGE_ATTEMPTS {
        let Some(stored) = store::ledger::checkpoint_for(&services.db, size).await? else {
            return Ok(false);
        };
        let mut note = stored.note.clone();
        for line in lines.lines() {
            let adds = witnesses.list.iter().any(|witness| {
                witness.key.cosignature_in(&note).is_none()
                    && witness.key.cosignature_in(&format!("{note}{line}\n")).is_some()
            });
            if adds {
                note.push_str(line);
                note.push('\n');
            }
        }
        let cosigned = witnesses
            .list
            .iter()
            .filter(|witness| witness.key.cosignature_in(&note).is_some())
            .count();
        let witnessed = cosigned >= witnesses.quorum;
        if note == stored.note && witnessed == stored.witnessed {
            return Ok(witnessed);
        }
        if store::ledger::witness_checkpoint(&services.db, size, &stored.note, &note, witnessed).await? {
            return Ok(witnessed);
        }
    }
    Ok(false)
}
