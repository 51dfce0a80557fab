//! Changelog records of the logged stores (through the test driver), and restoring stores
//! from them.

use std::time::Duration;

use super::changelog::{owned, ChangeLogger, SharedChangelog};
use super::{logged_window_store, InMemoryWindowStore, KeyValueStore, SessionStore, WindowStore};
use crate::prelude::*;
use crate::record::{RawRecord, Timestamped};
use crate::task::{default_partition, lock, StoreEntry};
use crate::topology::Topology;

/// In-memory stores: the directory is never created.
fn memory_env() -> super::StoreEnv {
    super::StoreEnv::new(std::env::temp_dir().join("streamz-unused"))
}

fn ts_value(count: i64, ts: i64) -> Vec<u8> {
    [ts.to_be_bytes(), count.to_be_bytes()].concat()
}

/// A fresh, empty store `name` of `topology` for `partition`, with every record of the
/// driver's changelog partition applied to it.
fn restored(topology: &Topology, name: &str, partition: i32, changelog: &[RawRecord]) -> anyhow::Result<StoreEntry> {
    let logger = ChangeLogger::new("unused", SharedChangelog::default());
    let entry = topology.store(name)?.factory.create(name, &memory_env(), Some(logger), None)?;
    for r in changelog.iter().filter(|r| r.partition == partition) {
        entry.restore(r.key.as_deref().unwrap_or_default(), r.value.as_deref())?;
    }
    Ok(entry)
}

fn counting() -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    let counts = builder.stream::<String, String>("in").group_by_key().count_with(Materialized::named("counts"));
    counts.to_stream().to("out");
    Ok(builder.build()?)
}

#[test]
fn a_count_logs_timestamped_values_to_the_partition_of_its_task() -> anyhow::Result<()> {
    let driver = TopologyTestDriver::with_config(counting()?, DriverConfig::default().partitions("in", 4))?;
    let input = driver.input::<String, String>("in");
    for (i, key) in ["a", "b", "a", "c", "a"].into_iter().enumerate() {
        input.pipe(key.into(), "x".into(), 100 + i as i64)?;
    }
    let log = driver.raw_records("streamz-test-counts-changelog");
    let got: Vec<(Vec<u8>, i32, Option<Vec<u8>>, i64)> =
        log.iter().map(|r| (r.key.clone().unwrap(), r.partition, r.value.clone(), r.timestamp.0)).collect();
    let p = |k: &str| default_partition(k.as_bytes(), 4);
    let want = vec![
        (b"a".to_vec(), p("a"), Some(ts_value(1, 100)), 100),
        (b"b".to_vec(), p("b"), Some(ts_value(1, 101)), 101),
        (b"a".to_vec(), p("a"), Some(ts_value(2, 102)), 102),
        (b"c".to_vec(), p("c"), Some(ts_value(1, 103)), 103),
        (b"a".to_vec(), p("a"), Some(ts_value(3, 104)), 104),
    ];
    assert_eq!(got, want);

    let topology = counting()?;
    let mut all = Vec::new();
    for partition in 0..4 {
        let entry = restored(&topology, "counts", partition, &log)?;
        let store = entry.typed_ref::<dyn KeyValueStore<String, Timestamped<i64>>>();
        all.extend(lock(&store).all().map(|(k, v)| (k, v.value)));
    }
    all.sort();
    let mut original = driver.key_value_store::<String, i64>("counts")?;
    original.sort();
    assert_eq!(all, original);
    assert_eq!(all, vec![("a".to_string(), 3), ("b".to_string(), 1), ("c".to_string(), 1)]);
    Ok(())
}

