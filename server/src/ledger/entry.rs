//! Ledger entries and their canonical binary encoding (documented in `docs/ledger-format.md`).
//!
//! Every entry is `version (u8) || type (u8) || timestamp_ms (u64) || body`, all integers
//! big-endian, variable-length fields prefixed with their length, in the style of RFC 8446
//! structs. Decoding is strict: unknown versions or types, short input, trailing bytes,
//! over-long fields and invalid UTF-8 are refused, so each entry has exactly one encoding.
//! No entry ever holds personal data.

/// The only encoding version so far.
pub const VERSION: u8 = 1;

/// A SHA3-256 digest carried in an entry.
pub type Digest = [u8; 32];

/// One event recorded in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryBody {
    /// An approved issuer put a document hash on the ledger (存证). The issuer's label is
    /// kept by the platform, where it can be erased; the entry holds only its digest.
    HashAttestation {
        issuer_id: u64,
        sha3_256: Digest,
        label_sha3_256: Digest,
    },
    /// A hash attestation of the first entries, with the label written out; no longer written,
    /// since a leaf is kept for ever.
    LabelledHashAttestation {
        issuer_id: u64,
        sha3_256: Digest,
        label: String,
    },
    IssuerApproved {
        issuer_id: u64,
        credit_code: String,
        legal_name: String,
    },
    IssuerSuspended {
        issuer_id: u64,
    },
    IssuerReinstated {
        issuer_id: u64,
    },
    IssuerRevoked {
        issuer_id: u64,
    },
    /// A filing of the issuer (business licence, ICP or blockchain-service filing) ran out:
    /// its collections take no claims until a renewal is accepted.
    IssuerFilingsLapsed {
        issuer_id: u64,
    },
    /// A reviewer accepted the issuer's renewed filings after they had run out.
    IssuerFilingsRenewed {
        issuer_id: u64,
    },
    CollectionPublished {
        issuer_id: u64,
        collection_id: u64,
        content_hash: Digest,
        edition_size: u32,
    },
    TokenMinted {
        collection_id: u64,
        serial: u32,
        content_hash: Digest,
        holder_commitment: Digest,
    },
    TokenFrozen {
        collection_id: u64,
        serial: u32,
    },
    TokenRevoked {
        collection_id: u64,
        serial: u32,
    },
    /// A freeze was lifted: the token stands again as minted.
    TokenUnfrozen {
        collection_id: u64,
        serial: u32,
    },
    /// A reviewer revoked the whole collection: its tokens are revoked (entries before this
    /// one) and nothing more is ever minted in it.
    CollectionRevoked {
        collection_id: u64,
    },
    /// The log continues a closed one (format v1): this entry commits to that log's final
    /// signed checkpoint, whose body is `previous_origin`, `previous_size`, `previous_root`.
    LogContinued {
        previous_origin: String,
        previous_size: u64,
        previous_root: Digest,
    },
}

/// An entry with the time it was recorded (milliseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub timestamp_ms: u64,
    pub body: EntryBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unsupported entry version {0}")]
    Version(u8),
    #[error("unknown entry type {0}")]
    Type(u8),
    #[error("entry ends early")]
    Truncated,
    #[error("entry has {0} unexpected trailing bytes")]
    Trailing(usize),
    #[error("a text field is not valid UTF-8")]
    Utf8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("a text field is longer than its length prefix allows")]
    FieldTooLong,
}

impl EntryBody {
    /// The type byte.
    pub fn type_code(&self) -> u8 {
        match self {
            EntryBody::LabelledHashAttestation { .. } => 1,
            EntryBody::HashAttestation { .. } => 11,
            EntryBody::IssuerApproved { .. } => 2,
            EntryBody::IssuerSuspended { .. } => 3,
            EntryBody::IssuerReinstated { .. } => 4,
            EntryBody::IssuerRevoked { .. } => 5,
            EntryBody::CollectionPublished { .. } => 6,
            EntryBody::TokenMinted { .. } => 7,
            EntryBody::TokenFrozen { .. } => 8,
            EntryBody::TokenRevoked { .. } => 9,
            EntryBody::TokenUnfrozen { .. } => 10,
            EntryBody::LogContinued { .. } => 12,
            EntryBody::CollectionRevoked { .. } => 13,
            EntryBody::IssuerFilingsLapsed { .. } => 14,
            EntryBody::IssuerFilingsRenewed { .. } => 15,
        }
    }

