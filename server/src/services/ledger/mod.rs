//! The ledger's database side: queueing entries and reading what was sequenced ([`log`]), the
//! sequencer that appends and signs them in batches, the audit that recomputes the log,
//! carrying a v1 log over, key rotation, and the tiles published from it and read back. The
//! format itself is [`crate::ledger`].

pub mod anchoring;
pub mod audit;
pub mod carry_over;
pub mod log;
pub mod rotation;
pub mod sequencer;
pub mod tile_publisher;
pub mod tiles;
pub mod witnessing;

use anyhow::Context;

use crate::config::Config;
use crate::ledger::signer::CheckpointSigner;
use crate::store::{self, Database};

/// The ledger's checkpoint signer. At the first start its key is created (in `<data_dir>/keys/`
/// unless configured elsewhere) and the verifier key, with the log's name and key id, pinned
/// in the database; from then on the log keeps that name whatever `public_url` or
/// `ledger.origin` say, and a missing or different key file stops the server instead of
/// starting a second history under the same name.
pub async fn open_signer(config: &Config, db: &Database) -> anyhow::Result<CheckpointSigner> {
    let path = &config.ledger.signing_key_file;
    let pinned = store::installation::ledger_key(db).await?;
    let latest = store::ledger::latest_checkpoint(db).await?;
    if (pinned.is_some() || latest.is_some()) && !path.exists() {
        anyhow::bail!(
            "the ledger signing key {} is missing, but this database holds a log signed with it ({}): restore the \
             key file from a backup; a new key would sign a second history under the same name",
            path.display(),
            pinned.as_deref().unwrap_or("its checkpoints")
        );
    }
    let origin = match (&pinned, &latest) {
        (Some(key), _) => key.split('+').next().unwrap_or_default().to_owned(),
        (None, Some(checkpoint)) => checkpoint.note.lines().next().unwrap_or_default().to_owned(),
        (None, None) => config.ledger.origin.clone(),
    };
    if origin != config.ledger.origin {
        tracing::warn!(
            log = %origin,
            configured = %config.ledger.origin,
            "the ledger keeps the name it was started with; the configured name is not used for it"
        );
    }
    let signer = CheckpointSigner::load(path, origin).context("cannot read or create the ledger signing key")?;
    let own = signer.verifier_key();
    let wrong_key = |log: &str| {
        anyhow::anyhow!(
            "the ledger signing key {} is not this log's key (the log is signed by {log}): restore the right key file, \
             or run `keepsake ledger rotate-key` again if a rotation was interrupted",
            path.display()
        )
    };
    match pinned {
        Some(log) if log != own => return Err(wrong_key(&log)),
        Some(_) => {}
        None => {
            if let Some(checkpoint) = &latest
                && crate::ledger::checkpoint::verify(&checkpoint.note, &own).is_err()
            {
                return Err(wrong_key("the key of its latest checkpoint"));
            }
            if store::installation::pin_ledger_key(db, &own, chrono::Utc::now())
                .await
                .is_err()
            {
                // Another server of the installation started at the same moment and pinned first.
                match store::installation::ledger_key(db).await? {
                    Some(log) if log == own => {}
                    Some(log) => return Err(wrong_key(&log)),
                    None => anyhow::bail!("cannot pin the ledger's key in the database"),
                }
            }
        }
    }
    let carried = carry_over::carry_over(db, path, signer.origin(), chrono::Utc::now())
        .await
        .context("cannot carry the v1 ledger over into format v2")?;
    match carried {
        None => Ok(signer),
        Some(continued) => {
            tracing::info!(
                closed_at = continued.v1_size,
                log = %continued.origin,
                "the ledger moved to format v2 (SHA-256 tree); the v1 log is closed and its receipts keep verifying"
            );
            CheckpointSigner::load(path, continued.origin).context("cannot read the ledger signing key")
        }
    }
}
