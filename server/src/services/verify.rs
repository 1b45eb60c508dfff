//! What the public verify page needs beyond the log itself: the names behind an entry's
//! numbers (an issuer, a public collection, a token), and keeping a receipt a visitor sent so
//! that the page of its check can be reloaded.

use chrono::{DateTime, Duration, Utc};

use super::forms::{self, Submission};
use super::{ServiceResult, Services};
use crate::domain::ids::{CollectionId, IssuerId};
use crate::domain::token::Token;
use crate::ledger::entry::EntryBody;
use crate::store;

/// How long a checked receipt stays viewable by the visitor who sent it.
pub const RECEIPT_KEPT: Duration = Duration::hours(1);

/// What the platform knows of the things an entry names.
#[derive(Debug, Clone, Default)]
pub struct Named {
    /// The issuer's name, if it is known here.
    pub issuer: Option<String>,
    /// The collection's title, if it is public.
    pub collection: Option<String>,
    /// The token, for a token's entry.
    pub token: Option<Token>,
}

/// The names behind `body`'s numbers.
pub async fn named(services: &Services, body: &EntryBody) -> ServiceResult<Named> {
    let issuer = |id: u64| async move {
        ServiceResult::Ok(
            store::issuers::find(&services.db, IssuerId(id as i64))
                .await?
                .map(|i| i.legal_name),
        )
    };
    let collection = |id: u64| async move {
        ServiceResult::Ok(
            store::collections::find(&services.db, CollectionId(id as i64))
                .await?
                .filter(|c| c.status.is_public())
                .map(|c| c.terms.title),
        )
    };
    Ok(match body {
        EntryBody::HashAttestation { issuer_id, .. }
        | EntryBody::LabelledHashAttestation { issuer_id, .. }
        | EntryBody::IssuerSuspended { issuer_id }
        | EntryBody::IssuerReinstated { issuer_id }
        | EntryBody::IssuerRevoked { issuer_id }
        | EntryBody::IssuerFilingsLapsed { issuer_id }
        | EntryBody::IssuerFilingsRenewed { issuer_id } => Named {
            issuer: issuer(*issuer_id).await?,
            ..Named::default()
        },
        EntryBody::IssuerApproved { .. } | EntryBody::LogContinued { .. } => Named::default(),
        EntryBody::CollectionPublished {
            issuer_id,
            collection_id,
            ..
        } => Named {
            issuer: issuer(*issuer_id).await?,
            collection: collection(*collection_id).await?,
            token: None,
        },
        EntryBody::CollectionRevoked { collection_id } => Named {
            collection: collection(*collection_id).await?,
            ..Named::default()
        },
        EntryBody::TokenMinted {
            collection_id, serial, ..
        }
        | EntryBody::TokenFrozen { collection_id, serial }
        | EntryBody::TokenUnfrozen { collection_id, serial }
        | EntryBody::TokenRevoked { collection_id, serial } => Named {
            issuer: None,
            collection: collection(*collection_id).await?,
            token: store::tokens::by_serial(&services.db, CollectionId(*collection_id as i64), *serial).await?,
        },
    })
}

/// Keeps a receipt's text for the visitor who sent it, at `location`; answers where it is shown.
pub async fn keep_receipt(
    services: &Services,
    submission: &Submission,
    text: &str,
    location: &str,
    now: DateTime<Utc>,
) -> ServiceResult<String> {
    let txn = store::begin(&services.db).await?;
    forms::finish(services, txn, submission, location, Some((&text, RECEIPT_KEPT)), now).await
}
