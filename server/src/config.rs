//! Typed configuration: embedded defaults, an optional `keepsake.toml`, then environment.
//!
//! Every setting has one key in the file and one environment variable; the environment wins.
//! Values are parsed into types once, at start-up, and a bad value stops the server with an
//! error that names the setting. Secrets (database and SMTP passwords, S3 keys) are wrapped so
//! that they never appear in `Debug` output or logs.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use url::Url;

use crate::domain::age::MinimumAge;
use crate::domain::appeal::AppealWindow;
use crate::domain::filing_dates::{FilingDates, RecheckPeriod};
use crate::domain::filings::{BlockchainFilingNumber, IcpFilingNumber};
use crate::ledger::cosignature::WitnessKey;

/// A value that must not be printed: `Debug` shows `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One configurable setting: its key in `keepsake.toml` and its environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub key: &'static str,
    pub env: &'static str,
    pub help: &'static str,
    pub default: &'static str,
}

macro_rules! settings {
    ($($name:ident = $key:literal, $env:literal, $default:literal, $help:literal;)*) => {
        $(pub const $name: Setting = Setting { key: $key, env: $env, default: $default, help: $help };)*
        /// Every setting, in the order the README documents them.
        pub const ALL_SETTINGS: &[Setting] = &[$($name),*];
    };
}

