//! The minter: claims are decided in batches, one transaction per collection per batch, the way
//! the ledger sequences entries. Under a flash drop the collection's lock and the commit are
//! paid once per batch instead of once per claim, while every claim is still decided by
//! [`check_claim`] against the counts as they stand after the claims before it.
//!
//! Claims are batched by [`GroupCommit`]. A claim is answered only after its batch committed,
//! so an acknowledged token survives a crash. If a batch fails as a whole (a claim
//! key racing another server, say), its claims are retried one transaction each, so one bad
//! claim never fails its neighbours.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::age::MinimumAge;
use crate::domain::claim::{ClaimFacts, ClaimRefusal, CodeState, check_claim, holder_commitment};
use crate::domain::claim_code::ClaimCode;
use crate::domain::collection::{ClaimMode, Collection};
use crate::domain::ids::{CollectionId, TokenId, UserId};
use crate::domain::issuer::IssuerFilings;
use crate::domain::token::Token;
use crate::ledger::entry::{EncodeError, Entry, EntryBody};
use crate::services::filings::FilingRules;
use crate::services::group_commit::{self, GroupCommit};
use crate::store::tokens::NewToken;
use crate::store::{self, StoreError};

/// The most claims one transaction decides: bounds how long a batch holds the lock.
const MAX_BATCH: usize = 512;

/// A verified person's claim on a collection.
#[derive(Debug, Clone)]
pub struct ClaimRequest {
    pub user: UserId,
    /// The account's email address, for allowlist collections.
    pub email: String,
    /// The verified identity's blind index: the per-person limit counts by it.
    pub holder_index: String,
    /// The new token's salt, and the opening of its holder commitment derived from it
    /// ([`crate::kyc::PiiVault::holder_opening`]).
    pub salt: [u8; 32],
    pub holder_opening: [u8; 32],
    pub collection: CollectionId,
    /// The idempotency key: a claim seen before returns its token.
    pub claim_key: String,
    pub code: Option<ClaimCode>,
    /// The claimant accepted the current policy versions.
    pub policies_accepted: bool,
    /// The date of birth in the claimant's verified ID number.
    pub birth_date: NaiveDate,
    /// The platform's minimum age; the collection's applies where it is higher.
    pub minimum_age: MinimumAge,
    /// The platform's rules for filings, which pause claims when one ran out.
    pub filings: FilingRules,
}

/// The token a claim got (minted now, or earlier under the same claim key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minted {
    pub token: TokenId,
    pub collection: CollectionId,
    pub serial: u32,
}

