//! A RocksDB key-value store.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::path::Path;

use rocksdb::{FlushOptions, IteratorMode, ReadOptions, WriteBatch, WriteOptions, DB};

use super::batch::BatchBuf;
use super::pending::{Lookup, Merged, Pending};
use super::shared::{fail, state_error, Durability, RocksDbMemory, ValueCodec};
use crate::serdes::{Data, SerdeRef};
use crate::state::key_buf::KeyBuf;
use crate::state::{KeyValueStore, StateStore};
use crate::Result;

/// A [`KeyValueStore`] in RocksDB: the key is the serialized key, so RocksDB's byte order is
/// the key-byte order every streamz store iterates in.
///
/// Writes wait in memory (reads and iterations see them) until the task commits; then
/// [`commit`](StateStore::commit) writes them to RocksDB in one batch together with the
/// store's checkpoint (its changelog offset, in a column family of its own), without a
/// write-ahead log: the changelog is the log. Values carry a one-byte tag so a null value
/// (`None`) is an entry too.
///
/// # Panics
///
/// As [`InMemoryKeyValueStore`](crate::state::InMemoryKeyValueStore), and when RocksDB fails
/// an operation (a full disk, a corrupted file).
pub struct RocksDbKeyValueStore<K, V> {
    keys: KeyBuf<K>,
    key_serde: SerdeRef<K>,
    values: ValueCodec<V>,
    value_buf: RefCell<Vec<u8>>,
    db: DB,
    write: WriteOptions,
    pending: Pending,
    /// The next commit's batch: changelog records a restore applied as bytes; the commit
    /// adds the pending writes after them.
    batch: BatchBuf,
    checkpoint: Option<i64>,
    durability: Durability,
}

/// The column family of the store's checkpoint.
const META: &str = "streamz-meta";
const CHECKPOINT: &[u8] = b"checkpoint";

impl<K: Data, V: Data> RocksDbKeyValueStore<K, V> {
    /// Opens the store `name` in `dir` (creating it if needed, keeping what it holds), with
    /// the memory shared by the application's stores.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`](crate::StreamsError::State) when RocksDB cannot open `dir`.
    pub fn open(name: impl Into<String>, key_serde: SerdeRef<K>, dir: &Path, memory: &RocksDbMemory) -> Result<Self> {
        let name = name.into();
        let mut db = memory.open(&name, dir)?;
        if db.cf_handle(META).is_none() {
            db.create_cf(META, &memory.options()).map_err(|e| state_error(&name, e))?;
        }
        let meta = db.cf_handle(META).expect("the metadata column family is open");
        let checkpoint = db.get_pinned_cf(meta, CHECKPOINT).map_err(|e| state_error(&name, e))?;
        let checkpoint = checkpoint.and_then(|v| Some(i64::from_be_bytes(v.as_ref().try_into().ok()?)));
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        Ok(RocksDbKeyValueStore {
            pending: Pending::default(),
            batch: BatchBuf::default(),
            checkpoint,
            durability: Durability::new(),
            values: ValueCodec::new(&name, V::default_serde()),
            keys: KeyBuf::new(name, key_serde.clone()),
            key_serde,
            value_buf: RefCell::new(Vec::with_capacity(64)),
            db,
            write,
        })
    }

    /// Writes the memtables to disk when [`Durability`] says so.
    fn flush_if_due(&mut self) -> Result<()> {
        if !self.durability.due() {
            return Ok(());
        }
        self.flush_memtables().map_err(|e| state_error(self.keys.store(), e))
    }

    fn decode(&self, key: &[u8], value: &[u8]) -> (K, V) {
        let key = self.key_serde.deserialize(Some(key));
        let key = key.unwrap_or_else(|e| panic!("state store `{}` cannot deserialize a key: {e}", self.keys.store()));
        (key, self.values.decode(value))
    }

    /// Committed entries within the bounds of `read`, merged with the pending writes in
    /// `[lower, upper)`.
    fn iter(&self, read: ReadOptions, lower: &[u8], upper: &[u8]) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        let it = self.db.iterator_opt(IteratorMode::Start, read);
        let committed = it.map(|entry| entry.unwrap_or_else(|e| fail(self.keys.store(), e)));
        if self.pending.is_empty() {
            return Box::new(committed.map(|(k, v)| self.decode(&k, &v)));
        }
        Box::new(Merged::new(committed, self.pending.range(lower, upper)).map(|(k, v)| self.decode(&k, &v)))
    }
}

impl<K, V> RocksDbKeyValueStore<K, V> {
    /// Writes the committed memtables to SST files now.
    #[cfg(test)]
    pub(crate) fn flush_to_disk(&self) -> Result<()> {
        self.flush_memtables().map_err(|e| state_error(self.keys.store(), e))
    }

    fn flush_memtables(&self) -> std::result::Result<(), rocksdb::Error> {
        let cfs: Vec<&rocksdb::ColumnFamily> = ["default", META].iter().filter_map(|n| self.db.cf_handle(n)).collect();
        self.db.flush_cfs_opt(&cfs, &FlushOptions::default())
    }
}

