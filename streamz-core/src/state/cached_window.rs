//! A window store with a record cache in front of it.

use std::sync::{Arc, Mutex};

use super::cache::{cached_state_store, CacheBudget, CacheLink, Cached, Flushed, NamedCache};
use super::WindowStore;
use crate::serdes::SerdeRef;
use crate::task::{lock, StoreEntry, StoreRef};
use crate::time::Timestamp;

type At = (Vec<u8>, i64);

/// Holds the writes to the window store it wraps until a flush or an eviction, folding the
/// writes to one key and window start into one; reads see the cache first. Flushing and
/// eviction work as in [`CachedKeyValueStore`](super::cached_kv::CachedKeyValueStore), per
/// key and window start. Not for stores retaining duplicates.
///
/// Cached entries follow the wrapped store's expiry: an entry whose start is at most the
/// largest start written minus the retention is not returned by reads.
pub(crate) struct CachedWindowStore<K, V> {
    name: String,
    inner: StoreRef<dyn WindowStore<K, V>>,
    cache: NamedCache<At, Cached<(K, Timestamp), V>>,
    link: Arc<CacheLink<(K, Timestamp), V>>,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    retention_ms: i64,
    observed: i64,
    scratch: Vec<u8>,
}

impl<K, V> std::fmt::Debug for CachedWindowStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedWindowStore").field("name", &self.name).field("cache", &self.cache).finish()
    }
}

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> CachedWindowStore<K, V> {
    fn key_bytes(&self, key: &K) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.key_serde.serialize(key, &mut out).ok().map(|_| out)
    }

    fn live(&self, start: i64) -> bool {
        start > self.observed.saturating_sub(self.retention_ms)
    }

    fn write(&mut self, key: &K, start: Timestamp, value: Option<V>) {
        let Some(kb) = self.key_bytes(key) else {
            let mut inner = lock(&self.inner);
            match value {
                Some(v) => inner.put(key, start, v),
                None => inner.remove(key, start),
            }
            return;
        };
        self.observed = self.observed.max(start.0);
        self.scratch.clear();
        let value_size = match &value {
            Some(v) => self.value_serde.serialize(v, &mut self.scratch).map_or(0, |_| self.scratch.len()),
            None => 0,
        };
        let (timestamp, headers) = self.link.context();
        let size = kb.len() + 8 + value_size;
        let item = Cached { key: (key.clone(), start), value, timestamp, headers };
        self.cache.put((kb, start.0), item, size);
        while self.cache.must_evict() {
            if let Some(evicted) = self.cache.evict() {
                self.write_through(evicted);
                self.flush_dirty();
            }
        }
    }

    fn write_through(&mut self, entry: Cached<(K, Timestamp), V>) {
        let (key, start) = &entry.key;
        let mut inner = lock(&self.inner);
        let old = inner.fetch(key, *start);
        match &entry.value {
            Some(v) => inner.put(key, *start, v.clone()),
            None => inner.remove(key, *start),
        }
        drop(inner);
        if old.is_none() && entry.value.is_none() {
            return;
        }
        let Cached { key, value, timestamp, headers } = entry;
        self.link.push(Flushed { at: key, new: value, old, timestamp, headers });
    }

    fn flush_dirty(&mut self) {
        for entry in self.cache.take_dirty() {
            self.write_through(entry);
        }
    }

    /// Entries of the wrapped store (as (key bytes, start, key, value)) merged with the live
    /// cached entries that `keep` accepts, ordered by key bytes then start.
    fn merged(&self, inner: Vec<(Vec<u8>, K, i64, V)>, keep: impl Fn(&[u8], i64) -> bool) -> Vec<(K, Timestamp, V)> {
        let mut out: Vec<(Vec<u8>, K, i64, V)> =
            inner.into_iter().filter(|(kb, _, s, _)| self.cache.get(&(kb.clone(), *s)).is_none()).collect();
        for ((kb, start), entry) in self.cache.iter() {
            if let (true, true, Some(v)) = (self.live(*start), keep(kb, *start), &entry.value) {
                out.push((kb.clone(), entry.key.0.clone(), *start, v.clone()));
            }
        }
        out.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
        out.into_iter().map(|(_, k, s, v)| (k, Timestamp(s), v)).collect()
    }
}

cached_state_store!(CachedWindowStore);

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> WindowStore<K, V> for CachedWindowStore<K, V> {
    fn put(&mut self, key: &K, start: Timestamp, value: V) {
        self.write(key, start, Some(value));
    }

    fn fetch(&self, key: &K, start: Timestamp) -> Option<V> {
        if let Some(entry) = self.key_bytes(key).and_then(|kb| self.cache.get(&(kb, start.0))) {
            return entry.value.clone().filter(|_| self.live(start.0));
        }
        lock(&self.inner).fetch(key, start)
    }

    fn fetch_range(&self, key: &K, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, V)> {
        let inner = lock(&self.inner).fetch_range(key, from, to);
        let Some(kb) = self.key_bytes(key) else { return inner };
        let inner = inner.into_iter().map(|(s, v)| (kb.clone(), key.clone(), s.0, v)).collect();
        let keep = |at: &[u8], s: i64| at == kb.as_slice() && from.0 <= s && s <= to.0;
        self.merged(inner, keep).into_iter().map(|(_, s, v)| (s, v)).collect()
    }

    fn fetch_all(&self, from: Timestamp, to: Timestamp) -> Vec<(K, Timestamp, V)> {
        let inner = lock(&self.inner).fetch_all(from, to);
        let inner = inner.into_iter().filter_map(|(k, s, v)| self.key_bytes(&k).map(|kb| (kb, k, s.0, v))).collect();
        self.merged(inner, |_, s| from.0 <= s && s <= to.0)
    }

    fn remove(&mut self, key: &K, start: Timestamp) {
        self.write(key, start, None);
    }

    fn retention_ms(&self) -> i64 {
        self.retention_ms
    }
}

/// `entry` (a window store of `K` → `V` without duplicates) behind a record cache charged to
/// `budget`, as [`cached_key_value_store`](super::cached_kv::cached_key_value_store).
pub(crate) fn cached_window_store<K: Clone + Send + 'static, V: Clone + Send + 'static>(
    entry: StoreEntry,
    name: &str,
    budget: Arc<CacheBudget>,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
) -> crate::Result<StoreEntry> {
    let inner = entry.typed.downcast_ref::<StoreRef<dyn WindowStore<K, V>>>().cloned().ok_or_else(|| {
        crate::error::StreamsError::Bug(format!("store `{name}` is not the window store its cache expects"))
    })?;
    let retention_ms = lock(&inner).retention_ms();
    let link = CacheLink::new();
    let store = CachedWindowStore {
        name: name.to_string(),
        inner,
        cache: NamedCache::new(budget),
        link: link.clone(),
        key_serde,
        value_serde,
        retention_ms,
        observed: i64::MIN,
        scratch: Vec::new(),
    };
    let store: StoreRef<dyn WindowStore<K, V>> = Arc::new(Mutex::new(Box::new(store)));
    Ok(StoreEntry { changelog: entry.changelog, ..StoreEntry::new(store) }.with_cache(link))
}
