//! A RocksDB window store, segmented by window start.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::segmented::SegmentedDb;
use super::shared::{escape_key, get_time, put_time, unescape_key, RocksDbMemory, ValueCodec};
use crate::serdes::{Data, SerdeRef};
use crate::state::key_buf::KeyBuf;
use crate::state::segments::segment_interval;
use crate::state::{StateStore, WindowStore};
use crate::time::{millis, Timestamp};
use crate::Result;

/// A [`WindowStore`] in RocksDB, with the semantics of
/// [`InMemoryWindowStore`](crate::state::InMemoryWindowStore): the same retention and expiry
/// rules, duplicates in insertion order, the same iteration order.
///
/// Entries live in time segments of `max(retention / 2, 60 s)` by window start, one column
/// family each; an expired segment is dropped whole (its files are deleted, no tombstones).
/// An entry's key is the escaped key bytes, then the window start and a sequence number
/// (both 8 bytes, big-endian, order-preserving), so RocksDB's byte order is the order
/// (key bytes, start, insertion) that fetches promise. Writes wait in memory until the
/// task commits, then go to RocksDB in one batch with the store's checkpoint (its changelog
/// offset), without a write-ahead log: the changelog is the log.
///
/// # Panics
///
/// As the in-memory store, and when RocksDB fails an operation.
pub struct RocksDbWindowStore<K, V> {
    keys: KeyBuf<K>,
    key_serde: SerdeRef<K>,
    values: ValueCodec<V>,
    db: SegmentedDb,
    scratch: RefCell<(Vec<u8>, Vec<u8>)>,
    retention_ms: i64,
    window_size_ms: i64,
    retain_duplicates: bool,
    observed: i64,
    next_seq: i64,
}

impl<K: Data, V: Data> RocksDbWindowStore<K, V> {
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
        window_size: Duration,
        retain_duplicates: bool,
        dir: &Path,
        memory: &RocksDbMemory,
    ) -> Result<Self> {
        let name = name.into();
        let retention_ms = millis(retention);
        let db = SegmentedDb::open(&name, dir, memory, segment_interval(retention_ms))?;
        Ok(RocksDbWindowStore {
            values: ValueCodec::new(&name, V::default_serde()),
            observed: db.meta("observed").unwrap_or(i64::MIN),
            next_seq: db.meta("next-seq").unwrap_or(0),
            keys: KeyBuf::new(name, key_serde.clone()),
            key_serde,
            db,
            scratch: RefCell::new((Vec::with_capacity(64), Vec::with_capacity(64))),
            retention_ms,
            window_size_ms: millis(window_size),
            retain_duplicates,
        })
    }
}

impl<K: 'static, V> RocksDbWindowStore<K, V> {
    /// The window size in milliseconds, as given at construction.
    pub fn window_size_ms(&self) -> i64 {
        self.window_size_ms
    }

    /// Whether every put adds an entry.
    pub fn retains_duplicates(&self) -> bool {
        self.retain_duplicates
    }

    /// The largest window start put so far ([`Timestamp::MIN`] before the first put).
    pub fn observed_stream_time(&self) -> Timestamp {
        Timestamp(self.observed)
    }

    /// The number of entries held, counting expired ones whose segment is not yet dropped.
    /// Reads the whole store.
    pub fn len(&self) -> usize {
        self.db.len()
    }

    /// Whether the store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of time segments (column families) held.
    pub fn segment_count(&self) -> usize {
        self.db.segment_count()
    }

    /// Writes the committed memtables to SST files now.
    #[cfg(test)]
    pub(crate) fn flush_to_disk(&self) -> Result<()> {
        self.db.flush_memtables()
    }

    fn min_live(&self) -> i64 {
        if self.observed == i64::MIN {
            i64::MIN
        } else {
            self.observed.saturating_sub(self.retention_ms).saturating_add(1)
        }
    }

    /// Calls `f` with the escaped key of `key` and a second buffer.
    fn with_key<R>(&self, key: &K, f: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> R) -> R {
        let mut scratch = self.scratch.borrow_mut();
        let (esc, other) = &mut *scratch;
        esc.clear();
        self.keys.with(key, |bytes| escape_key(bytes, esc));
        f(esc, other)
    }

    /// Entries of `key` with `from <= start <= to`, by start then insertion.
    fn entries(&self, key: &K, from: i64, to: i64, limit: usize) -> Vec<(i64, Vec<u8>)> {
        let mut out = Vec::new();
        self.with_key(key, |esc, upper| {
            let prefix = esc.len();
            put_time(from, esc);
            upper.clear();
            upper.extend_from_slice(&esc[..prefix]);
            match to.checked_add(1) {
                Some(end) => put_time(end, upper),
                None => *upper.last_mut().expect("escaped keys end with a terminator") = 1,
            }
            self.db.scan(from, to, esc, upper, |k, v| {
                if out.len() < limit {
                    out.push((get_time(&k[prefix..]), v.to_vec()));
                }
            });
        });
        out
    }
}