#[test]
fn a_table_delete_logs_a_tombstone_and_restores_as_a_delete() -> anyhow::Result<()> {
    let topology = || -> anyhow::Result<Topology> {
        let builder = StreamsBuilder::new();
        builder.table_with::<String, i64>("t", Consumed::default(), Materialized::named("t-store"));
        Ok(builder.build()?)
    };
    let driver = TopologyTestDriver::new(topology()?)?;
    let input = driver.input::<String, Option<i64>>("t");
    input.pipe("k".into(), Some(5), 1)?;
    input.pipe("j".into(), Some(6), 2)?;
    input.pipe("k".into(), None, 3)?;
    let log = driver.raw_records("streamz-test-t-store-changelog");
    let values: Vec<Option<Vec<u8>>> = log.iter().map(|r| r.value.clone()).collect();
    assert_eq!(values, vec![Some(ts_value(5, 1)), Some(ts_value(6, 2)), None]);
    let entry = restored(&topology()?, "t-store", 0, &log)?;
    let store = entry.typed_ref::<dyn KeyValueStore<String, Timestamped<i64>>>();
    let restored: Vec<(String, i64)> = lock(&store).all().map(|(k, v)| (k, v.value)).collect();
    assert_eq!(restored, vec![("j".to_string(), 6)]);
    Ok(())
}

#[test]
fn a_windowed_count_logs_key_and_window_start() -> anyhow::Result<()> {
    let topology = || -> anyhow::Result<Topology> {
        let builder = StreamsBuilder::new();
        let windows = TimeWindows::tumbling(Duration::from_millis(10)).grace(Duration::from_millis(100));
        let grouped = builder.stream::<String, String>("in").group_by_key().windowed_by(windows);
        grouped.count_with(Materialized::named("wc")).to_stream().to("out");
        Ok(builder.build()?)
    };
    let driver = TopologyTestDriver::new(topology()?)?;
    let input = driver.input::<String, String>("in");
    input.pipe("k".into(), "x".into(), 3)?;
    input.pipe("k".into(), "x".into(), 25)?;
    input.pipe("k".into(), "x".into(), 7)?;
    let log = driver.raw_records("streamz-test-wc-changelog");
    let key = |start: i64| [b"k".to_vec(), start.to_be_bytes().to_vec()].concat();
    let got: Vec<(Option<Vec<u8>>, Option<Vec<u8>>)> = log.iter().map(|r| (r.key.clone(), r.value.clone())).collect();
    let want = vec![
        (Some(key(0)), Some(ts_value(1, 3))),
        (Some(key(20)), Some(ts_value(1, 25))),
        (Some(key(0)), Some(ts_value(2, 7))),
    ];
    assert_eq!(got, want);
    let entry = restored(&topology()?, "wc", 0, &log)?;
    let store = entry.typed_ref::<dyn WindowStore<String, Timestamped<i64>>>();
    let all = lock(&store).fetch_all(Timestamp::MIN, Timestamp::MAX);
    let all: Vec<(String, Timestamp, i64)> = all.into_iter().map(|(k, s, v)| (k, s, v.value)).collect();
    assert_eq!(all, driver.window_store::<String, i64>("wc", Timestamp::MIN, Timestamp::MAX)?);
    assert_eq!(all.len(), 2);
    Ok(())
}

#[test]
fn a_session_merge_logs_tombstones_for_the_merged_sessions() -> anyhow::Result<()> {
    let topology = || -> anyhow::Result<Topology> {
        let builder = StreamsBuilder::new();
        let sessions = SessionWindows::with_inactivity_gap(Duration::from_millis(10)).grace(Duration::from_millis(100));
        let grouped = builder.stream::<String, String>("in").group_by_key().windowed_by(sessions);
        grouped.count_with(Materialized::named("sc")).to_stream().to("out");
        Ok(builder.build()?)
    };
    let driver = TopologyTestDriver::new(topology()?)?;
    let input = driver.input::<String, String>("in");
    input.pipe("a".into(), "x".into(), 0)?;
    input.pipe("a".into(), "x".into(), 20)?;
    input.pipe("a".into(), "x".into(), 10)?; // merges [0, 0] and [20, 20] into [0, 20]
    let log = driver.raw_records("streamz-test-sc-changelog");
    let key = |start: i64, end: i64| [b"a".to_vec(), end.to_be_bytes().to_vec(), start.to_be_bytes().to_vec()].concat();
    let got: Vec<(Option<Vec<u8>>, Option<Vec<u8>>)> = log.iter().map(|r| (r.key.clone(), r.value.clone())).collect();
    let want = vec![
        (Some(key(0, 0)), Some(ts_value(1, 0))),
        (Some(key(20, 20)), Some(ts_value(1, 20))),
        (Some(key(0, 0)), None),
        (Some(key(20, 20)), None),
        (Some(key(0, 20)), Some(ts_value(3, 20))),
    ];
    assert_eq!(got, want);
    let entry = restored(&topology()?, "sc", 0, &log)?;
    let store = entry.typed_ref::<dyn SessionStore<String, Timestamped<i64>>>();
    let sessions: Vec<(Window, i64)> =
        lock(&store).fetch(&"a".to_string()).into_iter().map(|(w, v)| (w, v.value)).collect();
    assert_eq!(sessions, driver.session_store::<String, i64>("sc", &"a".to_string())?);
    assert_eq!(sessions, vec![(Window { start: Timestamp(0), end: Timestamp(20) }, 3)]);
    Ok(())
}

