//! The platform's rules, user agreement and privacy policy as people accept them: what a
//! person has still to accept, and recording that they did.

use chrono::{DateTime, Utc};

use super::{ServiceResult, Services};
use crate::domain::ids::UserId;
use crate::domain::policy::{self, PolicyDocument};
use crate::{policies, store};

/// The documents `user` has not accepted at their current version.
pub async fn outstanding(services: &Services, user: UserId) -> ServiceResult<Vec<PolicyDocument>> {
    let accepted = store::policies::accepted(&services.db, user).await?;
    Ok(policy::outstanding(&policies::current_versions(), &accepted))
}

/// Records that `user` accepted every document at its current version.
pub async fn accept(services: &Services, user: UserId, now: DateTime<Utc>) -> ServiceResult<()> {
    store::policies::accept(&services.db, user, &policies::current_versions(), now).await?;
    tracing::info!(%user, "policies accepted");
    Ok(())
}
