//! Whether a background worker is failing, since when and why: the workers record each step,
//! `/readyz` and the administrators' pages read it.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// Whether a worker's steps are failing, since when and why.
#[derive(Debug, Default)]
pub struct Health(Mutex<Option<Failing>>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub since: DateTime<Utc>,
    pub failures: u32,
    pub reason: String,
}

impl Health {
    /// Records a failed step at `now`; returns how many failed in a row.
    pub fn failed(&self, reason: String, now: DateTime<Utc>) -> u32 {
        let mut state = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let failing = state.get_or_insert(Failing {
            since: now,
            failures: 0,
            reason: String::new(),
        });
        failing.failures += 1;
        failing.reason = reason;
        failing.failures
    }

    /// Records a step that succeeded.
    pub fn succeeded(&self) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// The current failure, if the last step failed.
    pub fn failing(&self) -> Option<Failing> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_counts_failures_in_a_row_until_a_success() {
        let health = Health::default();
        let now = Utc::now();
        assert_eq!(health.failing(), None);
        assert_eq!(health.failed("a".into(), now), 1);
        assert_eq!(health.failed("b".into(), now + chrono::Duration::seconds(1)), 2);
        let failing = health.failing().unwrap();
        assert_eq!(
            (failing.since, failing.failures, failing.reason.as_str()),
            (now, 2, "b")
        );
        health.succeeded();
        assert_eq!(health.failing(), None);
    }
}