impl<K, V> fmt::Debug for RocksDbWindowStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksDbWindowStore")
            .field("name", &self.db.store())
            .field("retention_ms", &self.retention_ms)
            .field("retain_duplicates", &self.retain_duplicates)
            .field("observed", &self.observed)
            .finish_non_exhaustive()
    }
}

impl<K: Data, V: Data> StateStore for RocksDbWindowStore<K, V> {
    fn name(&self) -> &str {
        self.db.store()
    }

    /// Writes the changes since the last commit, the metadata and `checkpoint` in one batch.
    fn commit(&mut self, checkpoint: Option<i64>) -> Result<()> {
        self.db.commit(&[("observed", self.observed), ("next-seq", self.next_seq)], checkpoint)
    }

    fn checkpoint(&self) -> Option<i64> {
        self.db.checkpoint()
    }

    fn clear(&mut self) -> Result<()> {
        self.db.clear()?;
        self.observed = i64::MIN;
        self.next_seq = 0;
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<K: Data, V: Data> WindowStore<K, V> for RocksDbWindowStore<K, V> {
    fn put(&mut self, key: &K, start: Timestamp, value: V) {
        let start = start.as_millis();
        self.observed = self.observed.max(start);
        let min_live = self.min_live();
        if start < min_live {
            return;
        }
        self.db.drop_before(min_live);
        let seq = if self.retain_duplicates {
            self.next_seq += 1;
            self.next_seq
        } else {
            0
        };
        let mut scratch = self.scratch.borrow_mut();
        let (entry, bytes) = &mut *scratch;
        entry.clear();
        self.keys.with(key, |k| escape_key(k, entry));
        put_time(start, entry);
        put_time(seq, entry);
        self.values.encode(&value, bytes);
        self.db.put(start, entry, bytes);
    }

    /// With duplicates retained, the first entry put at `start`.
    fn fetch(&self, key: &K, start: Timestamp) -> Option<V> {
        let start = start.as_millis();
        if start < self.min_live() {
            return None;
        }
        if self.retain_duplicates {
            let first = self.entries(key, start, start, 1).pop();
            return first.map(|(_, v)| self.values.decode(&v));
        }
        // Without duplicates an entry's sequence number is 0: one point lookup.
        self.with_key(key, |entry, _| {
            put_time(start, entry);
            put_time(0, entry);
            self.db.get(start, entry, |v| self.values.decode(v))
        })
    }

    fn fetch_range(&self, key: &K, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, V)> {
        let from = from.as_millis().max(self.min_live());
        let entries = self.entries(key, from, to.as_millis(), usize::MAX);
        entries.into_iter().map(|(start, v)| (Timestamp(start), self.values.decode(&v))).collect()
    }

    fn fetch_all(&self, from: Timestamp, to: Timestamp) -> Vec<(K, Timestamp, V)> {
        let (from, to) = (from.as_millis().max(self.min_live()), to.as_millis());
        let mut found: Vec<(Vec<u8>, i64, Vec<u8>)> = Vec::new();
        self.db.scan(from, to, &[], &[], |k, v| {
            let (key, rest) = unescape_key(k);
            let start = get_time(rest);
            if from <= start && start <= to {
                found.push((key, start, v.to_vec()));
            }
        });
        // Segments were scanned in time order, so a stable sort by key keeps time order.
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let decode = |bytes: &[u8]| {
            self.key_serde
                .deserialize(Some(bytes))
                .unwrap_or_else(|e| panic!("state store `{}` cannot deserialize a key: {e}", self.db.store()))
        };
        found.into_iter().map(|(k, start, v)| (decode(&k), Timestamp(start), self.values.decode(&v))).collect()
    }

    fn remove(&mut self, key: &K, start: Timestamp) {
        let start = start.as_millis();
        let mut scratch = self.scratch.borrow_mut();
        let (lower, upper) = &mut *scratch;
        lower.clear();
        self.keys.with(key, |k| escape_key(k, lower));
        upper.clear();
        upper.extend_from_slice(lower);
        put_time(start, lower);
        match start.checked_add(1) {
            Some(end) => put_time(end, upper),
            None => *upper.last_mut().expect("escaped keys end with a terminator") = 1,
        }
        self.db.delete_range(start, lower, upper);
    }

    fn retention_ms(&self) -> i64 {
        self.retention_ms
    }
}

impl<K, V> Drop for RocksDbWindowStore<K, V> {
    fn drop(&mut self) {
        if let Err(e) = self.db.flush_memtables() {
            tracing::warn!(error = %e, "cannot flush a window store when closing it");
        }
    }
}
