//! Transaction states of a producer, on the embedded cluster.

use std::time::Duration;

use rdkafka::producer::BaseRecord;
use rdkafka::types::{RDKafkaApiKey as Api, RDKafkaRespErr as Err};
use rdkafka::ClientConfig;

use crate::kafka::{EmbeddedCluster, SharedProducer};
use crate::StreamsError;

#[test]
fn after_an_abort_that_timed_out_the_next_transaction_asks_for_a_new_producer() -> crate::Result<()> {
    let cluster = EmbeddedCluster::start()?;
    cluster.create_topic("out", 1)?;
    let config = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("transactional.id", "txn-test-1")
        .set("log_level", "0")
        .clone();
    let producer = SharedProducer::transactional(&config, Duration::from_secs(10))?;
    producer.begin_if_needed()?;
    producer
        .inner
        .send(BaseRecord::with_opaque_to("out", 0).key("k").payload("v"))
        .map_err(|(e, _)| crate::kafka::kafka_error("send", e))?;
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
