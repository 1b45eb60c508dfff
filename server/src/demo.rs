//! `keepsake demo`: a populated platform from an empty data directory, for trying it out.
//!
//! The demonstration data goes in through the platform's own front door: the accounts are
//! created as `create-admin` creates its administrator, and everything else (real-name checks,
//! the issuer's application and its approval, collections in each claim mode with generated
//! artwork, their review and publication, a batch of claim codes, an allowlist and a few
//! claims) is done over HTTP against the running server, with the same forms people use. The
//! installation is marked as a demonstration first, and every page says so.

mod artwork;

use std::path::Path;

use anyhow::{Context, bail};
use chrono::{Duration, FixedOffset, Utc};
use reqwest::header::LOCATION;
use reqwest::multipart::{Form, Part};

use crate::config::Config;
use crate::crypto;
use crate::domain::account::{Email, NewPassword};
use crate::domain::role::Role;
use crate::domain::second_factor::TotpSecret;
use crate::{server, services, store};

/// The demonstration accounts, kept (readable by the operator only) to print again later.
const ACCOUNTS_FILE: &str = "demo-accounts.txt";
/// The claim codes of the demonstration batch, as the console's CSV gives them.
const CODES_FILE: &str = "demo-claim-codes.csv";

/// One demonstration account.
struct Account {
    role: &'static str,
    email: &'static str,
    password: String,
    /// A resident ID number with a valid check character (GB 11643), and a name.
    identity: Option<(&'static str, &'static str)>,
    /// The two-step verification key (base32), for the staff accounts, once set up.
    second_factor: Option<String>,
}

fn accounts() -> Vec<Account> {
    let password = || format!("demo-{}", &crypto::random_token()[..12]);
    let accounts = vec![
        ("operator (admin)", "operator@demo.keepsake.invalid", password(), None),
        ("reviewer", "reviewer@demo.keepsake.invalid", password(), None),
        (
            "issuer (brand administrator)",
            "brand@demo.keepsake.invalid",
            password(),
            Some(("演示品牌负责人", "11010519491231002X")),
        ),
        (
            "collector",
            "collector1@demo.keepsake.invalid",
            password(),
            Some(("演示藏家甲", "110105198001011019")),
        ),
        (
            "collector",
            "collector2@demo.keepsake.invalid",
            password(),
            Some(("演示藏家乙", "110105198001011027")),
        ),
        ("regulator", "regulator@demo.keepsake.invalid", password(), None),
    ];
    accounts
        .into_iter()
        .map(|(role, email, password, identity)| Account {
            role,
            email,
            password,
            identity,
            second_factor: None,
        })
        .collect()
}

/// Runs `keepsake demo`: creates the demonstration data on an empty installation (or finds it
/// from an earlier run), prints the accounts, and serves until stopped.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let db = server::open_database(&config).await?;
    let fresh = if store::installation::is_demo(&db).await? {
        None
    } else if store::installation::is_empty(&db).await? {
        store::installation::mark_demo(&db, Utc::now()).await?;
        let accounts = accounts();
        create_accounts(&db, &accounts).await?;
        Some(accounts)
    } else {
        bail!(
            "the database at {} already holds data that is not demonstration data; \
             run the demo on an empty data directory, for example KEEPSAKE_DATA_DIR=./demo-data keepsake demo",
            config.data_dir.display()
        );
    };
    db.close().await.ok();
    let data_dir = config.data_dir.clone();
    server::serve_then(config, move |base| async move {
        let accounts_file = data_dir.join(ACCOUNTS_FILE);
        if let Some(mut accounts) = fresh {
            populate(&base, &data_dir, &mut accounts).await.context(
                "creating the demonstration data failed; remove the data directory and run keepsake demo again",
            )?;
            write_private(&accounts_file, &describe(&accounts))?;
        }
        let described = std::fs::read_to_string(&accounts_file).with_context(|| {
            format!(
                "cannot read {}: the demonstration data was not finished; remove the data directory and start again",
                accounts_file.display()
            )
        })?;
        println!(
            "Keepsake demo: every issuer, collection, account and claim here is demonstration data.\n\
             Open {base}/ and log in with one of these accounts:\n\n{described}"
        );
        println!("Demo ready.");
        Ok(())
    })
    .await
}

