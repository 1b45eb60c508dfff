//! The platform's rules as the log alone shows them, for monitors: fed every entry in order,
//! [`LogRules`] names the first that breaks one. Every mint is of a published collection, by an
//! issuer not revoked, with a serial within the edition that no earlier mint had and the
//! collection's content; nothing is minted in a revoked collection; a token is frozen,
//! unfrozen or revoked only from a state that allows it; times never go back. No entry type
//! changes a token's holder, so an entry the format does not know (a transfer, say) breaks the
//! rules too.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::entry::{Digest, Entry, EntryBody};
use crate::domain::collection::MAX_EDITION_SIZE;

/// What the log says of an issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerStanding {
    Approved,
    Suspended,
    Revoked,
}

/// What the log says of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenStanding {
    Unminted = 0,
    Active = 1,
    Frozen = 2,
    Revoked = 3,
}

/// The standing of a collection's tokens, two bits a serial (serial `s` at bit pair `s - 1`),
/// as long as the highest serial minted needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
struct Tokens(Vec<u8>);

impl Tokens {
    fn get(&self, serial: u32) -> TokenStanding {
        let at = (serial - 1) as usize;
        match self.0.get(at / 4).map_or(0, |byte| byte >> ((at % 4) * 2) & 0b11) {
            1 => TokenStanding::Active,
            2 => TokenStanding::Frozen,
            3 => TokenStanding::Revoked,
            _ => TokenStanding::Unminted,
        }
    }

    fn set(&mut self, serial: u32, standing: TokenStanding) {
        let at = (serial - 1) as usize;
        if self.0.len() <= at / 4 {
            self.0.resize(at / 4 + 1, 0);
        }
        let shift = (at % 4) * 2;
        self.0[at / 4] = self.0[at / 4] & !(0b11 << shift) | (standing as u8) << shift;
    }

    /// Whether every minted token is revoked.
    fn all_revoked(&self) -> bool {
        (1..=self.0.len() as u32 * 4).all(|s| matches!(self.get(s), TokenStanding::Unminted | TokenStanding::Revoked))
    }
}

impl From<Tokens> for String {
    fn from(tokens: Tokens) -> String {
        STANDARD.encode(tokens.0)
    }
}

impl TryFrom<String> for Tokens {
    type Error = base64::DecodeError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        STANDARD.decode(text).map(Tokens)
    }
}

/// What the log says of a published collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Published {
    issuer: u64,
    edition: u32,
    #[serde(with = "hex_digest")]
    content: Digest,
    revoked: bool,
    tokens: Tokens,
}

mod hex_digest {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(digest: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::crypto::hex(digest))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        crate::crypto::parse_digest_hex(&text).ok_or_else(|| serde::de::Error::custom("not a hex digest"))
    }
}

/// A rule an entry broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("entry {index} cannot be decoded ({reason}); no entry the format knows changes a holder")]
    Undecodable { index: u64, reason: String },
    #[error("entry {index} is stamped {at} ms, earlier than the entry before it ({before} ms)")]
    TimeWentBack { index: u64, at: u64, before: u64 },
    #[error("entry {index} ({kind}) names issuer {issuer}, which the log never approved")]
    UnknownIssuer {
        index: u64,
        kind: &'static str,
        issuer: u64,
    },
    #[error("entry {index} ({kind}) is for issuer {issuer}, which the log revoked")]
    RevokedIssuer {
        index: u64,
        kind: &'static str,
        issuer: u64,
    },
    #[error("entry {index} ({kind}) is for issuer {issuer}, which is {standing:?}")]
    IssuerCannot {
        index: u64,
        kind: &'static str,
        issuer: u64,
        standing: IssuerStanding,
    },
    #[error("entry {index} publishes collection {collection} a second time")]
    PublishedTwice { index: u64, collection: u64 },
    #[error(
        "entry {index} publishes collection {collection} with an edition of {edition}, not 1 to {MAX_EDITION_SIZE}"
    )]
    BadEdition { index: u64, collection: u64, edition: u32 },
    #[error("entry {index} ({kind}) is for collection {collection}, which the log never published")]
    UnpublishedCollection {
        index: u64,
        kind: &'static str,
        collection: u64,
    },
    #[error("entry {index} mints in collection {collection}, which the log revoked")]
    MintAfterRevocation { index: u64, collection: u64 },
    #[error("entry {index} mints serial {serial} of collection {collection}, whose edition is {edition}")]
    SerialOutOfEdition {
        index: u64,
        collection: u64,
        serial: u32,
        edition: u32,
    },
    #[error("entry {index} mints serial {serial} of collection {collection} again")]
    MintedTwice { index: u64, collection: u64, serial: u32 },
    #[error("entry {index} mints a token of collection {collection} with content other than the collection's")]
    OtherContent { index: u64, collection: u64 },
    #[error("entry {index} ({kind}) changes token {collection}#{serial}, which is {standing}")]
    TokenCannot {
        index: u64,
        kind: &'static str,
        collection: u64,
        serial: u32,
        standing: &'static str,
    },
    #[error("entry {index} revokes collection {collection}, but some of its tokens are not revoked")]
    RevokedWithLiveTokens { index: u64, collection: u64 },
}

