//! What an issuer's dashboard shows of a collection's claims: claims over time in equal
//! buckets, and holders masked for export.
//!
//! Claims are counted per clock minute as they are minted, so the chart reads per-minute
//! counts folded into buckets, never the tokens themselves: a million-token collection draws
//! as fast as a hundred-token one.

use chrono::{DateTime, Utc};

/// The span a chart covers, cut into `buckets` equal intervals of whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartWindow {
    from: i64,
    span: i64,
    buckets: u32,
}

impl ChartWindow {
    /// `None` for an empty span (nothing to draw yet) or no buckets.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, buckets: u32) -> Option<Self> {
        let span = to.timestamp() - from.timestamp();
        (span > 0 && buckets > 0).then_some(ChartWindow {
            from: from.timestamp(),
            span,
            buckets,
        })
    }

    /// Seconds since the epoch where the window starts.
    pub fn from_seconds(&self) -> i64 {
        self.from
    }

    /// The window's length in seconds.
    pub fn span_seconds(&self) -> i64 {
        self.span
    }

    pub fn buckets(&self) -> u32 {
        self.buckets
    }

    /// The bucket a claim minute (minutes since the epoch) falls in, before clamping:
    /// `(minute × 60 − from) × buckets ÷ span`, truncated, as the store computes it in SQL.
    pub fn raw_bucket(&self, minute: i64) -> i64 {
        (minute * 60 - self.from) * i64::from(self.buckets) / self.span
    }

    /// Claims per bucket from (raw bucket, claims) sums; minutes before the window count in
    /// the first bucket and minutes after it in the last.
    pub fn fold(&self, sums: &[(i64, u64)]) -> Vec<u64> {
        let mut counts = vec![0; self.buckets as usize];
        let last = i64::from(self.buckets) - 1;
        for (bucket, claims) in sums {
            counts[usize::try_from((*bucket).clamp(0, last)).unwrap_or(0)] += claims;
        }
        counts
    }
}

/// The minute (since the epoch) a claim at `at` is counted in.
pub fn claim_minute(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

/// Running totals of bucket counts.
pub fn cumulative(counts: &[u64]) -> Vec<u64> {
    counts
        .iter()
        .scan(0, |total, n| {
            *total += n;
            Some(*total)
        })
        .collect()
}

/// An email address as an issuer may see it in an export: first character and domain.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn claim_minutes_fold_into_equal_buckets() {
        let from = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc();
        let to = from + TimeDelta::hours(4);
        let window = ChartWindow::new(from, to, 4).unwrap();
        let minutes = [
            (from - TimeDelta::minutes(5), 1),
            (from + TimeDelta::minutes(10), 1),
            (from + TimeDelta::minutes(70), 1),
            (from + TimeDelta::minutes(239), 2),
            (to, 1),
            (to + TimeDelta::hours(1), 1),
        ];
        let sums: Vec<(i64, u64)> = minutes
            .iter()
            .map(|(at, n)| (window.raw_bucket(claim_minute(*at)), *n))
            .collect();
        let counts = window.fold(&sums);
        assert_eq!(counts, vec![2, 1, 0, 4]);
        assert_eq!(cumulative(&counts), vec![2, 3, 3, 7]);
        assert_eq!(ChartWindow::new(from, from, 4), None);
        assert_eq!(ChartWindow::new(from, to, 0), None);
    }

    #[test]
    fn a_claim_counts_in_the_minute_it_was_made() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T00:01:59.999Z")
            .unwrap()
            .to_utc();
        assert_eq!(claim_minute(at), claim_minute(at - TimeDelta::seconds(59)));
        assert_eq!(claim_minute(at) + 1, claim_minute(at + TimeDelta::milliseconds(1)));
        let before_epoch = DateTime::parse_from_rfc3339("1969-12-31T23:59:30Z").unwrap().to_utc();
        assert_eq!(claim_minute(before_epoch), -1);
    }

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("collector@example.com"), "c***@example.com");
        assert_eq!(mask_email("李@例子.cn"), "李***@例子.cn");
        assert_eq!(mask_email("broken"), "***");
    }
}
