//! State stores: key-value, window and session stores, and their backends.
//!
//! Stores are typed and ordered by the bytes of their serialized keys (as Kafka Streams'
//! stores are), so every backend iterates in the same order.
//!
//! # Backends
//!
//! Every store trait has two backends with the same semantics, down to iteration order and
//! the expiry rules of window and session stores (the same tests run on both):
//!
//! - [`StoreBackend::InMemory`]: ordered maps; the test driver's default.
//! - [`StoreBackend::RocksDb`]: RocksDB on local disk, for state larger than memory; an
//!   application's default ([`StreamsConfig::default_store_backend`](crate::runtime::StreamsConfig::default_store_backend)).
//!   [`Materialized::with_backend`](crate::dsl::Materialized::with_backend) picks one per store.
//!
//! RocksDB stores keep the writes of the current commit in memory (reads and iterations see
//! them) and write them at [`StateStore::commit`], after the task's commit succeeded, in
//! one write batch with the store's checkpoint (its changelog offset) and without a
//! write-ahead log (the changelog is the log); memtables of all column families reach disk
//! together. So a store's files always hold the state of one commit and the changelog
//! offset that state corresponds to, whenever the process dies: a restore continues from
//! there (see the [runtime](crate::runtime) docs). Keys are the serialized key bytes; window
//! and session stores escape them (0x00 becomes 0x00 0xFF, then 0x00 0x00 ends the key) and
//! append the window start and a sequence number, or the session end and start (8 bytes
//! each, big-endian with the sign bit flipped), so that RocksDB's byte order is (key bytes,
//! time) for any key. Values carry a one-byte tag so that a null value is an entry. Window
//! and session stores keep each time segment (`max(retention / 2, 60 s)`) in a column
//! family of its own and drop it whole when it expires (at the next commit): its files are
//! deleted, with no tombstones and no compaction.
//!
//! # Memory
//!
//! All RocksDB stores of an application share one [`RocksDbMemory`] of
//! [`StreamsConfig::store_memory`](crate::runtime::StreamsConfig::store_memory) bytes (64 MiB by
//! default): one LRU block cache holding data, index and filter blocks, and one write buffer
//! manager limiting all memtables to half of it, charged to the same cache. So blocks and
//! memtables together stay near that bound whatever the number of tasks × stores (plus
//! RocksDB's fixed cost per open store and column family: file handles, table readers, a
//! memtable's first arena block of `write buffer / 8`, a few KiB of metadata). A window or
//! session store has up to `retention / segment + 2` column families. When the memtables
//! reach their limit, the largest are flushed early, so many stores mean smaller SST files.
//!
//! # Directories
//!
//! A store `name` of task `<sub-topology>_<partition>` lives in
//! `<state dir>/<application id>/<task>/<name>` (`global` in place of the task for global
//! stores). A logged store keeps what it committed and restores its changelog from its
//! checkpoint on when its task is created; a global store is rebuilt from the beginning of
//! its source topic, so what it left on disk is deleted first; a store without logging
//! keeps what it committed. The test driver keeps its stores in a temporary directory
//! deleted with the driver, and commits them whenever it has processed everything queued.
//!
//! # Record cache
//!
//! The stores of aggregations (non-windowed, tumbling and hopping windows) and of tables read
//! from topics or made from streams sit behind a record cache when the application has one
//! ([`StreamsConfig::cache_max_bytes`](crate::runtime::StreamsConfig::cache_max_bytes), 10 MiB
//! by default; [`DriverConfig::cache_max_bytes`](crate::testing::DriverConfig::cache_max_bytes),
//! 0 by default; [`Materialized::with_caching_disabled`](crate::dsl::Materialized::with_caching_disabled)
//! per store). Writes go to the cache; reads see it first. At each commit (the task's flush, in
//! topological order of the operators, before the stores' own flush) and when a write exceeds
//! the budget, the store's updated (dirty) entries are written to the store below, and so to
//! the changelog, once per key (and window), in the order they were last updated, and the
//! operator forwards each as one change: the value the store held before, then the latest, with
//! the latest record's timestamp and headers (a key deleted that had no value is not
//! forwarded). Without a cache, each update is written and forwarded at once; this is the
//! reference output, and the values at each commit are the same with a cache.
//!
//! One budget of bytes (serialized key and value, plus about 100 bytes per entry) is shared
//! by every cached store of the instance. A write over budget evicts the least recently
//! written entries of the store written; evicting a dirty entry flushes that store's dirty
//! entries, as Kafka Streams' `NamedCache` does. Restoration writes to the store below the
//! cache. Suppression buffers, join stores, session and sliding-window stores and the stores
//! of re-grouped table aggregations are not cached.
//!
//! # Changelogs
//!
//! A logged store (the default; `Materialized::without_logging` turns it off) writes
//! every change to its changelog topic `<application id>-<store>-changelog`, to the partition
//! of its task, so that a task moved to another instance finds its state again: before the
//! task processes anything, the new owner reads the partition from the store's checkpoint
//! (or the beginning) and applies each record to the store (see the
//! [runtime](crate::runtime) docs). Reads are not
//! logged; global stores are not logged (their source topic is their log).
//!
//! The store's serdes encode keys and values (for the DSL's stores the values are
//! [`Timestamped`](crate::record::Timestamped): an 8-byte big-endian timestamp, then the
//! value bytes, Kafka Streams' `ValueAndTimestamp` layout). Integers below are big-endian.
//!
//! | Store | Changelog key | Changelog value |
//! |---|---|---|
//! | key-value | key bytes | value bytes; a tombstone for `delete` |
//! | window | key bytes ‖ window start (8) | value bytes; a tombstone for `remove` |
//! | window retaining duplicates | key bytes ‖ window start (8) ‖ sequence number (4) | value bytes; `remove` writes a tombstone with sequence number 0, meaning every entry of the key at that start |
//! | session | key bytes ‖ session end (8) ‖ session start (8) | value bytes; a tombstone for `remove` |
//!
//! The key layouts of key-value, window (`WindowKeySchema`) and session (`SessionKeySchema`)
//! stores are Kafka Streams' own. Changes are buffered per task and sent after each record
//! and each punctuation, with the record's timestamp (the stream time for punctuations), by
//! the same producer as the task's output, so the producer flush before each offset commit
//! covers them (at-least-once).

