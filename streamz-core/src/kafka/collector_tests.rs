//! Flushing and polling a thread's producer, and what its collector sends, on the embedded
//! cluster.

use std::time::{Duration, Instant};

use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::ClientConfig;

use crate::kafka::{EmbeddedCluster, KafkaCollector, SharedProducer};
use crate::record::Headers;
use crate::task::RecordCollector;
use crate::time::Timestamp;

/// A producer of `cluster` (linger 5 ms) with the `extra` settings, after creating topic `out`
/// with `partitions`.
fn producer_with(cluster: &EmbeddedCluster, partitions: i32, extra: &[(&str, &str)]) -> crate::Result<SharedProducer> {
    cluster.create_topic("out", partitions)?;
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", cluster.bootstrap_servers()).set("linger.ms", "5").set("log_level", "0");
    for (k, v) in extra {
        config.set(*k, *v);
    }
    SharedProducer::new(&config)
}

/// A producer of `cluster` (linger 5 ms), after creating topic `out` with `partitions`.
fn producer_of(cluster: &EmbeddedCluster, partitions: i32) -> crate::Result<SharedProducer> {
    producer_with(cluster, partitions, &[])
}

#[test]
fn a_flush_returns_once_its_records_are_acknowledged() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    let producer = producer_of(&cluster, 1)?;
    let started = Instant::now();
    for i in 0..10 {
        let value = format!("v{i}");
        producer
            .inner
            .send(BaseRecord::with_opaque_to("out", 0).key("k").payload(&value))
            .map_err(|(e, _)| crate::kafka::kafka_error("send", e))?;
        producer.flush(Duration::from_secs(10))?;
        assert_eq!(producer.inner.in_flight_count(), 0, "flush {i} left records in flight");
    }
    // Each flush waits for one acknowledgement from a cluster in this process; serving
    // delivery reports for a fixed 100 ms per flush took at least 1 s here.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(600), "ten flushes of one record each took {elapsed:?}");
    Ok(())
}

/// CPU seconds this thread has used (user and system), in the kernel's clock ticks.
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("this thread's /proc stat");
    // The fields after the command name, which is in parentheses: utime and stime are the
    // 12th and 13th of them.
    let fields: Vec<&str> = stat[stat.rfind(')').expect("a command name") + 2..].split(' ').collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
fn a_flush_waiting_for_a_slow_broker_sleeps_instead_of_spinning() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    let producer = producer_of(&cluster, 1)?;
    // Connected and the topic's leader known before the broker slows down.
    producer
        .inner
        .send(BaseRecord::with_opaque_to("out", 0).key("k").payload("warm-up"))
        .map_err(|(e, _)| crate::kafka::kafka_error("send", e))?;
    producer.flush(Duration::from_secs(10))?;
    cluster.handle().round_trip_time(Duration::from_millis(500))?;
    producer
        .inner
        .send(BaseRecord::with_opaque_to("out", 0).key("k").payload("slow"))
        .map_err(|(e, _)| crate::kafka::kafka_error("send", e))?;
    let (started, cpu) = (Instant::now(), thread_cpu_ticks());
    producer.flush(Duration::from_secs(10))?;
    let (waited, used) = (started.elapsed(), thread_cpu_ticks() - cpu);
    assert!(waited >= Duration::from_millis(400), "the flush waited {waited:?} for a 500 ms answer");
    // Clock ticks are 10 ms: a flush that spins uses about as much CPU as it waits.
    assert!(used <= 10, "the flush used {used} clock ticks of CPU while it waited {waited:?}");
    Ok(())
}

