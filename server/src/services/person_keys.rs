//! Each person's data key as the services use it: made the first time something of theirs is
//! sealed (one per person, whichever server asks first), and opened from its stored form.

use chrono::{DateTime, Utc};

use super::{ServiceError, ServiceResult, Services};
use crate::domain::ids::UserId;
use crate::kyc::vault::PersonKey;
use crate::store::{self, Connection};

/// `user`'s key, made and stored in `conn` if they have none yet.
pub(crate) async fn key_for(
    services: &Services,
    conn: &impl Connection,
    user: UserId,
    now: DateTime<Utc>,
) -> ServiceResult<PersonKey> {
    let (_, fresh) = services.vault.new_person_key(user);
    let stored = store::person_keys::keep_first(conn, user, fresh, now).await?;
    open(services, user, &stored)
}

/// `user`'s key, if they have one.
pub(crate) async fn existing(
    services: &Services,
    conn: &impl Connection,
    user: UserId,
) -> ServiceResult<Option<PersonKey>> {
    store::person_keys::find(conn, user)
        .await?
        .map(|stored| open(services, user, &stored))
        .transpose()
}

/// `user`'s key from its stored form.
pub(crate) fn open(services: &Services, user: UserId, stored: &str) -> ServiceResult<PersonKey> {
    services.vault.person_key(user, stored).map_err(ServiceError::internal)
}
