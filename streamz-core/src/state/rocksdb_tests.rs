//! What only RocksDB stores do: share memory, persist, drop expired segments from disk.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::test_serdes::{s, utf8};
use super::{
    KeyValueStore, RocksDbKeyValueStore, RocksDbMemory, RocksDbSessionStore, RocksDbWindowStore, SessionStore,
    StateStore, WindowStore,
};
use crate::time::{Timestamp, Window};

fn sst_files(dir: &Path) -> BTreeSet<PathBuf> {
    let files = std::fs::read_dir(dir).expect("a store directory").map(|f| f.expect("a directory entry").path());
    files.filter(|f| f.extension().is_some_and(|e| e == "sst")).collect()
}

#[test]
fn stores_share_one_cache_and_write_buffer_manager() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let memory = RocksDbMemory::new(16 << 20);
    let mut a = RocksDbKeyValueStore::<String, String>::open("a", utf8(), &dir.path().join("a"), &memory)?;
    let one = memory.memtable_usage();
    let mut b = RocksDbKeyValueStore::<String, String>::open("b", utf8(), &dir.path().join("b"), &memory)?;
    let two = memory.memtable_usage();
    assert!(one > 0 && two > one, "each store's empty memtable is charged to the shared manager: {one}, {two}");
    for i in 0..100 {
        a.put(&format!("k{i}"), "x".repeat(1_000));
    }
    assert_eq!(memory.memtable_usage(), two, "uncommitted writes are not in RocksDB");
    a.commit(Some(100))?;
    let three = memory.memtable_usage();
    assert!(three >= two + 100_000, "writes to the first store: {two} then {three}");
    for i in 0..100 {
        b.put(&format!("k{i}"), "y".repeat(1_000));
    }
    b.commit(Some(100))?;
    let four = memory.memtable_usage();
    assert!(four >= three + 100_000, "writes to the second store: {three} then {four}");
    // Memtables are charged to the block cache; after a flush, reads fill it with blocks.
    assert!(memory.block_cache_usage() > 0);
    a.flush_to_disk()?;
    b.flush_to_disk()?;
    assert!(memory.memtable_usage() < four, "flushed memtables are released");
    let cached = memory.block_cache_usage();
    assert_eq!(a.get(&s("k7")), Some("x".repeat(1_000)));
    assert_eq!(b.get(&s("k7")), Some("y".repeat(1_000)));
    assert!(memory.block_cache_usage() > cached, "blocks read from both stores go to the shared cache");
    // A store with its own memory charges nothing to the shared one.
    let other = RocksDbMemory::new(16 << 20);
    let before = memory.memtable_usage();
    let mut c = RocksDbKeyValueStore::<String, String>::open("c", utf8(), &dir.path().join("c"), &other)?;
    c.put(&s("k"), "z".repeat(10_000));
    c.commit(None)?;
    assert_eq!(memory.memtable_usage(), before);
    assert!(other.memtable_usage() >= 10_000);
    Ok(())
}

/// The value of `name` in each column family section of the newest OPTIONS file RocksDB wrote
/// in `dir`.
fn rocksdb_option(dir: &Path, name: &str) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a store directory")
        .map(|f| f.expect("a directory entry").path())
        .filter(|f| f.file_name().is_some_and(|n| n.to_string_lossy().starts_with("OPTIONS-")))
        .collect();
    files.sort();
    let text = std::fs::read_to_string(files.last().expect("RocksDB writes an OPTIONS file")).expect("readable");
    let prefix = format!("{name}=");
    text.lines().filter_map(|l| l.trim().strip_prefix(&prefix).map(str::to_string)).collect()
}

#[test]
fn a_store_has_an_eighth_of_the_memory_as_write_buffer_and_compacts_after_8_l0_files() -> anyhow::Result<()> {
    assert_eq!(RocksDbMemory::new(64 << 20).write_buffer_bytes(), 8 << 20);
    assert_eq!(RocksDbMemory::new(1 << 20).write_buffer_bytes(), 256 << 10, "at least 256 KiB");
    assert_eq!(RocksDbMemory::new(1 << 30).write_buffer_bytes(), 16 << 20, "at most 16 MiB");
    let dir = tempfile::tempdir()?;
    let memory = RocksDbMemory::new(32 << 20);
    let _kv = RocksDbKeyValueStore::<String, String>::open("kv", utf8(), dir.path(), &memory)?;
    // Both column families: the data and the checkpoint.
    assert_eq!(rocksdb_option(dir.path(), "write_buffer_size"), ["4194304", "4194304"]);
    assert_eq!(rocksdb_option(dir.path(), "level0_file_num_compaction_trigger"), ["8", "8"]);
    Ok(())
}

