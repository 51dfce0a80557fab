//! Client configurations derived from the application's configuration.

use rdkafka::ClientConfig;

use crate::runtime::{ProcessingGuarantee, StreamsConfig};

fn base(_config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap).set("client.id", client_id).set("log_level", "3");
    c
}

/// How much a consumer reads ahead of the application: at most 4 MiB of fetched records
/// (librdkafka's default is 64 MiB) and at most 20,000 records a partition (its default is
/// 100,000) wait in its queue, and a fetch that stopped because the queue was full is tried
/// again after 2 ms (the default waits 1 s). A stream thread that keeps up needs little
/// read-ahead from a broker nearby; a large queue only holds memory, and the 1 s pause after
/// it fills stalls a fast consumer. librdkafka keeps each queued record in a few hundred bytes
/// of its own besides the record's bytes, so for small records the count is the bound that
/// applies. One fetch may overshoot the queue bound.
pub(crate) fn read_ahead(c: &mut ClientConfig) -> &mut ClientConfig {
    c.set("queued.max.messages.kbytes", "4096").set("queued.min.messages", "20000").set("fetch.queue.backoff.ms", "2")
}

/// What every consumer of the application ends its settings with: under exactly-once it reads
/// only committed records (`read_committed`: an aborted transaction's records are skipped),
/// and the application's consumer settings (`StreamsConfig::consumer_config`) come last.
pub(crate) fn with_guarantee_and_overrides(c: ClientConfig, config: &StreamsConfig) -> ClientConfig {
    with_overrides(c, config, |_| true)
}

/// Settings of a member of the consumer group, which a consumer outside it (restores,
/// standbys, global tables) does not take from the application's consumer settings: they
/// mean nothing there, and librdkafka refuses some combinations (a `max.poll.interval.ms`
/// below its default session timeout of 45 s).
const GROUP_MEMBERSHIP: [&str; 7] = [
    "max.poll.interval.ms",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "group.instance.id",
    "group.protocol",
    "group.remote.assignor",
    "partition.assignment.strategy",
];

/// As [`with_guarantee_and_overrides`], for a consumer outside the group: without the
/// application's [`GROUP_MEMBERSHIP`] settings.
pub(crate) fn outside_group_overrides(c: ClientConfig, config: &StreamsConfig) -> ClientConfig {
    with_overrides(c, config, |key| !GROUP_MEMBERSHIP.contains(&key))
}

fn with_overrides(mut c: ClientConfig, config: &StreamsConfig, keep: impl Fn(&str) -> bool) -> ClientConfig {
    if config.processing_guarantee == ProcessingGuarantee::ExactlyOnce {
        c.set("isolation.level", "read_committed");
    }
    for (k, v) in config.consumer_overrides.iter().filter(|(k, _)| keep(k)) {
        c.set(k, v);
    }
    c
}

