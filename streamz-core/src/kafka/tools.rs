//! `KafkaClient`: typed produce, read and topic creation, for examples, tests and tools.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::consumer::{to_raw, TopicNames};
use super::{kafka_error, KafkaAdmin};
use crate::error::{RecordPart, RecordPosition};
use crate::record::{RawRecord, Record};
use crate::serdes::{to_bytes, Data};
use crate::time::Timestamp;
use crate::{Result, StreamsError};

/// A small typed client of a cluster: create topics, produce records, read a topic back.
///
/// Meant for examples, tests and tools around an application, not for the application itself.
///
/// # Examples
///
/// ```
/// use streamz_core::kafka::{EmbeddedCluster, KafkaClient};
/// use streamz_core::Timestamp;
///
/// let cluster = EmbeddedCluster::start()?;
/// let client = KafkaClient::embedded(&cluster)?;
/// client.create_topic("greetings", 1)?;
/// client.produce("greetings", [("k".to_string(), "hello".to_string(), Timestamp::now())])?;
/// let records = client.read::<String, String>("greetings", 1, std::time::Duration::from_secs(10))?;
/// assert_eq!(records[0].value, "hello");
/// # Ok::<(), streamz_core::StreamsError>(())
/// ```
pub struct KafkaClient {
    bootstrap: String,
    admin: KafkaAdmin,
    producer: BaseProducer,
    embedded: Option<super::EmbeddedHandle>,
}

impl std::fmt::Debug for KafkaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaClient").field("bootstrap", &self.bootstrap).finish()
    }
}

