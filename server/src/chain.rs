//! The EVM chain the ledger's checkpoints are anchored on, over JSON-RPC with `alloy`: sending
//! an anchoring transaction from the operator's account, finding when the chain included it,
//! and checking an anchor from a receipt the way a verifier would.

use std::path::Path;

use alloy::consensus::Transaction as _;
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, TxHash};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use url::Url;

use crate::ledger::anchor::VerifiedAnchor;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("cannot read the anchoring key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("the chain cannot be reached or refused the call: {0}")]
    Rpc(String),
    #[error("the RPC endpoint serves chain {served}, not chain {expected}")]
    WrongChain { served: u64, expected: u64 },
    #[error("transaction {0} is not on the chain")]
    NotFound(String),
    #[error("transaction {transaction} is in block {found:?}, not block {expected}")]
    OtherBlock {
        transaction: String,
        found: Option<u64>,
        expected: u64,
    },
    #[error("transaction {0} failed on the chain")]
    Failed(String),
    #[error("transaction {0} does not carry the hash of the receipt's anchored checkpoint")]
    OtherData(String),
    #[error("`{0}` is not a transaction hash")]
    BadHash(String),
}

fn rpc(err: impl std::fmt::Display) -> ChainError {
    ChainError::Rpc(err.to_string())
}

/// The operator's account on the chain, which sends anchoring transactions.
#[derive(Debug, Clone)]
pub struct Anchorer {
    provider: DynProvider,
    address: Address,
    chain_id: u64,
}

impl Anchorer {
    /// The account whose private key (hex, a `0x` prefix allowed) is in `key_file`, on the
    /// chain `chain_id` served at `rpc_url`.
    pub fn load(rpc_url: &Url, chain_id: u64, key_file: &Path) -> Result<Self, ChainError> {
        let key_error = |reason: String| ChainError::Key {
            path: key_file.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(key_file).map_err(|e| key_error(e.to_string()))?;
        let signer: PrivateKeySigner = text
            .trim()
            .parse()
            .map_err(|_| key_error("not a secp256k1 private key in hex".into()))?;
        let address = signer.address();
        let provider = ProviderBuilder::new()
            .wallet(signer)
            .connect_http(rpc_url.clone())
            .erased();
        Ok(Self {
            provider,
            address,
            chain_id,
        })
    }

    /// The account's address.
    pub fn address(&self) -> Address {
        self.address
    }

    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Sends a transaction carrying `calldata` (to the account itself, with no value); answers
    /// its hash once the chain accepted it.
    pub async fn send(&self, calldata: Vec<u8>) -> Result<String, ChainError> {
        let served = self.provider.get_chain_id().await.map_err(rpc)?;
        if served != self.chain_id {
            return Err(ChainError::WrongChain {
                served,
                expected: self.chain_id,
            });
        }
        let request = TransactionRequest::default()
            .with_to(self.address)
            .with_input(Bytes::from(calldata))
            .with_chain_id(self.chain_id);
        let pending = self.provider.send_transaction(request).await.map_err(rpc)?;
        Ok(pending.tx_hash().to_string())
    }

    /// The block that included `transaction`, once one did.
    pub async fn included_in(&self, transaction: &str) -> Result<Option<u64>, ChainError> {
        let hash = parse_hash(transaction)?;
        let receipt = self.provider.get_transaction_receipt(hash).await.map_err(rpc)?;
        match receipt {
            None => Ok(None),
            Some(receipt) if !receipt.status() => Err(ChainError::Failed(transaction.to_owned())),
            Some(receipt) => Ok(receipt.block_number),
        }
    }
}

fn parse_hash(transaction: &str) -> Result<TxHash, ChainError> {
    transaction
        .parse()
        .map_err(|_| ChainError::BadHash(transaction.to_owned()))
}

/// What the chain says of an anchor that checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnChain {
    /// The account that sent the transaction.
    pub from: Address,
}

/// Checks `anchor` on the chain served at `rpc_url`: the chain is the anchor's, and the
/// transaction succeeded in the anchor's block carrying the anchored checkpoint's hash.
pub async fn check(rpc_url: &Url, anchor: &VerifiedAnchor) -> Result<OnChain, ChainError> {
    let provider = ProviderBuilder::new().connect_http(rpc_url.clone());
    let served = provider.get_chain_id().await.map_err(rpc)?;
    if served != anchor.chain_id {
        return Err(ChainError::WrongChain {
            served,
            expected: anchor.chain_id,
        });
    }
    let hash = parse_hash(&anchor.transaction)?;
    let transaction = provider
        .get_transaction_by_hash(hash)
        .await
        .map_err(rpc)?
        .ok_or_else(|| ChainError::NotFound(anchor.transaction.clone()))?;
    if transaction.block_number != Some(anchor.block_number) {
        return Err(ChainError::OtherBlock {
            transaction: anchor.transaction.clone(),
            found: transaction.block_number,
            expected: anchor.block_number,
        });
    }
    if transaction.input().as_ref() != anchor.calldata.as_slice() {
        return Err(ChainError::OtherData(anchor.transaction.clone()));
    }
    let receipt = provider
        .get_transaction_receipt(hash)
        .await
        .map_err(rpc)?
        .ok_or_else(|| ChainError::NotFound(anchor.transaction.clone()))?;
    if !receipt.status() {
        return Err(ChainError::Failed(anchor.transaction.clone()));
    }
    Ok(OnChain {
        from: transaction.inner.signer(),
    })
}
