//! Pages for the public and for collectors: home, explore, accounts and identity, collections
//! and claiming, claim codes, tokens and certificates, issuers' public pages and applications,
//! invitations, and verifying the ledger.

pub mod account_data;
pub mod account_deletion;
pub mod accounts;
pub mod appeals;
pub mod application;
pub mod claim_box;
pub mod collections;
pub mod email_change;
pub mod explore;
pub mod home;
pub mod identity;
pub mod issuers;
pub mod phone;
pub mod policies;
pub mod redeem;
pub mod reports;
pub mod tokens;
pub mod two_factor;
pub mod verify;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;

use crate::domain::attestation::MAX_ATTESTED_FILE_BYTES;
use crate::domain::documents::MAX_DOCUMENT_BYTES;
use crate::paths::MY_COLLECTION;
use crate::state::AppState;
use crate::web::render::form_page;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/lang/{tag}", get(home::switch_language))
        .route("/explore", get(explore::explore))
        .route("/account", get(home::account))
        .route("/account/email", get(email_change::form).post(email_change::request))
        .route("/account/data", get(account_data::show).post(account_data::request))
        .route("/account/data/{id}/archive.zip", get(account_data::download))
        .route(
            "/account/delete",
            get(account_deletion::form).post(account_deletion::delete),
        )
        .route("/account/deleted", get(account_deletion::deleted))
        .route("/account/two-factor", get(two_factor::show).post(two_factor::confirm))
        .route(
            "/account/two-factor/recovery-codes",
            form_page("/account/two-factor").post(two_factor::renew_codes),
        )
        .route(
            "/account/two-factor/remove",
            form_page("/account/two-factor").post(two_factor::remove),
        )
        .route("/login/two-factor", get(two_factor::step_form).post(two_factor::step))
        .route("/account/phone", get(phone::show).post(phone::request))
        .route(
            "/account/phone/confirm",
            form_page("/account/phone").post(phone::confirm),
        )
        .route("/account/phone/remove", form_page("/account/phone").post(phone::remove))
        .route("/login/sms", get(phone::log_in_form).post(phone::request_log_in))
        .route("/login/sms/code", form_page("/login/sms").post(phone::log_in))
        .route(
            "/account/email/confirm/{token}",
            get(email_change::confirm_page).post(email_change::confirm),
        )
        .route("/account/email/changed", get(email_change::changed))
        .route(
            "/account/email/undo/{token}",
            get(email_change::undo_page).post(email_change::undo),
        )
        .route("/account/email/restored", get(email_change::restored))
        .route("/signup", get(accounts::signup_form).post(accounts::signup))
        .route("/signup/sent", get(accounts::signup_sent))
        .route("/verify-email/sent", get(accounts::verification_sent))
        .route("/password/forgot/sent", get(accounts::reset_link_sent))
        .route("/login", get(accounts::login_form).post(accounts::login))
        .route("/login/unlock/{token}", get(accounts::unlock))
        .route("/login/unlocked", get(accounts::unlocked))
        .route("/logout", form_page("/").post(accounts::logout))
        .route("/verify-email/{token}", get(accounts::verify_email))
        .route("/verify-email/done", get(accounts::email_verified))
        .route(
            "/verify-email/resend",
            form_page("/login").post(accounts::resend_verification),
        )
        .route("/password/forgot", get(accounts::forgot_form).post(accounts::forgot))
        .route(
            "/password/reset/{token}",
            get(accounts::reset_form).post(accounts::reset),
        )
        .route("/password/reset/done", get(accounts::password_changed))
        .route("/identity", get(identity::show).post(identity::submit))
        .route("/policies/accept", get(policies::accept_form).post(policies::accept))
        .route("/policies/{name}", get(policies::show))
        .route("/identity/retry", form_page("/identity").post(identity::retry))
        .route("/identity/correction", form_page("/identity").post(identity::correct))
        .route("/identity/consent", form_page("/identity").post(identity::give_consent))
        .route(
            "/identity/consent/withdraw",
            form_page("/identity").post(identity::withdraw_consent),
        )
        .route("/identity/status", get(identity::status))
        .route(
            "/issuers/apply",
            get(issuers::apply_form)
                .post(issuers::apply)
                .layer(DefaultBodyLimit::max(4 * MAX_DOCUMENT_BYTES)),
        )
        .route("/issuers/{id}", get(issuers::public_page))
        .route(
            "/invitations/{token}",
            get(issuers::invitation).post(issuers::accept_invitation),
        )
        .route("/verify", get(verify::show))
        .route("/verify/offline", get(verify::offline))
        .route("/verify/keepsake", get(verify::download))
        .route(
            "/verify/file",
            form_page("/verify")
                .post(verify::file)
                .layer(DefaultBodyLimit::max(MAX_ATTESTED_FILE_BYTES + 64 * 1024)),
        )
        .route(
            "/verify/receipt",
            form_page("/verify")
                .post(verify::receipt)
                .layer(DefaultBodyLimit::max(2 * verify::MAX_RECEIPT_BYTES + 64 * 1024)),
        )
        .route("/collections/{id}", get(collections::public_page))
        .route("/collections/{id}/artwork/{variant}", get(collections::artwork))
        .route(
            "/collections/{id}/claim",
            form_page("/collections/{id}").post(collections::claim),
        )
        .route("/report", get(reports::form).post(reports::file))
        .route("/appeal", get(appeals::form).post(appeals::file))
        .route("/reports/{ticket}", get(reports::status))
        .route("/c", get(redeem::typed))
        .route("/c/{code}", get(redeem::show).post(redeem::redeem))
        .route("/tokens/{id}", get(tokens::token_page))
        .route("/tokens/{id}/certificate.json", get(tokens::certificate))
        .route("/tokens/{id}/certificate.png", get(tokens::certificate_image))
        .route(MY_COLLECTION, get(tokens::my_collection))
}
