//! A group member reading its partitions in batches, on the embedded cluster.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use super::*;
use crate::kafka::EmbeddedCluster;

struct Quiet;

impl PartitionEvents for Quiet {
    fn revoked(&self, _: &[(String, i32)], _: &dyn OffsetCommitter) {}
    fn lost(&self, _: &[(String, i32)]) {}
    fn assigned(&self, _: &[(String, i32)]) {}
}

/// Sends records `from..to` of topic `in` (3 partitions): record `i` to partition `i % 3`,
/// key `k<i>`, value `v<i>` (none for every 5th), timestamp `1000 + i`, and on every 7th two
/// headers.
fn produce(cluster: &EmbeddedCluster, from: i64, to: i64) -> Result<()> {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("log_level", "0")
        .create()
        .map_err(|e| kafka_error("producer", e))?;
    for i in from..to {
        let (key, value) = (format!("k{i}"), format!("v{i}"));
        let mut record = BaseRecord::to("in").key(&key).partition((i % 3) as i32).timestamp(1_000 + i);
        if i % 5 != 0 {
            record = record.payload(&value);
        }
        if i % 7 == 0 {
            let headers =
                OwnedHeaders::new()
                    .insert(Header { key: "h", value: Some(&b"x"[..]) })
                    .insert(Header::<&[u8]> { key: "n", value: None });
            record = record.headers(headers);
        }
        producer.send(record).map_err(|(e, _)| kafka_error("send", e))?;
    }
    producer.flush(Duration::from_secs(10)).map_err(|e| kafka_error("flush", e))
}

fn expected(i: i64) -> RawRecord {
    let headers = match i % 7 {
        0 => vec![("h".to_string(), Some(b"x".to_vec())), ("n".to_string(), None)],
        _ => Headers::new(),
    };
    RawRecord {
        topic: Arc::from("in"),
        partition: (i % 3) as i32,
        offset: i / 3,
        timestamp: Timestamp(1_000 + i),
        key: Some(format!("k{i}").into_bytes()),
        value: (i % 5 != 0).then(|| format!("v{i}").into_bytes()),
        headers,
    }
}

/// A member of `group` reading topic `in` from the beginning, with a stream thread's
/// read-ahead, `read_committed` (librdkafka's default, and a stream thread's under
/// exactly-once).
fn member(cluster: &EmbeddedCluster, group: &str) -> Result<StreamConsumer> {
    let mut config = ClientConfig::new();
    crate::kafka::client::read_ahead(&mut config)
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", group)
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("log_level", "0");
    let mut consumer = StreamConsumer::new(&config, Arc::new(Quiet), Duration::from_secs(1))?;
    consumer.subscribe(&["in".to_string()])?;
    Ok(consumer)
}

/// Polls batches of at most 64 until `n` records arrived.
fn read(consumer: &mut StreamConsumer, n: usize) -> Result<Vec<RawRecord>> {
    let (mut out, deadline) = (Vec::new(), Instant::now() + Duration::from_secs(30));
    while out.len() < n {
        assert!(Instant::now() < deadline, "{} of {n} records after 30 s", out.len());
        let batch = consumer.poll_batch(64, Duration::from_millis(100), &|| false)?;
        assert!(batch.len() <= 64, "a batch of {} records", batch.len());
        out.extend(batch);
    }
    Ok(out)
}

/// The records of each partition, in the order they were read.
fn by_partition(records: Vec<RawRecord>) -> BTreeMap<i32, Vec<RawRecord>> {
    let mut out: BTreeMap<i32, Vec<RawRecord>> = BTreeMap::new();
    for r in records {
        out.entry(r.partition).or_default().push(r);
    }
    out
}

#[test]
fn a_member_reads_each_partition_in_order_with_keys_values_timestamps_and_headers() -> Result<()> {
    let cluster = EmbeddedCluster::start()?;
    cluster.create_topic("in", 3)?;
    produce(&cluster, 0, 300)?;
    let mut consumer = member(&cluster, "readers")?;

    let first = by_partition(read(&mut consumer, 300)?);
    // Records written after the first ones were read come after them.
    produce(&cluster, 300, 330)?;
    let second = by_partition(read(&mut consumer, 30)?);
    for partition in 0..3 {
        let want: Vec<RawRecord> = (0..330).filter(|i| i % 3 == partition as i64).map(expected).collect();
        let got: Vec<RawRecord> = first[&partition].iter().chain(&second[&partition]).cloned().collect();
        assert_eq!(got, want, "partition {partition}");
    }
    // Nothing else comes.
    assert!(consumer.poll_batch(64, Duration::from_millis(200), &|| false)?.is_empty());
    Ok(())
}

#[test]
fn a_rewind_reads_every_partition_again_from_its_committed_offset() -> Result<()> {
    let cluster = EmbeddedCluster::start()?;
    cluster.create_topic("in", 3)?;
    produce(&cluster, 0, 300)?;
    let mut consumer = member(&cluster, "rewinders")?;
    read(&mut consumer, 300)?;
    // Partition 0 committed up to offset 40; the others nothing.
    consumer.committer().commit(&[(Arc::from("in"), 0, 40)])?;
    consumer.rewind_to_committed(Duration::from_secs(10))?;
    let again = by_partition(read(&mut consumer, 260)?);
    for partition in 0..3 {
        let from = if partition == 0 { 40 } else { 0 };
        let offsets: Vec<i64> = again[&partition].iter().map(|r| r.offset).collect();
        assert_eq!(offsets, (from..100).collect::<Vec<_>>(), "partition {partition}");
    }
    Ok(())
}