    /// The type's name in the JSON API.
    /// The digest of outside content the entry vouches for: the attested document, or a
    /// collection's or token's content.
    pub fn attested_digest(&self) -> Option<&Digest> {
        match self {
            EntryBody::HashAttestation { sha3_256, .. } | EntryBody::LabelledHashAttestation { sha3_256, .. } => {
                Some(sha3_256)
            }
            EntryBody::CollectionPublished { content_hash, .. } | EntryBody::TokenMinted { content_hash, .. } => {
                Some(content_hash)
            }
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            EntryBody::HashAttestation { .. } | EntryBody::LabelledHashAttestation { .. } => "hash_attestation",
            EntryBody::IssuerApproved { .. } => "issuer_approved",
            EntryBody::IssuerSuspended { .. } => "issuer_suspended",
            EntryBody::IssuerReinstated { .. } => "issuer_reinstated",
            EntryBody::IssuerRevoked { .. } => "issuer_revoked",
            EntryBody::CollectionPublished { .. } => "collection_published",
            EntryBody::TokenMinted { .. } => "token_minted",
            EntryBody::TokenFrozen { .. } => "token_frozen",
            EntryBody::TokenRevoked { .. } => "token_revoked",
            EntryBody::TokenUnfrozen { .. } => "token_unfrozen",
            EntryBody::LogContinued { .. } => "log_continued",
            EntryBody::CollectionRevoked { .. } => "collection_revoked",
            EntryBody::IssuerFilingsLapsed { .. } => "issuer_filings_lapsed",
            EntryBody::IssuerFilingsRenewed { .. } => "issuer_filings_renewed",
        }
    }
}

