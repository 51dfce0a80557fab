//! A key-value store with a record cache in front of it.

use std::sync::{Arc, Mutex};

use super::cache::{cached_state_store, CacheBudget, CacheLink, Cached, Flushed, NamedCache};
use super::KeyValueStore;
use crate::serdes::SerdeRef;
use crate::task::{lock, StoreEntry, StoreRef};

/// Holds the writes to the store it wraps until a flush (a commit) or an eviction, folding
/// the writes to one key into one. Reads see the cache first.
///
/// At a flush, each dirty entry, in the order its key was last written, is written to the
/// wrapped (logged) store and queued on the [`CacheLink`] with the value it replaced there, for
/// the operator to forward. When a write makes the application's cache exceed its budget, the
/// least recently written entries of this store are evicted; evicting a dirty entry flushes it
/// first, then every other dirty entry of the store (as Kafka Streams does).
pub(crate) struct CachedKeyValueStore<K, V> {
    name: String,
    inner: StoreRef<dyn KeyValueStore<K, V>>,
    cache: NamedCache<Vec<u8>, Cached<K, V>>,
    link: Arc<CacheLink<K, V>>,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
    scratch: Vec<u8>,
}

impl<K, V> std::fmt::Debug for CachedKeyValueStore<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedKeyValueStore").field("name", &self.name).field("cache", &self.cache).finish()
    }
}

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> CachedKeyValueStore<K, V> {
    fn key_bytes(&self, key: &K) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.key_serde.serialize(key, &mut out).ok().map(|_| out)
    }

    fn write(&mut self, key: &K, value: Option<V>) {
        let Some(at) = self.key_bytes(key) else {
            // The logged store reports a key that does not encode; nothing to fold.
            let mut inner = lock(&self.inner);
            match value {
                Some(v) => inner.put(key, v),
                None => drop(inner.delete(key)),
            }
            return;
        };
        self.scratch.clear();
        let value_size = match &value {
            Some(v) => self.value_serde.serialize(v, &mut self.scratch).map_or(0, |_| self.scratch.len()),
            None => 0,
        };
        let (timestamp, headers) = self.link.context();
        let size = at.len() + value_size;
        self.cache.put(at, Cached { key: key.clone(), value, timestamp, headers }, size);
        while self.cache.must_evict() {
            if let Some(evicted) = self.cache.evict() {
                self.write_through(evicted);
                self.flush_dirty();
            }
        }
    }

    /// Writes one dirty entry to the wrapped store and queues it for forwarding, unless the
    /// key had no value before and has none now.
    fn write_through(&mut self, entry: Cached<K, V>) {
        let mut inner = lock(&self.inner);
        let old = match &entry.value {
            Some(v) => {
                let old = inner.get(&entry.key);
                inner.put(&entry.key, v.clone());
                old
            }
            None => inner.delete(&entry.key),
        };
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

    /// The entries of the wrapped store merged with the cache's, by key bytes, keeping those
    /// whose key bytes `keep` accepts.
    fn merged(&self, from_inner: Vec<(K, V)>, keep: impl Fn(&[u8]) -> bool) -> Vec<(K, V)> {
        let mut out: Vec<(Vec<u8>, K, V)> = Vec::with_capacity(from_inner.len());
        for (k, v) in from_inner {
            match self.key_bytes(&k) {
                Some(at) if self.cache.get(&at).is_some() => {}
                Some(at) => out.push((at, k, v)),
                None => {}
            }
        }
        for (at, entry) in self.cache.iter() {
            if let (true, Some(v)) = (keep(at), &entry.value) {
                out.push((at.clone(), entry.key.clone(), v.clone()));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.into_iter().map(|(_, k, v)| (k, v)).collect()
    }
}

cached_state_store!(CachedKeyValueStore);

impl<K: Clone + Send + 'static, V: Clone + Send + 'static> KeyValueStore<K, V> for CachedKeyValueStore<K, V> {
    fn get(&self, key: &K) -> Option<V> {
        if let Some(entry) = self.key_bytes(key).and_then(|at| self.cache.get(&at)) {
            return entry.value.clone();
        }
        lock(&self.inner).get(key)
    }

    fn put(&mut self, key: &K, value: V) {
        self.write(key, Some(value));
    }

    fn delete(&mut self, key: &K) -> Option<V> {
        let old = self.get(key);
        self.write(key, None);
        old
    }

    fn range(&self, from: &K, to: &K) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        let inner: Vec<(K, V)> = lock(&self.inner).range(from, to).collect();
        let (Some(lo), Some(hi)) = (self.key_bytes(from), self.key_bytes(to)) else {
            return Box::new(inner.into_iter());
        };
        Box::new(self.merged(inner, |at| lo.as_slice() <= at && at <= hi.as_slice()).into_iter())
    }

    fn all(&self) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        let inner: Vec<(K, V)> = lock(&self.inner).all().collect();
        Box::new(self.merged(inner, |_| true).into_iter())
    }

    fn approximate_len(&self) -> usize {
        lock(&self.inner).approximate_len()
    }
}

/// `entry` (a key-value store of `K` → `V`) behind a record cache charged to `budget`: the
/// task's handle becomes the cached store, restoration still writes to the wrapped store, and
/// the entry carries the [`CacheLink`] its operator forwards from.
pub(crate) fn cached_key_value_store<K: Clone + Send + 'static, V: Clone + Send + 'static>(
    entry: StoreEntry,
    name: &str,
    budget: Arc<CacheBudget>,
    key_serde: SerdeRef<K>,
    value_serde: SerdeRef<V>,
) -> crate::Result<StoreEntry> {
    let inner = entry.typed.downcast_ref::<StoreRef<dyn KeyValueStore<K, V>>>().cloned().ok_or_else(|| {
        crate::error::StreamsError::Bug(format!("store `{name}` is not the key-value store its cache expects"))
    })?;
    let link = CacheLink::new();
    let store = CachedKeyValueStore {
        name: name.to_string(),
        inner,
        cache: NamedCache::new(budget),
        link: link.clone(),
        key_serde,
        value_serde,
        scratch: Vec::new(),
    };
    let store: StoreRef<dyn KeyValueStore<K, V>> = Arc::new(Mutex::new(Box::new(store)));
    Ok(StoreEntry { changelog: entry.changelog, ..StoreEntry::new(store) }.with_cache(link))
}