#[test]
fn a_send_finding_the_queue_full_waits_for_room_without_spinning() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    // Room for one record: the second waits until the first is acknowledged.
    let producer = producer_with(&cluster, 1, &[("queue.buffering.max.messages", "1")])?;
    let mut collector = KafkaCollector::new(producer.clone());
    let none = Headers::new();
    collector.send("out", Some(0), Some(b"k"), Some(b"warm-up"), Timestamp(0), &none)?;
    producer.flush(Duration::from_secs(10))?;
    cluster.handle().round_trip_time(Duration::from_millis(500))?;
    collector.send("out", Some(0), Some(b"k"), Some(b"first"), Timestamp(1), &none)?;
    let (started, cpu) = (Instant::now(), thread_cpu_ticks());
    collector.send("out", Some(0), Some(b"k"), Some(b"second"), Timestamp(2), &none)?;
    let (waited, used) = (started.elapsed(), thread_cpu_ticks() - cpu);
    assert!(waited >= Duration::from_millis(400), "the second send waited {waited:?} for a 500 ms answer");
    assert!(used <= 10, "the send used {used} clock ticks of CPU while it waited {waited:?}");
    producer.flush(Duration::from_secs(10))?;
    let values: Vec<_> = read_back(&cluster, 1, 3)?.into_iter().map(|r| r.2).collect();
    assert_eq!(values, [Some(b"warm-up".to_vec()), Some(b"first".to_vec()), Some(b"second".to_vec())]);
    Ok(())
}

/// Events waiting in the producer's queue (delivery reports among them).
fn queued_events(producer: &SharedProducer) -> usize {
    use rdkafka::bindings as rd;
    // SAFETY: the client outlives the queue handle, which is released before returning.
    unsafe {
        let queue = rd::rd_kafka_queue_get_main(producer.inner.client().native_ptr());
        let n = rd::rd_kafka_queue_length(queue);
        rd::rd_kafka_queue_destroy(queue);
        n
    }
}

#[test]
fn a_poll_serves_the_delivery_reports_of_every_partition() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    let producer = producer_of(&cluster, 4)?;
    for i in 0..40 {
        let value = format!("v{i}");
        producer
            .inner
            .send(BaseRecord::with_opaque_to("out", 0).key("k").payload(&value).partition(i % 4))
            .map_err(|(e, _)| crate::kafka::kafka_error("send", e))?;
    }
    // Each partition's batch is acknowledged with an event of its own.
    let deadline = Instant::now() + Duration::from_secs(10);
    while queued_events(&producer) < 4 {
        assert!(Instant::now() < deadline, "only {} report events after 10 s", queued_events(&producer));
        std::thread::sleep(Duration::from_millis(10));
    }
    producer.poll();
    // Records stay in the producer until their reports are served.
    assert_eq!(producer.inner.in_flight_count(), 0, "one poll left delivery reports unserved");
    Ok(())
}

#[test]
fn only_changelog_records_leave_their_acknowledged_offsets_as_checkpoints() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    let producer = producer_of(&cluster, 1)?;
    cluster.create_topic("app-store-changelog", 2)?;
    let mut collector = KafkaCollector::new(producer.clone());
    let none = Headers::new();
    for i in 0..5 {
        let value = format!("v{i}");
        collector.send("out", Some(0), Some(b"k"), Some(value.as_bytes()), Timestamp(i), &none)?;
        collector.send("app-store-changelog", Some(1), Some(b"k"), Some(value.as_bytes()), Timestamp(i), &none)?;
    }
    collector.send("app-store-changelog", Some(0), Some(b"k"), None, Timestamp(5), &none)?;
    producer.flush(Duration::from_secs(10))?;
    let mut acked = producer.take_changelog_offsets();
    acked.sort();
    let want = vec![("app-store-changelog".to_string(), 0, 0), ("app-store-changelog".to_string(), 1, 4)];
    assert_eq!(acked, want);
    assert_eq!(producer.take_changelog_offsets(), vec![], "taken once");
    Ok(())
}

/// What a consumer reads of topic `out` (`partitions` partitions, `count` records in all):
/// `(partition, key, value, timestamp, headers)` in partition then offset order.
#[allow(clippy::type_complexity)]
fn read_back(
    cluster: &EmbeddedCluster,
    partitions: i32,
    count: usize,
) -> crate::Result<Vec<(i32, Option<Vec<u8>>, Option<Vec<u8>>, i64, Vec<(String, Option<Vec<u8>>)>)>> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers as _, Message};
    use rdkafka::{Offset, TopicPartitionList};
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", "read-back")
        .set("log_level", "0")
        .create()
        .map_err(|e| crate::kafka::kafka_error("consumer", e))?;
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment
            .add_partition_offset("out", p, Offset::Beginning)
            .map_err(|e| crate::kafka::kafka_error("assign", e))?;
    }
    consumer.assign(&assignment).map_err(|e| crate::kafka::kafka_error("assign", e))?;
    let mut read = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while read.len() < count && Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(100)) else { continue };
        let m = message.map_err(|e| crate::kafka::kafka_error("poll", e))?;
        let headers = m
            .headers()
            .map(|h| h.iter().map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))).collect())
            .unwrap_or_default();
        let (key, value) = (m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec));
        read.push((m.partition(), key, value, m.timestamp().to_millis().unwrap_or(-1), headers));
    }
    read.sort_by_key(|r| r.0);
    Ok(read)
}