/// Everything the rules need to remember of the log so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRules {
    issuers: BTreeMap<u64, IssuerStanding>,
    collections: BTreeMap<u64, Published>,
    last_timestamp_ms: u64,
}

impl LogRules {
    /// Checks the entry at `index` (the next one) and takes it in.
    pub fn apply(&mut self, index: u64, bytes: &[u8]) -> Result<(), Violation> {
        let entry = Entry::decode(bytes).map_err(|err| Violation::Undecodable {
            index,
            reason: err.to_string(),
        })?;
        if entry.timestamp_ms < self.last_timestamp_ms {
            return Err(Violation::TimeWentBack {
                index,
                at: entry.timestamp_ms,
                before: self.last_timestamp_ms,
            });
        }
        self.last_timestamp_ms = entry.timestamp_ms;
        let kind = entry.body.type_name();
        match entry.body {
            EntryBody::IssuerApproved { issuer_id, .. } => {
                if self.issuers.get(&issuer_id) == Some(&IssuerStanding::Revoked) {
                    return Err(Violation::RevokedIssuer {
                        index,
                        kind,
                        issuer: issuer_id,
                    });
                }
                self.issuers.insert(issuer_id, IssuerStanding::Approved);
            }
            EntryBody::IssuerSuspended { issuer_id } => {
                self.issuer_moves(
                    index,
                    kind,
                    issuer_id,
                    IssuerStanding::Approved,
                    IssuerStanding::Suspended,
                )?;
            }
            EntryBody::IssuerReinstated { issuer_id } => {
                self.issuer_moves(
                    index,
                    kind,
                    issuer_id,
                    IssuerStanding::Suspended,
                    IssuerStanding::Approved,
                )?;
            }
            EntryBody::IssuerRevoked { issuer_id } => {
                self.issuer(index, kind, issuer_id)?;
                self.issuers.insert(issuer_id, IssuerStanding::Revoked);
            }
            // Filings run out and are renewed whether or not the issuer is suspended; only a
            // revoked issuer has none to keep.
            EntryBody::IssuerFilingsLapsed { issuer_id } | EntryBody::IssuerFilingsRenewed { issuer_id } => {
                self.issuer(index, kind, issuer_id)?;
            }
            EntryBody::HashAttestation { issuer_id, .. } | EntryBody::LabelledHashAttestation { issuer_id, .. } => {
                self.issuer(index, kind, issuer_id)?;
            }
            EntryBody::CollectionPublished {
                issuer_id,
                collection_id,
                content_hash,
                edition_size,
            } => {
                let standing = self.issuer(index, kind, issuer_id)?;
                if standing != IssuerStanding::Approved {
                    return Err(Violation::IssuerCannot {
                        index,
                        kind,
                        issuer: issuer_id,
                        standing,
                    });
                }
                if self.collections.contains_key(&collection_id) {
                    return Err(Violation::PublishedTwice {
                        index,
                        collection: collection_id,
                    });
                }
                if !(1..=MAX_EDITION_SIZE).contains(&edition_size) {
                    return Err(Violation::BadEdition {
                        index,
                        collection: collection_id,
                        edition: edition_size,
                    });
                }
                let published = Published {
                    issuer: issuer_id,
                    edition: edition_size,
                    content: content_hash,
                    revoked: false,
                    tokens: Tokens::default(),
                };
                self.collections.insert(collection_id, published);
            }
            EntryBody::TokenMinted {
                collection_id,
                serial,
                content_hash,
                ..
            } => {
                let issuer = self.collection(index, kind, collection_id)?.issuer;
                self.issuer(index, kind, issuer)?;
                let collection = self.collection(index, kind, collection_id)?;
                if collection.revoked {
                    return Err(Violation::MintAfterRevocation {
                        index,
                        collection: collection_id,
                    });
                }
                if !(1..=collection.edition).contains(&serial) {
                    return Err(Violation::SerialOutOfEdition {
                        index,
                        collection: collection_id,
                        serial,
                        edition: collection.edition,
                    });
                }
                if collection.content != content_hash {
                    return Err(Violation::OtherContent {
                        index,
                        collection: collection_id,
                    });
                }
                if collection.tokens.get(serial) != TokenStanding::Unminted {
                    return Err(Violation::MintedTwice {
                        index,
                        collection: collection_id,
                        serial,
                    });
                }
                collection.tokens.set(serial, TokenStanding::Active);
            }
            EntryBody::TokenFrozen { collection_id, serial } => {
                self.token_moves(
                    index,
                    kind,
                    collection_id,
                    serial,
                    &[TokenStanding::Active],
                    TokenStanding::Frozen,
                )?;
            }
            EntryBody::TokenUnfrozen { collection_id, serial } => {
                self.token_moves(
                    index,
                    kind,
                    collection_id,
                    serial,
                    &[TokenStanding::Frozen],
                    TokenStanding::Active,
                )?;
            }
            EntryBody::TokenRevoked { collection_id, serial } => {
                let from = [TokenStanding::Active, TokenStanding::Frozen];
                self.token_moves(index, kind, collection_id, serial, &from, TokenStanding::Revoked)?;
            }
            EntryBody::CollectionRevoked { collection_id } => {
                let collection = self.collection(index, kind, collection_id)?;
                if !collection.tokens.all_revoked() {
                    return Err(Violation::RevokedWithLiveTokens {
                        index,
                        collection: collection_id,
                    });
                }
                collection.revoked = true;
            }
            EntryBody::LogContinued { .. } => {}
        }
        Ok(())
    }

