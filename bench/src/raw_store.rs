//! W4's RAW + state: the store that RAW's consumption of the changelog writes into. One RocksDB
//! database per partition, as streamz keeps one store per task, with the settings of a
//! streamz store under its default memory bound, written out here so the baseline does not
//! depend on streamz: one 64 MiB LRU block cache and a write buffer manager of half of it
//! shared by all databases, 8 MiB write buffers (two at most), a compaction after 8 level-0
//! files, no compression, 10-bit bloom filters, no write-ahead log. Records are written in
//! batches of 100,000 (or 8 MiB) per partition, as streamz commits a restoring store.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::Context;
use rocksdb::{BlockBasedOptions, Cache, DBCompressionType, Options, WriteBatch, WriteBufferManager, WriteOptions, DB};

/// Records, and bytes of keys and values, written to a database at a time.
const BATCH_RECORDS: usize = 100_000;
const BATCH_BYTES: usize = 8 << 20;
/// The block cache; memtables of all databases together are held to half of it.
const MEMORY: usize = 64 << 20;

/// The databases of the partitions of one changelog, in a temporary directory removed when
/// dropped.
pub(crate) struct RawStores {
    dir: PathBuf,
    options: Options,
    write: WriteOptions,
    /// Per partition: its database, its pending batch and the batch's bytes.
    partitions: Vec<Option<(DB, WriteBatch, usize)>>,
    _cache: Cache,
}

impl RawStores {
    /// Empty databases, opened as the first record of each partition arrives.
    pub(crate) fn new() -> anyhow::Result<Self> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("raw-store-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let dir = std::env::temp_dir().join("streamz-bench").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("raw store: cannot create {}", dir.display()))?;
        let cache = Cache::new_lru_cache(MEMORY);
        let buffers = WriteBufferManager::new_write_buffer_manager_with_cache(MEMORY / 2, false, cache.clone());
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&cache);
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        table.set_bloom_filter(10.0, false);
        let mut options = Options::default();
        options.create_if_missing(true);
        options.set_block_based_table_factory(&table);
        options.set_write_buffer_manager(&buffers);
        options.set_write_buffer_size(MEMORY / 8);
        options.set_max_write_buffer_number(2);
        options.set_level_zero_file_num_compaction_trigger(8);
        options.set_compression_type(DBCompressionType::None);
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        Ok(RawStores { dir, options, write, partitions: Vec::new(), _cache: cache })
    }

    /// Writes `value` under `key` (deletes `key` when `None`) in `partition`'s database.
    pub(crate) fn put(&mut self, partition: i32, key: &[u8], value: Option<&[u8]>) -> anyhow::Result<()> {
        let index = usize::try_from(partition).context("raw store: a negative partition")?;
        if self.partitions.len() <= index {
            self.partitions.resize_with(index + 1, || None);
        }
        let slot = &mut self.partitions[index];
        if slot.is_none() {
            let path = self.dir.join(index.to_string());
            let db =
                DB::open(&self.options, &path).with_context(|| format!("raw store: cannot open {}", path.display()))?;
            *slot = Some((db, WriteBatch::default(), 0));
        }
        let (db, batch, bytes) = slot.as_mut().expect("the partition's database is open");
        match value {
            Some(value) => batch.put(key, value),
            None => batch.delete(key),
        }
        *bytes += key.len() + value.map_or(0, <[u8]>::len);
        if batch.len() >= BATCH_RECORDS || *bytes >= BATCH_BYTES {
            db.write_opt(std::mem::take(batch), &self.write).context("raw store: cannot write")?;
            *bytes = 0;
        }
        Ok(())
    }

    /// Writes what every partition's batch holds.
    pub(crate) fn write_all(&mut self) -> anyhow::Result<()> {
        for (db, batch, bytes) in self.partitions.iter_mut().flatten() {
            db.write_opt(std::mem::take(batch), &self.write).context("raw store: cannot write")?;
            *bytes = 0;
        }
        Ok(())
    }

    /// Keys in `partition`'s database (RocksDB's estimate).
    #[cfg(test)]
    fn estimated_keys(&self, partition: usize) -> u64 {
        let db = &self.partitions[partition].as_ref().expect("an open partition").0;
        db.property_int_value("rocksdb.estimate-num-keys").ok().flatten().unwrap_or(0)
    }
}

impl Drop for RawStores {
    fn drop(&mut self) {
        self.partitions.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_reach_the_database_of_their_partition() {
        let mut stores = RawStores::new().unwrap();
        for i in 0..1000u32 {
            stores.put(1, format!("k{i}").as_bytes(), Some(&i.to_be_bytes())).unwrap();
        }
        stores.put(1, b"k7", None).unwrap();
        stores.write_all().unwrap();
        let (db, ..) = stores.partitions[1].as_ref().unwrap();
        assert_eq!(db.get(b"k999").unwrap(), Some(999u32.to_be_bytes().to_vec()));
        assert_eq!(db.get(b"k7").unwrap(), None);
        assert!(stores.partitions[0].is_none());
        assert!(stores.estimated_keys(1) >= 999);
    }

    #[test]
    fn a_full_batch_is_written_before_the_end() {
        let mut stores = RawStores::new().unwrap();
        for i in 0..BATCH_RECORDS as u32 {
            stores.put(0, &i.to_be_bytes(), Some(b"v")).unwrap();
        }
        let (db, batch, _) = stores.partitions[0].as_ref().unwrap();
        assert!(batch.is_empty());
        assert_eq!(db.get(0u32.to_be_bytes()).unwrap(), Some(b"v".to_vec()));
    }

    #[test]
    fn the_directory_goes_with_the_stores() {
        let mut stores = RawStores::new().unwrap();
        stores.put(0, b"k", Some(b"v")).unwrap();
        let dir = stores.dir.clone();
        assert!(dir.exists());
        drop(stores);
        assert!(!dir.exists());
    }
}
