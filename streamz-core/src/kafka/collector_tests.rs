//! Flushing and polling a thread's producer, on the embedded cluster.

use std::time::{Duration, Instant};

use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::ClientConfig;

use crate::kafka::{EmbeddedCluster, SharedProducer};

/// A producer of `cluster` (linger 5 ms), after creating topic `out` with `partitions`.
fn producer_of(cluster: &EmbeddedCluster, partitions: i32) -> crate::Result<SharedProducer> {
    cluster.create_topic("out", partitions)?;
    let config = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("linger.ms", "5")
        .set("log_level", "0")
        .clone();
    SharedProducer::new(&config)
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
    use crate::kafka::KafkaCollector;
    use crate::record::Headers;
    use crate::task::RecordCollector;
    use crate::time::Timestamp;
    let cluster = EmbeddedCluster::start()?;
    let producer = producer_of(&cluster, 1)?;
    cluster.create_topic("app-store-changelog", 2)?;
    let mut collector = KafkaCollector { producer: producer.clone() };
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