settings! {
    BIND = "bind", "KEEPSAKE_BIND", "127.0.0.1:8080", "Address and port the web server listens on (port 0 picks a free port).";
    DATA_DIR = "data_dir", "KEEPSAKE_DATA_DIR", "./data", "Directory for the SQLite database, blobs, mail files and generated keys.";
    KEYS_DIR = "keys_dir", "KEEPSAKE_KEYS_DIR", "<data_dir>/keys", "Directory of the keys the server generates at the first start (CSRF, form results, identity encryption and blind index, ledger signing); every server on one database must use the same keys.";
    DATABASE_URL = "database_url", "DATABASE_URL", "sqlite://<data_dir>/keepsake.db", "sqlite://… or postgres://… connection URL.";
    PUBLIC_URL = "public_url", "KEEPSAKE_PUBLIC_URL", "http://<bind>", "Base URL used in links sent by email.";
    COOKIE_SECURE = "cookie_secure", "KEEPSAKE_COOKIE_SECURE", "false", "Mark cookies Secure (set to true behind HTTPS).";
    TRUSTED_PROXIES = "trusted_proxies", "KEEPSAKE_TRUSTED_PROXIES", "", "Reverse proxies whose X-Forwarded-For names the client, as addresses or networks separated by commas (unset: the connection's peer is the client).";
    LOG_FORMAT = "log_format", "KEEPSAKE_LOG_FORMAT", "text", "Log output: text or json (logs go to standard error).";
    OPERATOR_NAME = "operator.name", "KEEPSAKE_OPERATOR_NAME", "Keepsake", "Operator name shown in the footer and in emails.";
    ICP_FILING = "operator.icp_filing", "KEEPSAKE_ICP_FILING", "", "Operator's ICP filing number (京ICP备12345678号-1), shown on every page.";
    BLOCKCHAIN_FILING = "operator.blockchain_filing", "KEEPSAKE_BLOCKCHAIN_FILING", "", "Operator's blockchain-information-service filing number (京网信备…号), shown on every page.";
    OPERATOR_LICENCE_VALID_UNTIL = "operator.licence_valid_until", "KEEPSAKE_OPERATOR_LICENCE_VALID_UNTIL", "", "Last day (YYYY-MM-DD, Beijing) the operator's business licence is valid; unset when it has no end date.";
    OPERATOR_ICP_VALID_UNTIL = "operator.icp_valid_until", "KEEPSAKE_OPERATOR_ICP_VALID_UNTIL", "", "Last day (YYYY-MM-DD) the operator's ICP filing is valid; unset when it has no end date.";
    OPERATOR_BLOCKCHAIN_VALID_UNTIL = "operator.blockchain_valid_until", "KEEPSAKE_OPERATOR_BLOCKCHAIN_VALID_UNTIL", "", "Last day (YYYY-MM-DD) the operator's blockchain-information-service filing is valid; unset when it has no end date.";
    OPERATOR_FILINGS_CHECKED_ON = "operator.filings_checked_on", "KEEPSAKE_OPERATOR_FILINGS_CHECKED_ON", "", "Day (YYYY-MM-DD) the operator last checked its filings without an end date against the regulator's lists; they must be checked again within platform.filing_recheck_days. Admins are reminded 30, 7 and 1 days before the first filing runs out, and claims pause the day after until the dates are renewed here.";
    MINIMUM_AGE = "platform.minimum_age", "KEEPSAKE_MINIMUM_AGE", "18", "Youngest age, in full years from the date of birth in a verified ID number, that may claim collectibles or join an issuer; 14 to 99 (under 14 a guardian must consent, which Keepsake does not collect, so nobody under 14 is verified at all). A collection may set a higher one.";
    FILING_RECHECK_DAYS = "platform.filing_recheck_days", "KEEPSAKE_FILING_RECHECK_DAYS", "365", "Days within which a filing without a validity date (an issuer's or the operator's) must be checked again against the regulator's lists; 30 to 730.";
    APPEAL_WINDOW_DAYS = "platform.appeal_window_days", "KEEPSAKE_APPEAL_WINDOW_DAYS", "7", "Days after a suspension, freeze or rejection during which the issuer or holder may appeal it to another reviewer; 1 to 90.";
    MAIL_FROM = "mail.from", "KEEPSAKE_MAIL_FROM", "Keepsake <no-reply@keepsake.invalid>", "Sender of outgoing mail.";
    SMTP_URL = "mail.smtp_url", "KEEPSAKE_SMTP_URL", "", "smtp://user:pass@host:port (smtps:// for TLS); unset writes .eml files to <data_dir>/mail.";
    SMS_GATEWAY_URL = "sms.gateway_url", "KEEPSAKE_SMS_GATEWAY_URL", "", "URL of the SMS gateway (an Alibaba Cloud SMS SendSms-style HTTP API: signed requests, templates, error codes); unset writes messages as JSON files to <data_dir>/sms.";
    SMS_ACCESS_KEY_ID = "sms.access_key_id", "KEEPSAKE_SMS_ACCESS_KEY_ID", "", "Access key id for the SMS gateway.";
    SMS_ACCESS_KEY_SECRET = "sms.access_key_secret", "KEEPSAKE_SMS_ACCESS_KEY_SECRET", "", "Access key secret that signs requests to the SMS gateway (HMAC-SHA1).";
    SMS_SIGN_NAME = "sms.sign_name", "KEEPSAKE_SMS_SIGN_NAME", "<operator.name>", "The signature (签名) registered with the gateway, shown in brackets at the start of each message.";
    SMS_TEMPLATE_LOG_IN = "sms.template_log_in", "KEEPSAKE_SMS_TEMPLATE_LOG_IN", "SMS_LOG_IN", "Gateway template code of the log-in code message (parameter `code`).";
    SMS_TEMPLATE_ADD_PHONE = "sms.template_add_phone", "KEEPSAKE_SMS_TEMPLATE_ADD_PHONE", "SMS_ADD_PHONE", "Gateway template code of the message that confirms a new number (parameter `code`).";
    S3_ENDPOINT = "s3.endpoint", "KEEPSAKE_S3_ENDPOINT", "", "S3-compatible endpoint URL; unset stores blobs under <data_dir>/blobs.";
    S3_BUCKET = "s3.bucket", "KEEPSAKE_S3_BUCKET", "keepsake", "Bucket for blobs (created if missing).";
    S3_REGION = "s3.region", "KEEPSAKE_S3_REGION", "us-east-1", "Region name sent to the S3 endpoint.";
    S3_ACCESS_KEY_ID = "s3.access_key_id", "KEEPSAKE_S3_ACCESS_KEY_ID", "", "S3 access key id.";
    S3_SECRET_ACCESS_KEY = "s3.secret_access_key", "KEEPSAKE_S3_SECRET_ACCESS_KEY", "", "S3 secret access key.";
    LEDGER_ORIGIN = "ledger.origin", "KEEPSAKE_LEDGER_ORIGIN", "<public_url host>/ledger", "Name of the ledger in its signed checkpoints, taken at the first start and pinned in the database after that.";
    LEDGER_SIGNING_KEY_FILE = "ledger.signing_key_file", "KEEPSAKE_LEDGER_SIGNING_KEY_FILE", "<keys_dir>/ledger-signing.key", "Ed25519 seed that signs checkpoints, created at the first start; every server on one database must use the same one, and an existing log will not start without it.";
    LEDGER_BATCH_SIZE = "ledger.batch_size", "KEEPSAKE_LEDGER_BATCH_SIZE", "4096", "Most entries the sequencer appends per checkpoint.";
    LEDGER_INTERVAL_MS = "ledger.interval_ms", "KEEPSAKE_LEDGER_INTERVAL_MS", "250", "How often the sequencer looks for queued entries, in milliseconds.";
    LEDGER_TILE_CACHE_MB = "ledger.tile_cache_mb", "KEEPSAKE_LEDGER_TILE_CACHE_MB", "64", "Memory for ledger tiles served lately, in MiB (tiles never change, so they are kept until room is needed); 0 reads every tile from the blob store.";
    LEDGER_WITNESSES = "ledger.witnesses", "KEEPSAKE_LEDGER_WITNESSES", "", "Witnesses (C2SP tlog-witness, e.g. `keepsake witness`) that must cosign a checkpoint before it is published: `<URL> <verifier key>` for each, separated by commas (unset: checkpoints are published as the log signs them).";
    LEDGER_WITNESS_QUORUM = "ledger.witness_quorum", "KEEPSAKE_LEDGER_WITNESS_QUORUM", "<all of them>", "How many of `ledger.witnesses` must cosign a checkpoint before it is published.";
    LEDGER_ANCHOR_RPC_URL = "ledger.anchor_rpc_url", "KEEPSAKE_LEDGER_ANCHOR_RPC_URL", "", "JSON-RPC URL of the EVM chain the latest (witnessed) checkpoint is anchored on every so often (unset: no anchoring).";
    LEDGER_ANCHOR_CHAIN_ID = "ledger.anchor_chain_id", "KEEPSAKE_LEDGER_ANCHOR_CHAIN_ID", "", "The id of that chain; nothing is sent to an endpoint serving another.";
    LEDGER_ANCHOR_KEY_FILE = "ledger.anchor_key_file", "KEEPSAKE_LEDGER_ANCHOR_KEY_FILE", "<keys_dir>/ledger-anchor.key", "The private key (hex) of the funded account that sends anchoring transactions; you create it.";
    LEDGER_ANCHOR_INTERVAL_S = "ledger.anchor_interval_s", "KEEPSAKE_LEDGER_ANCHOR_INTERVAL_S", "600", "Seconds between anchors while the log grows.";
    LEDGER_ANCHOR_ENTRIES = "ledger.anchor_entries", "KEEPSAKE_LEDGER_ANCHOR_ENTRIES", "100000", "Entries added that bring the next anchor forward.";
    KYC_VERIFIER = "kyc.verifier", "KEEPSAKE_KYC_VERIFIER", "manual", "Identity verification: manual (reviewer queue) or http (an identity-verification provider).";
    KYC_PROVIDER_URL = "kyc.provider_url", "KEEPSAKE_KYC_PROVIDER_URL", "", "Base URL of the identity-verification provider (with kyc.verifier = http).";
    KYC_PROVIDER_KEY = "kyc.provider_key", "KEEPSAKE_KYC_PROVIDER_KEY", "", "Shared secret for the provider: bearer token for requests, HMAC key of its callbacks.";
}