impl KafkaClient {
    /// A client of the cluster at `bootstrap`.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the clients cannot be created.
    pub fn connect(bootstrap: &str) -> Result<Self> {
        let admin = KafkaAdmin::new(bootstrap, Duration::from_secs(10))?;
        let producer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "5")
            .set("log_level", "3")
            .create()
            .map_err(|e| kafka_error("cannot create the producer", e))?;
        Ok(KafkaClient { bootstrap: bootstrap.to_string(), admin, producer, embedded: None })
    }

    /// A client of an embedded cluster.
    ///
    /// # Errors
    ///
    /// As [`KafkaClient::connect`].
    pub fn embedded(cluster: &super::EmbeddedCluster) -> Result<Self> {
        let mut client = Self::connect(cluster.bootstrap_servers())?;
        client.embedded = Some(cluster.handle());
        Ok(client)
    }

    /// Creates `topic` with `partitions` partitions (with the broker's default replication
    /// factor), if it does not exist, and waits (up to 10 s) until the cluster lists it, so an
    /// application started next finds it.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the cluster refuses.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<()> {
        if let Some(cluster) = &self.embedded {
            return cluster.create_topic(topic, partitions);
        }
        self.admin.create_topic(topic, partitions, &[])?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.admin.partition_counts()?.contains_key(topic) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// The partition count of every topic of the cluster.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the cluster does not answer.
    pub fn partition_counts(&self) -> Result<std::collections::BTreeMap<String, i32>> {
        self.admin.partition_counts()
    }

    /// The low and high watermark of each partition of `topic`, by partition.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the cluster does not answer.
    pub fn watermarks(&self, topic: &str) -> Result<Vec<(i32, i64, i64)>> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("log_level", "3")
            .create()
            .map_err(|e| kafka_error("cannot create the consumer", e))?;
        let timeout = Duration::from_secs(10);
        let metadata =
            consumer.fetch_metadata(Some(topic), timeout).map_err(|e| kafka_error("cannot read metadata", e))?;
        let mut out = Vec::new();
        for t in metadata.topics() {
            for p in t.partitions() {
                let (low, high) = consumer
                    .fetch_watermarks(topic, p.id(), timeout)
                    .map_err(|e| kafka_error("cannot read watermarks", e))?;
                out.push((p.id(), low, high));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Produces `records` (key, value, timestamp) with the default serdes of `K` and `V`,
    /// partitioned as the Java client does, and waits until all are acknowledged.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Serialization`] or [`StreamsError::Kafka`].
    pub fn produce<K: Data, V: Data>(
        &self,
        topic: &str,
        records: impl IntoIterator<Item = (K, V, Timestamp)>,
    ) -> Result<()> {
        let (key_serde, value_serde) = (K::default_serde(), V::default_serde());
        let fail = |part, source| StreamsError::Serialization { topic: topic.to_string(), part, source };
        let raw = records
            .into_iter()
            .map(|(key, value, timestamp)| {
                let k = to_bytes(&*key_serde, &key).map_err(|e| fail(RecordPart::Key, e))?;
                let v = to_bytes(&*value_serde, &value).map_err(|e| fail(RecordPart::Value, e))?;
                Ok((k, v, timestamp))
            })
            .collect::<Result<Vec<_>>>()?;
        self.produce_raw(topic, raw)
    }

    /// Produces `records` of raw key and value bytes (`None`: null) with timestamps, e.g. bytes
    /// that do not decode, and waits until all are acknowledged.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`].
    pub fn produce_raw(
        &self,
        topic: &str,
        records: impl IntoIterator<Item = (Option<Vec<u8>>, Option<Vec<u8>>, Timestamp)>,
    ) -> Result<()> {
        for (k, v, timestamp) in records {
            let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).timestamp(timestamp.0);
            if let Some(k) = &k {
                record = record.key(k);
            }
            if let Some(v) = &v {
                record = record.payload(v);
            }
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err((
                        rdkafka::error::KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                        r,
                    )) => {
                        record = r;
                        self.producer.poll(Duration::from_millis(10));
                    }
                    Err((e, _)) => return Err(kafka_error(&format!("cannot produce to `{topic}`"), e)),
                }
            }
        }
        super::collector::flush(&self.producer, Duration::from_secs(30))
            .map_err(|e| kafka_error("cannot flush the producer", e))
    }

    /// The offsets consumer group `group` committed for the partitions of `topic`, by
    /// partition (`None`: nothing committed).
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the cluster does not answer.
    pub fn committed_offsets(&self, group: &str, topic: &str) -> Result<Vec<(i32, Option<i64>)>> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("log_level", "3")
            .create()
            .map_err(|e| kafka_error("cannot create the consumer", e))?;
        let mut list = TopicPartitionList::new();
        for (partition, _, _) in self.watermarks(topic)? {
            list.add_partition(topic, partition);
        }
        let committed = consumer
            .committed_offsets(list, Duration::from_secs(10))
            .map_err(|e| kafka_error("cannot read offsets", e))?;
        Ok(committed
            .elements()
            .iter()
            .map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { Some(o) } else { None }))
            .collect())
    }

    /// Reads `topic` from the beginning of every partition until at least `min` records
    /// arrived and no more came for a moment, or `timeout` passed; returns them by partition,
    /// then offset. Reads committed records only when `committed_only`.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Deserialization`] for a record that does not decode, or
    /// [`StreamsError::Kafka`].
    pub fn read<K: Data, V: Data>(&self, topic: &str, min: usize, timeout: Duration) -> Result<Vec<Record<K, V>>> {
        self.read_with(topic, min, timeout, false)
    }

    /// As [`KafkaClient::read`], choosing the isolation level.
    ///
    /// # Errors
    ///
    /// As [`KafkaClient::read`].
    pub fn read_with<K: Data, V: Data>(
        &self,
        topic: &str,
        min: usize,
        timeout: Duration,
        committed_only: bool,
    ) -> Result<Vec<Record<K, V>>> {
        let (key_serde, value_serde) = (K::default_serde(), V::default_serde());
        let mut out = Vec::new();
        for raw in self.read_raw_with(topic, min, timeout, committed_only)? {
            let position = RecordPosition { topic: raw.topic.clone(), partition: raw.partition, offset: raw.offset };
            let fail = |part, source| StreamsError::Deserialization { position: position.clone(), part, source };
            let key = key_serde.deserialize(raw.key.as_deref()).map_err(|e| fail(RecordPart::Key, e))?;
            let value = value_serde.deserialize(raw.value.as_deref()).map_err(|e| fail(RecordPart::Value, e))?;
            out.push(Record { key, value, timestamp: raw.timestamp, headers: raw.headers });
        }
        Ok(out)
    }

    /// As [`KafkaClient::read`], without decoding: key and value bytes, headers and offsets.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`].
    pub fn read_raw(&self, topic: &str, min: usize, timeout: Duration) -> Result<Vec<RawRecord>> {
        self.read_raw_with(topic, min, timeout, false)
    }

    /// As [`KafkaClient::read_raw`], choosing the isolation level: with `committed_only`,
    /// only records of committed transactions (and non-transactional ones) are returned.
    /// Errors that may pass (a broker of the cluster down) are waited out.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`].
    pub fn read_raw_with(
        &self,
        topic: &str,
        min: usize,
        timeout: Duration,
        committed_only: bool,
    ) -> Result<Vec<RawRecord>> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", format!("streamz-reader-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("isolation.level", if committed_only { "read_committed" } else { "read_uncommitted" })
            .set("log_level", "3")
            .create()
            .map_err(|e| kafka_error("cannot create the consumer", e))?;
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(|e| kafka_error("cannot read metadata", e))?;
        let mut list = TopicPartitionList::new();
        for t in metadata.topics() {
            for p in t.partitions() {
                list.add_partition_offset(topic, p.id(), Offset::Beginning)
                    .map_err(|e| kafka_error("cannot list partitions", e))?;
            }
        }
        consumer.assign(&list).map_err(|e| kafka_error("cannot assign partitions", e))?;
        let mut topics = TopicNames::default();
        let mut records = Vec::new();
        let (start, mut last) = (Instant::now(), Instant::now());
        while start.elapsed() < timeout && !(records.len() >= min && last.elapsed() > Duration::from_millis(500)) {
            let message = match consumer.poll(Duration::from_millis(100)) {
                None => continue,
                Some(Ok(message)) => message,
                // A broker of the cluster down (the client reads from the others): go on.
                Some(Err(e)) if super::is_transient(&e) => continue,
                Some(Err(e)) => return Err(kafka_error("cannot consume", e)),
            };
            records.push(to_raw(&message, &mut topics));
            last = Instant::now();
        }
        records.sort_by_key(|r: &RawRecord| (r.partition, r.offset));
        Ok(records)
    }
}
