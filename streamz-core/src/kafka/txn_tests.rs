//! Transaction states of a producer, on the embedded cluster.

use std::time::Duration;

use rdkafka::producer::BaseRecord;
use rdkafka::types::{RDKafkaApiKey as Api, RDKafkaRespErr as Err};
use rdkafka::ClientConfig;

use crate::kafka::{EmbeddedCluster, SharedProducer};
use crate::StreamsError;

/// An embedded cluster with topic `out`, and the configuration of a transactional producer
/// with id `id` on it.
fn cluster_and_config(id: &str) -> crate::Result<(EmbeddedCluster, ClientConfig)> {
    let cluster = EmbeddedCluster::start()?;
    cluster.create_topic("out", 1)?;
    let config = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("transactional.id", id)
        .set("log_level", "0")
        .clone();
    Ok((cluster, config))
}

/// Sends a record of key `key` to `out`.
fn send(producer: &SharedProducer, key: &str) -> crate::Result<()> {
    producer
        .inner
        .send(BaseRecord::with_opaque_to("out", 0).key(key).payload("v"))
        .map_err(|(e, _)| crate::kafka::kafka_error("send", e))
}

#[test]
fn after_an_abort_that_timed_out_the_next_transaction_asks_for_a_new_producer() -> crate::Result<()> {
    let (cluster, config) = cluster_and_config("txn-test-1")?;
    let producer = SharedProducer::transactional(&config, Duration::from_secs(10))?;
    producer.begin_if_needed()?;
    send(&producer, "k")?;
    // Delivered: the abort has no record to purge, and must end the transaction on the broker.
    producer.flush(Duration::from_secs(10))?;
    // The abort's EndTxn keeps failing with a retriable error past the abort's timeout.
    cluster.handle().request_errors(Api::EndTxn, &[Err::RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS; 1_000])?;
    assert!(producer.abort_transaction(Duration::from_millis(300)), "a transaction was open");
    match producer.begin_if_needed() {
        Err(StreamsError::Transaction { fenced: true, migrated: false, message }) => {
            assert!(message.contains("abort did not complete"), "{message}")
        }
        other => panic!("expected a fenced transaction error, got {other:?}"),
    }
    assert!(!producer.abort_settled(Duration::from_millis(300)), "the abort is still unsettled");
    cluster.handle().clear_request_errors(Api::EndTxn)?;
    // A new producer with the same transactional id takes over.
    let replacement = SharedProducer::transactional(&config, Duration::from_secs(10))?;
    replacement.begin_if_needed()?;
    assert!(replacement.abort_settled(Duration::from_secs(5)));
    Ok(())
}

/// librdkafka's abort waits for the delivery reports of the records it purges, which only a
/// poll serves: with records in flight, an abort that served none waited its whole timeout,
/// failed ("the event queue must be polled for delivery report events") and left the
/// producer to be replaced. The reports of the aborted records must not fail the next
/// transaction either.
#[test]
fn an_abort_with_records_in_flight_ends_at_once_and_the_next_transaction_commits() -> crate::Result<()> {
    let (cluster, config) = cluster_and_config("txn-test-2")?;
    let producer = SharedProducer::transactional(&config, Duration::from_secs(10))?;
    producer.begin_if_needed()?;
    // Every produce request fails with a retriable error: the records stay in flight.
    cluster.handle().request_errors(Api::Produce, &[Err::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 100_000])?;
    for i in 0..2_000 {
        send(&producer, &format!("k{i}"))?;
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert!(producer.abort_settled(Duration::from_secs(20)), "the abort completed");
    assert!(started.elapsed() < Duration::from_secs(10), "the abort took {:?}", started.elapsed());

    cluster.handle().clear_request_errors(Api::Produce)?;
    producer.begin_if_needed()?;
    send(&producer, "after")?;
    producer.flush(Duration::from_secs(10))?;
    assert!(producer.commit_transaction(&[], None, Duration::from_secs(10))?, "a transaction committed");
    Ok(())
}
