//! The Kafka side of standby replicas: which member of the application's consumer group owns
//! which input partitions (read from the group's description, classic protocol), and a
//! consumer outside the group that tails changelog partitions.

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::batch::BatchQueue;
use super::changelog_offsets::{watermarks, LogEnd};
use super::kafka_error;
use super::logging::LoggedConsumer;
use crate::{Result, StreamsError};

/// A member of the consumer group and the input partitions assigned to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupMember {
    pub(crate) client_id: String,
    pub(crate) partitions: Vec<(String, i32)>,
}

/// Decodes a member assignment of the classic consumer protocol (`ConsumerProtocolAssignment`:
/// version, then topics with their partitions, then user data, ignored); `None` when the
/// bytes are not one.
pub(crate) fn parse_assignment(bytes: &[u8]) -> Option<Vec<(String, i32)>> {
    let mut r = Reader(bytes);
    let _version = r.i16()?;
    let topics = r.i32()?;
    let mut out = Vec::new();
    for _ in 0..topics.max(0) {
        let len = usize::try_from(r.i16()?).ok()?;
        let topic = std::str::from_utf8(r.take(len)?).ok()?.to_string();
        let partitions = r.i32()?;
        for _ in 0..partitions.max(0) {
            out.push((topic.clone(), r.i32()?));
        }
    }
    Some(out)
}

/// Big-endian reads from a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// A consumer outside the group reading changelog partitions as they grow, from the offsets
/// it is given; it also describes the application's group.
pub(crate) struct ChangelogTail {
    consumer: LoggedConsumer,
    /// Where the log ends, open transactions included.
    log_end: LogEnd,
    timeout: Duration,
}

impl ChangelogTail {
    /// A tail consumer (`config` as for restoring); `timeout` bounds each request.
    pub(crate) fn new(config: &ClientConfig, timeout: Duration) -> Result<Self> {
        let consumer = LoggedConsumer::create(config, "standby consumer")?;
        Ok(ChangelogTail { consumer, log_end: LogEnd::new(config, timeout)?, timeout })
    }

    /// The members of consumer group `group` with their assignments, or `None` while the
    /// group is not stable (rebalancing, empty, or using a protocol other than the classic
    /// consumer protocol).
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the group cannot be described.
    pub(crate) fn group_members(&self, group: &str) -> Result<Option<Vec<GroupMember>>> {
        let list = self
            .consumer
            .fetch_group_list(Some(group), self.timeout)
            .map_err(|e| kafka_error(&format!("cannot describe consumer group `{group}`"), e))?;
        let Some(info) = list.groups().iter().find(|g| g.name() == group) else { return Ok(None) };
        if info.state() != "Stable" || info.protocol_type() != "consumer" {
            return Ok(None);
        }
        let mut members = Vec::with_capacity(info.members().len());
        for m in info.members() {
            let Some(partitions) = m.assignment().and_then(parse_assignment) else { return Ok(None) };
            members.push(GroupMember { client_id: m.client_id().to_string(), partitions });
        }
        Ok(Some(members))
    }

    /// The first offset of `topic` `partition` and its end including the records of
    /// transactions still open (which a `read_committed` standby reads once they commit).
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the broker does not answer.
    pub(crate) fn offsets(&self, topic: &str, partition: i32) -> Result<(i64, i64)> {
        let (low, high) = watermarks(self.consumer.inner(), topic, partition, self.timeout)?;
        Ok((low, self.log_end.get(topic, partition)?.max(high)))
    }

    /// Starts reading `topic` `partition` at offset `from`.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the partition cannot be added.
    pub(crate) fn add(&self, topic: &str, partition: i32, from: i64) -> Result<()> {
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, Offset::Offset(from))
            .map_err(|e| kafka_error("cannot list a changelog partition", e))?;
        self.consumer
            .incremental_assign(&list)
            .map_err(|e| kafka_error(&format!("cannot start tailing changelog `{topic}` [{partition}]"), e))
    }

    /// Stops reading `topic` `partition`.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the partition cannot be removed.
    pub(crate) fn remove(&self, topic: &str, partition: i32) -> Result<()> {
        let mut list = TopicPartitionList::new();
        list.add_partition(topic, partition);
        self.consumer
            .incremental_unassign(&list)
            .map_err(|e| kafka_error(&format!("cannot stop tailing changelog `{topic}` [{partition}]"), e))
    }

    /// Passes up to `max` records to `apply` (topic, partition, offset, key, value): waits up
    /// to `wait` for the first, then takes what is already fetched, in one batch read of the
    /// client's queue. Returns how many.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when a partition cannot be read;
    /// the first error of `apply`.
    pub(crate) fn poll(
        &self,
        max: usize,
        wait: Duration,
        apply: &mut dyn FnMut(&str, i32, i64, &[u8], Option<&[u8]>) -> Result<()>,
    ) -> Result<usize> {
        self.consumer.drain_logs();
        let mut queue = BatchQueue::new(self.consumer.inner(), max)?;
        let mut n = 0;
        queue.read(wait, |consumed| match consumed.error() {
            None => {
                let topic = std::str::from_utf8(consumed.topic())
                    .map_err(|_| StreamsError::Bug("a changelog topic name that is not UTF-8".into()))?;
                apply(
                    topic,
                    consumed.partition(),
                    consumed.offset(),
                    consumed.key().unwrap_or_default(),
                    consumed.payload(),
                )?;
                n += 1;
                Ok(())
            }
            Some(RDKafkaErrorCode::PartitionEOF) => Ok(()),
            Some(code) => {
                Err(kafka_error("cannot read a changelog for a standby", KafkaError::MessageConsumption(code)))
            }
        })?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assignment(topics: &[(&str, &[i32])], user_data: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&3i16.to_be_bytes());
        b.extend_from_slice(&(topics.len() as i32).to_be_bytes());
        for (topic, partitions) in topics {
            b.extend_from_slice(&(topic.len() as i16).to_be_bytes());
            b.extend_from_slice(topic.as_bytes());
            b.extend_from_slice(&(partitions.len() as i32).to_be_bytes());
            for p in *partitions {
                b.extend_from_slice(&p.to_be_bytes());
            }
        }
        b.extend_from_slice(&(user_data.len() as i32).to_be_bytes());
        b.extend_from_slice(user_data);
        b
    }

    #[test]
    fn assignments_of_the_classic_consumer_protocol_decode() {
        let bytes = assignment(&[("orders", &[0, 2]), ("app-counts-repartition", &[1])], b"ignored");
        let want = [("orders", 0), ("orders", 2), ("app-counts-repartition", 1)];
        let want: Vec<(String, i32)> = want.iter().map(|(t, p)| (t.to_string(), *p)).collect();
        assert_eq!(parse_assignment(&bytes), Some(want));
        assert_eq!(parse_assignment(&assignment(&[], b"")), Some(vec![]));
    }

    #[test]
    fn truncated_assignments_are_refused() {
        let bytes = assignment(&[("orders", &[0, 2])], b"");
        // Cut inside the partitions: not an assignment.
        assert_eq!(parse_assignment(&bytes[..bytes.len() - 6]), None);
        assert_eq!(parse_assignment(&[0]), None);
    }
}