/// Why the configuration could not be loaded. Every variant names the setting or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("configuration file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("configuration file {path}: unknown setting `{key}`")]
    UnknownKey { path: PathBuf, key: String },
    #[error("invalid value for setting `{}` ({}): {reason}", setting.key, setting.env)]
    Invalid { setting: Setting, reason: String },
}

fn invalid(setting: Setting, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The ledger's name, sequencing pace and witnesses.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    pub origin: String,
    pub signing_key_file: PathBuf,
    pub batch_size: u64,
    pub interval: std::time::Duration,
    pub tile_cache_bytes: usize,
    pub witnesses: Witnesses,
    /// `None`: checkpoints are not anchored on a chain.
    pub anchoring: Option<AnchorConfig>,
}

/// Anchoring checkpoints on an EVM chain.
#[derive(Debug, Clone)]
pub struct AnchorConfig {
    pub rpc_url: Url,
    pub chain_id: u64,
    pub key_file: PathBuf,
    /// The time between anchors while the log grows...
    pub interval: std::time::Duration,
    /// ...or sooner, once this many entries were added since the last.
    pub entries: u64,
}

/// The witnesses that check the log before its checkpoints are published.
#[derive(Debug, Clone, Default)]
pub struct Witnesses {
    pub list: Vec<WitnessPeer>,
    /// How many of them must cosign a checkpoint; 0 when there are none.
    pub quorum: usize,
}

impl Witnesses {
    /// Whether checkpoints wait for witnesses before they are published.
    pub fn required(&self) -> bool {
        self.quorum > 0
    }
}

/// One witness: where it listens (its `add-checkpoint` is under this URL) and its key.
#[derive(Debug, Clone)]
pub struct WitnessPeer {
    pub url: Url,
    pub key: WitnessKey,
}

/// Who verifies identities.
#[derive(Debug, Clone)]
pub enum KycConfig {
    /// Submissions wait in the reviewer queue.
    Manual,
    /// Submissions go to an identity-verification provider, which answers by signed callback.
    Http { provider_url: Url, key: Secret },
}

/// The operator of this platform, as the law requires it to be shown on every page.
#[derive(Debug, Clone)]
pub struct Operator {
    pub name: String,
    pub icp_filing: Option<IcpFilingNumber>,
    pub blockchain_filing: Option<BlockchainFilingNumber>,
    /// How long the operator's own filings are valid.
    pub filing_dates: FilingDates,
    /// When the operator last checked its filings without a validity date.
    pub filings_checked_on: Option<chrono::NaiveDate>,
}