    /// The issuer's standing; an issuer the log never approved, or revoked, breaks the rules.
    fn issuer(&self, index: u64, kind: &'static str, issuer: u64) -> Result<IssuerStanding, Violation> {
        match self.issuers.get(&issuer) {
            None => Err(Violation::UnknownIssuer { index, kind, issuer }),
            Some(IssuerStanding::Revoked) => Err(Violation::RevokedIssuer { index, kind, issuer }),
            Some(standing) => Ok(*standing),
        }
    }

    fn issuer_moves(
        &mut self,
        index: u64,
        kind: &'static str,
        issuer: u64,
        from: IssuerStanding,
        to: IssuerStanding,
    ) -> Result<(), Violation> {
        let standing = self.issuer(index, kind, issuer)?;
        if standing != from {
            return Err(Violation::IssuerCannot {
                index,
                kind,
                issuer,
                standing,
            });
        }
        self.issuers.insert(issuer, to);
        Ok(())
    }

    fn collection(&mut self, index: u64, kind: &'static str, collection: u64) -> Result<&mut Published, Violation> {
        self.collections
            .get_mut(&collection)
            .ok_or(Violation::UnpublishedCollection {
                index,
                kind,
                collection,
            })
    }

    fn token_moves(
        &mut self,
        index: u64,
        kind: &'static str,
        collection_id: u64,
        serial: u32,
        from: &[TokenStanding],
        to: TokenStanding,
    ) -> Result<(), Violation> {
        let collection = self.collection(index, kind, collection_id)?;
        let standing = if serial == 0 {
            TokenStanding::Unminted
        } else {
            collection.tokens.get(serial)
        };
        if !from.contains(&standing) {
            let standing = match standing {
                TokenStanding::Unminted => "not minted",
                TokenStanding::Active => "active",
                TokenStanding::Frozen => "frozen",
                TokenStanding::Revoked => "revoked",
            };
            return Err(Violation::TokenCannot {
                index,
                kind,
                collection: collection_id,
                serial,
                standing,
            });
        }
        collection.tokens.set(serial, to);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
