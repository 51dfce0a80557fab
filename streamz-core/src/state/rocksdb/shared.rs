//! What every RocksDB store of an application shares (one block cache, one write buffer
//! manager), the options built from them, and the byte layouts of keys and values.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rocksdb::{BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, Options, WriteBufferManager, DB};

use crate::error::StreamsError;
use crate::serdes::SerdeRef;
use crate::Result;

/// The memory of all RocksDB stores of an application, under one bound.
///
/// One LRU block cache of `bytes` holds data, index and filter blocks of every store, and one
/// write buffer manager limits the memtables of every store to `bytes / 2`, charging them to
/// the same cache; so the memory RocksDB uses for blocks and memtables together stays near
/// `bytes` however many tasks and stores run. Each store's own write buffer is
/// `bytes / 8` (between 256 KiB and 16 MiB): when the total reaches the manager's limit, the
/// largest memtables are flushed to disk.
///
/// Clones share the same cache and manager.
///
/// # Examples
///
/// ```
/// use streamz_core::state::RocksDbMemory;
///
/// let memory = RocksDbMemory::new(16 << 20);
/// assert_eq!(memory.bytes(), 16 << 20);
/// assert!(memory.shares_with(&memory.clone()));
/// assert!(!memory.shares_with(&RocksDbMemory::new(16 << 20)));
/// ```
#[derive(Clone)]
pub struct RocksDbMemory {
    inner: Arc<Shared>,
}

struct Shared {
    bytes: usize,
    cache: Cache,
    buffers: WriteBufferManager,
}

impl RocksDbMemory {
    /// The default bound: 64 MiB.
    pub const DEFAULT_BYTES: usize = crate::state::DEFAULT_STORE_MEMORY;

    /// A new cache and write buffer manager bounded by `bytes` (at least 1 MiB).
    pub fn new(bytes: usize) -> Self {
        let bytes = bytes.max(1 << 20);
        let cache = Cache::new_lru_cache(bytes);
        let buffers = WriteBufferManager::new_write_buffer_manager_with_cache(bytes / 2, false, cache.clone());
        RocksDbMemory { inner: Arc::new(Shared { bytes, cache, buffers }) }
    }

    /// The bound in bytes.
    pub fn bytes(&self) -> usize {
        self.inner.bytes
    }

    /// Bytes held by the shared block cache now (blocks, and memtable reservations).
    pub fn block_cache_usage(&self) -> usize {
        self.inner.cache.get_usage()
    }

    /// Bytes of memtables of all stores now.
    pub fn memtable_usage(&self) -> usize {
        self.inner.buffers.get_usage()
    }

    /// Whether `other` is the same cache and write buffer manager (a clone of this one).
    pub fn shares_with(&self, other: &RocksDbMemory) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The write buffer (memtable) size of each store: an eighth of the bound, between
    /// 256 KiB and 16 MiB. The write buffer manager still holds all memtables together to
    /// half the bound, flushing the largest first.
    pub(crate) fn write_buffer_bytes(&self) -> usize {
        (self.inner.bytes / 8).clamp(256 << 10, 16 << 20)
    }

    /// Options of a store's database and of each of its column families.
    pub(crate) fn options(&self) -> Options {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&self.inner.cache);
        // Index and filter blocks live in the cache too, so they count against the bound.
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_bloom_filter(10.0, false);
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_block_based_table_factory(&table);
        opts.set_write_buffer_manager(&self.inner.buffers);
        opts.set_write_buffer_size(self.write_buffer_bytes());
        opts.set_max_write_buffer_number(2);
        // Changelogged stores are written more than read (a restore writes every key once,
        // and reads mostly hit memtables and the block cache): twice RocksDB's default of L0
        // files before a compaction halves how often the base level is rewritten, at the
        // cost of up to 8 L0 files (each behind a bloom filter) to look into on a read.
        opts.set_level_zero_file_num_compaction_trigger(L0_COMPACTION_TRIGGER);
        // As Kafka Streams: no compression, so a store costs no CPU for it.
        opts.set_compression_type(DBCompressionType::None);
        opts.set_keep_log_file_num(2);
        // Memtables of all column families reach disk together, so a crash never leaves one
        // column family (e.g. the checkpoint) ahead of another.
        opts.set_atomic_flush(true);
        opts
    }

    /// Opens (creating if needed) the database at `dir` with all its column families.
    pub(crate) fn open(&self, store: &str, dir: &Path) -> Result<DB> {
        let opts = self.options();
        std::fs::create_dir_all(dir)
            .map_err(|e| state_error(store, format!("cannot create directory {}: {e}", dir.display())))?;
        let names = if dir.join("CURRENT").exists() {
            DB::list_cf(&opts, dir).map_err(|e| state_error(store, e))?
        } else {
            vec!["default".to_string()]
        };
        let cfs = names.into_iter().map(|n| ColumnFamilyDescriptor::new(n, self.options()));
        DB::open_cf_descriptors(&opts, dir, cfs)
            .map_err(|e| state_error(store, format!("cannot open RocksDB at {}: {e}", dir.display())))
    }
}

