//! A RocksDB database split into time segments, one column family each, shared by the window
//! and session stores.
//!
//! Segment `id` holds the entries with `time.div_euclid(interval) == id` in column family
//! `segment-<id>`. Expiring a segment drops its column family: RocksDB deletes its memtable
//! and SST files as a whole, with no tombstones and no compaction. The default column family
//! holds the store's metadata (observed stream time, next sequence number, checkpoint).
//!
//! Writes and segment drops wait in an overlay ([`Pending`]) until [`SegmentedDb::commit`]
//! writes them, with the metadata, in one write batch: RocksDB only ever holds the state of
//! a commit (the database flushes its column families atomically).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rocksdb::{FlushOptions, IteratorMode, ReadOptions, WriteBatch, WriteOptions, DB};

use super::pending::{Lookup, Merged, Pending};
use super::shared::{fail, state_error, Durability, RocksDbMemory};
use crate::Result;

pub(crate) struct SegmentedDb {
    store: String,
    db: DB,
    memory: RocksDbMemory,
    write: WriteOptions,
    interval: i64,
    /// The live segments: committed ones and those with pending writes only.
    segments: BTreeSet<i64>,
    /// Uncommitted writes per segment.
    pending: BTreeMap<i64, Pending>,
    /// Committed segments dropped since the last commit.
    dropped: Vec<i64>,
    durability: Durability,
    /// The metadata values of the last commit.
    written_meta: Vec<i64>,
    /// The changelog offset the committed state corresponds to.
    checkpoint: Option<i64>,
}

const PREFIX: &str = "segment-";

/// The column family name of a segment, `segment-<id>`, formatted without allocating (it is
/// looked up for every read that misses the overlay).
struct SegmentName {
    buf: [u8; PREFIX.len() + 20],
    len: usize,
}

impl SegmentName {
    fn new(id: i64) -> Self {
        use std::io::Write;
        let mut buf = [0u8; PREFIX.len() + 20];
        let mut rest = &mut buf[..];
        write!(rest, "{PREFIX}{id}").expect("an i64 fits in 20 characters");
        let len = PREFIX.len() + 20 - rest.len();
        SegmentName { buf, len }
    }
}

impl std::ops::Deref for SegmentName {
    type Target = str;

    fn deref(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("formatted as UTF-8")
    }
}

impl AsRef<str> for SegmentName {
    fn as_ref(&self) -> &str {
        self
    }
}

/// The metadata key of the checkpoint.
const CHECKPOINT: &str = "checkpoint";

fn read_meta(db: &DB, store: &str, key: &str) -> Option<i64> {
    let value = db.get_pinned(key).unwrap_or_else(|e| fail(store, e))?;
    Some(i64::from_be_bytes(value.as_ref().try_into().ok()?))
}

impl SegmentedDb {
    pub(crate) fn open(store: &str, dir: &Path, memory: &RocksDbMemory, interval: i64) -> Result<Self> {
        assert!(interval > 0, "segment interval must be positive (this is a bug in streamz)");
        let db = memory.open(store, dir)?;
        let mut segments = BTreeSet::new();
        for name in DB::list_cf(&memory.options(), dir).map_err(|e| state_error(store, e))? {
            if let Some(id) = name.strip_prefix(PREFIX).and_then(|id| id.parse::<i64>().ok()) {
                segments.insert(id);
            }
        }
        let mut write = WriteOptions::default();
        // The changelog is the log.
        write.disable_wal(true);
        let checkpoint = read_meta(&db, store, CHECKPOINT);
        Ok(SegmentedDb {
            checkpoint,
            store: store.to_string(),
            db,
            memory: memory.clone(),
            write,
            interval,
            segments,
            pending: BTreeMap::new(),
            dropped: Vec::new(),
            durability: Durability::new(),
            written_meta: Vec::new(),
        })
    }

    pub(crate) fn store(&self) -> &str {
        &self.store
    }

    fn id(&self, time: i64) -> i64 {
        time.div_euclid(self.interval)
    }

    fn name(id: i64) -> SegmentName {
        SegmentName::new(id)
    }