/// The accounts and where the claim codes are, as the operator is told each time.
fn describe(accounts: &[Account]) -> String {
    let mut text = String::new();
    for account in accounts {
        text += &format!(
            "  {:<30} {:<36} {} {}\n",
            account.role,
            account.email,
            account.password,
            account.second_factor.as_deref().unwrap_or_default()
        );
    }
    text += "\nStaff accounts have two-step verification: add the key after their password to an authenticator app \
             (or run `oathtool --totp -b KEY`) for the code log-in asks for.\n";
    text += &format!(
        "\nA batch of claim codes is in {CODES_FILE} in the data directory; each line has a /c/ link to scan or open.\n"
    );
    text
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    Ok(())
}

/// Everything but the accounts, over HTTP at `base`, as the people of each role would do it.
async fn populate(base: &str, data_dir: &Path, accounts: &mut [Account]) -> anyhow::Result<()> {
    let [operator, reviewer, brand, collector1, collector2, regulator] = accounts else {
        bail!("six demonstration accounts expected");
    };
    let operator_session = Browser::log_in(base, operator).await?;
    operator.second_factor = Some(operator_session.set_up_second_factor().await?);
    let operator = operator_session;
    let reviewer_session = Browser::log_in(base, reviewer).await?;
    reviewer.second_factor = Some(reviewer_session.set_up_second_factor().await?);
    let reviewer_id = operator.user_id(reviewer.email).await?;
    operator
        .post(
            "/admin/users",
            &format!("/admin/users/{reviewer_id}/roles"),
            &[("role", "reviewer"), ("change", "grant")],
        )
        .await?;
    let reviewer = reviewer_session;
    let regulator_session = Browser::log_in(base, regulator).await?;
    regulator.second_factor = Some(regulator_session.set_up_second_factor().await?);
    let regulator_id = operator.user_id(regulator.email).await?;
    operator
        .post(
            "/admin/users",
            &format!("/admin/users/{regulator_id}/roles"),
            &[("role", "regulator"), ("change", "grant")],
        )
        .await?;

    let brand_session = Browser::log_in(base, brand).await?;
    verify_identity(&operator, &reviewer, brand, &brand_session).await?;
    let collector1_session = Browser::log_in(base, collector1).await?;
    let collector2_session = Browser::log_in(base, collector2).await?;
    verify_identity(&operator, &reviewer, collector1, &collector1_session).await?;
    verify_identity(&operator, &reviewer, collector2, &collector2_session).await?;

    let issuer = apply_as_issuer(&brand_session, &reviewer).await?;
    let open = publish(&brand_session, &reviewer, issuer, Demo::OPEN).await?;
    let coded = publish(&brand_session, &reviewer, issuer, Demo::CODES).await?;
    let listed = publish(&brand_session, &reviewer, issuer, Demo::ALLOWLIST).await?;

    let detail = |id: i64| format!("/console/{issuer}/collections/{id}");
    let csv = brand_session
        .post_following(
            &detail(coded),
            &format!("{}/codes", detail(coded)),
            &[("count", "12"), ("format", "csv")],
        )
        .await?;
    std::fs::write(data_dir.join(CODES_FILE), &csv).context("cannot write the claim codes")?;
    let allowlist = format!("email\n{}\n{}\n", collector1.email, brand.email);
    brand_session.upload_allowlist(&detail(listed), &allowlist).await?;

    collector1_session.claim(open).await?;
    collector2_session.claim(open).await?;
    collector1_session.claim(listed).await?;
    let first_code = csv
        .lines()
        .nth(1)
        .and_then(|line| line.split(',').nth(1))
        .and_then(|link| link.rsplit('/').next())
        .context("the claim code CSV has no codes")?;
    collector2_session.redeem(first_code).await?;
    Ok(())
}

