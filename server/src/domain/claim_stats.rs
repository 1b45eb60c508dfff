//! What an issuer's dashboard shows of a collection's claims: claims over time in equal
//! buckets, and holders masked for export.

use chrono::{DateTime, Utc};

/// Counts of `times` in `buckets` equal intervals from `from` to `to`; times outside are
/// clamped into the first or last bucket.
pub fn bucket_counts(times: &[DateTime<Utc>], from: DateTime<Utc>, to: DateTime<Utc>, buckets: usize) -> Vec<u64> {
    let mut counts = vec![0; buckets.max(1)];
    let span = (to - from).num_milliseconds().max(1);
    let last = counts.len() - 1;
    for time in times {
        let offset = (*time - from).num_milliseconds().clamp(0, span);
        let index = usize::try_from(offset * counts.len() as i64 / span)
            .unwrap_or(0)
            .min(last);
        counts[index] += 1;
    }
    counts
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
    fn claims_fall_into_equal_buckets() {
        let from = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc();
        let to = from + TimeDelta::hours(4);
        let times = [
            from - TimeDelta::minutes(5),
            from + TimeDelta::minutes(10),
            from + TimeDelta::minutes(70),
            from + TimeDelta::minutes(239),
            to,
            to + TimeDelta::hours(1),
        ];
        let counts = bucket_counts(&times, from, to, 4);
        assert_eq!(counts, vec![2, 1, 0, 3]);
        assert_eq!(cumulative(&counts), vec![2, 3, 3, 6]);
        assert_eq!(bucket_counts(&[], from, from, 0), vec![0]);
    }

    #[test]
    fn emails_are_masked() {
        assert_eq!(mask_email("collector@example.com"), "c***@example.com");
        assert_eq!(mask_email("李@例子.cn"), "李***@例子.cn");
        assert_eq!(mask_email("broken"), "***");
    }
}
