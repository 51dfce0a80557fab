//! Reading a changelog partition from its beginning to its end, to restore a store.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::kafka_error;
use crate::runtime::StreamsConfig;
use crate::{Result, StreamsError};

/// A consumer outside the group that reads one changelog partition at a time; it commits
/// nothing.
pub(crate) struct RestoreConsumer {
    consumer: BaseConsumer,
    timeout: Duration,
}

/// The configuration of a restore consumer: no group membership or commits, large fetches,
/// and an end-of-partition event so gaps in offsets (compaction) do not stall it.
pub(crate) fn restore_consumer_config(config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("client.id", client_id)
        .set("log_level", "3")
        .set("group.id", format!("{}-restore", config.application_id))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .set("queued.min.messages", "100000");
    if config.processing_guarantee == crate::runtime::ProcessingGuarantee::ExactlyOnce {
        // Only committed changes come back: an aborted transaction's writes are skipped.
        c.set("isolation.level", "read_committed");
    }
    for (k, v) in &config.consumer_overrides {
        c.set(k, v);
    }
    c.set("enable.partition.eof", "true");
    c
}

impl RestoreConsumer {
    /// A restore consumer; `timeout` bounds metadata requests and each wait for records.
    pub(crate) fn new(config: &ClientConfig, timeout: Duration) -> Result<Self> {
        let consumer = config.create().map_err(|e| kafka_error("cannot create the restore consumer", e))?;
        Ok(RestoreConsumer { consumer, timeout })
    }

    /// Reads `topic` `partition` from the beginning up to its end offset at the time of the
    /// call, passing each record's key and value to `apply`. Returns how many were applied.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the partition cannot be read or stops delivering records
    /// before its end for longer than the timeout; the first error of `apply`.
    pub(crate) fn restore(
        &self,
        topic: &str,
        partition: i32,
        apply: &mut dyn FnMut(&[u8], Option<&[u8]>) -> Result<()>,
    ) -> Result<u64> {
        let (low, high) = self.watermarks(topic, partition)?;
        if high <= low {
            return Ok(0);
        }
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, Offset::Beginning)
            .map_err(|e| kafka_error("cannot list the changelog partition", e))?;
        self.consumer.assign(&list).map_err(|e| kafka_error("cannot assign the changelog partition", e))?;
        let result = self.read_until(topic, partition, high, apply);
        let _ = self.consumer.unassign();
        result
    }

    /// The partition's first and end offsets, retried until the timeout: a changelog created
    /// moments ago may have no leader yet.
    fn watermarks(&self, topic: &str, partition: i32) -> Result<(i64, i64)> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.consumer.fetch_watermarks(topic, partition, self.timeout) {
                Ok(marks) => return Ok(marks),
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(topic, partition, error = %e, "retrying to read the changelog's end offset");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => {
                    let what = format!("cannot read the end offset of changelog `{topic}` [{partition}]");
                    return Err(kafka_error(&what, e));
                }
            }
        }
    }

    fn read_until(
        &self,
        topic: &str,
        partition: i32,
        high: i64,
        apply: &mut dyn FnMut(&[u8], Option<&[u8]>) -> Result<()>,
    ) -> Result<u64> {
        let mut applied = 0u64;
        let mut last_progress = Instant::now();
        loop {
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) if message.topic() != topic || message.partition() != partition => {}
                Some(Ok(message)) => {
                    last_progress = Instant::now();
                    if message.offset() >= high {
                        return Ok(applied);
                    }
                    apply(message.key().unwrap_or_default(), message.payload())?;
                    applied += 1;
                    if message.offset() >= high - 1 {
                        return Ok(applied);
                    }
                }
                Some(Err(KafkaError::PartitionEOF(p))) if p == partition => return Ok(applied),
                Some(Err(KafkaError::PartitionEOF(_))) => {}
                Some(Err(e)) => return Err(kafka_error(&format!("cannot read changelog `{topic}` [{partition}]"), e)),
                None if last_progress.elapsed() > self.timeout => {
                    return Err(StreamsError::Kafka {
                        message: format!(
                            "restoring from changelog `{topic}` [{partition}] made no progress for {:?} \
                             (end offset {high}, {applied} records read)",
                            self.timeout
                        ),
                        retriable: true,
                    })
                }
                None => {}
            }
        }
    }
}