    /// Writes `key` → `value` into the segment of `time` (at the next commit).
    pub(crate) fn put(&mut self, time: i64, key: &[u8], value: &[u8]) {
        let id = self.id(time);
        self.segments.insert(id);
        self.pending.entry(id).or_default().put(key, value);
    }

    /// Deletes `key` from the segment of `time` (at the next commit).
    pub(crate) fn delete(&mut self, time: i64, key: &[u8]) {
        let id = self.id(time);
        if self.segments.contains(&id) {
            self.pending.entry(id).or_default().delete(key);
        }
    }

    /// Deletes every key of the segment of `time` in `[lower, upper)`.
    pub(crate) fn delete_range(&mut self, time: i64, lower: &[u8], upper: &[u8]) {
        let mut doomed = Vec::new();
        self.scan(time, time, lower, upper, |key, _| doomed.push(key.to_vec()));
        for key in doomed {
            self.delete(time, &key);
        }
    }

    /// Drops every segment whose times are all before `min_live` (from disk at the next
    /// commit).
    pub(crate) fn drop_before(&mut self, min_live: i64) {
        let live = self.id(min_live);
        while let Some(&oldest) = self.segments.first() {
            if oldest >= live {
                break;
            }
            self.segments.remove(&oldest);
            self.pending.remove(&oldest);
            if self.db.cf_handle(&Self::name(oldest)).is_some() {
                self.dropped.push(oldest);
            }
        }
    }

    /// Calls `f` with the value of `key` in the segment of `time`, uncommitted writes
    /// included, and returns what it returns; `None` when the key is not there. One point
    /// lookup, no iterator.
    pub(crate) fn get<R>(&self, time: i64, key: &[u8], f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let id = self.id(time);
        if !self.segments.contains(&id) {
            return None;
        }
        match self.pending.get(&id).map_or(Lookup::Unknown, |p| p.get(key)) {
            Lookup::Put(value) => return Some(f(value)),
            Lookup::Deleted => return None,
            Lookup::Unknown => {}
        }
        let cf = self.db.cf_handle(&Self::name(id))?;
        let value = self.db.get_pinned_cf(cf, key).unwrap_or_else(|e| fail(&self.store, e))?;
        Some(f(&value))
    }

    /// Calls `f` with every entry in `[lower, upper)` of each segment that may hold times in
    /// `from..=to`, segment by segment in time order, uncommitted writes included.
    pub(crate) fn scan(&self, from: i64, to: i64, lower: &[u8], upper: &[u8], mut f: impl FnMut(&[u8], &[u8])) {
        if from > to {
            return;
        }
        for &id in self.segments.range(self.id(from)..=self.id(to)) {
            let committed: Box<dyn Iterator<Item = (Box<[u8]>, Box<[u8]>)>> = match self.db.cf_handle(&Self::name(id)) {
                Some(cf) => {
                    let mut read = ReadOptions::default();
                    if !lower.is_empty() {
                        read.set_iterate_lower_bound(lower);
                    }
                    if !upper.is_empty() {
                        read.set_iterate_upper_bound(upper);
                    }
                    let it = self.db.iterator_cf_opt(cf, read, IteratorMode::Start);
                    Box::new(it.map(|entry| entry.unwrap_or_else(|e| fail(&self.store, e))))
                }
                None => Box::new(std::iter::empty()),
            };
            match self.pending.get(&id) {
                Some(pending) if !pending.is_empty() => {
                    for (k, v) in Merged::new(committed, pending.range(lower, upper)) {
                        f(&k, &v);
                    }
                }
                _ => {
                    for (k, v) in committed {
                        f(&k, &v);
                    }
                }
            }
        }
    }

    /// A metadata value (in the default column family).
    pub(crate) fn meta(&self, key: &str) -> Option<i64> {
        read_meta(&self.db, &self.store, key)
    }

    /// The changelog offset of the last commit that had one (kept across commits without).
    pub(crate) fn checkpoint(&self) -> Option<i64> {
        self.checkpoint
    }