impl fmt::Debug for RocksDbMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksDbMemory").field("bytes", &self.inner.bytes).finish_non_exhaustive()
    }
}

impl Default for RocksDbMemory {
    fn default() -> Self {
        RocksDbMemory::new(Self::DEFAULT_BYTES)
    }
}

/// L0 files of a store before RocksDB compacts them into the level below (its default: 4).
pub(crate) const L0_COMPACTION_TRIGGER: i32 = 8;

/// How often a store that committed writes also writes its memtables to disk (RocksDB
/// does it sooner when they fill up). Without a write-ahead log, a crash loses what is only
/// in memtables, and a restore then reads that much more of the changelog.
pub(crate) const DURABLE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// When a store last wrote its memtables to disk, and whether it committed since.
#[derive(Debug)]
pub(crate) struct Durability {
    last_flush: std::time::Instant,
    dirty: bool,
}

impl Durability {
    pub(crate) fn new() -> Self {
        Durability { last_flush: std::time::Instant::now(), dirty: false }
    }

    /// The store committed writes.
    pub(crate) fn wrote(&mut self) {
        self.dirty = true;
    }

    /// Whether the memtables are due to be written now; if so, counts them as written.
    pub(crate) fn due(&mut self) -> bool {
        if !self.dirty || self.last_flush.elapsed() < DURABLE_INTERVAL {
            return false;
        }
        self.dirty = false;
        self.last_flush = std::time::Instant::now();
        true
    }
}

/// A state error of `store`.
pub(crate) fn state_error(store: &str, message: impl fmt::Display) -> StreamsError {
    StreamsError::State { store: store.to_string(), message: message.to_string() }
}

/// Fails loudly on a RocksDB error inside an infallible store operation.
pub(crate) fn fail(store: &str, e: rocksdb::Error) -> ! {
    panic!("state store `{store}` failed: {e}")
}

/// Appends `key` so that the result is prefix-free and sorts as `key` does: each 0x00 byte
/// becomes 0x00 0xFF, and 0x00 0x00 ends the key. A time suffix after it then sorts after
/// every key byte, giving the order (key bytes, time) that fetches promise.
pub(crate) fn escape_key(key: &[u8], out: &mut Vec<u8>) {
    for &b in key {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

/// Splits an escaped key from what follows it: `(key bytes, rest)`.
pub(crate) fn unescape_key(bytes: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut key = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0 {
            if bytes.get(i + 1) == Some(&0) {
                return (key, &bytes[i + 2..]);
            }
            i += 1;
            key.push(0);
        } else {
            key.push(bytes[i]);
        }
        i += 1;
    }
    panic!("a RocksDB store key has no key terminator (this is a bug in streamz)")
}

/// Appends `time` so that byte order is numeric order (big-endian, sign bit flipped).
pub(crate) fn put_time(time: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(&((time as u64) ^ (1 << 63)).to_be_bytes());
}

/// Reads a time written by [`put_time`] from the first 8 bytes of `bytes`.
pub(crate) fn get_time(bytes: &[u8]) -> i64 {
    let arr: [u8; 8] = bytes[..8].try_into().expect("a RocksDB store key is too short (this is a bug in streamz)");
    (u64::from_be_bytes(arr) ^ (1 << 63)) as i64
}

/// Values: a tag byte (0 null, 1 bytes follow) so that a null value (`None`) is an entry too.
pub(crate) struct ValueCodec<V> {
    store: String,
    serde: SerdeRef<V>,
}

impl<V: 'static> ValueCodec<V> {
    /// The tag before a value's bytes; `ABSENT` alone is a null value.
    pub(crate) const PRESENT: u8 = 1;
    pub(crate) const ABSENT: u8 = 0;

    pub(crate) fn new(store: &str, serde: SerdeRef<V>) -> Self {
        ValueCodec { store: store.to_string(), serde }
    }

    pub(crate) fn encode(&self, value: &V, out: &mut Vec<u8>) {
        out.clear();
        out.push(Self::PRESENT);
        match self.serde.serialize(value, out) {
            Ok(true) => {}
            Ok(false) => {
                out.clear();
                out.push(Self::ABSENT);
            }
            Err(e) => panic!("state store `{}` cannot serialize a value: {e}", self.store),
        }
    }

    pub(crate) fn decode(&self, bytes: &[u8]) -> V {
        let value = match bytes.split_first() {
            Some((&Self::PRESENT, rest)) => self.serde.deserialize(Some(rest)),
            _ => self.serde.deserialize(None),
        };
        value.unwrap_or_else(|e| panic!("state store `{}` cannot deserialize a value: {e}", self.store))
    }
}
