//! Archives of a person's own data (PIPL Art. 45: to see and to copy what is held about
//! them). An archive is asked for with the password, built in the background, and offered for
//! [`ARCHIVE_LIFETIME`]; afterwards it is deleted and a new one is asked for.

use chrono::{DateTime, TimeDelta, Utc};

/// How long a built archive can be downloaded.
pub const ARCHIVE_LIFETIME: TimeDelta = TimeDelta::hours(48);
/// How long one server may take to build an archive before another takes it over.
pub const BUILD_LEASE: TimeDelta = TimeDelta::minutes(10);
/// Archives one person may ask for in [`REQUEST_WINDOW`]: enough to retry, not enough to make
/// the servers build archives all day.
pub const REQUESTS_PER_WINDOW: usize = 3;
pub const REQUEST_WINDOW: TimeDelta = TimeDelta::hours(24);

/// Where an archive stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    /// Asked for; a background worker builds it.
    Pending,
    Ready,
    /// Building failed; the person asks again.
    Failed,
    /// Its time ran out and its bytes were deleted.
    Expired,
}

impl ExportStatus {
    pub const ALL: [ExportStatus; 4] = [
        ExportStatus::Pending,
        ExportStatus::Ready,
        ExportStatus::Failed,
        ExportStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Pending => "pending",
            ExportStatus::Ready => "ready",
            ExportStatus::Failed => "failed",
            ExportStatus::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }
}

/// One archive as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataExport {
    pub id: i64,
    pub status: ExportStatus,
    pub requested_at: DateTime<Utc>,
    pub ready_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub bytes: Option<u64>,
}

impl DataExport {
    /// What the person can do with it at `now`: a ready archive past its time counts as
    /// expired even before the clean-up deletes it.
    pub fn standing(&self, now: DateTime<Utc>) -> ExportStatus {
        match (self.status, self.expires_at) {
            (ExportStatus::Ready, Some(expires)) if expires <= now => ExportStatus::Expired,
            (status, _) => status,
        }
    }
}

/// Why a new archive was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestRefused {
    #[error("an archive is being prepared already")]
    AlreadyPreparing,
    #[error("too many archives asked for lately; try again after {retry_at}")]
    TooMany { retry_at: DateTime<Utc> },
}

/// Whether the person may ask for another archive, given their recent ones (any order).
pub fn may_request(recent: &[DataExport], now: DateTime<Utc>) -> Result<(), RequestRefused> {
    if recent.iter().any(|export| export.status == ExportStatus::Pending) {
        return Err(RequestRefused::AlreadyPreparing);
    }
    let mut in_window: Vec<DateTime<Utc>> = recent
        .iter()
        .map(|export| export.requested_at)
        .filter(|at| *at > now - REQUEST_WINDOW)
        .collect();
    if in_window.len() >= REQUESTS_PER_WINDOW {
        in_window.sort();
        let oldest_counted = in_window[in_window.len() - REQUESTS_PER_WINDOW];
        return Err(RequestRefused::TooMany {
            retry_at: oldest_counted + REQUEST_WINDOW,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 7, 0, 0, 0).unwrap() + TimeDelta::hours(hours)
    }

    fn export(status: ExportStatus, requested: i64) -> DataExport {
        DataExport {
            id: requested,
            status,
            requested_at: at(requested),
            ready_at: None,
            expires_at: None,
            bytes: None,
        }
    }

    #[test]
    fn statuses_read_back() {
        for status in ExportStatus::ALL {
            assert_eq!(ExportStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(ExportStatus::parse("done"), None);
    }

    #[test]
    fn a_ready_archive_expires_with_its_time() {
        let ready = DataExport {
            ready_at: Some(at(1)),
            expires_at: Some(at(1) + ARCHIVE_LIFETIME),
            ..export(ExportStatus::Ready, 0)
        };
        assert_eq!(ready.standing(at(2)), ExportStatus::Ready);
        assert_eq!(ready.standing(at(1) + ARCHIVE_LIFETIME), ExportStatus::Expired);
        assert_eq!(
            export(ExportStatus::Pending, 0).standing(at(100)),
            ExportStatus::Pending
        );
    }

    #[test]
    fn one_archive_at_a_time_and_three_a_day() {
        assert_eq!(may_request(&[], at(0)), Ok(()));
        assert_eq!(
            may_request(&[export(ExportStatus::Pending, 0)], at(1)),
            Err(RequestRefused::AlreadyPreparing)
        );
        let three = [
            export(ExportStatus::Ready, 1),
            export(ExportStatus::Failed, 5),
            export(ExportStatus::Expired, 3),
        ];
        assert_eq!(
            may_request(&three, at(6)),
            Err(RequestRefused::TooMany { retry_at: at(25) }),
            "the oldest of the three leaves the window first"
        );
        assert_eq!(may_request(&three, at(25)), Ok(()));
        assert_eq!(may_request(&three[..2], at(6)), Ok(()));
    }
}
