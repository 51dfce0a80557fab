//! Restoring several changelog partitions at once, on the embedded cluster.

use std::time::Duration;

use super::*;
use crate::kafka::{EmbeddedCluster, KafkaClient};
use crate::time::Timestamp;

/// A clock shared by the sinks: orders their calls.
static CLOCK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn tick() -> usize {
    CLOCK.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

/// What a sink was given, and when it started and got its first record (by [`CLOCK`]).
#[derive(Default)]
struct Collected {
    span: Option<(i64, i64)>,
    records: Vec<(i64, Vec<u8>, Option<Vec<u8>>)>,
    started: Option<usize>,
    first_record: Option<usize>,
}

impl RestoreSink for Collected {
    fn start(&mut self, from: i64, end: i64) -> Result<()> {
        self.span = Some((from, end));
        self.started = Some(tick());
        Ok(())
    }

    fn apply(&mut self, offset: i64, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.records.push((offset, key.to_vec(), value.map(<[u8]>::to_vec)));
        self.first_record.get_or_insert_with(tick);
        Ok(())
    }
}

/// `topic`'s records of `partition` from offset `from` on, as a sink should see them.
fn expected(raw: &[crate::RawRecord], partition: i32, from: i64) -> Vec<(i64, Vec<u8>, Option<Vec<u8>>)> {
    raw.iter()
        .filter(|r| r.partition == partition && r.offset >= from)
        .map(|r| (r.offset, r.key.clone().unwrap_or_default(), r.value.clone()))
        .collect()
}

/// A restore consumer of `cluster` in group `group`.
fn restore_consumer(cluster: &EmbeddedCluster, group: &str) -> Result<RestoreConsumer> {
    let config = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .clone();
    RestoreConsumer::new(&config, Duration::from_secs(10))
}

#[test]
fn every_partition_is_read_from_its_checkpoint_to_its_end_at_once() -> Result<()> {
    let cluster = EmbeddedCluster::start()?;
    let client = KafkaClient::embedded(&cluster)?;
    client.create_topic("a-changelog", 2)?;
    client.create_topic("b-changelog", 1)?;
    let records = |n: usize, tombstone_every: usize| {
        (0..n).map(move |i| {
            let value = (i % tombstone_every != 0).then(|| format!("v{i}").into_bytes());
            (Some(format!("k{}", i % 37).into_bytes()), value, Timestamp(1_000 + i as i64))
        })
    };
    client.produce_raw("a-changelog", records(400, 9))?;
    client.produce_raw("b-changelog", records(50, 1_000))?;
    let a = client.read_raw("a-changelog", 400, Duration::from_secs(10))?;
    let b = client.read_raw("b-changelog", 50, Duration::from_secs(10))?;
    let ends: Vec<i64> = client.watermarks("a-changelog")?.iter().map(|(_, _, high)| *high).collect();
    assert!(ends.iter().all(|&e| e > 20), "both partitions hold records: {ends:?}");

    let consumer = restore_consumer(&cluster, "restore-test")?;
    let mut sinks: Vec<Collected> = (0..4).map(|_| Collected::default()).collect();
    // a[0] from the beginning, a[1] from offset 10, b[0] from its end (nothing to read), and
    // a[0] again with a checkpoint past its end (restored from the beginning by the caller).
    let starts = [("a-changelog", 0, None), ("a-changelog", 1, Some(10)), ("b-changelog", 0, Some(50))];
    let mut jobs: Vec<RestoreJob<'_>> = sinks
        .iter_mut()
        .zip(starts.iter().copied().chain([("a-changelog", 0, Some(ends[0] + 5))]))
        .map(|(sink, (topic, partition, checkpoint))| RestoreJob { topic, partition, checkpoint, sink, outcome: None })
        .collect();
    consumer.restore_all(&mut jobs)?;
    let outcomes: Vec<Option<Option<Restored>>> = jobs.into_iter().map(|j| j.outcome).collect();

    let want_a0 = expected(&a, 0, 0);
    let want_a1 = expected(&a, 1, 10);
    assert_eq!(outcomes[0], Some(Some(Restored { from: 0, end: ends[0], records: want_a0.len() as u64 })));
    assert_eq!(outcomes[1], Some(Some(Restored { from: 10, end: ends[1], records: want_a1.len() as u64 })));
    assert_eq!(outcomes[2], Some(Some(Restored { from: 50, end: 50, records: 0 })));
    assert_eq!(outcomes[3], Some(None), "a checkpoint past the end");
    assert_eq!(sinks[0].records, want_a0);
    assert_eq!(sinks[1].records, want_a1);
    assert_eq!((sinks[0].span, sinks[1].span), (Some((0, ends[0])), Some((10, ends[1]))));
    assert!(sinks[2].records.is_empty() && sinks[2].span.is_none());
    assert!(sinks[3].records.is_empty());
    assert_eq!(b.len(), 50);
    Ok(())
}

#[test]
fn partitions_of_several_changelogs_with_the_same_numbers_are_each_read_to_their_end() -> Result<()> {
    let cluster = EmbeddedCluster::start()?;
    let client = KafkaClient::embedded(&cluster)?;
    let topics = ["c-changelog", "d-changelog", "e-changelog"];
    let mut raw = Vec::new();
    for (i, topic) in topics.iter().enumerate() {
        client.create_topic(topic, 2)?;
        let n = 100 + 60 * i;
        let records = (0..n).map(|j| {
            let value = (j % 7 != 0).then(|| format!("{topic}-{j}").into_bytes());
            (Some(format!("k{}", j % 23).into_bytes()), value, Timestamp(1_000 + j as i64))
        });
        client.produce_raw(topic, records)?;
        raw.push(client.read_raw(topic, n, Duration::from_secs(10))?);
    }
    let consumer = restore_consumer(&cluster, "restore-rounds-test")?;
    // Six partitions, three of each number: read in one pass.
    let wanted: Vec<(usize, i32, Option<i64>)> =
        vec![(0, 0, None), (0, 1, Some(3)), (1, 0, None), (1, 1, None), (2, 0, Some(1)), (2, 1, None)];
    let mut sinks: Vec<Collected> = wanted.iter().map(|_| Collected::default()).collect();
    let mut jobs: Vec<RestoreJob<'_>> = sinks
        .iter_mut()
        .zip(&wanted)
        .map(|(sink, &(t, partition, checkpoint))| RestoreJob {
            topic: topics[t],
            partition,
            checkpoint,
            sink,
            outcome: None,
        })
        .collect();
    consumer.restore_all(&mut jobs)?;
    let outcomes: Vec<Option<Option<Restored>>> = jobs.into_iter().map(|j| j.outcome).collect();
    // One pass: every partition started before any got a record (the stores of a task, whose
    // changelog partitions share a number, used to restore one after another).
    let last_start = sinks.iter().filter_map(|s| s.started).max();
    let first_record = sinks.iter().filter_map(|s| s.first_record).min();
    assert!(last_start < first_record, "not read in one pass: started {last_start:?}, first record {first_record:?}");
    for (((t, partition, checkpoint), sink), outcome) in wanted.iter().zip(&sinks).zip(outcomes) {
        let from = checkpoint.unwrap_or(0);
        let want = expected(&raw[*t], *partition, from);
        assert!(!want.is_empty(), "{} [{partition}] holds records", topics[*t]);
        assert_eq!(sink.records, want, "{} [{partition}]", topics[*t]);
        let marks = client.watermarks(topics[*t])?;
        let end = marks.iter().find(|m| m.0 == *partition).map(|m| m.2).expect("the partition's offsets");
        assert_eq!(outcome, Some(Some(Restored { from, end, records: want.len() as u64 })));
        assert_eq!(sink.span, Some((from, end)));
    }
    Ok(())
}
