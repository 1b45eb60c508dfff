//! Tests of [`super`]: an honest history passes, and each rule catches what breaks it.

use super::*;

fn at(ms: u64, body: EntryBody) -> Vec<u8> {
    Entry { timestamp_ms: ms, body }.encode().unwrap()
}

fn published(collection_id: u64, edition_size: u32) -> EntryBody {
    EntryBody::CollectionPublished {
        issuer_id: 7,
        collection_id,
        content_hash: [1; 32],
        edition_size,
    }
}

fn minted(collection_id: u64, serial: u32) -> EntryBody {
    EntryBody::TokenMinted {
        collection_id,
        serial,
        content_hash: [1; 32],
        holder_commitment: [serial as u8; 32],
    }
}

/// An honest history: an issuer approved, a collection published, tokens minted, frozen,
/// unfrozen and revoked, the collection revoked whole, an attestation.
fn honest() -> Vec<EntryBody> {
    vec![
        EntryBody::IssuerApproved {
            issuer_id: 7,
            credit_code: "91350100M000100Y43".into(),
            legal_name: "新华文创".into(),
        },
        published(42, 3),
        minted(42, 1),
        minted(42, 2),
        EntryBody::TokenFrozen {
            collection_id: 42,
            serial: 1,
        },
        EntryBody::TokenUnfrozen {
            collection_id: 42,
            serial: 1,
        },
        EntryBody::TokenFrozen {
            collection_id: 42,
            serial: 2,
        },
        EntryBody::TokenRevoked {
            collection_id: 42,
            serial: 1,
        },
        EntryBody::TokenRevoked {
            collection_id: 42,
            serial: 2,
        },
        EntryBody::CollectionRevoked { collection_id: 42 },
        EntryBody::HashAttestation {
            issuer_id: 7,
            sha3_256: [9; 32],
            label_sha3_256: [8; 32],
        },
        EntryBody::IssuerSuspended { issuer_id: 7 },
        EntryBody::IssuerFilingsLapsed { issuer_id: 7 },
        EntryBody::IssuerReinstated { issuer_id: 7 },
        EntryBody::IssuerFilingsRenewed { issuer_id: 7 },
        published(43, 1_000_000),
        minted(43, 1_000_000),
    ]
}

/// Applies `bodies` one a millisecond; answers the first violation.
fn run(bodies: Vec<EntryBody>) -> Result<LogRules, Violation> {
    let mut rules = LogRules::default();
    for (index, body) in bodies.into_iter().enumerate() {
        rules.apply(index as u64, &at(1_000 + index as u64, body))?;
    }
    Ok(rules)
}

/// The honest history followed by `more`.
fn after_honest(more: Vec<EntryBody>) -> Result<LogRules, Violation> {
    let mut bodies = honest();
    bodies.extend(more);
    run(bodies)
}

#[test]
fn an_honest_history_keeps_the_rules_and_its_state_survives_a_round_trip() {
    let rules = run(honest()).unwrap();
    let kept: LogRules = serde_json::from_str(&serde_json::to_string(&rules).unwrap()).unwrap();
    assert_eq!(kept, rules);
    let mut kept = kept;
    assert!(
        matches!(
            kept.apply(99, &at(5_000, minted(43, 1_000_000))),
            Err(Violation::MintedTwice { serial: 1_000_000, .. })
        ),
        "the kept state still knows what was minted"
    );
}