#[test]
fn a_window_store_with_duplicates_logs_sequence_numbers_and_restores_every_entry() -> anyhow::Result<()> {
    let make = |buffer: SharedChangelog| {
        let inner: Box<dyn WindowStore<String, i64>> = Box::new(InMemoryWindowStore::new(
            "dups",
            String::default_serde(),
            Duration::from_secs(60),
            Duration::from_secs(1),
            true,
        ));
        logged_window_store(
            inner,
            ChangeLogger::new("app-dups-changelog", buffer),
            String::default_serde(),
            i64::default_serde(),
            true,
        )
    };
    let buffer = SharedChangelog::default();
    let original = make(buffer.clone());
    {
        let store = original.typed_ref::<dyn WindowStore<String, i64>>();
        let mut store = lock(&store);
        store.put(&"k".into(), Timestamp(5), 1);
        store.put(&"k".into(), Timestamp(5), 2);
        store.put(&"j".into(), Timestamp(7), 3);
        store.remove(&"j".into(), Timestamp(7));
        store.put(&"j".into(), Timestamp(9), 4);
    }
    let records = owned(&buffer);
    let keys: Vec<Vec<u8>> = records.iter().map(|r| r.1.clone()).collect();
    let key = |k: &str, start: i64, seq: u32| [k.as_bytes(), &start.to_be_bytes(), &seq.to_be_bytes()].concat();
    assert_eq!(keys, vec![key("k", 5, 1), key("k", 5, 2), key("j", 7, 3), key("j", 7, 0), key("j", 9, 4)]);
    assert_eq!(records[3].2, None);
    assert!(records.iter().all(|r| r.0 == "app-dups-changelog"));

    let fresh_buffer = SharedChangelog::default();
    let fresh = make(fresh_buffer.clone());
    for (_, key, value) in &records {
        fresh.restore(key, value.as_deref())?;
    }
    assert!(owned(&fresh_buffer).is_empty(), "restoring logs nothing");
    let all =
        |e: &StoreEntry| lock(&e.typed_ref::<dyn WindowStore<String, i64>>()).fetch_all(Timestamp::MIN, Timestamp::MAX);
    assert_eq!(all(&fresh), all(&original));
    assert_eq!(all(&fresh).len(), 3);
    // New puts continue after the sequence numbers read, so they never replace restored ones.
    lock(&fresh.typed_ref::<dyn WindowStore<String, i64>>()).put(&"k".into(), Timestamp(5), 9);
    assert_eq!(owned(&fresh_buffer)[0].1, key("k", 5, 5));
    Ok(())
}

#[test]
fn a_record_that_does_not_decode_fails_the_restore_naming_the_store() -> anyhow::Result<()> {
    let entry = counting()?.store("counts")?.factory.create(
        "counts",
        &memory_env(),
        Some(ChangeLogger::new("streamz-test-counts-changelog", SharedChangelog::default())),
        None,
    )?;
    let err = entry.restore(b"a", Some(&[1, 2, 3])).unwrap_err().to_string();
    assert!(err.contains("counts") && err.contains("streamz-test-counts-changelog"), "{err}");
    Ok(())
}
