//! Builds an export bundle (see [`crate::export`]): the issuers in scope as they stand, their
//! collections created by the span's end, the tokens claimed and the audit rows written in the
//! span (never after the export was made, so what it holds was counted when it was made), and a
//! receipt for every ledger entry those records name that the latest signed checkpoint covers.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{MAX_BUNDLE_RECORDS, span};
use crate::domain::ids::{CollectionId, IssuerId, TokenId, UserId};
use crate::export::records::{AuditRecord, CollectionRecord, IssuerRecord, TokenRecord, json_and_csv};
use crate::export::{Bundle, CHECKPOINT, FORMAT, Manifest, RECEIPTS, Scope};
use crate::services::ledger::log;
use crate::services::{ServiceError, ServiceResult, Services};
use crate::store;
use crate::store::audit::AuditRow;
use crate::store::oversight::Export;

/// The bundle of export `id`, for the regulator who made it, as a tar.
pub async fn bundle(
    services: &Services,
    regulator: UserId,
    id: i64,
    now: DateTime<Utc>,
) -> ServiceResult<(Export, Vec<u8>)> {
    let export = store::oversight::export(&services.db, id)
        .await?
        .filter(|export| export.regulator == regulator)
        .ok_or(ServiceError::NotFound)?;
    let scope = export.scope;
    let until = scope.ends().min(export.made_at);
    let db = &services.db;
    let issuers = match scope.issuer() {
        Some(issuer) => vec![store::issuers::find(db, issuer).await?.ok_or(ServiceError::NotFound)?],
        None => store::issuers::all(db, None, None).await?,
    };
    let collections = store::collections::created_before(db, scope.issuer(), until, MAX_BUNDLE_RECORDS).await?;
    let in_scope: Vec<CollectionId> = collections.iter().map(|c| c.id).collect();
    let tokens = store::tokens::claimed_between(
        db,
        scope.issuer().map(|_| in_scope.as_slice()),
        scope.starts(),
        until,
        MAX_BUNDLE_RECORDS,
    )
    .await?;
    let mut rows = store::audit::oldest_first(db, &span(&scope, until), None, MAX_BUNDLE_RECORDS).await?;
    if let Some(issuer) = scope.issuer() {
        rows = about_issuer(services, rows, issuer, &in_scope).await?;
    }

    let checkpoint = log::latest_checkpoint(services).await?;
    let covered = |index: i64| checkpoint.as_ref().is_some_and(|c| index < c.tree_size);
    let queued: Vec<i64> = collections
        .iter()
        .filter_map(|c| c.ledger_queue_id)
        .chain(tokens.iter().map(|t| t.ledger_queue_id))
        .collect();
    let indices: HashMap<i64, i64> = log::indices_of(services, &queued)
        .await?
        .into_iter()
        .filter(|(_, index)| covered(*index))
        .collect();
    let index_of = |queued: i64| indices.get(&queued).map(|index| *index as u64);

    let issuer_records: Vec<IssuerRecord> = issuers.iter().map(IssuerRecord::from).collect();
    let collection_records: Vec<CollectionRecord> = collections
        .iter()
        .map(|c| CollectionRecord::new(c, c.ledger_queue_id.and_then(index_of)))
        .collect();
    let token_records: Vec<TokenRecord> = tokens
        .iter()
        .map(|t| TokenRecord::new(t, index_of(t.ledger_queue_id)))
        .collect();
    let audit_records: Vec<AuditRecord> = rows.iter().map(AuditRecord::from).collect();

    let mut bundle = Bundle::default();
    let io = ServiceError::internal;
    for (name, (json, csv)) in [
        ("issuers", json_and_csv(&issuer_records).map_err(io)?),
        ("collections", json_and_csv(&collection_records).map_err(io)?),
        ("tokens", json_and_csv(&token_records).map_err(io)?),
        ("audit", json_and_csv(&audit_records).map_err(io)?),
    ] {
        bundle.add(format!("{name}.json"), json);
        bundle.add(format!("{name}.csv"), csv);
    }
    if let Some(checkpoint) = &checkpoint {
        bundle.add(CHECKPOINT, checkpoint.note.clone().into_bytes());
        let mut wanted: Vec<i64> = indices.values().copied().collect();
        wanted.sort_unstable();
        for index in wanted {
            let row = store::ledger::entry(db, index as u64)
                .await?
                .ok_or(ServiceError::NotFound)?;
            let receipt = log::receipt(services, &row, checkpoint).await?;
            bundle.add(
                format!("{RECEIPTS}{index}.json"),
                serde_json::to_vec_pretty(&receipt).map_err(ServiceError::internal)?,
            );
        }
    }
    let head = Manifest {
        format: FORMAT.to_owned(),
        origin: services.checkpoint_signer.origin().to_owned(),
        export: export.id,
        made_at: now,
        scope: Scope {
            from: scope.from(),
            to: scope.to(),
            issuer: scope.issuer().map(|id| id.0),
        },
        checkpoint_size: checkpoint.as_ref().map(|c| c.tree_size as u64),
        files: Vec::new(),
    };
    let tar = bundle
        .seal(head, &services.checkpoint_signer)
        .map_err(ServiceError::internal)?;
    tracing::info!(export = export.id, bytes = tar.len(), "export bundle built");
    Ok((export, tar))
}

/// The rows about `issuer`: the issuer itself, its collections and their tokens.
async fn about_issuer(
    services: &Services,
    rows: Vec<AuditRow>,
    issuer: IssuerId,
    collections: &[CollectionId],
) -> ServiceResult<Vec<AuditRow>> {
    let collections: HashSet<i64> = collections.iter().map(|c| c.0).collect();
    let token_ids: Vec<TokenId> = rows
        .iter()
        .filter(|row| row.subject_type == "token")
        .filter_map(|row| row.subject_id.parse().ok().map(TokenId))
        .collect();
    let tokens: HashSet<String> = store::tokens::find_many(&services.db, &token_ids)
        .await?
        .into_iter()
        .filter(|token| collections.contains(&token.collection.0))
        .map(|token| token.id.to_string())
        .collect();
    let issuer = issuer.to_string();
    Ok(rows
        .into_iter()
        .filter(|row| match row.subject_type.as_str() {
            "issuer" => row.subject_id == issuer,
            "collection" => row.subject_id.parse().is_ok_and(|id| collections.contains(&id)),
            "token" => tokens.contains(&row.subject_id),
            _ => false,
        })
        .collect())
}