#[test]
fn a_reopened_key_value_store_has_its_data() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let memory = RocksDbMemory::new(8 << 20);
    {
        let mut kv = RocksDbKeyValueStore::<String, Option<i64>>::open("kv", utf8(), dir.path(), &memory)?;
        kv.put(&s("a"), Some(1));
        kv.put(&s("b"), None);
        kv.put(&s("c"), Some(3));
        kv.delete(&s("c"));
        assert_eq!(kv.checkpoint(), None);
        kv.commit(Some(7))?;
        // Not committed: lost when the store closes.
        kv.put(&s("d"), Some(4));
        kv.delete(&s("a"));
        assert_eq!(kv.all().collect::<Vec<_>>(), [(s("b"), None), (s("d"), Some(4))]);
        // Dropped without a flush to disk: closing writes the memtable out.
    }
    let mut kv = RocksDbKeyValueStore::<String, Option<i64>>::open("kv", utf8(), dir.path(), &memory)?;
    assert_eq!(kv.all().collect::<Vec<_>>(), [(s("a"), Some(1)), (s("b"), None)]);
    assert_eq!(kv.checkpoint(), Some(7), "the checkpoint is committed with the data");
    kv.clear()?;
    assert_eq!((kv.all().count(), kv.checkpoint()), (0, None));
    Ok(())
}

#[test]
fn a_reopened_window_store_keeps_entries_stream_time_and_sequence() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let memory = RocksDbMemory::new(8 << 20);
    let open = || {
        let retention = Duration::from_secs(120);
        RocksDbWindowStore::<String, u64>::open(
            "w",
            utf8(),
            retention,
            Duration::from_secs(10),
            true,
            dir.path(),
            &memory,
        )
    };
    {
        let mut w = open()?;
        w.put(&s("a"), Timestamp(10_000), 1);
        w.put(&s("a"), Timestamp(10_000), 2);
        w.put(&s("a"), Timestamp(200_000), 3);
        w.commit(Some(3))?;
        w.put(&s("a"), Timestamp(250_000), 9);
    }
    let mut w = open()?;
    assert_eq!(w.checkpoint(), Some(3));
    assert_eq!(w.observed_stream_time(), Timestamp(200_000));
    // 10_000 expired before the close and stays expired.
    assert_eq!(w.fetch_range(&s("a"), Timestamp(0), Timestamp(300_000)), [(Timestamp(200_000), 3)]);
    // New duplicates come after the restored ones.
    w.put(&s("a"), Timestamp(200_000), 4);
    assert_eq!(
        w.fetch_range(&s("a"), Timestamp(200_000), Timestamp(200_000)),
        [(Timestamp(200_000), 3), (Timestamp(200_000), 4)]
    );
    Ok(())
}

#[test]
fn a_reopened_session_store_keeps_sessions_and_stream_time() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let memory = RocksDbMemory::new(8 << 20);
    let open = || RocksDbSessionStore::<String, u64>::open("s", utf8(), Duration::from_secs(60), dir.path(), &memory);
    {
        let mut ss = open()?;
        ss.put(&s("a"), Window::new(0, 5_000), 1);
        ss.put(&s("a"), Window::new(70_000, 80_000), 2);
        ss.commit(Some(2))?;
        ss.put(&s("a"), Window::new(90_000, 95_000), 9);
    }
    let mut ss = open()?;
    assert_eq!(ss.checkpoint(), Some(2));
    assert_eq!(ss.observed_stream_time(), Timestamp(80_000));
    assert_eq!(ss.fetch(&s("a")), [(Window::new(70_000, 80_000), 2)]);
    ss.put(&s("a"), Window::new(0, 10_000), 3); // expired: 10_000 < 80_000 - 60_000
    assert_eq!(ss.fetch(&s("a")).len(), 1);
    Ok(())
}