use std::any::Any;
use std::fmt;

use crate::time::{Timestamp, Window};

/// `StateStore` for a wrapper whose `inner` store does all of it (the changelog wrappers,
/// which log in their typed writes only).
macro_rules! delegate_state_store {
    ($wrapper:ident) => {
        impl<K: Send + 'static, V: Send + 'static> StateStore for $wrapper<K, V> {
            fn name(&self) -> &str {
                self.inner.name()
            }

            fn flush(&mut self) -> crate::Result<()> {
                self.inner.flush()
            }

            fn commit(&mut self, checkpoint: Option<i64>) -> crate::Result<()> {
                self.inner.commit(checkpoint)
            }

            fn checkpoint(&self) -> Option<i64> {
                self.inner.checkpoint()
            }

            fn clear(&mut self) -> crate::Result<()> {
                self.inner.clear()
            }

            fn restore_bytes(&mut self, key: &[u8], value: Option<&[u8]>) -> crate::Result<bool> {
                self.inner.restore_bytes(key, value)
            }

            fn as_any(&self) -> &dyn std::any::Any {
                self.inner.as_any()
            }
        }
    };
}
use delegate_state_store;

mod backend;
mod cache;
mod cached_kv;
mod cached_window;
mod changelog;
#[cfg(test)]
#[path = "changelog_tests.rs"]
mod changelog_tests;
mod env;
mod key_buf;
#[cfg(test)]
mod kv_tests;
mod logged_kv;
mod logged_session;
mod logged_window;
mod memory_kv;
mod memory_session;
mod memory_window;
#[cfg(feature = "rocksdb")]
mod rocksdb;
#[cfg(all(test, feature = "rocksdb"))]
mod rocksdb_tests;
mod segments;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod test_backends;
#[cfg(test)]
mod test_serdes;
#[cfg(test)]
mod window_tests;

#[cfg(feature = "rocksdb")]
pub use self::rocksdb::{RocksDbKeyValueStore, RocksDbMemory, RocksDbSessionStore, RocksDbWindowStore};
pub use backend::{key_value_store, session_store, window_store, StoreBackend};
pub(crate) use cache::{CacheBudget, CacheLink, Flushed};
pub(crate) use cached_kv::cached_key_value_store;
pub(crate) use cached_window::cached_window_store;
pub(crate) use changelog::{ChangeLogger, SharedChangelog};
pub use env::StoreEnv;
pub(crate) use env::DEFAULT_STORE_MEMORY;
pub(crate) use logged_kv::logged_key_value_store;
pub(crate) use logged_session::logged_session_store;
pub(crate) use logged_window::logged_window_store;
pub use memory_kv::InMemoryKeyValueStore;
pub use memory_session::InMemorySessionStore;
pub use memory_window::InMemoryWindowStore;