#[test]
fn every_broken_rule_is_named_with_its_entry() {
    let n = honest().len() as u64;
    let cases: Vec<(Vec<EntryBody>, Violation)> = vec![
        (
            vec![minted(44, 1)],
            Violation::UnpublishedCollection {
                index: n,
                kind: "token_minted",
                collection: 44,
            },
        ),
        (
            vec![minted(43, 1_000_001)],
            Violation::SerialOutOfEdition {
                index: n,
                collection: 43,
                serial: 1_000_001,
                edition: 1_000_000,
            },
        ),
        (
            vec![minted(43, 0)],
            Violation::SerialOutOfEdition {
                index: n,
                collection: 43,
                serial: 0,
                edition: 1_000_000,
            },
        ),
        (
            vec![minted(43, 5), minted(43, 5)],
            Violation::MintedTwice {
                index: n + 1,
                collection: 43,
                serial: 5,
            },
        ),
        (
            vec![minted(42, 3)],
            Violation::MintAfterRevocation {
                index: n,
                collection: 42,
            },
        ),
        (
            vec![EntryBody::TokenMinted {
                collection_id: 43,
                serial: 2,
                content_hash: [2; 32],
                holder_commitment: [0; 32],
            }],
            Violation::OtherContent {
                index: n,
                collection: 43,
            },
        ),
        (
            vec![published(43, 5)],
            Violation::PublishedTwice {
                index: n,
                collection: 43,
            },
        ),
        (
            vec![published(45, 1_000_001)],
            Violation::BadEdition {
                index: n,
                collection: 45,
                edition: 1_000_001,
            },
        ),
        (
            vec![EntryBody::IssuerRevoked { issuer_id: 7 }, minted(43, 2)],
            Violation::RevokedIssuer {
                index: n + 1,
                kind: "token_minted",
                issuer: 7,
            },
        ),
        (
            vec![EntryBody::IssuerSuspended { issuer_id: 7 }, published(46, 1)],
            Violation::IssuerCannot {
                index: n + 1,
                kind: "collection_published",
                issuer: 7,
                standing: IssuerStanding::Suspended,
            },
        ),
        (
            vec![
                EntryBody::IssuerRevoked { issuer_id: 7 },
                EntryBody::IssuerFilingsRenewed { issuer_id: 7 },
            ],
            Violation::RevokedIssuer {
                index: n + 1,
                kind: "issuer_filings_renewed",
                issuer: 7,
            },
        ),
        (
            vec![EntryBody::IssuerFilingsLapsed { issuer_id: 8 }],
            Violation::UnknownIssuer {
                index: n,
                kind: "issuer_filings_lapsed",
                issuer: 8,
            },
        ),
        (
            vec![EntryBody::IssuerSuspended { issuer_id: 8 }],
            Violation::UnknownIssuer {
                index: n,
                kind: "issuer_suspended",
                issuer: 8,
            },
        ),
        (
            vec![EntryBody::TokenUnfrozen {
                collection_id: 43,
                serial: 1_000_000,
            }],
            Violation::TokenCannot {
                index: n,
                kind: "token_unfrozen",
                collection: 43,
                serial: 1_000_000,
                standing: "active",
            },
        ),
        (
            vec![EntryBody::TokenFrozen {
                collection_id: 43,
                serial: 3,
            }],
            Violation::TokenCannot {
                index: n,
                kind: "token_frozen",
                collection: 43,
                serial: 3,
                standing: "not minted",
            },
        ),
        (
            vec![EntryBody::TokenUnfrozen {
                collection_id: 42,
                serial: 1,
            }],
            Violation::TokenCannot {
                index: n,
                kind: "token_unfrozen",
                collection: 42,
                serial: 1,
                standing: "revoked",
            },
        ),
        (
            vec![EntryBody::CollectionRevoked { collection_id: 43 }],
            Violation::RevokedWithLiveTokens {
                index: n,
                collection: 43,
            },
        ),
    ];
    for (more, expected) in cases {
        assert_eq!(after_honest(more.clone()).unwrap_err(), expected, "{more:?}");
    }
}

#[test]
fn unknown_entries_and_times_going_back_are_caught() {
    let mut rules = run(honest()).unwrap();
    let mut transfer = at(9_000, minted(43, 7));
    transfer[1] = 14;
    assert!(matches!(
        rules.apply(50, &transfer),
        Err(Violation::Undecodable { index: 50, .. })
    ));
    let early = at(
        10,
        EntryBody::HashAttestation {
            issuer_id: 7,
            sha3_256: [0; 32],
            label_sha3_256: [0; 32],
        },
    );
    assert_eq!(
        rules.apply(51, &early),
        Err(Violation::TimeWentBack {
            index: 51,
            at: 10,
            before: 1_000 + honest().len() as u64 - 1
        })
    );
}