/// The accounts, with verified addresses, as `create-admin` makes its administrator; the
/// operator is an administrator.
async fn create_accounts(db: &store::Database, accounts: &[Account]) -> anyhow::Result<()> {
    let now = Utc::now();
    for account in accounts {
        let email = Email::parse(account.email).map_err(|e| anyhow::anyhow!("{e}"))?;
        let password = NewPassword::parse(&account.password, &account.password, &email)
            .map_err(|e| anyhow::anyhow!("demo password: {e}"))?;
        let role = account.role.starts_with("operator").then_some(Role::Admin);
        if services::accounts::create_verified(db, &email, password, role, now)
            .await?
            .is_err()
        {
            bail!("the demo account {} already exists", account.email);
        }
    }
    Ok(())
}

/// A person's real-name check, submitted by them and approved by the reviewer.
async fn verify_identity(
    operator: &Browser,
    reviewer: &Browser,
    account: &Account,
    session: &Browser,
) -> anyhow::Result<()> {
    let Some((name, number)) = account.identity else {
        return Ok(());
    };
    session
        .post(
            "/identity",
            "/identity",
            &[("legal_name", name), ("id_number", number), ("id_consent", "yes")],
        )
        .await?;
    let user = operator.user_id(account.email).await?;
    reviewer
        .decide(&format!("/review/identities/{user}"), ("decision", "approve"))
        .await
}

/// A one-page PDF, enough to stand for a scanned certificate.
fn document(title: &str) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
         3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n% {title} (demonstration)\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes()
}

