//! Bytes kept in memory by a key, bounded by their total size: the least recently served go
//! first. Holds what is costly to produce and the same each time it is asked for: rendered
//! certificate images, ledger tiles.

use std::hash::Hash;
use std::sync::Mutex;

use bytes::Bytes;
use lru::LruCache;

pub struct BytesCache<K: Hash + Eq> {
    budget: usize,
    state: Mutex<State<K>>,
}

struct State<K: Hash + Eq> {
    values: LruCache<K, Bytes>,
    bytes: usize,
}

impl<K: Hash + Eq> BytesCache<K> {
    /// A cache of at most `budget` bytes; 0 keeps nothing.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            state: Mutex::new(State {
                values: LruCache::unbounded(),
                bytes: 0,
            }),
        }
    }

    /// The bytes kept under `key`, if any; they become the most recently served.
    pub fn get<Q>(&self, key: &Q) -> Option<Bytes>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.lock().values.get(key).cloned()
    }

    /// Keeps `value`, forgetting the least recently served beyond the budget. A value larger
    /// than the whole budget is not kept.
    pub fn insert(&self, key: K, value: Bytes) {
        if self.budget == 0 || value.len() > self.budget {
            return;
        }
        let mut state = self.lock();
        state.bytes += value.len();
        if let Some(replaced) = state.values.put(key, value) {
            state.bytes -= replaced.len();
        }
        while state.bytes > self.budget {
            let Some((_, evicted)) = state.values.pop_lru() else {
                break;
            };
            state.bytes -= evicted.len();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K>> {
        // A panic while holding the lock cannot leave the map half-updated in a harmful way:
        // at worst the byte count is off until the entry is evicted.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize) -> Bytes {
        Bytes::from(vec![0; len])
    }

    #[test]
    fn the_least_recently_served_goes_first() {
        let cache = BytesCache::new(300);
        cache.insert([1; 32], bytes(100));
        cache.insert([2; 32], bytes(100));
        cache.insert([3; 32], bytes(100));
        assert!(cache.get(&[1; 32]).is_some(), "served again: now the most recent");
        cache.insert([4; 32], bytes(100));
        assert!(cache.get(&[2; 32]).is_none(), "the least recently served went");
        for kept in [1, 3, 4] {
            assert_eq!(cache.get(&[kept; 32]).map(|b| b.len()), Some(100));
        }
    }

    #[test]
    fn the_budget_counts_bytes_not_values() {
        let cache = BytesCache::new(1_000);
        for n in 0..10 {
            cache.insert([n; 32], bytes(100));
        }
        cache.insert([99; 32], bytes(450));
        let kept = (0..10).filter(|n| cache.get(&[*n; 32]).is_some()).count();
        assert_eq!(kept, 5, "room was made for the large value");
        assert!(cache.get(&[99; 32]).is_some());

        cache.insert([99; 32], bytes(50));
        assert_eq!(cache.get(&[99; 32]).map(|b| b.len()), Some(50), "replaced, not added");
        cache.insert([100; 32], bytes(1_001));
        assert!(cache.get(&[100; 32]).is_none(), "larger than the budget: not kept");
        assert!(cache.get(&[99; 32]).is_some(), "and nothing evicted for it");
    }

    #[test]
    fn a_budget_of_nothing_keeps_nothing() {
        let cache = BytesCache::new(0);
        cache.insert("tile/0/000".to_owned(), bytes(1));
        assert!(cache.get("tile/0/000").is_none());
    }
}
