//! The record cache: the memory budget shared by all cached stores of an application, the
//! per-store cache with its LRU and dirty orders, and the link through which a cached store
//! hands what it wrote to its store to the operator that forwards it.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::record::Headers;
use crate::task::lock;
use crate::time::Timestamp;

/// What an entry costs besides its key and value bytes (maps, orders, timestamp), as counted
/// against the budget.
pub(crate) const ENTRY_OVERHEAD: usize = 96;

/// The bytes all cached stores of an application may hold together.
#[derive(Debug)]
pub(crate) struct CacheBudget {
    max: usize,
    used: AtomicUsize,
}

impl CacheBudget {
    /// A budget of `max` bytes.
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(CacheBudget { max, used: AtomicUsize::new(0) })
    }

    fn add(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::Relaxed);
    }

    fn sub(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    fn over(&self) -> bool {
        self.used.load(Ordering::Relaxed) > self.max
    }
}

/// One cached update: the store key, the latest value (`None`: deleted) and the context of the
/// record that made it (timestamp and headers, which the flushed record carries).
#[derive(Clone, Debug)]
pub(crate) struct Cached<K, V> {
    pub(crate) key: K,
    pub(crate) value: Option<V>,
    pub(crate) timestamp: Timestamp,
    pub(crate) headers: Headers,
}

/// What a cached store wrote to its underlying store at a flush or an eviction: one per key
/// (and window) updated since the previous one, with the value before (`old`).
#[derive(Clone, Debug)]
pub(crate) struct Flushed<A, V> {
    /// The store key (a key, or a key and a window start).
    pub(crate) at: A,
    pub(crate) new: Option<V>,
    pub(crate) old: Option<V>,
    pub(crate) timestamp: Timestamp,
    pub(crate) headers: Headers,
}

/// Shared by a cached store and the operator writing it: the operator sets the context of the
/// record it is processing before writing; the store queues what it flushed for the operator
/// to forward.
#[derive(Debug)]
pub(crate) struct CacheLink<A, V> {
    context: Mutex<(Timestamp, Headers)>,
    flushed: Mutex<Vec<Flushed<A, V>>>,
}

impl<A, V> CacheLink<A, V> {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(CacheLink { context: Mutex::new((Timestamp(0), Headers::new())), flushed: Mutex::new(Vec::new()) })
    }

    /// Sets the timestamp and headers of the writes that follow.
    pub(crate) fn set_context(&self, timestamp: Timestamp, headers: &Headers) {
        let mut context = lock(&self.context);
        context.0 = timestamp;
        if !(context.1.is_empty() && headers.is_empty()) {
            context.1 = headers.clone();
        }
    }

    pub(crate) fn context(&self) -> (Timestamp, Headers) {
        lock(&self.context).clone()
    }

    pub(crate) fn push(&self, flushed: Flushed<A, V>) {
        lock(&self.flushed).push(flushed);
    }

    /// What the store flushed since the last call, in flush order.
    pub(crate) fn take(&self) -> Vec<Flushed<A, V>> {
        let mut flushed = lock(&self.flushed);
        if flushed.is_empty() {
            return Vec::new();
        }
        std::mem::take(&mut *flushed)
    }
}

struct Slot<T> {
    item: T,
    lru: u64,
    dirty: Option<u64>,
    size: usize,
}

/// The cache of one store: entries by address (`A`: key bytes, or key bytes and window
/// start), with their order of last write (least recently written first, for eviction) and
/// the order in which dirty entries were last written (for flushing).
pub(crate) struct NamedCache<A: Hash + Eq + Clone, T> {
    // The std hasher: the task's `FastMap` does not mix its low bits, and keys of input data
    // that share a prefix would then share buckets.
    entries: HashMap<A, Slot<T>>,
    lru: BTreeMap<u64, A>,
    dirty: BTreeMap<u64, A>,
    seq: u64,
    bytes: usize,
    budget: Arc<CacheBudget>,
}

