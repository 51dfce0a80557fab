//! Client configurations derived from the application's configuration.

use rdkafka::ClientConfig;

use crate::runtime::{ProcessingGuarantee, StreamsConfig};

fn base(_config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap).set("client.id", client_id).set("log_level", "3");
    c
}

/// A consumer of the application's group: offsets committed by the runtime, reading from the
/// earliest offset without a committed one, co-partitioned topics assigned together (`range`),
/// large fetches.
pub(crate) fn consumer_config(config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = base(config, bootstrap, client_id);
    c.set("group.id", &config.application_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "range")
        .set("max.partition.fetch.bytes", "10485760")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    if config.processing_guarantee == ProcessingGuarantee::ExactlyOnce {
        c.set("isolation.level", "read_committed");
    }
    for (k, v) in &config.consumer_overrides {
        c.set(k, v);
    }
    c
}

/// A producer partitioning keyed records as the Java client does (murmur2), so repartition
/// topics and outputs are co-partitioned with topics written by Java producers.
pub(crate) fn producer_config(config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = base(config, bootstrap, client_id);
    c.set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("queue.buffering.max.messages", "1000000")
        .set("batch.num.messages", "10000");
    for (k, v) in &config.producer_overrides {
        c.set(k, v);
    }
    c
}

/// The producer of stream thread `index`: under exactly-once, transactional with the id
/// `<application id>-<instance id>-<index>` and a transaction timeout of 10 s (as Kafka
/// Streams), unless the producer settings say otherwise.
pub(crate) fn thread_producer_config(
    config: &StreamsConfig,
    bootstrap: &str,
    client_id: &str,
    index: usize,
) -> ClientConfig {
    let mut c = producer_config(config, bootstrap, client_id);
    if config.processing_guarantee == ProcessingGuarantee::ExactlyOnce {
        let id = format!("{}-{}-{index}", config.application_id, config.effective_instance_id());
        c.set("transactional.id", id);
        if let Some(timeout) = config.transaction_timeout() {
            c.set("transaction.timeout.ms", timeout.as_millis().to_string());
        }
    }
    c
}

/// A consumer outside the group, for global tables.
pub(crate) fn global_consumer_config(config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = base(config, bootstrap, client_id);
    c.set("group.id", format!("{}-global", config.application_id))
        .set("enable.auto.commit", "false")
        .set("max.partition.fetch.bytes", "10485760")
        .set("enable.partition.eof", "false");
    c
}