/// Where outgoing mail goes.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub from: lettre::message::Mailbox,
    /// `None` writes `.eml` files under `<data_dir>/mail`.
    pub smtp_url: Option<Secret>,
}

/// Where texted codes go.
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// `None` writes JSON files under `<data_dir>/sms`.
    pub gateway: Option<SmsGateway>,
    pub sign_name: String,
    pub template_log_in: String,
    pub template_add_phone: String,
}

/// An SMS gateway and its credentials.
#[derive(Debug, Clone)]
pub struct SmsGateway {
    pub url: Url,
    pub access_key_id: String,
    pub access_key_secret: Secret,
}

/// An S3-compatible object store.
#[derive(Debug, Clone)]
pub struct S3Config {
    pub endpoint: Url,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// The whole, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// Where the generated keys live; shared by every server of an installation.
    pub keys_dir: PathBuf,
    pub database_url: Secret,
    /// `None` means "derive from the address actually bound" (useful with port 0).
    pub public_url: Option<Url>,
    pub cookie_secure: bool,
    /// Peers whose `X-Forwarded-For` is believed (see `domain::client_address`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub log_format: LogFormat,
    pub operator: Operator,
    /// The platform's minimum age for claiming and for joining issuers.
    pub minimum_age: MinimumAge,
    /// How long a decision against someone may be appealed.
    pub appeal_window: AppealWindow,
    /// Within how many days filings without a validity date are checked again.
    pub filing_recheck: RecheckPeriod,
    pub mail: MailConfig,
    pub sms: SmsConfig,
    pub s3: Option<S3Config>,
    pub kyc: KycConfig,
    pub ledger: LedgerConfig,
}

