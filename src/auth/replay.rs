//! The CDS Hooks replay store: every accepted `(iss, jti)` is remembered until its token expires.
//!
//! In memory and bounded. Tokens may not live longer than the replay window (checked before they
//! get here), so an entry kept until its token's `exp` (plus leeway) covers every moment the token
//! could be accepted. When the store is full of unexpired entries a new token is refused rather
//! than an entry forgotten early: forgetting would make exactly that token replayable.
//!
//! Times are Unix seconds passed in by the caller, so expiry is tested without waiting.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Mutex, PoisonError},
};

/// Why a `jti` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplayError {
    /// This `(iss, jti)` was accepted before and its token has not expired.
    Replayed,
    /// The store is full of unexpired entries.
    Full,
}

/// Remembered `(iss, jti)` pairs with their expiry.
#[derive(Debug)]
pub(crate) struct ReplayCache {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// Key → expiry (Unix seconds).
    expiry: HashMap<String, u64>,
    /// (expiry, key), oldest first, to drop expired entries without a scan.
    by_expiry: BTreeSet<(u64, String)>,
}

impl ReplayCache {
    /// An empty store holding at most `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new(Entries::default()),
        }
    }

    /// Remembers `(iss, jti)` until `expires_at`, or refuses it when it is already remembered
    /// (a replay) or the store is full.
    pub(crate) fn remember(
        &self,
        iss: &str,
        jti: &str,
        expires_at: u64,
        now: u64,
    ) -> Result<(), ReplayError> {
        // The issuer's length first keeps ("ab", "c") and ("a", "bc") apart.
        let key = format!("{}:{iss}{jti}", iss.len());
        let mut entries = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        entries.drop_expired(now);
        if entries.expiry.contains_key(&key) {
            return Err(ReplayError::Replayed);
        }
        if entries.expiry.len() >= self.capacity {
            return Err(ReplayError::Full);
        }
        entries.by_expiry.insert((expires_at, key.clone()));
        entries.expiry.insert(key, expires_at);
        Ok(())
    }

    /// How many entries are held (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .expiry
            .len()
    }
}

impl Entries {
    /// Drops entries whose token can no longer be accepted (expired before `now`).
    fn drop_expired(&mut self, now: u64) {
        while let Some(first) = self.by_expiry.first() {
            if first.0 >= now {
                break;
            }
            if let Some((_, key)) = self.by_expiry.pop_first() {
                self.expiry.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_refused_until_its_token_expires() {
        let cache = ReplayCache::new(10);
        cache.remember("iss", "j1", 1_000, 900).unwrap();
        assert_eq!(
            cache.remember("iss", "j1", 1_000, 950),
            Err(ReplayError::Replayed)
        );
        assert_eq!(
            cache.remember("iss", "j1", 1_000, 1_000),
            Err(ReplayError::Replayed),
            "still acceptable at its expiry second, so still remembered"
        );
        cache.remember("iss", "j1", 2_000, 1_001).unwrap();
        assert_eq!(cache.len(), 1, "the expired entry was dropped");
    }

    #[test]
    fn the_same_jti_from_another_issuer_is_another_token() {
        let cache = ReplayCache::new(10);
        cache.remember("https://a", "j", 1_000, 0).unwrap();
        cache.remember("https://b", "j", 1_000, 0).unwrap();
        cache.remember("ab", "c", 1_000, 0).unwrap();
        cache.remember("a", "bc", 1_000, 0).unwrap();
        assert_eq!(cache.len(), 4);
    }

    #[test]
    fn a_full_store_refuses_new_tokens_until_entries_expire() {
        let cache = ReplayCache::new(2);
        cache.remember("iss", "a", 100, 0).unwrap();
        cache.remember("iss", "b", 200, 0).unwrap();
        assert_eq!(cache.remember("iss", "c", 300, 50), Err(ReplayError::Full));
        assert_eq!(
            cache.remember("iss", "a", 300, 50),
            Err(ReplayError::Replayed),
            "nothing was forgotten to make room"
        );
        cache.remember("iss", "c", 300, 101).unwrap();
        assert_eq!(cache.len(), 2);
    }
}