#[test]
fn expired_window_segments_are_deleted_from_disk() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let memory = RocksDbMemory::new(8 << 20);
    // Retention 120 s: segments of 60 s.
    let retention = Duration::from_secs(120);
    let mut w = RocksDbWindowStore::<String, u64>::open(
        "w",
        utf8(),
        retention,
        Duration::from_secs(10),
        false,
        dir.path(),
        &memory,
    )?;
    for t in (0..180_000).step_by(1_000) {
        w.put(&s("a"), Timestamp(t), t as u64);
    }
    assert_eq!(w.segment_count(), 3);
    assert_eq!(rocksdb::DB::list_cf(&memory.options(), dir.path())?.len(), 1, "segments are created at commit");
    w.commit(None)?;
    w.flush_to_disk()?;
    assert_eq!(w.segment_count(), 3);
    let families = rocksdb::DB::list_cf(&memory.options(), dir.path())?;
    assert_eq!(families.len(), 4, "default and three segments: {families:?}");
    let before = sst_files(dir.path());
    assert!(before.len() >= 3, "one file per segment at least: {before:?}");

    // Stream time 240_000: segments 0 and 1 expire.
    w.put(&s("a"), Timestamp(240_000), 0);
    assert_eq!(w.segment_count(), 2);
    assert_eq!(rocksdb::DB::list_cf(&memory.options(), dir.path())?.len(), 4, "dropped from disk at commit");
    w.commit(None)?;
    let families = rocksdb::DB::list_cf(&memory.options(), dir.path())?;
    assert_eq!(families.len(), 3, "the expired segments' column families are dropped: {families:?}");
    let after = sst_files(dir.path());
    let gone = before.difference(&after).count();
    assert!(gone >= 2, "the two expired segments' files are deleted: {before:?} then {after:?}");
    assert!(w.fetch_range(&s("a"), Timestamp(0), Timestamp(120_000)).is_empty());
    assert_eq!(w.fetch_all(Timestamp(0), Timestamp(i64::MAX)).len(), 60);
    Ok(())
}

/// A logged RocksDB key-value store `name` in `dir`, logging to `buffer`.
fn logged_kv(
    name: &str,
    dir: &Path,
    memory: &RocksDbMemory,
    buffer: &super::SharedChangelog,
) -> anyhow::Result<crate::task::StoreEntry> {
    use crate::serdes::Data;
    let store = RocksDbKeyValueStore::<String, i64>::open(name, utf8(), &dir.join(name), memory)?;
    let logger = super::ChangeLogger::new(format!("{name}-changelog"), buffer.clone());
    Ok(super::logged_key_value_store(Box::new(store), logger, utf8(), i64::default_serde()))
}

/// The typed handle of a store of [`logged_kv`].
fn typed_kv(entry: &crate::task::StoreEntry) -> crate::task::StoreRef<dyn KeyValueStore<String, i64>> {
    entry.typed_ref()
}

#[test]
fn a_key_value_store_restores_changelog_bytes_to_what_was_logged() -> anyhow::Result<()> {
    use crate::task::lock;
    let dir = tempfile::tempdir()?;
    let memory = RocksDbMemory::new(16 << 20);
    let log = super::SharedChangelog::default();
    let original = logged_kv("original", dir.path(), &memory, &log)?;
    {
        let typed = typed_kv(&original);
        let mut store = lock(&typed);
        for i in 0..200i64 {
            store.put(&format!("k{}", i % 70), i);
            if i % 9 == 0 {
                store.delete(&format!("k{}", i % 13));
            }
        }
        store.commit(Some(200))?;
    }
    let records = super::changelog::owned(&log);
    assert!(records.iter().any(|r| r.2.is_none()), "the changelog holds tombstones");

    let quiet = super::SharedChangelog::default();
    let fresh = logged_kv("fresh", dir.path(), &memory, &quiet)?;
    for (_, key, value) in &records {
        fresh.restore(key, value.as_deref())?;
    }
    assert!(super::changelog::owned(&quiet).is_empty(), "restoring logs nothing");
    fresh.control.commit(Some(records.len() as i64))?;
    let want: Vec<(String, i64)> = lock(&typed_kv(&original)).all().collect();
    assert_eq!(lock(&typed_kv(&fresh)).all().collect::<Vec<_>>(), want);
    drop(fresh);
    let reopened = logged_kv("fresh", dir.path(), &memory, &quiet)?;
    assert_eq!(lock(&typed_kv(&reopened)).all().collect::<Vec<_>>(), want, "committed to disk");
    assert_eq!(reopened.control.checkpoint(), Some(records.len() as i64));
    Ok(())
}

#[test]
fn a_key_value_store_with_pending_writes_restores_through_the_typed_path() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let memory = RocksDbMemory::new(8 << 20);
    let mut kv = RocksDbKeyValueStore::<String, i64>::open("kv", utf8(), dir.path(), &memory)?;
    assert!(kv.restore_bytes(b"a", Some(&5i64.to_be_bytes()))?, "an idle store takes the bytes");
    kv.commit(None)?;
    assert_eq!(kv.get(&s("a")), Some(5));
    kv.put(&s("b"), 1);
    assert!(!kv.restore_bytes(b"b", None)?, "pending writes: the typed path keeps their order");
    kv.commit(None)?;
    assert!(kv.restore_bytes(b"c", Some(&7i64.to_be_bytes()))?);
    kv.clear()?;
    kv.commit(None)?;
    assert_eq!(kv.all().collect::<Vec<_>>(), [], "clearing drops restored bytes not yet committed");
    Ok(())
}
