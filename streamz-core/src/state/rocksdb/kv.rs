//! A RocksDB key-value store.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::path::Path;

use rocksdb::{FlushOptions, IteratorMode, ReadOptions, WriteOptions, DB};

use super::shared::{fail, state_error, RocksDbMemory, ValueCodec};
use crate::serdes::{Data, SerdeRef};
use crate::state::key_buf::KeyBuf;
use crate::state::{KeyValueStore, StateStore};
use crate::Result;

/// A [`KeyValueStore`] in RocksDB: the key is the serialized key, so RocksDB's byte order is
/// the key-byte order every streamz store iterates in.
///
/// Writes go straight to the memtable without a write-ahead log (the changelog is the log),
/// so reads see them at once; [`flush`](StateStore::flush) writes the memtable to disk. Values
/// carry a one-byte tag so a null value (`None`) is an entry too.
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
}

impl<K: Data, V: Data> RocksDbKeyValueStore<K, V> {
    /// Opens the store `name` in `dir` (creating it if needed, keeping what it holds), with
    /// the memory shared by the application's stores.
    ///
    /// # Errors
    ///
    /// [`StreamsError::State`](crate::StreamsError::State) when RocksDB cannot open `dir`.
    pub fn open(name: impl Into<String>, key_serde: SerdeRef<K>, dir: &Path, memory: &RocksDbMemory) -> Result<Self> {
        let name = name.into();
        let db = memory.open(&name, dir)?;
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        Ok(RocksDbKeyValueStore {
            values: ValueCodec::new(&name, V::default_serde()),
            keys: KeyBuf::new(name, key_serde.clone()),
            key_serde,
            value_buf: RefCell::new(Vec::with_capacity(64)),
            db,
            write,
        })
    }

    fn decode(&self, key: &[u8], value: &[u8]) -> (K, V) {
        let key = self.key_serde.deserialize(Some(key));
        let key = key.unwrap_or_else(|e| panic!("state store `{}` cannot deserialize a key: {e}", self.keys.store()));
        (key, self.values.decode(value))
    }

    fn iter(&self, read: ReadOptions) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        let it = self.db.iterator_opt(IteratorMode::Start, read);
        Box::new(it.map(|entry| {
            let (k, v) = entry.unwrap_or_else(|e| fail(self.keys.store(), e));
            self.decode(&k, &v)
        }))
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

    /// Writes the memtable to disk.
    fn flush(&mut self) -> Result<()> {
        self.db.flush_opt(&FlushOptions::default()).map_err(|e| state_error(self.keys.store(), e))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<K: Data, V: Data> KeyValueStore<K, V> for RocksDbKeyValueStore<K, V> {
    fn get(&self, key: &K) -> Option<V> {
        let value = self.keys.with(key, |bytes| self.db.get_pinned(bytes));
        let value = value.unwrap_or_else(|e| fail(self.keys.store(), e))?;
        Some(self.values.decode(&value))
    }

    fn put(&mut self, key: &K, value: V) {
        let mut buf = self.value_buf.borrow_mut();
        self.values.encode(&value, &mut buf);
        let done = self.keys.with(key, |bytes| self.db.put_opt(bytes, &*buf, &self.write));
        done.unwrap_or_else(|e| fail(self.keys.store(), e));
    }

    fn delete(&mut self, key: &K) -> Option<V> {
        let old = self.get(key);
        if old.is_some() {
            let done = self.keys.with(key, |bytes| self.db.delete_opt(bytes, &self.write));
            done.unwrap_or_else(|e| fail(self.keys.store(), e));
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
        read.set_iterate_lower_bound(lower);
        read.set_iterate_upper_bound(upper);
        self.iter(read)
    }

    fn all(&self) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        self.iter(ReadOptions::default())
    }

    /// RocksDB's estimate of the number of keys: counts overwritten and deleted keys until
    /// they are compacted away.
    fn approximate_len(&self) -> usize {
        let n = self.db.property_int_value(rocksdb::properties::ESTIMATE_NUM_KEYS);
        n.unwrap_or_else(|e| fail(self.keys.store(), e)).unwrap_or(0) as usize
    }
}

impl<K, V> Drop for RocksDbKeyValueStore<K, V> {
    fn drop(&mut self) {
        if let Err(e) = self.db.flush() {
            tracing::warn!(store = self.keys.store(), error = %e, "cannot flush a key-value store when closing it");
        }
    }
}
