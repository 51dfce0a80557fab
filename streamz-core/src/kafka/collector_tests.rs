//! Flushing a thread's producer, on the embedded cluster.

use std::time::{Duration, Instant};

use rdkafka::producer::{BaseRecord, Producer};
use rdkafka::ClientConfig;

use crate::kafka::{EmbeddedCluster, SharedProducer};

#[test]
fn a_flush_returns_once_its_records_are_acknowledged() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    cluster.create_topic("out", 1)?;
    let config = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("linger.ms", "5")
        .set("log_level", "0")
        .clone();
    let producer = SharedProducer::new(&config)?;
    let started = Instant::now();
    for i in 0..10 {
        let value = format!("v{i}");
        producer
            .inner
            .send(BaseRecord::to("out").key("k").payload(&value))
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
