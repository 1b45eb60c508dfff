//! Identifiers of what the platform stores: one newtype per kind, all made by one macro, so
//! that an issuer's id is never taken for a collection's. Each prints as its number, parses
//! from a path segment (`Path<CollectionId>`) and serialises as a number.

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map($name)
            }
        }
    )*};
}

ids! {
    /// An account.
    UserId;
    /// An issuer: a business that applied, approved or not.
    IssuerId;
    /// A document an issuer filed with its application.
    DocumentId;
    /// An issuer's API key.
    ApiKeyId;
    /// A collection of collectibles.
    CollectionId;
    /// A minted token.
    TokenId;
    /// A term of the moderation policy's lists.
    TermId;
    /// An image on the moderation policy's blocklist.
    BlockedImageId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_parse_and_serialise_as_numbers() {
        let id: CollectionId = "42".parse().unwrap();
        assert_eq!(id, CollectionId(42));
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<CollectionId>("42").unwrap(), id);
        assert!("4x".parse::<CollectionId>().is_err());
    }
}
