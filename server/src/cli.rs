//! The command line: `keepsake [serve]`, `keepsake migrate`, `keepsake demo`,
//! `keepsake create-admin`, `keepsake ledger audit`, `keepsake ledger rotate-key`,
//! `keepsake verify`, `keepsake witness` and `keepsake monitor`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use base64::Engine;
use chrono::Utc;
use clap::{Parser, Subcommand};
use sha3::{Digest, Sha3_256};
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};
use crate::crypto;
use crate::domain::account::{Email, NewPassword};
use crate::domain::governance::GovernanceYear;
use crate::domain::role::Role;
use crate::i18n::Locale;
use crate::ledger::cosignature::WitnessKey;
use crate::ledger::receipt::{self, Receipt, Trust};
use crate::services::accounts;
use crate::services::ledger::audit::{self as ledger_audit, OutsideCheckpoint};
use crate::{monitor, server, services, witness};

/// Keepsake: a compliant digital-collectibles issuance platform.
///
/// Settings come from an optional configuration file and from environment variables
/// (the environment wins); see the README for the full list.
#[derive(Debug, Parser)]
#[command(name = "keepsake", version)]
struct Cli {
    /// Configuration file; a missing file is ignored unless named explicitly.
    #[arg(long, env = "KEEPSAKE_CONFIG", global = true)]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform: web server and background workers (the default). Applies pending
    /// database migrations first and stops gracefully on SIGTERM or Ctrl-C.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run the platform filled with demonstration data: on an empty data directory it creates
    /// an operator, a reviewer, an approved issuer, two verified collectors, published
    /// collections in each claim mode, a batch of claim codes and a few claims, prints the
    /// accounts and their passwords, and serves. It refuses a database that holds anything
    /// else; every page of a demo installation says that it is one.
    Demo,
    /// Create a platform administrator with a verified email address. The password is read
    /// as one line from standard input, so it never appears in the process list or history.
    CreateAdmin {
        /// Email address the administrator logs in with.
        #[arg(long)]
        email: String,
    },
    /// Ledger maintenance.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Reports an operator hands in.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Follow a log through its C2SP tiles, as a regulator or partner would: check every
    /// published checkpoint's signature and cosignatures and that it extends the last one seen
    /// (kept in the state file), rebuild the tree from the entries, and check the platform's
    /// rules from the entries alone. Exits 0 while all is well, 3 with a report naming what
    /// the log broke (rolled back, forked, tampered with, a rule), 1 when it cannot check.
    Monitor {
        /// The log's tile prefix: `<public URL>/ledger`.
        url: String,
        /// The log's verifier key (`name+id+key`, from /api/v1/ledger/keys, or a file of keys
        /// one per line); may be given many times.
        #[arg(long = "key", value_name = "KEY", required = true)]
        keys: Vec<String>,
        /// A witness's verifier key whose cosignature counts; may be given many times.
        #[arg(long = "witness", value_name = "KEY")]
        witnesses: Vec<String>,
        /// How many of the witnesses given must have cosigned each checkpoint (default: all).
        #[arg(long, requires = "witnesses")]
        quorum: Option<usize>,
        /// Where the monitor keeps what it saw between runs.
        #[arg(long, default_value = "keepsake-monitor.json")]
        state: PathBuf,
        /// Check once and exit, for cron.
        #[arg(long)]
        once: bool,
        /// Seconds between checks when following.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        every: u64,
    },
    /// Run a witness (C2SP tlog-witness) for one or more logs: it cosigns a checkpoint only
    /// after checking that it extends the last one it cosigned for that log, so a log cannot
    /// show two histories. Needs no database or configuration of the platform; its state is
    /// one SQLite file. Prints its verifier key, which logs list in `ledger.witnesses`.
    Witness {
        /// Address and port to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8091")]
        listen: std::net::SocketAddr,
        /// The witness's name in its cosignatures, by convention a host name you control.
        #[arg(long)]
        name: String,
        /// The witness's Ed25519 seed, created at the first start; back it up with the state.
        #[arg(long, default_value = "witness.key")]
        key_file: PathBuf,
        /// SQLite file holding the latest checkpoint cosigned for each log.
        #[arg(long, default_value = "witness.db")]
        state: PathBuf,
        /// A log to witness: its verifier key (`name+id+key`, from /api/v1/ledger/key) or a file
        /// of keys, one per line; may be given many times.
        #[arg(long = "log", value_name = "KEY")]
        logs: Vec<String>,
        /// Print the witness's verifier key (creating the key file if needed) and exit.
        #[arg(long)]
        print_key: bool,
    },
    /// Check a receipt fully offline: the entry hashes to its leaf, the inclusion proof leads
    /// to the checkpoint's root, and the checkpoint is signed by the verifier key. Needs no
    /// database, configuration or network. Exits 0 when everything checks, 1 with the reason
    /// otherwise.
    Verify {
        /// The receipt JSON, as the attestation API or the /verify page gives it.
        receipt: PathBuf,
        /// A checkpoint (signed note) obtained independently, used instead of the receipt's.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The operator's verifier key (`name+id+key`, or a file holding keys one per line);
        /// may be given many times, e.g. the current key and those retired (see
        /// /api/v1/ledger/keys). Without it the key named in the receipt is trusted, which
        /// proves integrity but not origin.
        #[arg(long = "key", value_name = "KEY")]
        keys: Vec<String>,
        /// A file whose SHA3-256 must be the hash the entry attests.
        #[arg(long)]
        file: Option<PathBuf>,
        /// A witness's verifier key (`name+id+key`, or a file of keys one per line) whose
        /// cosignature of the checkpoint counts; may be given many times.
        #[arg(long = "witness", value_name = "KEY")]
        witnesses: Vec<String>,
        /// How many of the witnesses given must have cosigned the checkpoint (default: all).
        #[arg(long, requires = "witnesses")]
        quorum: Option<usize>,
        /// JSON-RPC URL of the chain the receipt's anchor is on: checks that its transaction
        /// is there, in its block, carrying the anchored checkpoint's hash.
        #[arg(long, value_name = "URL")]
        rpc: Option<url::Url>,
    },
    /// Check a regulator's export bundle fully offline: the manifest signed by the operator's
    /// key, every file's SHA-256 and length as the manifest gives them, the checkpoint signed
    /// by the same key, every receipt proven against it, and every record that names a ledger
    /// entry matched by that entry's receipt. Exits 0 when everything checks, 1 with the reason
    /// otherwise.
    VerifyExport {
        /// The bundle (`keepsake-export-<n>.tar`), as the regulator console gives it.
        bundle: PathBuf,
        /// The operator's verifier key (`name+id+key`, or a file holding keys one per line),
        /// obtained independently (see /api/v1/ledger/keys); may be given many times.
        #[arg(long = "key", value_name = "KEY", required = true)]
        keys: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// The annual content governance report: reviews by outcome and reason, takedowns, reports
    /// and appeals with their outcomes and times, refusals for age and identity reveals, for
    /// one calendar year in Beijing time; written to standard output.
    Governance {
        #[arg(long)]
        year: i32,
        /// `html` (a printable document) or `csv` (`section,item,value`).
        #[arg(long, default_value = "html")]
        format: String,
        /// The document's language: `zh-CN` or `en`.
        #[arg(long, default_value = "zh-CN")]
        lang: String,
    },
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Recompute every root from the stored entries, check every stored checkpoint and its
    /// signature, and the consistency of consecutive checkpoints. Exits non-zero naming the
    /// first tampered index if anything was altered.
    Audit {
        /// Verifier key to check signatures with; may be given many times (default: this
        /// installation's own key and those it retired).
        #[arg(long = "key", value_name = "KEY")]
        keys: Vec<String>,
        /// A signed checkpoint kept outside the database (saved by a client, a witness or the
        /// operator from `/api/v1/ledger/checkpoint`); may be given many times. The log must
        /// still contain it: this is what catches a log rolled back whole.
        #[arg(long = "checkpoint", value_name = "FILE")]
        checkpoints: Vec<PathBuf>,
    },
    /// Replace the key that signs checkpoints with a new one, with every server of the
    /// installation stopped. The new key cosigns the latest checkpoint; the old key stays
    /// listed at /api/v1/ledger/keys so old receipts keep verifying, and its private half is
    /// destroyed. Copy the new key file to every server before starting them again.
    RotateKey,
}

const DEFAULT_CONFIG_FILE: &str = "keepsake.toml";

/// Parses the command line, runs the command and reports failure on standard error.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let (path, explicit) = match &cli.config {
        Some(path) => (path.clone(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    let file = (explicit || path.is_file()).then_some(path.as_path());
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("keepsake: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("keepsake: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => server::serve(config).await,
            Command::Migrate => migrate(&config).await,
            Command::Demo => crate::demo::run(config).await,
            Command::CreateAdmin { email } => create_admin(&config, &email).await,
            Command::Ledger(LedgerCommand::Audit { keys, checkpoints }) => {
                audit_ledger(&config, keys, &checkpoints).await
            }
            Command::Ledger(LedgerCommand::RotateKey) => rotate_key(&config).await,
            Command::Report(ReportCommand::Governance { year, format, lang }) => {
                governance_report(&config, year, &format, &lang).await
            }
            Command::Monitor {
                url,
                keys,
                witnesses,
                quorum,
                state,
                once,
                every,
            } => {
                let witnesses = witness_keys(&witnesses)?;
                let quorum = quorum_of(quorum, witnesses.len())?;
                let keys = keys_from(&keys)?;
                for key in &keys {
                    crate::ledger::checkpoint::parse_verifier_key(key)
                        .map_err(|_| anyhow::anyhow!("--key {key} is not a log's verifier key (name+id+key)"))?;
                }
                let options = monitor::MonitorOptions {
                    url,
                    keys,
                    witnesses,
                    quorum,
                    state_file: state,
                };
                follow_log(&options, once, std::time::Duration::from_secs(every)).await
            }
            Command::Witness {
                listen,
                name,
                key_file,
                state,
                logs,
                print_key,
            } => {
                let options = witness::WitnessOptions {
                    listen,
                    name,
                    key_file,
                    state_file: state,
                    logs: keys_from(&logs)?,
                };
                if print_key {
                    println!("{}", witness::load_signer(&options)?.verifier_key());
                    Ok(())
                } else {
                    witness::run(options).await
                }
            }
            Command::VerifyExport { bundle, keys } => verify_export(&bundle, &keys)
                .map(|report| print!("{report}"))
                .context("export bundle NOT verified"),
            Command::Verify {
                receipt,
                checkpoint,
                keys,
                file,
                witnesses,
                quorum,
                rpc,
            } => {
                let given = Given {
                    checkpoint: checkpoint.as_deref(),
                    keys: &keys,
                    file: file.as_deref(),
                    witnesses: &witnesses,
                    quorum,
                    rpc: rpc.as_ref(),
                };
                verify_receipt(&receipt, given)
                    .await
                    .map(|report| print!("{report}"))
                    .context("receipt NOT verified")
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<monitor::Broken>().is_some() => {
            eprintln!("keepsake monitor: {err:#}");
            ExitCode::from(3)
        }
        Err(err) => {
            eprintln!("keepsake: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Libraries that write personal data at their most detailed levels, and the most detail let
/// through from each whatever `KEEPSAKE_LOG` asks: statements with their values (sea-orm),
/// client addresses (axum and hyper, at connection level), and the SMTP conversation with its
/// recipients (lettre).
const PERSONAL_DATA_CAPS: [(&str, tracing::Level); 6] = [
    ("sea_orm", tracing::Level::INFO),
    ("sqlx", tracing::Level::INFO),
    ("axum::serve", tracing::Level::DEBUG),
    ("hyper", tracing::Level::DEBUG),
    ("hyper_util", tracing::Level::DEBUG),
    ("lettre", tracing::Level::INFO),
];

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, fmt};

    let chosen = EnvFilter::try_from_env("KEEPSAKE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,aws=warn,hyper=warn"));
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(PERSONAL_DATA_CAPS);
    let filter = chosen.and(caps);
    let layer = fmt::layer()
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let layer = match format {
        LogFormat::Text => layer.with_filter(filter).boxed(),
        LogFormat::Json => layer.json().with_filter(filter).boxed(),
    };
    tracing_subscriber::registry().with(layer).init();
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    server::open_database(config).await?;
    println!("Database is up to date.");
    Ok(())
}

async fn create_admin(config: &Config, email: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    let password = NewPassword::parse(password, password, &email).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let db = server::open_database(config).await?;
    let Ok(id) = accounts::create_verified(&db, &email, password, Some(Role::Admin), Utc::now()).await? else {
        bail!("an account with the email {} already exists", email.as_str());
    };
    println!("Administrator {} created (user id {id}).", email.as_str());
    Ok(())
}

async fn rotate_key(config: &Config) -> anyhow::Result<()> {
    let db = server::open_database(config).await?;
    let key_file = &config.ledger.signing_key_file;
    let rotated = services::ledger::rotation::rotate(&db, key_file, Utc::now())
        .await
        .context("key rotation failed")?;
    if let Some(retired) = &rotated.retired {
        println!("Retired {retired}");
    }
    println!("The ledger is now signed by {}", rotated.current);
    if let Some(size) = rotated.cosigned_size {
        println!("Both keys signed the checkpoint for size {size}.");
    }
    println!(
        "Copy {} to every server of this installation before starting them.",
        key_file.display()
    );
    Ok(())
}

async fn audit_ledger(config: &Config, mut keys: Vec<String>, checkpoints: &[PathBuf]) -> anyhow::Result<()> {
    let outside = checkpoints
        .iter()
        .map(|path| {
            Ok(OutsideCheckpoint {
                name: path.display().to_string(),
                note: read_text(path, "checkpoint")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let db = server::open_database(config).await?;
    if keys.is_empty() {
        match ledger_audit::installation_keys(&db).await? {
            Some(installed) => keys = installed,
            None => anyhow::bail!("this database holds no ledger yet; pass --key to audit against a given key"),
        }
    }
    let report = ledger_audit::run(&db, &keys, &outside)
        .await
        .context("ledger audit failed")?;
    println!(
        "Ledger audit passed: {} entries, {} stored checkpoints, {} outside, root {}.",
        report.entries,
        report.checkpoints,
        report.outside,
        base64::engine::general_purpose::STANDARD.encode(report.root)
    );
    Ok(())
}

fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read the {what} {}", path.display()))
}

/// Keys given on the command line, each as it is or as a file of keys, one per line.
fn keys_from(given: &[String]) -> anyhow::Result<Vec<String>> {
    let mut keys = Vec::new();
    for key in given {
        if Path::new(key).is_file() {
            let listed = read_text(Path::new(key), "key file")?;
            keys.extend(
                listed
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
        } else {
            keys.push(key.trim().to_owned());
        }
    }
    Ok(keys)
}

/// What `keepsake verify` was given beside the receipt.
struct Given<'a> {
    checkpoint: Option<&'a Path>,
    keys: &'a [String],
    file: Option<&'a Path>,
    witnesses: &'a [String],
    quorum: Option<usize>,
    rpc: Option<&'a url::Url>,
}

/// `--witness` keys, each a key or a file of keys.
fn witness_keys(given: &[String]) -> anyhow::Result<Vec<WitnessKey>> {
    keys_from(given)?
        .iter()
        .map(|key| {
            WitnessKey::parse(key).map_err(|_| anyhow::anyhow!("--witness {key} is not a witness's verifier key"))
        })
        .collect()
}

/// `--quorum`, all the witnesses given unless told.
fn quorum_of(quorum: Option<usize>, witnesses: usize) -> anyhow::Result<usize> {
    let quorum = quorum.unwrap_or(witnesses);
    if quorum > witnesses {
        bail!("--quorum {quorum} is more than the {witnesses} witnesses given");
    }
    Ok(quorum)
}

/// Checks the log once, or every `every` until it breaks something or the process is stopped;
/// a log that cannot be reached is tried again at the next check.
async fn follow_log(options: &monitor::MonitorOptions, once: bool, every: std::time::Duration) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    loop {
        match monitor::check(&http, options).await {
            Ok(checked) => println!("{checked}"),
            Err(monitor::MonitorError::Broken(broken)) => return Err(broken.into()),
            Err(err @ monitor::MonitorError::State(_)) => return Err(err.into()),
            Err(err) if once => return Err(err.into()),
            Err(err) => eprintln!("keepsake monitor: {err}; trying again in {} s", every.as_secs()),
        }
        if once {
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = server::shutdown_signal() => return Ok(()),
        }
    }
}

/// Writes the governance report of `year` to standard output.
async fn governance_report(config: &Config, year: i32, format: &str, lang: &str) -> anyhow::Result<()> {
    let year = GovernanceYear::new(year)?;
    let locale = Locale::from_tag(lang).ok_or_else(|| anyhow::anyhow!("--lang is zh-CN or en, not {lang}"))?;
    let db = server::open_database(config).await?;
    let figures = crate::store::governance::figures(&db, year).await?;
    let out = match format {
        "html" => crate::web::admin::governance::document(locale, &config.operator.name, year, &figures)?.into_bytes(),
        "csv" => crate::web::admin::governance::csv(&figures)
            .and_then(|file| file.into_bytes())
            .map_err(|err| anyhow::anyhow!("{err}"))?,
        other => bail!("--format is html or csv, not {other}"),
    };
    std::io::stdout().write_all(&out)?;
    Ok(())
}

/// Checks an export bundle offline and describes what it holds.
fn verify_export(bundle: &Path, keys: &[String]) -> anyhow::Result<String> {
    let keys = keys_from(keys)?;
    let file = std::fs::File::open(bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
    let checked = crate::export::check::check(std::io::BufReader::new(file), &keys)?;
    let manifest = &checked.manifest;
    let issuers = match manifest.scope.issuer {
        Some(id) => format!("issuer {id}"),
        None => "every issuer".to_owned(),
    };
    Ok(format!(
        "Export bundle verified.\n  export      #{} made {} by {}\n  scope       {} to {}, {issuers}\n  files       {} \
         with their digests\n  checkpoint  {}\n  receipts    {} verified\n  records     {} collections, {} tokens \
         matched to their entries\n",
        manifest.export,
        manifest.made_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        manifest.origin,
        manifest.scope.from,
        manifest.scope.to,
        checked.files,
        manifest
            .checkpoint_size
            .map_or_else(|| "none (empty log)".to_owned(), |size| format!("size {size}, signed")),
        checked.receipts,
        checked.collections,
        checked.tokens,
    ))
}

/// Checks a receipt offline and describes what was checked.
async fn verify_receipt(receipt: &Path, given: Given<'_>) -> anyhow::Result<String> {
    let receipt = Receipt::parse(&read_text(receipt, "receipt")?)?;
    let checkpoint = given.checkpoint.map(|path| read_text(path, "checkpoint")).transpose()?;
    let trusted = keys_from(given.keys)?;
    let witnesses = keys_from(given.witnesses)?
        .iter()
        .map(|key| {
            WitnessKey::parse(key).map_err(|_| anyhow::anyhow!("--witness {key} is not a witness's verifier key"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let quorum = given.quorum.unwrap_or(witnesses.len());
    if quorum > witnesses.len() {
        bail!("--quorum {quorum} is more than the {} witnesses given", witnesses.len());
    }
    let verified = receipt.verify(Trust {
        keys: &trusted,
        checkpoint: checkpoint.as_deref(),
        witnesses: &witnesses,
        quorum,
    })?;
    let mut report = String::from("Receipt verified.\n");
    let recorded = chrono::DateTime::from_timestamp_millis(verified.entry.timestamp_ms as i64)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    report += &format!(
        "  entry       #{} {} recorded {recorded}\n",
        verified.index,
        verified.entry.body.type_name()
    );
    for (name, value) in receipt::field_pairs(&verified.entry.body) {
        report += &format!("  {name:<11} {value}\n");
    }
    if let Some(path) = given.file {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let digest: [u8; 32] = Sha3_256::digest(&bytes).into();
        match verified.entry.body.attested_digest() {
            Some(attested) if *attested == digest => {
                report += &format!("  file        {} has the attested SHA3-256\n", path.display());
            }
            Some(attested) => bail!(
                "{} has SHA3-256 {}, but the entry attests {}",
                path.display(),
                crypto::hex(&digest),
                crypto::hex(attested)
            ),
            None => bail!("a {} entry attests no file hash", verified.entry.body.type_name()),
        }
    }
    report += &format!(
        "  leaf hash   {}\n  proof       {} steps to root {}\n  checkpoint  {} at size {}\n",
        crypto::hex(&verified.leaf),
        verified.steps.len(),
        crypto::hex(&verified.checkpoint.root),
        verified.checkpoint.origin,
        verified.checkpoint.size,
    );
    for (witness, at) in &verified.witnessed_by {
        report += &format!(
            "  witness     {witness} cosigned it at {}\n",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    match (&verified.anchor, given.rpc) {
        (Some(anchor), Some(rpc)) => {
            let on_chain = crate::chain::check(rpc, anchor).await?;
            report += &format!(
                "  anchor      the checkpoint of size {} is on chain {} in block {}, transaction {} from {}\n",
                anchor.size, anchor.chain_id, anchor.block_number, anchor.transaction, on_chain.from
            );
        }
        (Some(anchor), None) => {
            report += &format!(
                "  anchor      chain {}, block {}, transaction {} (not looked up: pass --rpc URL to check it on the chain)\n",
                anchor.chain_id, anchor.block_number, anchor.transaction
            );
        }
        (None, Some(_)) => bail!(
            "the receipt carries no anchor: no anchored checkpoint covers the entry yet; fetch the receipt again later"
        ),
        (None, None) => {}
    }
    if verified.holder_proven {
        report += "  holder      the certificate's opening opens the entry's holder commitment\n";
    }
    report += if verified.key_pinned {
        "  signature   valid, by the verifier key you gave\n"
    } else {
        "  signature   valid, by the key named in the receipt (pass --key with the operator's published key to check who signed)\n"
    };
    Ok(report)
}