/// The brand applies as an issuer, its business licence running out in three weeks; the
/// reviewer approves it, and the brand sends the renewed licence's date for review. Returns
/// the issuer's id.
async fn apply_as_issuer(brand: &Browser, reviewer: &Browser) -> anyhow::Result<i64> {
    let in_days = |days: i64| {
        (crate::domain::age::beijing_date(Utc::now()) + chrono::TimeDelta::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let form_key = brand.form_key("/issuers/apply", "/issuers/apply").await?;
    let form = Form::new()
        .text("form_key", form_key)
        .text("legal_name", "演示文创（北京）有限公司")
        .text("credit_code", "91350100M000100Y43")
        .text("icp_filing", "京ICP备12345678号-1")
        .text("blockchain_filing", "京网信备11010819842097170019号")
        .text("contact_name", "演示联系人")
        .text("contact_email", "contact@demo.keepsake.invalid")
        .text("contact_phone", "+86 10 0000 0000")
        .text("licence_valid_until", in_days(21))
        .text("blockchain_valid_until", in_days(730))
        .part("business_licence", pdf_part("business-licence.pdf", "营业执照"))
        .part("icp_certificate", pdf_part("icp.pdf", "ICP备案"))
        .part(
            "blockchain_certificate",
            pdf_part("blockchain.pdf", "区块链信息服务备案"),
        );
    let console = brand.multipart("/issuers/apply", "/issuers/apply", form).await?;
    let issuer: i64 = console
        .trim_start_matches("/console/")
        .parse()
        .with_context(|| format!("unexpected answer to the application: {console}"))?;
    reviewer
        .decide(&format!("/review/issuers/{issuer}"), ("action", "approve"))
        .await?;
    let filings = format!("{console}/filings");
    brand
        .post(
            &filings,
            &filings,
            &[
                ("licence_valid_until", &in_days(3 * 365)),
                ("blockchain_valid_until", &in_days(730)),
            ],
        )
        .await?;
    Ok(issuer)
}

fn pdf_part(file_name: &'static str, title: &str) -> Part {
    Part::bytes(document(title))
        .file_name(file_name)
        .mime_str("application/pdf")
        .expect("a valid media type")
}

/// A demonstration collection.
struct Demo {
    title: &'static str,
    description: &'static str,
    edition_size: u32,
    per_person_limit: u32,
    claim_mode: &'static str,
    /// Which generated artwork.
    seed: u32,
}

impl Demo {
    const OPEN: Demo = Demo {
        title: "长城日出（演示）",
        description: "演示藏品：以长城日出为题的纪念数字藏品，实名用户可免费领取，每人一份。",
        edition_size: 500,
        per_person_limit: 1,
        claim_mode: "open",
        seed: 1,
    };
    const CODES: Demo = Demo {
        title: "瑞兽纪念章（演示）",
        description: "演示藏品：随实体文创商品附赠的兑换码领取，扫码即可领取。",
        edition_size: 200,
        per_person_limit: 2,
        claim_mode: "claim_codes",
        seed: 2,
    };
    const ALLOWLIST: Demo = Demo {
        title: "会员专属徽章（演示）",
        description: "演示藏品：发行方会员名单中的邮箱可领取。",
        edition_size: 50,
        per_person_limit: 1,
        claim_mode: "allowlist",
        seed: 3,
    };
}

fn beijing(offset: Duration) -> String {
    (Utc::now() + offset)
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// The brand creates and submits `demo`, the reviewer approves it, the brand publishes it.
async fn publish(brand: &Browser, reviewer: &Browser, issuer: i64, demo: Demo) -> anyhow::Result<i64> {
    let collections = format!("/console/{issuer}/collections");
    let new = format!("{collections}/new");
    let form = Form::new()
        .text("form_key", brand.form_key(&new, &collections).await?)
        .text("title", demo.title)
        .text("description", demo.description)
        .text("edition_size", demo.edition_size.to_string())
        .text("per_person_limit", demo.per_person_limit.to_string())
        .text("claim_starts_at", beijing(Duration::hours(-1)))
        .text("claim_ends_at", beijing(Duration::days(30)))
        .text("claim_mode", demo.claim_mode)
        .part(
            "artwork",
            Part::bytes(artwork::png(demo.seed))
                .file_name("artwork.png")
                .mime_str("image/png")
                .expect("a valid media type"),
        );
    let detail = brand.multipart(&new, &collections, form).await?;
    let id: i64 = detail
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("unexpected answer to a new collection: {detail}"))?;
    brand.post(&detail, &format!("{detail}/submit"), &[]).await?;
    reviewer
        .decide(&format!("/review/collections/{id}"), ("action", "approve"))
        .await?;
    brand.post(&detail, &format!("{detail}/publish"), &[]).await?;
    Ok(id)
}

/// A signed-in browser session against the demo server.
struct Browser {
    http: reqwest::Client,
    base: String,
}

/// The value of the first `name="{field}" value="…"` in `html`.
fn field_value(html: &str, field: &str) -> Option<String> {
    let marker = format!("name=\"{field}\" value=\"");
    let at = html.find(&marker)? + marker.len();
    Some(html[at..at + html[at..].find('"')?].to_owned())
}

impl Browser {
    async fn log_in(base: &str, account: &Account) -> anyhow::Result<Browser> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let browser = Browser {
            http,
            base: base.to_owned(),
        };
        browser
            .post(
                "/login",
                "/login",
                &[("email", account.email), ("password", &account.password)],
            )
            .await?;
        // Made on the command line rather than signed up, the persona accepts the platform
        // rules, user agreement and privacy policy as a person would on first visit.
        browser.post("/policies/accept", "/policies/accept", &[]).await?;
        Ok(browser)
    }

    /// Sets up two-step verification as a person would with an authenticator app: reads the
    /// key off the page and answers with the code of the moment. Answers the key.
    async fn set_up_second_factor(&self) -> anyhow::Result<String> {
        let html = self.page("/account/two-factor").await?;
        let marker = "data-secret=\"";
        let at = html.find(marker).context("no two-step verification key on the page")? + marker.len();
        let key = html[at..at + html[at..].find('"').unwrap_or_default()].to_owned();
        let secret = TotpSecret::parse_base32(&key).context("the two-step verification key is not base32")?;
        let code = secret.code_at(Utc::now());
        self.post("/account/two-factor", "/account/two-factor", &[("code", &code)])
            .await?;
        Ok(key)
    }

    async fn page(&self, path: &str) -> anyhow::Result<String> {
        let response = self.http.get(format!("{}{path}", self.base)).send().await?;
        if !response.status().is_success() {
            bail!("GET {path} answered {}", response.status());
        }
        Ok(response.text().await?)
    }

    /// The form key of the form on `page` posting to `action`.
    async fn form_key(&self, page: &str, action: &str) -> anyhow::Result<String> {
        let html = self.page(page).await?;
        let form = html
            .split("<form")
            .find(|form| form.contains(&format!("action=\"{action}")))
            .with_context(|| format!("no form posting to {action} on {page}"))?;
        field_value(form, "form_key").with_context(|| format!("the form posting to {action} has no form key"))
    }

    /// Sends the form on `page` that posts to `action`, with its CSRF token and form key;
    /// returns where the answer redirects.
    async fn post(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> anyhow::Result<String> {
        let html = self.page(page).await?;
        let csrf = field_value(&html, "csrf").with_context(|| format!("no CSRF token on {page}"))?;
        let form_key = html
            .split("<form")
            .find(|form| form.contains(&format!("action=\"{action}\"")))
            .and_then(|form| field_value(form, "form_key"));
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        if let Some(key) = &form_key {
            all.push(("form_key", key));
        }
        all.extend_from_slice(fields);
        let response = self
            .http
            .post(format!("{}{action}", self.base))
            .form(&all)
            .send()
            .await?;
        redirect_of(action, response).await
    }

    /// Like [`Browser::post`], then reads the page (or file) the answer leads to.
    async fn post_following(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> anyhow::Result<String> {
        let target = self.post(page, action, fields).await?;
        self.page(&target).await
    }

    /// Sends a multipart form to `action` with the CSRF token of `page`.
    async fn multipart(&self, page: &str, action: &str, form: Form) -> anyhow::Result<String> {
        let html = self.page(page).await?;
        let csrf = field_value(&html, "csrf").with_context(|| format!("no CSRF token on {page}"))?;
        let response = self
            .http
            .post(format!("{}{action}?csrf={csrf}", self.base))
            .multipart(form)
            .send()
            .await?;
        redirect_of(action, response).await
    }

    async fn upload_allowlist(&self, detail: &str, csv: &str) -> anyhow::Result<()> {
        let action = format!("{detail}/allowlist");
        let form = Form::new()
            .text("form_key", self.form_key(detail, &action).await?)
            .part("file", Part::text(csv.to_owned()).file_name("allowlist.csv"));
        self.multipart(detail, &action, form).await.map(drop)
    }

    /// The id of the account with `email`: the role form of its row on the admin's user list.
    async fn user_id(&self, email: &str) -> anyhow::Result<i64> {
        let html = self.page("/admin/users").await?;
        let at = html
            .find(email)
            .with_context(|| format!("{email} is not on the user list"))?;
        field_after(&html[at..], "/admin/users/").with_context(|| format!("no role form for {email}"))
    }

    /// Claims the review case at `case` and decides it.
    async fn decide(&self, case: &str, decision: (&str, &str)) -> anyhow::Result<()> {
        self.post(case, &format!("{case}/claim"), &[]).await?;
        let html = self.page(case).await?;
        let version = field_value(&html, "version").with_context(|| format!("no decision form on {case}"))?;
        self.post(case, &format!("{case}/decision"), &[decision, ("version", &version)])
            .await
            .map(drop)
    }

    async fn claim(&self, collection: i64) -> anyhow::Result<()> {
        let page = format!("/collections/{collection}");
        let html = self.page(&page).await?;
        let key = field_value(&html, "claim_key").with_context(|| format!("no claim button on {page}"))?;
        self.post(&page, &format!("{page}/claim"), &[("claim_key", &key)])
            .await
            .map(drop)
    }

    async fn redeem(&self, code: &str) -> anyhow::Result<()> {
        let page = format!("/c/{code}");
        let html = self.page(&page).await?;
        let key = field_value(&html, "claim_key").context("no claim button on the code's page")?;
        self.post(&page, &page, &[("claim_key", &key)]).await.map(drop)
    }
}

/// The number after `prefix` in `html`.
fn field_after(html: &str, prefix: &str) -> Option<i64> {
    let at = html.find(prefix)? + prefix.len();
    let digits: String = html[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Where a form's answer redirects; anything but a redirect is a failure, with the page's
/// text to say why.
async fn redirect_of(action: &str, response: reqwest::Response) -> anyhow::Result<String> {
    if response.status().is_redirection()
        && let Some(location) = response.headers().get(LOCATION).and_then(|v| v.to_str().ok())
    {
        return Ok(location.to_owned());
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let text: String = body
        .split('<')
        .filter_map(|piece| piece.split('>').nth(1))
        .collect::<Vec<_>>()
        .join(" ");
    bail!(
        "POST {action} answered {status}: {}",
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(400)
            .collect::<String>()
    )
}