impl Config {
    /// Loads `file` (if given and present) and then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut values = BTreeMap::new();
        if let Some(path) = file {
            read_file(path, &mut values)?;
        }
        for setting in ALL_SETTINGS {
            if let Ok(value) = std::env::var(setting.env) {
                values.insert(setting.key, value);
            }
        }
        Self::from_values(&values)
    }

    /// Builds the configuration from raw values keyed by setting key; absent keys take defaults.
    pub fn from_values(values: &BTreeMap<&'static str, String>) -> Result<Self, ConfigError> {
        let get = |s: Setting| values.get(s.key).map(|v| v.trim()).filter(|v| !v.is_empty());
        let date = |s: Setting| {
            get(s)
                .map(|raw| {
                    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                        .map_err(|_| invalid(s, format!("`{raw}` is not a date like 2027-06-30")))
                })
                .transpose()
        };

        let bind_raw = get(BIND).unwrap_or(BIND.default);
        let bind: SocketAddr = bind_raw
            .parse()
            .map_err(|_| invalid(BIND, format!("`{bind_raw}` is not an address like 127.0.0.1:8080")))?;

        let data_dir = PathBuf::from(get(DATA_DIR).unwrap_or(DATA_DIR.default));
        let keys_dir = get(KEYS_DIR).map_or_else(|| data_dir.join("keys"), PathBuf::from);

        let database_url = match get(DATABASE_URL) {
            Some(url) => {
                if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(invalid(
                        DATABASE_URL,
                        "must start with sqlite:, postgres:// or postgresql://",
                    ));
                }
                Url::parse(url).map_err(|e| invalid(DATABASE_URL, e.to_string()))?;
                url.to_owned()
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("keepsake.db").display()),
        };

        let public_url = get(PUBLIC_URL)
            .map(|raw| {
                let url = Url::parse(raw).map_err(|e| invalid(PUBLIC_URL, e.to_string()))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(invalid(PUBLIC_URL, "must be an http:// or https:// URL"));
                }
                Ok(url)
            })
            .transpose()?;

        let cookie_secure = parse_bool(COOKIE_SECURE, get(COOKIE_SECURE))?;

        let trusted_proxies = get(TRUSTED_PROXIES)
            .map_or("", |v| v)
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<ipnet::IpNet>()
                    .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        invalid(
                            TRUSTED_PROXIES,
                            format!("`{item}` is neither an address (10.0.0.1) nor a network (10.0.0.0/8)"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let log_format = match get(LOG_FORMAT).unwrap_or(LOG_FORMAT.default) {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(invalid(LOG_FORMAT, format!("`{other}` is neither text nor json"))),
        };

        let operator = Operator {
            name: get(OPERATOR_NAME).unwrap_or(OPERATOR_NAME.default).to_owned(),
            icp_filing: get(ICP_FILING)
                .map(|v| IcpFilingNumber::parse(v).map_err(|e| invalid(ICP_FILING, e.to_string())))
                .transpose()?,
            blockchain_filing: get(BLOCKCHAIN_FILING)
                .map(|v| BlockchainFilingNumber::parse(v).map_err(|e| invalid(BLOCKCHAIN_FILING, e.to_string())))
                .transpose()?,
            filing_dates: FilingDates {
                licence: date(OPERATOR_LICENCE_VALID_UNTIL)?,
                icp: date(OPERATOR_ICP_VALID_UNTIL)?,
                blockchain: date(OPERATOR_BLOCKCHAIN_VALID_UNTIL)?,
            },
            filings_checked_on: date(OPERATOR_FILINGS_CHECKED_ON)?,
        };
        let filing_recheck = get(FILING_RECHECK_DAYS)
            .map(|raw| {
                raw.trim()
                    .parse()
                    .ok()
                    .and_then(|days| RecheckPeriod::days(days).ok())
                    .ok_or_else(|| invalid(FILING_RECHECK_DAYS, "expected a number of days from 30 to 730"))
            })
            .transpose()?
            .unwrap_or_default();

        let minimum_age = get(MINIMUM_AGE)
            .map(|raw| MinimumAge::parse(raw).map_err(|e| invalid(MINIMUM_AGE, e.to_string())))
            .transpose()?
            .unwrap_or(MinimumAge::ADULT);
        let appeal_window = get(APPEAL_WINDOW_DAYS)
            .map(|raw| {
                raw.trim()
                    .parse()
                    .ok()
                    .and_then(|days| AppealWindow::days(days).ok())
                    .ok_or_else(|| invalid(APPEAL_WINDOW_DAYS, "expected a number of days from 1 to 90"))
            })
            .transpose()?
            .unwrap_or_default();

        let from_raw = get(MAIL_FROM).unwrap_or(MAIL_FROM.default);
        let from = from_raw
            .parse()
            .map_err(|e| invalid(MAIL_FROM, format!("`{from_raw}` is not a mailbox: {e}")))?;
        let smtp_url = get(SMTP_URL)
            .map(|raw| {
                let url = Url::parse(raw).map_err(|e| invalid(SMTP_URL, e.to_string()))?;
                if !matches!(url.scheme(), "smtp" | "smtps") || url.host_str().is_none() {
                    return Err(invalid(
                        SMTP_URL,
                        "must look like smtp://host:port or smtps://host:port",
                    ));
                }
                Ok(Secret::new(raw))
            })
            .transpose()?;

        let s3 = get(S3_ENDPOINT)
            .map(|raw| {
                let endpoint = Url::parse(raw).map_err(|e| invalid(S3_ENDPOINT, e.to_string()))?;
                if !matches!(endpoint.scheme(), "http" | "https") {
                    return Err(invalid(S3_ENDPOINT, "must be an http:// or https:// URL"));
                }
                let bucket = get(S3_BUCKET).unwrap_or(S3_BUCKET.default).to_owned();
                let bucket_ok = (3..=63).contains(&bucket.len())
                    && bucket
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
                if !bucket_ok {
                    return Err(invalid(S3_BUCKET, "3 to 63 lowercase letters, digits, dots or hyphens"));
                }
                let access_key_id = get(S3_ACCESS_KEY_ID)
                    .ok_or_else(|| invalid(S3_ACCESS_KEY_ID, "required when an S3 endpoint is set"))?;
                let secret = get(S3_SECRET_ACCESS_KEY)
                    .ok_or_else(|| invalid(S3_SECRET_ACCESS_KEY, "required when an S3 endpoint is set"))?;
                Ok(S3Config {
                    endpoint,
                    bucket,
                    region: get(S3_REGION).unwrap_or(S3_REGION.default).to_owned(),
                    access_key_id: access_key_id.to_owned(),
                    secret_access_key: Secret::new(secret),
                })
            })
            .transpose()?;

        let template = |setting: Setting| -> Result<String, ConfigError> {
            let code = get(setting).unwrap_or(setting.default);
            if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(invalid(setting, "a template code is letters, digits and underscores"));
            }
            Ok(code.to_owned())
        };
        let sms = SmsConfig {
            gateway: get(SMS_GATEWAY_URL)
                .map(|raw| {
                    let url = Url::parse(raw).map_err(|e| invalid(SMS_GATEWAY_URL, e.to_string()))?;
                    if !matches!(url.scheme(), "http" | "https") {
                        return Err(invalid(SMS_GATEWAY_URL, "must be an http:// or https:// URL"));
                    }
                    let access_key_id = get(SMS_ACCESS_KEY_ID)
                        .ok_or_else(|| invalid(SMS_ACCESS_KEY_ID, "required when an SMS gateway is set"))?;
                    let secret = get(SMS_ACCESS_KEY_SECRET)
                        .ok_or_else(|| invalid(SMS_ACCESS_KEY_SECRET, "required when an SMS gateway is set"))?;
                    Ok(SmsGateway {
                        url,
                        access_key_id: access_key_id.to_owned(),
                        access_key_secret: Secret::new(secret),
                    })
                })
                .transpose()?,
            sign_name: get(SMS_SIGN_NAME).unwrap_or(&operator.name).to_owned(),
            template_log_in: template(SMS_TEMPLATE_LOG_IN)?,
            template_add_phone: template(SMS_TEMPLATE_ADD_PHONE)?,
        };

        let kyc = match get(KYC_VERIFIER).unwrap_or(KYC_VERIFIER.default) {
            "manual" => KycConfig::Manual,
            "http" => {
                let raw = get(KYC_PROVIDER_URL)
                    .ok_or_else(|| invalid(KYC_PROVIDER_URL, "required with kyc.verifier = http"))?;
                let provider_url = Url::parse(raw).map_err(|e| invalid(KYC_PROVIDER_URL, e.to_string()))?;
                if !matches!(provider_url.scheme(), "http" | "https") {
                    return Err(invalid(KYC_PROVIDER_URL, "must be an http:// or https:// URL"));
                }
                let key = get(KYC_PROVIDER_KEY)
                    .ok_or_else(|| invalid(KYC_PROVIDER_KEY, "required with kyc.verifier = http"))?;
                if key.len() < 16 {
                    return Err(invalid(KYC_PROVIDER_KEY, "use at least 16 characters"));
                }
                KycConfig::Http {
                    provider_url,
                    key: Secret::new(key),
                }
            }
            other => return Err(invalid(KYC_VERIFIER, format!("`{other}` is neither manual nor http"))),
        };

        let origin = match get(LEDGER_ORIGIN) {
            Some(origin) => origin.to_owned(),
            None => {
                let host = public_url
                    .as_ref()
                    .and_then(|u| u.host_str())
                    .unwrap_or("keepsake.localhost");
                format!("{host}/ledger")
            }
        };
        if origin.chars().any(|c| c.is_whitespace() || c == '+') || origin.is_empty() {
            return Err(invalid(
                LEDGER_ORIGIN,
                "no spaces or '+' (it is a key name in signed notes)",
            ));
        }
        let number = |setting: Setting, min: u64, max: u64| -> Result<u64, ConfigError> {
            let raw = get(setting).unwrap_or(setting.default);
            raw.parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| invalid(setting, format!("`{raw}` is not a number from {min} to {max}")))
        };
        let ledger = LedgerConfig {
            origin,
            signing_key_file: get(LEDGER_SIGNING_KEY_FILE)
                .map_or_else(|| keys_dir.join("ledger-signing.key"), PathBuf::from),
            batch_size: number(LEDGER_BATCH_SIZE, 1, 10_000)?,
            interval: std::time::Duration::from_millis(number(LEDGER_INTERVAL_MS, 10, 60_000)?),
            tile_cache_bytes: usize::try_from(number(LEDGER_TILE_CACHE_MB, 0, 65_536)? << 20)
                .map_err(|_| invalid(LEDGER_TILE_CACHE_MB, "more memory than this machine can address"))?,
            witnesses: witnesses(get(LEDGER_WITNESSES), get(LEDGER_WITNESS_QUORUM))?,
            anchoring: get(LEDGER_ANCHOR_RPC_URL)
                .map(|raw| {
                    let rpc_url = Url::parse(raw).map_err(|e| invalid(LEDGER_ANCHOR_RPC_URL, e.to_string()))?;
                    if !matches!(rpc_url.scheme(), "http" | "https") {
                        return Err(invalid(LEDGER_ANCHOR_RPC_URL, "must be an http:// or https:// URL"));
                    }
                    let chain_id = get(LEDGER_ANCHOR_CHAIN_ID)
                        .ok_or_else(|| invalid(LEDGER_ANCHOR_CHAIN_ID, "required with an anchoring RPC URL"))?;
                    let chain_id =
                        chain_id.parse::<u64>().ok().filter(|id| *id > 0).ok_or_else(|| {
                            invalid(LEDGER_ANCHOR_CHAIN_ID, format!("`{chain_id}` is not a chain id"))
                        })?;
                    Ok(AnchorConfig {
                        rpc_url,
                        chain_id,
                        key_file: get(LEDGER_ANCHOR_KEY_FILE)
                            .map_or_else(|| keys_dir.join("ledger-anchor.key"), PathBuf::from),
                        interval: std::time::Duration::from_secs(number(LEDGER_ANCHOR_INTERVAL_S, 1, 86_400 * 7)?),
                        entries: number(LEDGER_ANCHOR_ENTRIES, 1, u64::MAX)?,
                    })
                })
                .transpose()?,
        };

        Ok(Config {
            bind,
            data_dir,
            keys_dir,
            database_url: Secret::new(database_url),
            public_url,
            cookie_secure,
            trusted_proxies,
            log_format,
            operator,
            minimum_age,
            appeal_window,
            filing_recheck,
            mail: MailConfig { from, smtp_url },
            sms,
            s3,
            kyc,
            ledger,
        })
    }
}