impl<A: Hash + Eq + Clone, T> std::fmt::Debug for NamedCache<A, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedCache")
            .field("entries", &self.entries.len())
            .field("dirty", &self.dirty.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl<A: Hash + Eq + Clone, T: Clone> NamedCache<A, T> {
    pub(crate) fn new(budget: Arc<CacheBudget>) -> Self {
        NamedCache { entries: HashMap::new(), lru: BTreeMap::new(), dirty: BTreeMap::new(), seq: 0, bytes: 0, budget }
    }

    pub(crate) fn get(&self, at: &A) -> Option<&T> {
        self.entries.get(at).map(|s| &s.item)
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&A, &T)> {
        self.entries.iter().map(|(a, s)| (a, &s.item))
    }

    /// Writes `item` at `at` (costing `size` bytes) and marks it dirty, most recent of all.
    pub(crate) fn put(&mut self, at: A, item: T, size: usize) {
        self.seq += 1;
        let seq = self.seq;
        let size = size + ENTRY_OVERHEAD;
        match self.entries.get_mut(&at) {
            Some(slot) => {
                self.lru.remove(&slot.lru);
                if let Some(d) = slot.dirty {
                    self.dirty.remove(&d);
                }
                self.budget.sub(slot.size);
                self.bytes -= slot.size;
                *slot = Slot { item, lru: seq, dirty: Some(seq), size };
            }
            None => {
                self.entries.insert(at.clone(), Slot { item, lru: seq, dirty: Some(seq), size });
            }
        }
        self.lru.insert(seq, at.clone());
        self.dirty.insert(seq, at);
        self.budget.add(size);
        self.bytes += size;
    }

    /// Whether the budget is exceeded and this cache has something to evict.
    pub(crate) fn must_evict(&self) -> bool {
        !self.entries.is_empty() && self.budget.over()
    }

    /// Removes the least recently written entry; returns it when it was dirty.
    pub(crate) fn evict(&mut self) -> Option<T> {
        let (_, at) = self.lru.pop_first()?;
        let slot = self.entries.remove(&at)?;
        self.budget.sub(slot.size);
        self.bytes -= slot.size;
        let d = slot.dirty?;
        self.dirty.remove(&d);
        Some(slot.item)
    }

    /// The dirty entries in the order they were last written, now marked clean.
    pub(crate) fn take_dirty(&mut self) -> Vec<T> {
        let dirty = std::mem::take(&mut self.dirty);
        let mut out = Vec::with_capacity(dirty.len());
        for at in dirty.into_values() {
            if let Some(slot) = self.entries.get_mut(&at) {
                slot.dirty = None;
                out.push(slot.item.clone());
            }
        }
        out
    }

    pub(crate) fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }
}

impl<A: Hash + Eq + Clone, T> Drop for NamedCache<A, T> {
    fn drop(&mut self) {
        self.budget.sub(self.bytes);
    }
}

/// Implements [`StateStore`](crate::state::StateStore) for a caching store type `$store<K, V>`
/// with fields `name` and `cache` (a [`NamedCache`]), the wrapped store in `inner`, and a
/// `flush_dirty` method: a flush writes the dirty entries to the wrapped store (queueing them
/// for the operator) and flushes it; commit, checkpoint and clear go to the wrapped store.
macro_rules! cached_state_store {
    ($store:ident) => {
        impl<K: Clone + Send + 'static, V: Clone + Send + 'static> $crate::state::StateStore for $store<K, V> {
            fn name(&self) -> &str {
                &self.name
            }

            fn flush(&mut self) -> $crate::Result<()> {
                if self.cache.has_dirty() {
                    self.flush_dirty();
                }
                $crate::task::lock(&self.inner).flush()
            }

            fn commit(&mut self, checkpoint: Option<i64>) -> $crate::Result<()> {
                $crate::task::lock(&self.inner).commit(checkpoint)
            }

            fn checkpoint(&self) -> Option<i64> {
                $crate::task::lock(&self.inner).checkpoint()
            }

            /// Clears the wrapped store; the cache holds nothing then (the store is cleared
            /// only before a restore, when nothing was processed).
            fn clear(&mut self) -> $crate::Result<()> {
                $crate::task::lock(&self.inner).clear()
            }

            fn as_any(&self) -> &dyn std::any::Any {
                self
            }
        }
    };
}
pub(crate) use cached_state_store;
