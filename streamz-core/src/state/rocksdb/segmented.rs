//! A RocksDB database split into time segments, one column family each, shared by the window
//! and session stores.
//!
//! Segment `id` holds the entries with `time.div_euclid(interval) == id` in column family
//! `segment-<id>`. Expiring a segment drops its column family: RocksDB deletes its memtable
//! and SST files as a whole, with no tombstones and no compaction. The default column family
//! holds the store's metadata (observed stream time, next sequence number), written at flush.

use std::collections::BTreeSet;
use std::path::Path;

use rocksdb::{FlushOptions, ReadOptions, WriteOptions, DB};

use super::shared::{fail, state_error, RocksDbMemory};
use crate::Result;

pub(crate) struct SegmentedDb {
    store: String,
    db: DB,
    memory: RocksDbMemory,
    write: WriteOptions,
    interval: i64,
    segments: BTreeSet<i64>,
}

const PREFIX: &str = "segment-";

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
        Ok(SegmentedDb { store: store.to_string(), db, memory: memory.clone(), write, interval, segments })
    }

    pub(crate) fn store(&self) -> &str {
        &self.store
    }

    fn id(&self, time: i64) -> i64 {
        time.div_euclid(self.interval)
    }

    fn name(id: i64) -> String {
        format!("{PREFIX}{id}")
    }

    /// Writes `key` → `value` into the segment of `time`, creating it if needed.
    pub(crate) fn put(&mut self, time: i64, key: &[u8], value: &[u8]) {
        let id = self.id(time);
        let name = Self::name(id);
        if self.segments.insert(id) {
            let opts = self.memory.options();
            self.db.create_cf(&name, &opts).unwrap_or_else(|e| fail(&self.store, e));
        }
        let cf = self.db.cf_handle(&name).expect("a segment is open (this is a bug in streamz)");
        self.db.put_cf_opt(cf, key, value, &self.write).unwrap_or_else(|e| fail(&self.store, e));
    }

    /// Deletes `key` from the segment of `time`.
    pub(crate) fn delete(&mut self, time: i64, key: &[u8]) {
        let Some(cf) = self.db.cf_handle(&Self::name(self.id(time))) else { return };
        self.db.delete_cf_opt(cf, key, &self.write).unwrap_or_else(|e| fail(&self.store, e));
    }

    /// Deletes every key of the segment of `time` in `[lower, upper)`.
    pub(crate) fn delete_range(&mut self, time: i64, lower: &[u8], upper: &[u8]) {
        let mut doomed = Vec::new();
        self.scan(time, time, lower, upper, |key, _| doomed.push(key.to_vec()));
        let Some(cf) = self.db.cf_handle(&Self::name(self.id(time))) else { return };
        for key in doomed {
            self.db.delete_cf_opt(cf, key, &self.write).unwrap_or_else(|e| fail(&self.store, e));
        }
    }

    /// Drops every segment whose times are all before `min_live`.
    pub(crate) fn drop_before(&mut self, min_live: i64) {
        let live = self.id(min_live);
        while let Some(&oldest) = self.segments.first() {
            if oldest >= live {
                break;
            }
            self.segments.remove(&oldest);
            self.db.drop_cf(&Self::name(oldest)).unwrap_or_else(|e| fail(&self.store, e));
        }
    }

    /// Calls `f` with every entry in `[lower, upper)` of each segment that may hold times in
    /// `from..=to`, segment by segment in time order.
    pub(crate) fn scan(&self, from: i64, to: i64, lower: &[u8], upper: &[u8], mut f: impl FnMut(&[u8], &[u8])) {
        if from > to {
            return;
        }
        for &id in self.segments.range(self.id(from)..=self.id(to)) {
            let cf = self.db.cf_handle(&Self::name(id)).expect("a segment is open (this is a bug in streamz)");
            let mut read = ReadOptions::default();
            if !lower.is_empty() {
                read.set_iterate_lower_bound(lower);
            }
            if !upper.is_empty() {
                read.set_iterate_upper_bound(upper);
            }
            let mut it = self.db.raw_iterator_cf_opt(cf, read);
            it.seek_to_first();
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                f(k, v);
                it.next();
            }
            it.status().unwrap_or_else(|e| fail(&self.store, e));
        }
    }

    /// A metadata value (in the default column family).
    pub(crate) fn meta(&self, key: &str) -> Option<i64> {
        let value = self.db.get_pinned(key).unwrap_or_else(|e| fail(&self.store, e))?;
        Some(i64::from_be_bytes(value.as_ref().try_into().ok()?))
    }

    /// Writes the metadata, then every memtable to SST files.
    pub(crate) fn flush(&self, meta: &[(&str, i64)]) -> Result<()> {
        for (key, value) in meta {
            self.db.put_opt(key, value.to_be_bytes(), &self.write).map_err(|e| state_error(&self.store, e))?;
        }
        let names: Vec<String> = self.segments.iter().map(|&id| Self::name(id)).collect();
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
