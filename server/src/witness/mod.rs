//! `keepsake witness`: a stand-alone C2SP [tlog-witness](https://c2sp.org/tlog-witness), for a
//! regulator, a partner or another operator to run next to their own systems. It follows the
//! logs whose verifier keys it is given, keeps the latest checkpoint it cosigned for each in a
//! SQLite file of its own, and cosigns a new checkpoint only when a consistency proof shows it
//! extends that one ([`crate::ledger::add_checkpoint`] has the rules). Its only endpoint is
//! `POST /add-checkpoint`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::sync::Mutex;

use crate::ledger::add_checkpoint::{self, AddCheckpoint, Refusal, SIZE_MEDIA_TYPE};
use crate::ledger::checkpoint;
use crate::ledger::cosignature::WitnessSigner;
use crate::store::witness::WitnessState;

/// The largest request a witness reads: a checkpoint with its signatures and 63 proof lines
/// fit many times over.
const MAX_REQUEST: usize = 16 * 1024;

/// How a witness is run.
#[derive(Debug, Clone)]
pub struct WitnessOptions {
    pub listen: SocketAddr,
    /// The witness's name in its cosignatures (a host name it controls, by convention).
    pub name: String,
    pub key_file: PathBuf,
    pub state_file: PathBuf,
    /// Verifier keys of the logs it follows (`name+id+key`), the name being the log's origin.
    pub logs: Vec<String>,
}

struct Witness {
    signer: WitnessSigner,
    state: WitnessState,
    logs: Vec<String>,
    /// One request decided at a time, so each one's check and record are one step.
    deciding: Mutex<()>,
}

/// Loads (or creates) the witness's key, for `--print-key` and for [`run`].
pub fn load_signer(options: &WitnessOptions) -> anyhow::Result<WitnessSigner> {
    if options.name.is_empty() || options.name.chars().any(|c| c.is_whitespace() || c == '+') {
        anyhow::bail!("--name must be non-empty, without spaces or '+' (it names the witness's key)");
    }
    WitnessSigner::load(&options.key_file, options.name.clone())
        .with_context(|| format!("cannot read or create the witness key {}", options.key_file.display()))
}

/// Runs the witness until SIGTERM or Ctrl-C.
pub async fn run(options: WitnessOptions) -> anyhow::Result<()> {
    let signer = load_signer(&options)?;
    for key in &options.logs {
        checkpoint::parse_verifier_key(key)
            .map_err(|_| anyhow::anyhow!("--log {key} is not a log's verifier key (name+id+key)"))?;
    }
    if options.logs.is_empty() {
        anyhow::bail!("give the verifier key of at least one log to witness (--log)");
    }
    let state = WitnessState::open(&options.state_file)
        .await
        .with_context(|| format!("cannot open the witness state {}", options.state_file.display()))?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let bound = listener.local_addr()?;
    println!("Witness {} listening on http://{bound}", signer.verifier_key());
    let witness = Arc::new(Witness {
        signer,
        state,
        logs: options.logs,
        deciding: Mutex::new(()),
    });
    let app = Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(DefaultBodyLimit::max(MAX_REQUEST))
        .with_state(witness);
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::server::shutdown_signal())
        .await?;
    Ok(())
}

fn refused(refusal: &Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
    match refusal {
        Refusal::Conflict(size) => (status, [(CONTENT_TYPE, SIZE_MEDIA_TYPE)], format!("{size}\n")).into_response(),
        other => (status, format!("{other}\n")).into_response(),
    }
}

/// `POST /add-checkpoint`.
async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: String) -> Response {
    let request = match AddCheckpoint::parse(&body) {
        Ok(request) => request,
        Err(refusal) => return refused(&refusal),
    };
    let origin = add_checkpoint::origin_of(&request.checkpoint)
        .unwrap_or_default()
        .to_owned();
    let keys: Vec<String> = witness
        .logs
        .iter()
        .filter(|key| key.split('+').next() == Some(origin.as_str()))
        .cloned()
        .collect();
    let _deciding = witness.deciding.lock().await;
    let known = match witness.state.latest(&origin).await {
        Ok(known) => known,
        Err(err) => return unavailable(&err),
    };
    let (body, cosigned) = match add_checkpoint::decide(&request, &keys, known) {
        Ok(decided) => decided,
        Err(refusal) => {
            tracing::info!(log = %origin, status = refusal.status(), reason = %refusal, "checkpoint refused");
            return refused(&refusal);
        }
    };
    let now = chrono::Utc::now();
    match witness
        .state
        .advance(&origin, known, cosigned, &request.checkpoint, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => return refused(&Refusal::Conflict(known.map_or(0, |k| k.size))),
        Err(err) => return unavailable(&err),
    }
    tracing::info!(log = %origin, size = cosigned.size, "checkpoint cosigned");
    (StatusCode::OK, witness.signer.cosign(&body, now)).into_response()
}

fn unavailable(err: &crate::store::StoreError) -> Response {
    tracing::error!(error = %err, "the witness cannot read or write its state");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the witness cannot read or write its state; try again later\n",
    )
        .into_response()
}