/// What every store is.
pub trait StateStore: Send + fmt::Debug + 'static {
    /// The store's name.
    fn name(&self) -> &str;
    /// Writes what is buffered above the store (a no-op for the built-in backends).
    fn flush(&mut self) -> crate::Result<()> {
        Ok(())
    }
    /// Makes the changes since the last commit part of the store's durable state, together
    /// with `checkpoint`: the changelog offset from which a restore continues (`None` keeps
    /// the previous one). Called after the task's commit succeeded. In-memory stores keep
    /// nothing durable.
    fn commit(&mut self, checkpoint: Option<i64>) -> crate::Result<()> {
        let _ = checkpoint;
        Ok(())
    }
    /// The changelog offset stored with the store's durable state by the last
    /// [`commit`](Self::commit): what the store holds is exactly its changelog before that
    /// offset. `None` when unknown (in-memory stores, a new store).
    fn checkpoint(&self) -> Option<i64> {
        None
    }
    /// Deletes every entry and the checkpoint (before a restore from the beginning).
    fn clear(&mut self) -> crate::Result<()> {
        Ok(())
    }
    /// Applies one record of the store's changelog as the bytes the changelog holds (`None`:
    /// a tombstone), skipping the typed path, when the store keeps its entries as those bytes;
    /// what it applies is durable from the next [`commit`](Self::commit) and need not be
    /// visible to reads before it. Returns `Ok(false)` to have the record decoded and
    /// applied as a `put` or `delete` instead: the default, and what the built-in stores do
    /// except the RocksDB key-value store.
    ///
    /// ```
    /// use streamz_core::serdes::Data;
    /// use streamz_core::state::{InMemoryKeyValueStore, StateStore};
    ///
    /// let mut store = InMemoryKeyValueStore::<String, i64>::new("counts", String::default_serde());
    /// assert!(!store.restore_bytes(b"a", Some(b"1"))?, "in-memory stores take the typed path");
    /// # Ok::<(), streamz_core::StreamsError>(())
    /// ```
    fn restore_bytes(&mut self, key: &[u8], value: Option<&[u8]>) -> crate::Result<bool> {
        let _ = (key, value);
        Ok(false)
    }
    /// The store as `Any`, for typed access through the erased topology.
    fn as_any(&self) -> &dyn Any;
}

/// A store of one value per key.
pub trait KeyValueStore<K, V>: StateStore {
    /// The value of `key`.
    fn get(&self, key: &K) -> Option<V>;
    /// Sets the value of `key`.
    fn put(&mut self, key: &K, value: V);
    /// Removes `key`, returning its value.
    fn delete(&mut self, key: &K) -> Option<V>;
    /// All entries with `from <= key <= to` in key-byte order.
    fn range(&self, from: &K, to: &K) -> Box<dyn Iterator<Item = (K, V)> + '_>;
    /// All entries in key-byte order.
    fn all(&self) -> Box<dyn Iterator<Item = (K, V)> + '_>;
    /// The number of entries (exact for in-memory stores).
    fn approximate_len(&self) -> usize;
}

/// A store of values per key and window start, with a retention period.
///
/// The store's observed stream time is the largest window start put so far. An entry is
/// expired when `start <= observed_stream_time - retention`: puts of expired entries are
/// ignored, fetches never return them, and whole time segments of them are dropped.
pub trait WindowStore<K, V>: StateStore {
    /// Stores `value` for `key` in the window starting at `start`. With duplicates retained
    /// (stream-stream join buffers), every put adds an entry; otherwise it replaces.
    /// A put for an expired window is ignored.
    fn put(&mut self, key: &K, start: Timestamp, value: V);
    /// The value of `key` in the window starting at `start`.
    fn fetch(&self, key: &K, start: Timestamp) -> Option<V>;
    /// Entries of `key` with `from <= start <= to`, by ascending start (then insertion order).
    fn fetch_range(&self, key: &K, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, V)>;
    /// Entries of all keys with `from <= start <= to`, by key bytes then start.
    fn fetch_all(&self, from: Timestamp, to: Timestamp) -> Vec<(K, Timestamp, V)>;
    /// Removes the entry of `key` at `start` (all of them, with duplicates retained).
    fn remove(&mut self, key: &K, start: Timestamp);
    /// The retention period in milliseconds.
    fn retention_ms(&self) -> i64;
}

/// A store of sessions per key, with a retention period.
///
/// The store's observed stream time is the largest session end put so far. A session is
/// expired when `end < observed_stream_time - retention`: puts of expired sessions are
/// ignored, finds never return them, and whole time segments of them are dropped.
pub trait SessionStore<K, V>: StateStore {
    /// Sessions of `key` with `end >= earliest_end` and `start <= latest_start`, ordered by
    /// `(end, start)`.
    fn find_sessions(&self, key: &K, earliest_end: Timestamp, latest_start: Timestamp) -> Vec<(Window, V)>;
    /// Stores a session.
    fn put(&mut self, key: &K, window: Window, value: V);
    /// Removes a session.
    fn remove(&mut self, key: &K, window: Window);
    /// All sessions of `key`, ordered by `(end, start)`.
    fn fetch(&self, key: &K) -> Vec<(Window, V)>;
    /// The retention period in milliseconds.
    fn retention_ms(&self) -> i64;
}