fn put_text8(out: &mut Vec<u8>, text: &str) -> Result<(), EncodeError> {
    let len = u8::try_from(text.len()).map_err(|_| EncodeError::FieldTooLong)?;
    out.push(len);
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn put_text16(out: &mut Vec<u8>, text: &str) -> Result<(), EncodeError> {
    let len = u16::try_from(text.len()).map_err(|_| EncodeError::FieldTooLong)?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// Where the timestamp sits in an encoded entry: after the version and type bytes.
const TIMESTAMP: std::ops::Range<usize> = 2..10;

/// The timestamp of an encoded entry, if it is long enough to have one.
pub fn timestamp_of(encoded: &[u8]) -> Option<u64> {
    encoded
        .get(TIMESTAMP)
        .map(|bytes| u64::from_be_bytes(bytes.try_into().expect("the range is 8 bytes")))
}

/// Sets the timestamp of an encoded entry (the sequencer stamps each entry as it appends it,
/// so the times never go backwards along the log); bytes too short to be an entry are left
/// as they are, for the decoder to refuse.
pub fn stamp(encoded: &mut [u8], timestamp_ms: u64) {
    if let Some(bytes) = encoded.get_mut(TIMESTAMP) {
        bytes.copy_from_slice(&timestamp_ms.to_be_bytes());
    }
}

impl Entry {
    /// An entry recorded at `now` (milliseconds since the Unix epoch).
    pub fn at(now: chrono::DateTime<chrono::Utc>, body: EntryBody) -> Self {
        Entry {
            timestamp_ms: u64::try_from(now.timestamp_millis()).unwrap_or(0),
            body,
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![VERSION, self.body.type_code()];
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        match &self.body {
            EntryBody::HashAttestation {
                issuer_id,
                sha3_256,
                label_sha3_256,
            } => {
                out.extend_from_slice(&issuer_id.to_be_bytes());
                out.extend_from_slice(sha3_256);
                out.extend_from_slice(label_sha3_256);
            }
            EntryBody::LabelledHashAttestation {
                issuer_id,
                sha3_256,
                label,
            } => {
                out.extend_from_slice(&issuer_id.to_be_bytes());
                out.extend_from_slice(sha3_256);
                put_text8(&mut out, label)?;
            }
            EntryBody::IssuerApproved {
                issuer_id,
                credit_code,
                legal_name,
            } => {
                out.extend_from_slice(&issuer_id.to_be_bytes());
                put_text8(&mut out, credit_code)?;
                put_text16(&mut out, legal_name)?;
            }
            EntryBody::IssuerSuspended { issuer_id }
            | EntryBody::IssuerReinstated { issuer_id }
            | EntryBody::IssuerRevoked { issuer_id }
            | EntryBody::IssuerFilingsLapsed { issuer_id }
            | EntryBody::IssuerFilingsRenewed { issuer_id } => out.extend_from_slice(&issuer_id.to_be_bytes()),
            EntryBody::CollectionPublished {
                issuer_id,
                collection_id,
                content_hash,
                edition_size,
            } => {
                out.extend_from_slice(&issuer_id.to_be_bytes());
                out.extend_from_slice(&collection_id.to_be_bytes());
                out.extend_from_slice(content_hash);
                out.extend_from_slice(&edition_size.to_be_bytes());
            }
            EntryBody::TokenMinted {
                collection_id,
                serial,
                content_hash,
                holder_commitment,
            } => {
                out.extend_from_slice(&collection_id.to_be_bytes());
                out.extend_from_slice(&serial.to_be_bytes());
                out.extend_from_slice(content_hash);
                out.extend_from_slice(holder_commitment);
            }
            EntryBody::TokenFrozen { collection_id, serial }
            | EntryBody::TokenRevoked { collection_id, serial }
            | EntryBody::TokenUnfrozen { collection_id, serial } => {
                out.extend_from_slice(&collection_id.to_be_bytes());
                out.extend_from_slice(&serial.to_be_bytes());
            }
            EntryBody::LogContinued {
                previous_origin,
                previous_size,
                previous_root,
            } => {
                put_text8(&mut out, previous_origin)?;
                out.extend_from_slice(&previous_size.to_be_bytes());
                out.extend_from_slice(previous_root);
            }
            EntryBody::CollectionRevoked { collection_id } => out.extend_from_slice(&collection_id.to_be_bytes()),
        }
        Ok(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
        let mut r = Reader(bytes);
        let version = r.u8()?;
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let kind = r.u8()?;
        let timestamp_ms = r.u64()?;
        let body = match kind {
            1 => EntryBody::LabelledHashAttestation {
                issuer_id: r.u64()?,
                sha3_256: r.digest()?,
                label: r.text8()?,
            },
            11 => EntryBody::HashAttestation {
                issuer_id: r.u64()?,
                sha3_256: r.digest()?,
                label_sha3_256: r.digest()?,
            },
            2 => EntryBody::IssuerApproved {
                issuer_id: r.u64()?,
                credit_code: r.text8()?,
                legal_name: r.text16()?,
            },
            3 => EntryBody::IssuerSuspended { issuer_id: r.u64()? },
            4 => EntryBody::IssuerReinstated { issuer_id: r.u64()? },
            5 => EntryBody::IssuerRevoked { issuer_id: r.u64()? },
            14 => EntryBody::IssuerFilingsLapsed { issuer_id: r.u64()? },
            15 => EntryBody::IssuerFilingsRenewed { issuer_id: r.u64()? },
            6 => EntryBody::CollectionPublished {
                issuer_id: r.u64()?,
                collection_id: r.u64()?,
                content_hash: r.digest()?,
                edition_size: r.u32()?,
            },
            7 => EntryBody::TokenMinted {
                collection_id: r.u64()?,
                serial: r.u32()?,
                content_hash: r.digest()?,
                holder_commitment: r.digest()?,
            },
            8 => EntryBody::TokenFrozen {
                collection_id: r.u64()?,
                serial: r.u32()?,
            },
            9 => EntryBody::TokenRevoked {
                collection_id: r.u64()?,
                serial: r.u32()?,
            },
            10 => EntryBody::TokenUnfrozen {
                collection_id: r.u64()?,
                serial: r.u32()?,
            },
            12 => EntryBody::LogContinued {
                previous_origin: r.text8()?,
                previous_size: r.u64()?,
                previous_root: r.digest()?,
            },
            13 => EntryBody::CollectionRevoked {
                collection_id: r.u64()?,
            },
            other => return Err(DecodeError::Type(other)),
        };
        if !r.0.is_empty() {
            return Err(DecodeError::Trailing(r.0.len()));
        }
        Ok(Entry { timestamp_ms, body })
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }

    fn digest(&mut self) -> Result<Digest, DecodeError> {
        Ok(self.take(32)?.try_into().expect("32 bytes"))
    }

    fn text(&mut self, len: usize) -> Result<String, DecodeError> {
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| DecodeError::Utf8)
    }

    fn text8(&mut self) -> Result<String, DecodeError> {
        let len = usize::from(self.u8()?);
        self.text(len)
    }

    fn text16(&mut self) -> Result<String, DecodeError> {
        let len = usize::from(u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes")));
        self.text(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Entry> {
        let at = 1_795_000_000_123;
        [
            EntryBody::LabelledHashAttestation {
                issuer_id: 7,
                sha3_256: [0xAB; 32],
                label: "合同 v2.pdf".into(),
            },
            EntryBody::HashAttestation {
                issuer_id: 7,
                sha3_256: [0xAB; 32],
                label_sha3_256: [0xCD; 32],
            },
            EntryBody::IssuerApproved {
                issuer_id: 7,
                credit_code: "91350100M000100Y43".into(),
                legal_name: "新华文创（北京）有限公司".into(),
            },
            EntryBody::IssuerSuspended { issuer_id: 7 },
            EntryBody::IssuerReinstated { issuer_id: 7 },
            EntryBody::IssuerRevoked { issuer_id: u64::MAX },
            EntryBody::IssuerFilingsLapsed { issuer_id: 7 },
            EntryBody::IssuerFilingsRenewed { issuer_id: 7 },
            EntryBody::CollectionPublished {
                issuer_id: 7,
                collection_id: 42,
                content_hash: [1; 32],
                edition_size: 1_000_000,
            },
            EntryBody::TokenMinted {
                collection_id: 42,
                serial: 12,
                content_hash: [1; 32],
                holder_commitment: [2; 32],
            },
            EntryBody::TokenFrozen {
                collection_id: 42,
                serial: 12,
            },
            EntryBody::TokenRevoked {
                collection_id: 42,
                serial: 12,
            },
            EntryBody::TokenUnfrozen {
                collection_id: 42,
                serial: 12,
            },
            EntryBody::LogContinued {
                previous_origin: "keepsake.example/ledger/sha3-256".into(),
                previous_size: 1_234,
                previous_root: [3; 32],
            },
            EntryBody::CollectionRevoked { collection_id: 42 },
        ]
        .into_iter()
        .map(|body| Entry { timestamp_ms: at, body })
        .collect()
    }

    #[test]
    fn every_entry_round_trips() {
        let mut types = std::collections::BTreeSet::new();
        for entry in samples() {
            let bytes = entry.encode().unwrap();
            assert_eq!(bytes[0], VERSION);
            assert_eq!(bytes[1], entry.body.type_code());
            assert_eq!(&bytes[2..10], &entry.timestamp_ms.to_be_bytes());
            assert_eq!(Entry::decode(&bytes).unwrap(), entry);
            types.insert(entry.body.type_code());
        }
        assert_eq!(types.len(), 15, "one sample per type");
    }

    #[test]
    fn the_encoding_is_exactly_as_documented() {
        let entry = Entry {
            timestamp_ms: 0x0102030405060708,
            body: EntryBody::TokenFrozen {
                collection_id: 0x1112131415161718,
                serial: 0x21222324,
            },
        };
        assert_eq!(
            entry.encode().unwrap(),
            [
                1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x21, 0x22, 0x23, 0x24
            ]
        );
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let good = samples()[0].encode().unwrap();
        for cut in 0..good.len() {
            assert!(Entry::decode(&good[..cut]).is_err(), "truncated at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(Entry::decode(&trailing), Err(DecodeError::Trailing(1)));
        let mut version = good.clone();
        version[0] = 2;
        assert_eq!(Entry::decode(&version), Err(DecodeError::Version(2)));
        let mut kind = good.clone();
        kind[1] = 99;
        assert_eq!(Entry::decode(&kind), Err(DecodeError::Type(99)));
        let mut utf8 = good;
        let last = utf8.len() - 1;
        utf8[last] = 0xFF;
        assert_eq!(Entry::decode(&utf8), Err(DecodeError::Utf8));
    }

    #[test]
    fn over_long_fields_are_refused() {
        let entry = Entry {
            timestamp_ms: 0,
            body: EntryBody::LabelledHashAttestation {
                issuer_id: 1,
                sha3_256: [0; 32],
                label: "x".repeat(256),
            },
        };
        assert_eq!(entry.encode(), Err(EncodeError::FieldTooLong));
    }
}