impl<K, V> fmt::Debug for RocksDbKeyValueStore<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksDbKeyValueStore").field("name", &self.keys.store()).field("path", &self.db.path()).finish()
    }
}

impl<K: Data, V: Data> StateStore for RocksDbKeyValueStore<K, V> {
    fn name(&self) -> &str {
        self.keys.store()
    }

    /// Writes the changes since the last commit and `checkpoint` in one batch.
    fn commit(&mut self, checkpoint: Option<i64>) -> Result<()> {
        if self.pending.is_empty() && self.batch.is_empty() && (checkpoint.is_none() || checkpoint == self.checkpoint) {
            return self.flush_if_due();
        }
        // A restore's records come before the pending writes made after them.
        for (key, value) in self.pending.drain() {
            match value {
                Some(value) => self.batch.put(&key, &value),
                None => self.batch.delete(&key),
            }
        }
        let mut batch = self.batch.take();
        if let Some(offset) = checkpoint {
            let meta = self.db.cf_handle(META).expect("the metadata column family is open");
            batch.put_cf(meta, CHECKPOINT, offset.to_be_bytes());
            self.checkpoint = Some(offset);
        }
        self.db.write_opt(batch, &self.write).map_err(|e| state_error(self.keys.store(), e))?;
        self.durability.wrote();
        self.flush_if_due()
    }

    fn checkpoint(&self) -> Option<i64> {
        self.checkpoint
    }

    fn clear(&mut self) -> Result<()> {
        self.pending.clear();
        self.batch = BatchBuf::default();
        self.checkpoint = None;
        let mut batch = WriteBatch::default();
        for entry in self.db.iterator(IteratorMode::Start) {
            batch.delete(entry.map_err(|e| state_error(self.keys.store(), e))?.0);
        }
        let meta = self.db.cf_handle(META).expect("the metadata column family is open");
        batch.delete_cf(meta, CHECKPOINT);
        self.db.write_opt(batch, &self.write).map_err(|e| state_error(self.keys.store(), e))
    }

    /// The store's key is the changelog's key and its value the changelog's value behind a
    /// one-byte tag, so a restore writes the bytes as they come, batched until the next
    /// commit. While writes of the task are pending (not during a restore) it takes the
    /// typed path, so reads keep seeing them in order.
    fn restore_bytes(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<bool> {
        if !self.pending.is_empty() {
            return Ok(false);
        }
        match value {
            Some(value) => self.batch.put_tagged(key, ValueCodec::<V>::PRESENT, value),
            None => self.batch.delete(key),
        }
        Ok(true)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<K: Data, V: Data> KeyValueStore<K, V> for RocksDbKeyValueStore<K, V> {
    fn get(&self, key: &K) -> Option<V> {
        self.keys.with(key, |bytes| match self.pending.get(bytes) {
            Lookup::Put(value) => Some(self.values.decode(value)),
            Lookup::Deleted => None,
            Lookup::Unknown => {
                let value = self.db.get_pinned(bytes).unwrap_or_else(|e| fail(self.keys.store(), e))?;
                Some(self.values.decode(&value))
            }
        })
    }

    fn put(&mut self, key: &K, value: V) {
        let mut buf = self.value_buf.borrow_mut();
        self.values.encode(&value, &mut buf);
        let pending = &mut self.pending;
        self.keys.with(key, |bytes| pending.put(bytes, &buf));
    }

    fn delete(&mut self, key: &K) -> Option<V> {
        let old = self.get(key);
        if old.is_some() {
            let pending = &mut self.pending;
            self.keys.with(key, |bytes| pending.delete(bytes));
        }
        old
    }

    /// Entries with `from <= key <= to` by key bytes; empty when `from` encodes after `to`.
    fn range(&self, from: &K, to: &K) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        let bounds = self.keys.with_pair(from, to, |from, to| {
            // The smallest key after `to` is `to` followed by a zero byte.
            (from <= to).then(|| (from.to_vec(), [to, &[0]].concat()))
        });
        let Some((lower, upper)) = bounds else {
            return Box::new(std::iter::empty());
        };
        let mut read = ReadOptions::default();
        read.set_iterate_lower_bound(lower.clone());
        read.set_iterate_upper_bound(upper.clone());
        self.iter(read, &lower, &upper)
    }

    fn all(&self) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        self.iter(ReadOptions::default(), &[], &[])
    }

    /// RocksDB's estimate of the number of keys (counting overwritten and deleted keys until
    /// they are compacted away), plus the keys written since the last commit.
    fn approximate_len(&self) -> usize {
        let n = self.db.property_int_value(rocksdb::properties::ESTIMATE_NUM_KEYS);
        n.unwrap_or_else(|e| fail(self.keys.store(), e)).unwrap_or(0) as usize + self.pending.len()
    }
}

impl<K, V> Drop for RocksDbKeyValueStore<K, V> {
    fn drop(&mut self) {
        if let Err(e) = self.flush_memtables() {
            tracing::warn!(store = self.keys.store(), error = %e, "cannot flush a key-value store when closing it");
        }
    }
}