    /// Writes the pending writes, `meta` and the checkpoint (`checkpoint`, else the last
    /// one) in one batch, then drops the segments that expired since the last commit.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`](crate::StreamsError::State) when RocksDB fails the write.
    pub(crate) fn commit(&mut self, meta: &[(&str, i64)], checkpoint: Option<i64>) -> Result<()> {
        self.checkpoint = checkpoint.or(self.checkpoint);
        let mut meta = meta.to_vec();
        if let Some(checkpoint) = self.checkpoint {
            meta.push((CHECKPOINT, checkpoint));
        }
        let values: Vec<i64> = meta.iter().map(|(_, v)| *v).collect();
        let idle = self.pending.values().all(Pending::is_empty) && self.dropped.is_empty();
        if idle && values == self.written_meta {
            if self.durability.due() {
                self.flush_memtables()?;
            }
            return Ok(());
        }
        self.written_meta = values;
        let mut batch = WriteBatch::default();
        for (&id, pending) in &mut self.pending {
            if pending.is_empty() {
                continue;
            }
            let name = Self::name(id);
            if self.db.cf_handle(&name).is_none() {
                let opts = self.memory.options();
                self.db.create_cf(&name, &opts).map_err(|e| state_error(&self.store, e))?;
            }
            let cf = self.db.cf_handle(&name).expect("the segment was just created");
            for (key, value) in pending.drain() {
                match value {
                    Some(value) => batch.put_cf(cf, key, value),
                    None => batch.delete_cf(cf, key),
                }
            }
        }
        self.pending.clear();
        for (key, value) in &meta {
            batch.put(key, value.to_be_bytes());
        }
        self.db.write_opt(batch, &self.write).map_err(|e| state_error(&self.store, e))?;
        for id in std::mem::take(&mut self.dropped) {
            self.db.drop_cf(&Self::name(id)).map_err(|e| state_error(&self.store, e))?;
        }
        self.durability.wrote();
        if self.durability.due() {
            self.flush_memtables()?;
        }
        Ok(())
    }

    /// Forgets every entry, segment and metadata value, committed or not.
    pub(crate) fn clear(&mut self) -> Result<()> {
        self.checkpoint = None;
        self.pending.clear();
        self.written_meta.clear();
        self.dropped.clear();
        for id in std::mem::take(&mut self.segments) {
            if self.db.cf_handle(&Self::name(id)).is_some() {
                self.db.drop_cf(&Self::name(id)).map_err(|e| state_error(&self.store, e))?;
            }
        }
        let keys: Vec<Box<[u8]>> =
            self.db.iterator(IteratorMode::Start).filter_map(|e| e.ok().map(|(k, _)| k)).collect();
        let mut batch = WriteBatch::default();
        for key in keys {
            batch.delete(key);
        }
        self.db.write_opt(batch, &self.write).map_err(|e| state_error(&self.store, e))
    }

    /// Writes every committed memtable to SST files (uncommitted writes are not in them).
    pub(crate) fn flush_memtables(&self) -> Result<()> {
        let names: Vec<SegmentName> = self.segments.iter().map(|&id| Self::name(id)).collect();
        let mut cfs: Vec<&rocksdb::ColumnFamily> = names.iter().filter_map(|n| self.db.cf_handle(n)).collect();
        let default = self.db.cf_handle("default").expect("the default column family is open");
        cfs.push(default);
        self.db.flush_cfs_opt(&cfs, &FlushOptions::default()).map_err(|e| state_error(&self.store, e))
    }

    /// The number of entries held, counting expired ones of segments not yet dropped.
    pub(crate) fn len(&self) -> usize {
        let mut n = 0;
        self.scan(i64::MIN, i64::MAX, &[], &[], |_, _| n += 1);
        n
    }

    /// The number of segments held.
    pub(crate) fn segment_count(&self) -> usize {
        self.segments.len()
    }
}

#[cfg(test)]
mod tests {
    use super::SegmentName;

    #[test]
    fn segment_names_are_the_prefix_and_the_id() {
        for id in [0, 7, -3, 1_234_567, i64::MIN, i64::MAX] {
            assert_eq!(&*SegmentName::new(id), format!("segment-{id}"));
        }
    }
}