/// A consumer of the application's group: offsets committed by the runtime, reading from the
/// earliest offset without a committed one, co-partitioned topics assigned together (`range`),
/// large fetches and a small read-ahead ([`read_ahead`]).
pub(crate) fn consumer_config(config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = base(config, bootstrap, client_id);
    read_ahead(&mut c)
        .set("group.id", &config.application_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "range")
        .set("max.partition.fetch.bytes", "10485760")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    with_guarantee_and_overrides(c, config)
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

/// A consumer outside the group, for global tables; the application's consumer settings
/// apply to it too, but for those of group membership.
pub(crate) fn global_consumer_config(config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = base(config, bootstrap, client_id);
    read_ahead(&mut c)
        .set("group.id", format!("{}-global", config.application_id))
        .set("enable.auto.commit", "false")
        .set("max.partition.fetch.bytes", "10485760")
        // Records deleted before they were read: go on from the oldest left, skip no more.
        .set("auto.offset.reset", "earliest")
        // The initial load ends at each partition's end, which can lie past its last record.
        .set("enable.partition.eof", "true");
    outside_group_overrides(c, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::restore_consumer_config;

    #[test]
    fn every_consumer_reads_ahead_a_little_and_retries_a_full_queue_soon() {
        let config = StreamsConfig::new("app");
        let consumers = [
            consumer_config(&config, "b:9092", "c"),
            global_consumer_config(&config, "b:9092", "c"),
            restore_consumer_config(&config, "b:9092", "c"),
        ];
        for c in &consumers {
            assert_eq!(c.get("queued.max.messages.kbytes"), Some("4096"));
            assert_eq!(c.get("queued.min.messages"), Some("20000"));
            assert_eq!(c.get("fetch.queue.backoff.ms"), Some("2"));
        }
        assert_eq!(consumers[0].get("max.partition.fetch.bytes"), Some("10485760"));
        assert_eq!(consumers[1].get("max.partition.fetch.bytes"), Some("10485760"));
        // A restore reads smaller fetches, and fewer records ahead (changelog records are small).
        assert_eq!(consumers[2].get("max.partition.fetch.bytes"), Some("524288"));
        assert_eq!(consumers[2].get("fetch.max.bytes"), Some("8388608"));
    }

    #[test]
    fn the_global_consumer_reads_committed_records_under_exactly_once_and_reports_partition_ends() {
        let at_least_once = global_consumer_config(&StreamsConfig::new("app"), "b:9092", "c");
        assert_eq!(at_least_once.get("isolation.level"), None);
        assert_eq!(at_least_once.get("enable.partition.eof"), Some("true"));
        assert_eq!(at_least_once.get("auto.offset.reset"), Some("earliest"));
        let exactly_once = StreamsConfig::new("app").processing_guarantee(ProcessingGuarantee::ExactlyOnce);
        let c = global_consumer_config(&exactly_once, "b:9092", "c");
        assert_eq!(c.get("isolation.level"), Some("read_committed"));
        assert_eq!(c.get("group.id"), Some("app-global"));
        // As every consumer of an exactly-once application.
        for c in [consumer_config(&exactly_once, "b:9092", "c"), restore_consumer_config(&exactly_once, "b:9092", "c")]
        {
            assert_eq!(c.get("isolation.level"), Some("read_committed"));
        }
    }

    #[test]
    fn consumers_outside_the_group_take_no_group_membership_settings_of_the_application() {
        // librdkafka refused to create such a consumer (max.poll.interval.ms below its
        // default session timeout of 45 s), so the application could not start.
        let config = StreamsConfig::new("app")
            .consumer_config("max.poll.interval.ms", "10000")
            .consumer_config("session.timeout.ms", "6000")
            .consumer_config("fetch.min.bytes", "1000");
        let member = consumer_config(&config, "b:9092", "c");
        assert_eq!(member.get("max.poll.interval.ms"), Some("10000"));
        assert_eq!(member.get("session.timeout.ms"), Some("6000"));
        for outside in [restore_consumer_config(&config, "b:9092", "c"), global_consumer_config(&config, "b:9092", "c")]
        {
            assert_eq!(outside.get("max.poll.interval.ms"), None);
            assert_eq!(outside.get("session.timeout.ms"), None);
            assert_eq!(outside.get("fetch.min.bytes"), Some("1000"), "other settings apply");
            let created: rdkafka::error::KafkaResult<rdkafka::consumer::BaseConsumer> = outside.create();
            assert!(created.is_ok(), "librdkafka refuses the configuration: {:?}", created.err());
        }
    }

    #[test]
    fn consumer_settings_of_the_application_replace_the_read_ahead() {
        let config = StreamsConfig::new("app").consumer_config("queued.max.messages.kbytes", "65536");
        assert_eq!(consumer_config(&config, "b:9092", "c").get("queued.max.messages.kbytes"), Some("65536"));
        assert_eq!(restore_consumer_config(&config, "b:9092", "c").get("queued.max.messages.kbytes"), Some("65536"));
        assert_eq!(global_consumer_config(&config, "b:9092", "c").get("queued.max.messages.kbytes"), Some("65536"));
    }
}
