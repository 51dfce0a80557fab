//! Write batches built in the store's own memory, in RocksDB's serialized layout, and handed
//! to RocksDB whole when a store commits: one copy instead of one foreign call and several
//! string appends per entry.

use rocksdb::WriteBatch;

/// Entries of a store's default column family, laid out as RocksDB's `WriteBatch::Data()`
/// (described in RocksDB's `db/write_batch.cc`): a 12-byte header (a sequence number, fixed
/// 64 bits, which RocksDB assigns when writing, and the entry count, fixed 32 bits, both
/// little-endian), then per entry its type and the length-prefixed (varint32) key and value.
#[derive(Debug)]
pub(crate) struct BatchBuf {
    rep: Vec<u8>,
    count: u32,
}

const HEADER: usize = 12;
/// RocksDB's `kTypeDeletion` and `kTypeValue`.
const DELETION: u8 = 0x0;
const VALUE: u8 = 0x1;
/// Capacity a buffer keeps after [`BatchBuf::take`]: a restore batch grows to megabytes,
/// which an idle store should not hold on to.
const KEPT_CAPACITY: usize = 1 << 20;

impl Default for BatchBuf {
    fn default() -> Self {
        BatchBuf { rep: vec![0; HEADER], count: 0 }
    }
}

impl BatchBuf {
    /// Whether no entry was added since the last [`take`](Self::take).
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Writes `value` under `key`.
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) {
        self.entry(VALUE, key);
        self.varint(value.len());
        self.rep.extend_from_slice(value);
    }

    /// Writes the byte `tag` followed by `value` under `key`, with no copy of the value of
    /// its own.
    pub(crate) fn put_tagged(&mut self, key: &[u8], tag: u8, value: &[u8]) {
        self.entry(VALUE, key);
        self.varint(value.len() + 1);
        self.rep.push(tag);
        self.rep.extend_from_slice(value);
    }

    /// Deletes `key`.
    pub(crate) fn delete(&mut self, key: &[u8]) {
        self.entry(DELETION, key);
    }

    /// A RocksDB write batch of the entries, to which more may be added; this buffer is
    /// empty again.
    pub(crate) fn take(&mut self) -> WriteBatch {
        self.rep[8..HEADER].copy_from_slice(&self.count.to_le_bytes());
        let batch = WriteBatch::from_data(&self.rep);
        if self.rep.capacity() > KEPT_CAPACITY {
            *self = BatchBuf::default();
        } else {
            self.rep.truncate(HEADER);
            self.rep[8..HEADER].fill(0);
            self.count = 0;
        }
        batch
    }

    fn entry(&mut self, kind: u8, key: &[u8]) {
        self.count = self.count.checked_add(1).expect("a write batch holds fewer than 2^32 entries");
        self.rep.push(kind);
        self.varint(key.len());
        self.rep.extend_from_slice(key);
    }

    /// `n` as a varint32: seven bits a byte, least significant first, the high bit set on
    /// all bytes but the last.
    fn varint(&mut self, n: usize) {
        let mut n = u32::try_from(n).expect("keys and values of a write batch are shorter than 4 GiB");
        while n >= 0x80 {
            self.rep.push(n as u8 | 0x80);
            n >>= 7;
        }
        self.rep.push(n as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Entry = (Vec<u8>, Option<Vec<u8>>);

    fn put(key: &[u8], value: &[u8]) -> Entry {
        (key.to_vec(), Some(value.to_vec()))
    }

    fn delete(key: &[u8]) -> Entry {
        (key.to_vec(), None)
    }

    /// What RocksDB's own calls build for `entries`.
    fn rocksdb_built(entries: &[Entry]) -> Vec<u8> {
        let mut batch = WriteBatch::default();
        for (key, value) in entries {
            match value {
                Some(value) => batch.put(key, value),
                None => batch.delete(key),
            }
        }
        batch.data().to_vec()
    }

    #[test]
    fn the_layout_is_rocksdbs_own_for_short_and_long_keys_and_values() {
        let (long, longer) = (vec![7u8; 300], vec![9u8; 70_000]);
        let entries = [put(b"a", b"1"), put(b"", b""), delete(b"gone"), put(&long, &longer), delete(&longer)];
        let mut buf = BatchBuf::default();
        for (key, value) in &entries {
            match value {
                Some(value) => buf.put(key, value),
                None => buf.delete(key),
            }
        }
        let batch = buf.take();
        assert_eq!(batch.len(), 5);
        assert_eq!(batch.data(), rocksdb_built(&entries));
    }

    #[test]
    fn a_tagged_value_is_the_tag_then_the_value() {
        let mut buf = BatchBuf::default();
        buf.put_tagged(b"k", 1, b"value");
        assert_eq!(buf.take().data(), rocksdb_built(&[put(b"k", b"\x01value")]));
    }

    #[test]
    fn take_leaves_an_empty_buffer_that_builds_the_next_batch_alone() {
        let mut buf = BatchBuf::default();
        assert!(buf.is_empty());
        buf.put(b"a", b"1");
        assert!(!buf.is_empty());
        let _ = buf.take();
        assert!(buf.is_empty());
        assert_eq!(buf.take().data(), rocksdb_built(&[]));
        buf.delete(b"b");
        assert_eq!(buf.take().data(), rocksdb_built(&[delete(b"b")]));
    }

    #[test]
    fn a_large_batch_is_not_kept_in_memory_after_it_is_taken() {
        let mut buf = BatchBuf::default();
        let value = vec![0u8; 1000];
        for i in 0u32..2000 {
            buf.put(&i.to_be_bytes(), &value);
        }
        assert_eq!(buf.take().len(), 2000);
        assert!(buf.rep.capacity() <= KEPT_CAPACITY);
        buf.put(b"a", b"1");
        assert_eq!(buf.take().data(), rocksdb_built(&[put(b"a", b"1")]));
    }

    #[test]
    fn a_batch_taken_writes_its_entries_and_takes_more_after_it() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let db = rocksdb::DB::open_default(dir.path())?;
        db.put(b"gone", b"x")?;
        let mut buf = BatchBuf::default();
        buf.put_tagged(b"a", 1, b"1");
        buf.delete(b"gone");
        let mut batch = buf.take();
        batch.put(b"b", b"2");
        db.write(batch)?;
        assert_eq!(db.get(b"a")?.as_deref(), Some(&b"\x011"[..]));
        assert_eq!(db.get(b"b")?.as_deref(), Some(&b"2"[..]));
        assert_eq!(db.get(b"gone")?, None);
        Ok(())
    }
}
