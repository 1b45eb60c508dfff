//! The annual governance report's figures, and the nameless counters it reads: a refusal for
//! age is counted by kind and day, never by person.

use chrono::{DateTime, Utc};

use super::{ServiceResult, Services};
use crate::domain::age::beijing_date;
use crate::domain::governance::{CountedRefusal, GovernanceFigures, GovernanceYear};
use crate::store;

/// Counts a refusal of `kind` at `now`. A count that cannot be written is logged and the
/// refusal stands: the figure is a statistic, the refusal is the rule.
pub async fn count_refusal(services: &Services, kind: CountedRefusal, now: DateTime<Utc>) {
    if let Err(err) = store::governance::count_refusal(&services.db, kind, beijing_date(now)).await {
        tracing::warn!(kind = kind.as_str(), error = %err, "refusal not counted");
    }
}

pub async fn figures(services: &Services, year: GovernanceYear) -> ServiceResult<GovernanceFigures> {
    Ok(store::governance::figures(&services.db, year).await?)
}
