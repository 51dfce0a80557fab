//! A RocksDB session store, segmented by session end.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::segmented::SegmentedDb;
use super::shared::{escape_key, get_time, put_time, RocksDbMemory, ValueCodec};
use crate::serdes::{Data, SerdeRef};
use crate::state::key_buf::KeyBuf;
use crate::state::segments::segment_interval;
use crate::state::{SessionStore, StateStore};
use crate::time::{millis, Timestamp, Window};
use crate::Result;

/// A [`SessionStore`] in RocksDB, with the semantics of
/// [`InMemorySessionStore`](crate::state::InMemorySessionStore): the same retention and
/// expiry rules, sessions of a key ordered by `(end, start)`.
///
/// Sessions live in time segments of `max(retention / 2, 60 s)` by session end, one column
/// family each; an expired segment is dropped whole. A session's key is the escaped key
/// bytes, then its end and start (8 bytes each, big-endian, order-preserving). Writes wait
/// in memory until the task commits, then go to RocksDB in one batch with the store's
/// checkpoint, without a write-ahead log: the changelog is the log.
///
/// # Panics
///
/// As the in-memory store, and when RocksDB fails an operation.
pub struct RocksDbSessionStore<K, V> {
    keys: KeyBuf<K>,
    values: ValueCodec<V>,
    db: SegmentedDb,
    scratch: RefCell<(Vec<u8>, Vec<u8>)>,
    retention_ms: i64,
    observed: i64,
}

impl<K: Data, V: Data> RocksDbSessionStore<K, V> {
    /// Opens the store `name` in `dir` (creating it if needed, keeping what it holds), with
    /// the memory shared by the application's stores.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`](crate::StreamsError::State) when RocksDB cannot open `dir`.
    pub fn open(
        name: impl Into<String>,
        key_serde: SerdeRef<K>,
        retention: Duration,
        dir: &Path,
        memory: &RocksDbMemory,
    ) -> Result<Self> {
        let name = name.into();
        let retention_ms = millis(retention);
        let db = SegmentedDb::open(&name, dir, memory, segment_interval(retention_ms))?;
        Ok(RocksDbSessionStore {
            values: ValueCodec::new(&name, V::default_serde()),
            observed: db.meta("observed").unwrap_or(i64::MIN),
            keys: KeyBuf::new(name, key_serde),
            db,
            scratch: RefCell::new((Vec::with_capacity(64), Vec::with_capacity(64))),
            retention_ms,
        })
    }
}

impl<K: 'static, V> RocksDbSessionStore<K, V> {
    /// The largest session end put so far ([`Timestamp::MIN`] before the first put).
    pub fn observed_stream_time(&self) -> Timestamp {
        Timestamp(self.observed)
    }

    /// The number of sessions held, counting expired ones whose segment is not yet dropped.
    /// Reads the whole store.
    pub fn len(&self) -> usize {
        self.db.len()
    }

    /// Whether the store holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of time segments (column families) held.
    pub fn segment_count(&self) -> usize {
        self.db.segment_count()
    }

    fn min_live(&self) -> i64 {
        self.observed.saturating_sub(self.retention_ms)
    }

    /// The escaped key of `key` followed by `window`'s end and start.
    fn entry_key(&self, key: &K, window: Window, out: &mut Vec<u8>) {
        out.clear();
        self.keys.with(key, |k| escape_key(k, out));
        put_time(window.end.as_millis(), out);
        put_time(window.start.as_millis(), out);
    }
}

impl<K: Data, V: Data> RocksDbSessionStore<K, V> {
    fn live(&self, key: &K, earliest_end: i64, latest_start: i64) -> Vec<(Window, V)> {
        let from = earliest_end.max(self.min_live());
        let mut found = Vec::new();
        let mut scratch = self.scratch.borrow_mut();
        let (lower, upper) = &mut *scratch;
        lower.clear();
        self.keys.with(key, |k| escape_key(k, lower));
        let prefix = lower.len();
        upper.clear();
        upper.extend_from_slice(lower);
        *upper.last_mut().expect("escaped keys end with a terminator") = 1;
        put_time(from, lower);
        self.db.scan(from, i64::MAX, lower, upper, |k, v| {
            let (end, start) = (get_time(&k[prefix..]), get_time(&k[prefix + 8..]));
            if start <= latest_start {
                found.push((Window::new(start, end), self.values.decode(v)));
            }
        });
        found
    }
}

impl<K, V> fmt::Debug for RocksDbSessionStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksDbSessionStore")
            .field("name", &self.db.store())
            .field("retention_ms", &self.retention_ms)
            .field("observed", &self.observed)
            .finish_non_exhaustive()
    }
}

impl<K: Data, V: Data> StateStore for RocksDbSessionStore<K, V> {
    fn name(&self) -> &str {
        self.db.store()
    }

    /// Writes the changes since the last commit, the metadata and `checkpoint` in one batch.
    fn commit(&mut self, checkpoint: Option<i64>) -> Result<()> {
        self.db.commit(&[("observed", self.observed)], checkpoint)
    }

    fn checkpoint(&self) -> Option<i64> {
        self.db.checkpoint()
    }

    fn clear(&mut self) -> Result<()> {
        self.db.clear()?;
        self.observed = i64::MIN;
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<K: Data, V: Data> SessionStore<K, V> for RocksDbSessionStore<K, V> {
    fn find_sessions(&self, key: &K, earliest_end: Timestamp, latest_start: Timestamp) -> Vec<(Window, V)> {
        self.live(key, earliest_end.as_millis(), latest_start.as_millis())
    }

    fn put(&mut self, key: &K, window: Window, value: V) {
        let end = window.end.as_millis();
        self.observed = self.observed.max(end);
        let min_live = self.min_live();
        if end < min_live {
            return;
        }
        self.db.drop_before(min_live);
        let mut scratch = self.scratch.borrow_mut();
        let (entry, bytes) = &mut *scratch;
        self.entry_key(key, window, entry);
        self.values.encode(&value, bytes);
        self.db.put(end, entry, bytes);
    }

    fn remove(&mut self, key: &K, window: Window) {
        let mut scratch = self.scratch.borrow_mut();
        let (entry, _) = &mut *scratch;
        self.entry_key(key, window, entry);
        self.db.delete(window.end.as_millis(), entry);
    }

    fn fetch(&self, key: &K) -> Vec<(Window, V)> {
        self.live(key, i64::MIN, i64::MAX)
    }

    fn retention_ms(&self) -> i64 {
        self.retention_ms
    }
}

impl<K, V> Drop for RocksDbSessionStore<K, V> {
    fn drop(&mut self) {
        if let Err(e) = self.db.flush_memtables() {
            tracing::warn!(error = %e, "cannot flush a session store when closing it");
        }
    }
}