/// `ledger.witnesses` and `ledger.witness_quorum`.
fn witnesses(list: Option<&str>, quorum: Option<&str>) -> Result<Witnesses, ConfigError> {
    let list = list
        .unwrap_or_default()
        .split([',', '\n'])
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let bad = |why: &str| invalid(LEDGER_WITNESSES, format!("`{item}`: {why}"));
            let (url, key) = item
                .split_once(char::is_whitespace)
                .ok_or_else(|| bad("write the witness's URL, a space and its verifier key"))?;
            let url = Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(bad("the URL must be http:// or https://"));
            }
            let key =
                WitnessKey::parse(key).map_err(|_| bad("the key is not a witness's verifier key (name+id+key)"))?;
            Ok(WitnessPeer { url, key })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let quorum = match quorum {
        None => list.len(),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=list.len()).contains(n))
            .ok_or_else(|| {
                invalid(
                    LEDGER_WITNESS_QUORUM,
                    format!("`{raw}` is not a number from 1 to the {} witnesses listed", list.len()),
                )
            })?,
    };
    Ok(Witnesses { list, quorum })
}

fn parse_bool(setting: Setting, value: Option<&str>) -> Result<bool, ConfigError> {
    match value.unwrap_or(setting.default) {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(invalid(setting, format!("`{other}` is not true or false"))),
    }
}

