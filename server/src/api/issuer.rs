//! `GET /issuer`: the issuer an API key belongs to.

use axum::Json;
use serde::Serialize;

use super::auth::ApiIssuer;

#[derive(Serialize)]
pub struct IssuerAnswer {
    id: i64,
    legal_name: String,
    credit_code: String,
    icp_filing: String,
    blockchain_filing: String,
    status: &'static str,
}

pub async fn issuer(ApiIssuer(issuer): ApiIssuer) -> Json<IssuerAnswer> {
    Json(IssuerAnswer {
        id: issuer.id.0,
        status: issuer.status.as_str(),
        legal_name: issuer.legal_name,
        credit_code: issuer.credit_code,
        icp_filing: issuer.icp_filing,
        blockchain_filing: issuer.blockchain_filing,
    })
}