impl From<&Token> for Minted {
    fn from(token: &Token) -> Self {
        Minted {
            token: token.id,
            collection: token.collection,
            serial: token.serial,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("claim refused: {0}")]
    Refused(ClaimRefusal),
    #[error("no such collection")]
    UnknownCollection,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ledger entry: {0}")]
    Encode(#[from] EncodeError),
    #[error("the batch deciding this claim stopped")]
    Interrupted,
    /// A code found unused was redeemed by another transaction: the batch is retried.
    #[error("claim code redeemed concurrently")]
    CodeRace,
    /// The claim key already claimed a token of another collection: a key names one claim.
    #[error("the claim key was used for another collection")]
    KeyReused,
}

type Waiting = group_commit::Waiting<ClaimRequest, Result<Minted, MintError>>;

/// The claim queue; cheap to clone.
#[derive(Clone, Default)]
pub struct Minter {
    batches: GroupCommit<ClaimRequest, Result<Minted, MintError>>,
}

impl Minter {
    /// Decides `request` in the next batch and waits for the answer.
    pub async fn claim(&self, db: &store::Database, request: ClaimRequest) -> Result<Minted, MintError> {
        let db = db.clone();
        let decide = move |batch| {
            let db = db.clone();
            async move { decide_all(&db, batch).await }
        };
        self.batches
            .submit(request, decide)
            .await
            .unwrap_or(Err(MintError::Interrupted))
    }
}

/// Decides a batch, in chunks of at most [`MAX_BATCH`] claims on one collection each.
async fn decide_all(db: &store::Database, batch: Vec<Waiting>) {
    let mut by_collection: BTreeMap<CollectionId, Vec<Waiting>> = BTreeMap::new();
    for waiting in batch {
        by_collection
            .entry(waiting.request.collection)
            .or_default()
            .push(waiting);
    }
    for (collection, mut claims) in by_collection {
        while !claims.is_empty() {
            let rest = claims.split_off(claims.len().min(MAX_BATCH));
            decide_batch(db, collection, claims).await;
            claims = rest;
        }
    }
}

/// One transaction for `claims`; if it fails, one transaction per claim.
async fn decide_batch(db: &store::Database, collection: CollectionId, claims: Vec<Waiting>) {
    let requests: Vec<&ClaimRequest> = claims.iter().map(|w| &w.request).collect();
    let outcomes = match requests.as_slice() {
        [alone] => vec![decide_alone(db, alone).await],
        _ => match decide_together(db, collection, &requests).await {
            Ok(outcomes) => outcomes,
            Err(err) => {
                tracing::warn!(%collection, claims = requests.len(), error = %err, "claim batch failed; deciding one by one");
                let mut outcomes = Vec::with_capacity(requests.len());
                for request in &requests {
                    outcomes.push(decide_alone(db, request).await);
                }
                outcomes
            }
        },
    };
    for (waiting, outcome) in claims.into_iter().zip(outcomes) {
        // The claimant may have hung up; the token stays minted and a retry finds it.
        let _ = waiting.reply.send(outcome);
    }
}

/// A claim alone: a claim key that raced another server's answer finds its token.
async fn decide_alone(db: &store::Database, request: &ClaimRequest) -> Result<Minted, MintError> {
    match decide_together(db, request.collection, &[request]).await {
        Ok(mut outcomes) => outcomes.pop().unwrap_or(Err(MintError::Interrupted)),
        Err(MintError::Store(StoreError::Conflict(_))) => {
            let token = store::tokens::by_claim_key(db, request.user, &request.claim_key)
                .await?
                .ok_or(MintError::Interrupted)?;
            answer_again(&token, request)
        }
        Err(MintError::CodeRace) => Err(MintError::Refused(ClaimRefusal::CodeUsed)),
        Err(err) => Err(err),
    }
}

/// The answer to a claim whose key already claimed `token`: that token, if the claim was for
/// its collection. Keys are scoped to the claimant and the collection, as idempotency keys are
/// (the same key for another target is a mistake, not a retry).
fn answer_again(token: &Token, request: &ClaimRequest) -> Result<Minted, MintError> {
    if token.collection == request.collection {
        Ok(Minted::from(token))
    } else {
        Err(MintError::KeyReused)
    }
}

/// What the transaction knows of the collection while it decides, updated claim by claim.
struct Tally {
    minted: u64,
    /// Tokens held per verified identity, read for the whole batch at once.
    held: HashMap<String, u64>,
    codes_used: HashSet<i64>,
    /// Claims decided earlier in the batch, by (claimant, claim key): the mint they planned.
    planned: HashMap<(UserId, String), usize>,
}

/// A token the batch will mint.
struct Planned<'a> {
    request: &'a ClaimRequest,
    serial: u32,
    salt: [u8; 32],
    commitment: [u8; 32],
    entry: Vec<u8>,
    code: Option<i64>,
}

/// How one claim of the batch ends.
enum Verdict {
    /// Answered without minting: a refusal, or the token an earlier claim with its key got.
    Answered(Result<Minted, MintError>),
    /// The planned mint at this position.
    Mints(usize),
}

/// Decides `requests` on `collection` in one transaction with the collection locked. An error
/// means nothing was written; refusals are per claim.
async fn decide_together(
    db: &store::Database,
    collection: CollectionId,
    requests: &[&ClaimRequest],
) -> Result<Vec<Result<Minted, MintError>>, MintError> {
    let txn = store::begin(db).await?;
    if !store::tokens::lock_collection(&txn, collection).await? {
        return Ok(requests.iter().map(|_| Err(MintError::UnknownCollection)).collect());
    }
    let record = store::collections::find(&txn, collection)
        .await?
        .ok_or(MintError::UnknownCollection)?;
    let issuer = store::issuers::find(&txn, record.issuer).await?;
    let issuer_active = issuer.as_ref().is_some_and(|i| i.status.is_active());
    let filings = issuer.map(|i| i.filings).unwrap_or_default();
    let keys: Vec<(UserId, &str)> = requests.iter().map(|r| (r.user, r.claim_key.as_str())).collect();
    let earlier = store::tokens::by_claim_keys(&txn, &keys).await?;
    let indexes: Vec<&str> = requests.iter().map(|r| r.holder_index.as_str()).collect();
    let now = Utc::now();
    let mut tally = Tally {
        minted: record.claimed_count,
        held: store::tokens::held_by_many(&txn, collection, &indexes).await?,
        codes_used: HashSet::new(),
        planned: HashMap::new(),
    };
    let mut planned = Vec::new();
    let mut verdicts = Vec::with_capacity(requests.len());
    for request in requests {
        let key = (request.user, request.claim_key.clone());
        let verdict = if let Some(token) = earlier.get(&key) {
            Verdict::Answered(answer_again(token, request))
        } else if let Some(&at) = tally.planned.get(&key) {
            Verdict::Mints(at)
        } else {
            match plan(&txn, &record, (issuer_active, &filings), &mut tally, request, now).await? {
                Ok(mint) => {
                    tally.planned.insert(key, planned.len());
                    planned.push(mint);
                    Verdict::Mints(planned.len() - 1)
                }
                Err(refusal) => Verdict::Answered(Err(refusal)),
            }
        };
        verdicts.push(verdict);
    }
    let tokens = mint_planned(&txn, &planned, now).await?;
    if tally.minted > record.claimed_count {
        store::tokens::set_claimed_count(&txn, collection, tally.minted).await?;
        store::claim_minutes::add(&txn, collection, now, planned.len() as u64).await?;
    }
    store::commit(txn).await?;
    for mint in &planned {
        tracing::debug!(%collection, serial = mint.serial, "token minted");
    }
    tracing::info!(%collection, claims = requests.len(), minted = planned.len(), "claims decided");
    Ok(verdicts
        .into_iter()
        .map(|verdict| match verdict {
            Verdict::Answered(outcome) => outcome,
            Verdict::Mints(at) => Ok(Minted {
                token: tokens[at],
                collection,
                serial: planned[at].serial,
            }),
        })
        .collect())
}

/// Applies the rule to one claim against the tally; on success plans its token and counts it.
/// `Ok(Err(..))` is a refusal, `Err(..)` fails the batch.
async fn plan<'a>(
    txn: &store::Transaction,
    record: &Collection,
    (issuer_active, filings): (bool, &IssuerFilings),
    tally: &mut Tally,
    request: &'a ClaimRequest,
    now: DateTime<Utc>,
) -> Result<Result<Planned<'a>, MintError>, MintError> {
    let stored_code = match &request.code {
        None => None,
        Some(code) => match store::claim_codes::find(txn, &code.digest()).await? {
            Some(stored) if stored.collection == record.id => Some(stored),
            _ => return Ok(Err(MintError::Refused(ClaimRefusal::CodeInvalid))),
        },
    };
    let held = tally.held.get(&request.holder_index).copied().unwrap_or(0);
    let facts = ClaimFacts {
        status: &record.status,
        claim_mode: record.terms.claim_mode,
        claim_starts_at: record.terms.claim_starts_at,
        claim_ends_at: record.terms.claim_ends_at,
        edition_size: record.terms.edition_size,
        per_person_limit: record.terms.per_person_limit,
        minted: tally.minted,
        issuer_active,
        filings_current: request.filings.current(filings, now),
        identity_verified: true,
        id_consent: true,
        policies_accepted: request.policies_accepted,
        birth_date: Some(request.birth_date),
        minimum_age: request.minimum_age.with(record.terms.minimum_age),
        held_by_person: held,
        code: stored_code.as_ref().map(|c| match tally.codes_used.contains(&c.id) {
            true => CodeState::Used,
            false => c.state,
        }),
        on_allowlist: record.terms.claim_mode == ClaimMode::Allowlist
            && store::allowlists::contains(txn, record.id, &request.email).await?,
        now,
    };
    let serial = match check_claim(&facts) {
        Ok(serial) => serial,
        Err(refusal) => return Ok(Err(MintError::Refused(refusal))),
    };
    let salt = request.salt;
    let commitment = holder_commitment(&request.holder_opening);
    let entry = Entry::at(
        now,
        EntryBody::TokenMinted {
            collection_id: record.id.0 as u64,
            serial,
            content_hash: record.artwork.content_hash,
            holder_commitment: commitment,
        },
    )
    .encode()?;
    tally.minted += 1;
    tally.held.insert(request.holder_index.clone(), held + 1);
    if let Some(stored) = &stored_code {
        tally.codes_used.insert(stored.id);
    }
    Ok(Ok(Planned {
        request,
        serial,
        salt,
        commitment,
        entry,
        code: stored_code.map(|c| c.id),
    }))
}

