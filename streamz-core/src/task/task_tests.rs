//! When a task's stores write their changes, and with which checkpoints.

use std::collections::HashMap;
use std::sync::Arc;

use super::Task;
use crate::prelude::*;
use crate::record::{Headers, RawRecord, Timestamped};
use crate::state::{StoreBackend, StoreEnv};
use crate::task::{lock, Metrics, Policies, RecordCollector, TaskId};
use crate::topology::TaskEnv;

/// Drops what it is sent.
struct Discard;

impl RecordCollector for Discard {
    fn send(
        &mut self,
        _: &str,
        _: Option<i32>,
        _: Option<&[u8]>,
        _: Option<&[u8]>,
        _: Timestamp,
        _: &Headers,
    ) -> crate::Result<()> {
        Ok(())
    }
}

const CHANGELOG: &str = "app-counts-changelog";

#[cfg(feature = "rocksdb")]
/// Task 0_0 of a count of `in` into the RocksDB store `counts` (changelog `CHANGELOG`).
fn counting_task(dir: &std::path::Path) -> anyhow::Result<Task> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").group_by_key().count_with(Materialized::named("counts"));
    let topology = builder.build()?;
    let plan = topology.plan("app", |_| Some(1))?;
    let env = TaskEnv {
        collector: Box::new(Discard),
        metrics: Arc::new(Metrics::default()),
        wall_clock: Timestamp(0),
        policies: Policies::default(),
        globals: HashMap::new(),
        stores: StoreEnv::new(dir).with_default_backend(StoreBackend::RocksDb),
    };
    Ok(topology.create_task(&plan, TaskId { subtopology: 0, partition: 0 }, false, env)?)
}

#[cfg(feature = "rocksdb")]
fn count(task: &mut Task, key: &str, offset: i64) -> anyhow::Result<()> {
    let raw = RawRecord {
        topic: "in".into(),
        partition: 0,
        offset,
        timestamp: Timestamp(1_000 + offset),
        key: Some(key.as_bytes().to_vec()),
        value: Some(b"x".to_vec()),
        headers: Headers::default(),
    };
    task.add_record(raw)?;
    while task.process_next()? {}
    task.flush()?;
    Ok(())
}

#[cfg(feature = "rocksdb")]
fn counts(task: &Task) -> Vec<(String, i64)> {
    let store = task.ctx.stores["counts"].typed_ref::<dyn crate::state::KeyValueStore<String, Timestamped<i64>>>();
    let all = lock(&store).all().map(|(k, v)| (k, v.value)).collect();
    all
}

#[cfg(feature = "rocksdb")]
#[test]
fn logged_stores_that_do_not_write_keep_their_changes_and_the_offsets_for_the_next_write() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut task = counting_task(dir.path())?;
    let checkpoint = |task: &Task| task.ctx.stores["counts"].control.checkpoint();
    count(&mut task, "a", 0)?;
    // Offsets of other partitions and other changelogs are not this store's.
    let acked = [(CHANGELOG.to_string(), 0, 4), (CHANGELOG.to_string(), 1, 50), ("other-changelog".into(), 0, 70)];
    task.commit_stores(&acked, false)?;
    assert_eq!(checkpoint(&task), None, "the store did not write");
    count(&mut task, "a", 1)?;
    task.commit_stores(&[(CHANGELOG.to_string(), 0, 9)], false)?;
    assert_eq!(checkpoint(&task), None);
    assert_eq!(counts(&task), [("a".to_string(), 2)]);
    task.commit_stores(&[], true)?;
    assert_eq!(checkpoint(&task), Some(10), "after the last acknowledged record of its partition");
    // Nothing acknowledged since: the checkpoint stays.
    count(&mut task, "b", 2)?;
    task.commit_stores(&[], true)?;
    assert_eq!(checkpoint(&task), Some(10));
    task.close();
    drop(task);

    // What the store wrote is what it holds after a reopen.
    let task = counting_task(dir.path())?;
    assert_eq!(checkpoint(&task), Some(10));
    assert_eq!(counts(&task), [("a".to_string(), 2), ("b".to_string(), 1)]);
    Ok(())
}

/// A source that answers every record's timestamp with its own number.
struct Numbered(i64);

impl super::SourceNode for Numbered {
    fn extract_timestamp(&self, _: &RawRecord, _: Timestamp) -> crate::Result<Timestamp> {
        Ok(Timestamp(self.0))
    }

    fn process(&mut self, _: &mut RawRecord, _: Timestamp, _: &mut super::TaskContext) -> crate::Result<()> {
        Ok(())
    }

    fn deserialization_policy(&self) -> Option<super::ErrorPolicy> {
        None
    }
}

#[test]
fn sources_are_found_by_name_whether_or_not_the_name_is_the_last_ones() {
    let mut sources = super::Sources::default();
    sources.insert("a".into(), Box::new(Numbered(1)));
    sources.insert("b".into(), Box::new(Numbered(2)));
    let raw = RawRecord {
        topic: "a".into(),
        partition: 0,
        offset: 0,
        timestamp: Timestamp(0),
        key: None,
        value: None,
        headers: Headers::default(),
    };
    let mut number =
        |topic: &Arc<str>| sources.get_mut(topic).map(|s| s.extract_timestamp(&raw, Timestamp(0)).unwrap().0);
    let (a, b, another_a): (Arc<str>, Arc<str>, Arc<str>) = ("a".into(), "b".into(), "a".into());
    assert_eq!(
        [number(&a), number(&a), number(&b), number(&another_a), number(&a)],
        [Some(1), Some(1), Some(2), Some(1), Some(1)]
    );
    assert_eq!(number(&"c".into()), None);
    assert_eq!(number(&b), Some(2));
    // Replacing a source forgets the last lookup.
    sources.insert("b".into(), Box::new(Numbered(3)));
    assert_eq!(sources.get_mut(&b).map(|s| s.extract_timestamp(&raw, Timestamp(0)).unwrap().0), Some(3));
}
