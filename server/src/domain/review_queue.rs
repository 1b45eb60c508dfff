//! What a reviewer's queue shows: every waiting case, or only those the reviewer holds, or
//! only those nobody holds, judged by the review lock at `now`, a bounded page at a time.

use chrono::{DateTime, Utc};

use super::ids::UserId;

/// Whether `reviewer` holds a case's review lock, taken by `by` until `until`, live at `now`:
/// the one rule every case page asks before it offers the decision.
pub fn held_by(by: Option<UserId>, until: Option<DateTime<Utc>>, reviewer: UserId, now: DateTime<Utc>) -> bool {
    by == Some(reviewer) && until.is_some_and(|until| until >= now)
}

/// Whose cases the queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimShown {
    Any,
    /// Cases whose live lock the reviewer holds.
    Mine,
    /// Cases with no live lock.
    Unclaimed,
}

impl ClaimShown {
    /// The queue filter's value (`mine`, `unclaimed`; anything else shows every case).
    pub fn parse(value: &str) -> Self {
        match value.trim() {
            "mine" => ClaimShown::Mine,
            "unclaimed" => ClaimShown::Unclaimed,
            _ => ClaimShown::Any,
        }
    }
}

/// One reviewer's view of a queue at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueView {
    pub claim: ClaimShown,
    pub reviewer: UserId,
    pub now: DateTime<Utc>,
}

impl QueueView {
    /// Whether a case locked by `by` until `until` is in this view: the rule the store's
    /// queries state in SQL.
    pub fn shows(&self, by: Option<UserId>, until: Option<DateTime<Utc>>) -> bool {
        let live = until.is_some_and(|until| until >= self.now) && by.is_some();
        match self.claim {
            ClaimShown::Any => true,
            ClaimShown::Mine => held_by(by, until, self.reviewer, self.now),
            ClaimShown::Unclaimed => !live,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_lock_is_held_by_its_reviewer_until_its_last_instant() {
        let now = Utc::now();
        let (me, other) = (UserId(1), UserId(2));
        assert!(held_by(Some(me), Some(now), me, now));
        assert!(!held_by(Some(me), Some(now - TimeDelta::seconds(1)), me, now));
        assert!(!held_by(Some(other), Some(now), me, now));
        assert!(!held_by(None, Some(now), me, now));
        assert!(!held_by(Some(me), None, me, now));
    }

    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn a_lock_counts_while_it_is_live() {
        let now = Utc::now();
        let (me, other) = (UserId(1), UserId(2));
        let view = |claim| QueueView {
            claim,
            reviewer: me,
            now,
        };
        let live = Some(now + TimeDelta::minutes(5));
        let lapsed = Some(now - TimeDelta::seconds(1));
        let cases = [
            (None, None, [true, false, true]),
            (Some(me), live, [true, true, false]),
            (Some(other), live, [true, false, false]),
            (Some(me), lapsed, [true, false, true]),
            (Some(me), Some(now), [true, true, false]),
        ];
        for (by, until, shown) in cases {
            let got = [ClaimShown::Any, ClaimShown::Mine, ClaimShown::Unclaimed].map(|c| view(c).shows(by, until));
            assert_eq!(got, shown, "{by:?} until {until:?}");
        }
        assert_eq!(ClaimShown::parse("mine"), ClaimShown::Mine);
        assert_eq!(ClaimShown::parse(" unclaimed "), ClaimShown::Unclaimed);
        assert_eq!(ClaimShown::parse("everything"), ClaimShown::Any);
    }
}