/// Flattens a TOML file into `section.key` strings, refusing keys that are not settings.
fn read_file(path: &Path, values: &mut BTreeMap<&'static str, String>) -> Result<(), ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Syntax {
        path: path.to_owned(),
        message: e.message().to_owned(),
    })?;
    let mut flat = Vec::new();
    flatten(None, &table, &mut flat);
    for (key, value) in flat {
        let setting = ALL_SETTINGS
            .iter()
            .find(|s| s.key == key)
            .ok_or_else(|| ConfigError::UnknownKey {
                path: path.to_owned(),
                key: key.clone(),
            })?;
        values.insert(setting.key, value);
    }
    Ok(())
}

fn flatten(prefix: Option<&str>, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (key, value) in table {
        let full = match prefix {
            Some(p) => format!("{p}.{key}"),
            None => key.clone(),
        };
        match value {
            toml::Value::Table(inner) => flatten(Some(&full), inner, out),
            toml::Value::String(s) => out.push((full, s.clone())),
            other => out.push((full, other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(Setting, &str)]) -> Result<Config, ConfigError> {
        let values = pairs.iter().map(|(s, v)| (s.key, v.to_string())).collect();
        Config::from_values(&values)
    }

    fn failing_setting(pairs: &[(Setting, &str)]) -> Setting {
        match load(pairs) {
            Err(ConfigError::Invalid { setting, .. }) => setting,
            other => panic!("expected an invalid setting, got {other:?}"),
        }
    }

    #[test]
    fn defaults_run_without_any_service() {
        let config = load(&[]).unwrap();
        assert_eq!(config.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert!(config.database_url.expose().starts_with("sqlite://./data/keepsake.db"));
        assert!(config.mail.smtp_url.is_none());
        assert!(config.s3.is_none());
        assert!(config.operator.icp_filing.is_none());
        assert_eq!(config.minimum_age, MinimumAge::ADULT);
        assert!(
            config.ledger.anchoring.is_none(),
            "anchoring is off unless a chain is named"
        );
    }

    #[test]
    fn bad_values_name_their_setting() {
        assert_eq!(failing_setting(&[(BIND, "localhost")]), BIND);
        assert_eq!(failing_setting(&[(DATABASE_URL, "mysql://x")]), DATABASE_URL);
        assert_eq!(failing_setting(&[(PUBLIC_URL, "ftp://x")]), PUBLIC_URL);
        assert_eq!(failing_setting(&[(COOKIE_SECURE, "maybe")]), COOKIE_SECURE);
        assert_eq!(
            failing_setting(&[(TRUSTED_PROXIES, "10.0.0.0/8, proxy.internal")]),
            TRUSTED_PROXIES
        );
        assert_eq!(failing_setting(&[(LOG_FORMAT, "xml")]), LOG_FORMAT);
        assert_eq!(failing_setting(&[(ICP_FILING, "京ICP证110507号")]), ICP_FILING);
        assert_eq!(
            failing_setting(&[(BLOCKCHAIN_FILING, "京网信备123号")]),
            BLOCKCHAIN_FILING
        );
        assert_eq!(failing_setting(&[(MINIMUM_AGE, "13")]), MINIMUM_AGE);
        assert_eq!(failing_setting(&[(MINIMUM_AGE, "adults")]), MINIMUM_AGE);
        assert_eq!(failing_setting(&[(MAIL_FROM, "not a mailbox")]), MAIL_FROM);
        assert_eq!(failing_setting(&[(SMTP_URL, "http://mail")]), SMTP_URL);
        assert_eq!(
            failing_setting(&[(S3_ENDPOINT, "http://127.0.0.1:9000")]),
            S3_ACCESS_KEY_ID
        );
        assert_eq!(
            failing_setting(&[(S3_ENDPOINT, "http://s3"), (S3_BUCKET, "Bad_Bucket")]),
            S3_BUCKET
        );
        assert_eq!(
            failing_setting(&[(LEDGER_WITNESSES, "http://w.example w+00000000+AAAA")]),
            LEDGER_WITNESSES
        );
        assert_eq!(failing_setting(&[(LEDGER_WITNESS_QUORUM, "1")]), LEDGER_WITNESS_QUORUM);
        assert_eq!(
            failing_setting(&[(LEDGER_ANCHOR_RPC_URL, "http://127.0.0.1:8545")]),
            LEDGER_ANCHOR_CHAIN_ID
        );
        assert_eq!(
            failing_setting(&[
                (LEDGER_ANCHOR_RPC_URL, "ws://127.0.0.1:8545"),
                (LEDGER_ANCHOR_CHAIN_ID, "1")
            ]),
            LEDGER_ANCHOR_RPC_URL
        );
    }

    #[test]
    fn witnesses_are_listed_with_a_quorum() {
        let dir = tempfile::tempdir().unwrap();
        let keys: Vec<String> = ["a", "b"]
            .iter()
            .map(|name| {
                crate::ledger::cosignature::WitnessSigner::load(&dir.path().join(name), format!("{name}.example"))
                    .unwrap()
                    .verifier_key()
            })
            .collect();
        let listed = format!("http://a.example:8091 {},\n https://b.example/w/ {}", keys[0], keys[1]);
        let config = load(&[(LEDGER_WITNESSES, &listed)]).unwrap();
        let witnesses = &config.ledger.witnesses;
        assert_eq!(witnesses.quorum, 2, "all of them unless told");
        assert_eq!(witnesses.list[1].key.name(), "b.example");
        assert_eq!(witnesses.list[1].url.as_str(), "https://b.example/w/");
        let config = load(&[(LEDGER_WITNESSES, &listed), (LEDGER_WITNESS_QUORUM, "1")]).unwrap();
        assert_eq!(config.ledger.witnesses.quorum, 1);
        assert_eq!(
            failing_setting(&[(LEDGER_WITNESSES, &listed), (LEDGER_WITNESS_QUORUM, "3")]),
            LEDGER_WITNESS_QUORUM
        );
        assert!(!load(&[]).unwrap().ledger.witnesses.required());
    }

    #[test]
    fn error_message_names_key_and_variable() {
        let err = load(&[(BIND, "nowhere")]).unwrap_err().to_string();
        assert!(err.contains("bind") && err.contains("KEEPSAKE_BIND"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let config = load(&[
            (SMTP_URL, "smtp://user:hunter2@mail:25"),
            (S3_ENDPOINT, "http://s3:9000"),
            (S3_ACCESS_KEY_ID, "AKIA"),
            (S3_SECRET_ACCESS_KEY, "topsecret"),
            (DATABASE_URL, "postgres://app:pgpass@db/keepsake"),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        for secret in ["hunter2", "topsecret", "pgpass"] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
    }

    #[test]
    fn file_keys_are_checked() {
        let dir = std::env::temp_dir().join(format!("keepsake-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keepsake.toml");
        std::fs::write(
            &path,
            "bind = \"0.0.0.0:9000\"\n[operator]\nicp_filing = \"京ICP备12345678号-1\"\n",
        )
        .unwrap();
        let mut values = BTreeMap::new();
        read_file(&path, &mut values).unwrap();
        let config = Config::from_values(&values).unwrap();
        assert_eq!(config.bind.port(), 9000);
        assert_eq!(config.operator.icp_filing.unwrap().as_str(), "京ICP备12345678号-1");

        std::fs::write(&path, "[operator]\nicp = \"x\"\n").unwrap();
        let err = read_file(&path, &mut BTreeMap::new()).unwrap_err();
        assert!(matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "operator.icp"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