#[test]
fn the_collector_sends_keys_values_tombstones_timestamps_headers_and_partitions() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    let producer = producer_of(&cluster, 2)?;
    let mut collector = KafkaCollector::new(producer.clone());
    let headers =
        vec![("h".to_string(), Some(b"x".to_vec())), ("n".to_string(), None), ("e".to_string(), Some(vec![]))];
    let none = Vec::new();
    collector.send("out", Some(1), Some(b"k1"), Some(b"v1"), Timestamp(1_000), &headers)?;
    collector.send("out", Some(1), Some(b"k2"), None, Timestamp(1_001), &none)?;
    collector.send("out", Some(0), None, Some(b"v3"), Timestamp(1_002), &none)?;
    // No partition: the partitioner picks one (murmur2 of the key, as the producer is set up).
    collector.send("out", None, Some(b"k4"), Some(b""), Timestamp(1_003), &headers)?;
    producer.flush(Duration::from_secs(10))?;
    let read = read_back(&cluster, 2, 4)?;
    let by_key = |key: &[u8]| read.iter().find(|r| r.1.as_deref() == Some(key)).cloned();
    assert_eq!(read.len(), 4, "{read:?}");
    assert_eq!(by_key(b"k1"), Some((1, Some(b"k1".to_vec()), Some(b"v1".to_vec()), 1_000, headers.clone())));
    assert_eq!(by_key(b"k2"), Some((1, Some(b"k2".to_vec()), None, 1_001, vec![])));
    assert!(read.contains(&(0, None, Some(b"v3".to_vec()), 1_002, vec![])), "{read:?}");
    let k4 = by_key(b"k4").expect("k4 was read");
    assert_eq!((k4.2, k4.3, k4.4), (Some(vec![]), 1_003, headers));
    Ok(())
}

#[test]
fn a_record_the_producer_refuses_is_rejected_naming_its_topic() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    let producer = producer_with(&cluster, 1, &[("message.max.bytes", "2000")])?;
    let mut collector = KafkaCollector::new(producer);
    let headers = vec![("h".to_string(), Some(b"x".to_vec()))];
    let big = vec![7u8; 10_000];
    match collector.send("out", Some(0), Some(b"k"), Some(&big), Timestamp(1), &headers) {
        Err(crate::StreamsError::RecordRejected { topic, message }) => {
            assert_eq!(topic, "out");
            assert!(message.contains("too large"), "{message}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    // The collector goes on with the next record.
    collector.send("out", Some(0), Some(b"k"), Some(b"small"), Timestamp(2), &headers)?;
    Ok(())
}

#[test]
fn a_failed_delivery_is_reported_by_the_next_flush_naming_topic_and_partition() -> crate::Result<()> {
    use rdkafka::types::{RDKafkaApiKey as Api, RDKafkaRespErr as Err};
    let cluster = EmbeddedCluster::start()?;
    let producer = producer_of(&cluster, 1)?;
    let mut collector = KafkaCollector::new(producer.clone());
    let none = Headers::new();
    // Connected and the topic's leader known before the broker refuses.
    collector.send("out", Some(0), Some(b"k"), Some(b"warm-up"), Timestamp(0), &none)?;
    producer.flush(Duration::from_secs(10))?;
    cluster.handle().request_errors(Api::Produce, &[Err::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 5])?;
    collector.send("out", Some(0), Some(b"k"), Some(b"refused"), Timestamp(1), &none)?;
    match producer.flush(Duration::from_secs(10)) {
        Err(crate::StreamsError::Kafka { message, retriable: false }) => {
            assert!(message.contains("cannot deliver a record to topic `out` partition 0"), "{message}")
        }
        other => panic!("expected a failed delivery, got {other:?}"),
    }
    // Reported once.
    cluster.handle().clear_request_errors(Api::Produce)?;
    producer.flush(Duration::from_secs(10))?;
    Ok(())
}
