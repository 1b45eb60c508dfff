//! Rendered certificate images, kept in memory by what they show. Drawing a card takes tens of
//! milliseconds of CPU, and a card shared on social media is fetched over and over; it only
//! changes with the token's status, its ledger index and the reader's language, all of which
//! are part of its [fingerprint](super::certificate_image::CertificateCard::fingerprint).
//! The cache is bounded by bytes and forgets the least recently served image first.

use std::sync::Mutex;

use bytes::Bytes;
use lru::LruCache;

/// A card's fingerprint: SHA3-256 over everything drawn on it.
pub type Fingerprint = [u8; 32];

/// Bytes of PNG kept at most: a few hundred typical cards (60–200 KiB each).
pub const DEFAULT_BUDGET: usize = 32 * 1024 * 1024;

pub struct CertificateCache {
    budget: usize,
    state: Mutex<State>,
}

struct State {
    images: LruCache<Fingerprint, Bytes>,
    bytes: usize,
}

impl CertificateCache {
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            state: Mutex::new(State {
                images: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    /// The image with this fingerprint, if drawn lately; it becomes the most recently served.
    pub fn get(&self, fingerprint: &Fingerprint) -> Option<Bytes> {
        self.lock().images.get(fingerprint).cloned()
    }

    /// Keeps an image, forgetting the least recently served ones beyond the budget. An image
    /// larger than the whole budget is not kept.
    pub fn insert(&self, fingerprint: Fingerprint, png: Bytes) {
        if png.len() > self.budget {
            return;
        }
        let mut state = self.lock();
        state.bytes += png.len();
        if let Some(replaced) = state.images.put(fingerprint, png) {
            state.bytes -= replaced.len();
        }
        while state.bytes > self.budget {
            let Some((_, evicted)) = state.images.pop_lru() else {
                break;
            };
            state.bytes -= evicted.len();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the map half-updated in a harmful way:
        // at worst the byte count is off until the entry is evicted.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for CertificateCache {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(len: usize) -> Bytes {
        Bytes::from(vec![0; len])
    }

    #[test]
    fn the_least_recently_served_image_goes_first() {
        let cache = CertificateCache::new(300);
        cache.insert([1; 32], png(100));
        cache.insert([2; 32], png(100));
        cache.insert([3; 32], png(100));
        assert!(cache.get(&[1; 32]).is_some(), "served again: now the most recent");
        cache.insert([4; 32], png(100));
        assert!(cache.get(&[2; 32]).is_none(), "the least recently served went");
        for kept in [1, 3, 4] {
            assert_eq!(cache.get(&[kept; 32]).map(|b| b.len()), Some(100));
        }
    }

    #[test]
    fn the_budget_counts_bytes_not_images() {
        let cache = CertificateCache::new(1_000);
        for n in 0..10 {
            cache.insert([n; 32], png(100));
        }
        cache.insert([99; 32], png(450));
        let kept = (0..10).filter(|n| cache.get(&[*n; 32]).is_some()).count();
        assert_eq!(kept, 5, "room was made for the large image");
        assert!(cache.get(&[99; 32]).is_some());

        cache.insert([99; 32], png(50));
        assert_eq!(cache.get(&[99; 32]).map(|b| b.len()), Some(50), "replaced, not added");
        cache.insert([100; 32], png(1_001));
        assert!(cache.get(&[100; 32]).is_none(), "larger than the budget: not kept");
        assert!(cache.get(&[99; 32]).is_some(), "and nothing evicted for it");
    }
}