/// Writes the planned tokens, their ledger entries and code redemptions; returns the tokens'
/// ids in plan order.
async fn mint_planned(
    txn: &store::Transaction,
    planned: &[Planned<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<TokenId>, MintError> {
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    let entries: Vec<Vec<u8>> = planned.iter().map(|p| p.entry.clone()).collect();
    let queued = store::ledger::enqueue_many(txn, &entries, now).await?;
    let new: Vec<NewToken<'_>> = planned
        .iter()
        .zip(queued)
        .map(|(p, ledger_queue_id)| NewToken {
            collection: p.request.collection,
            serial: p.serial,
            holder: p.request.user,
            holder_index: &p.request.holder_index,
            salt: p.salt,
            commitment: p.commitment,
            claim_key: &p.request.claim_key,
            ledger_queue_id,
        })
        .collect();
    let tokens = store::tokens::mint_many(txn, &new, now).await?;
    for (p, token) in planned.iter().zip(&tokens) {
        // Under the collection lock nobody else redeems this collection's codes, so a code
        // found unused is still unused; if not, the batch is retried claim by claim.
        if let Some(code) = p.code
            && !store::claim_codes::redeem(txn, code, *token, now).await?
        {
            return Err(MintError::CodeRace);
        }
    }
    Ok(tokens)
}
