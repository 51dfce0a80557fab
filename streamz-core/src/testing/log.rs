//! The driver's topics: every record written, per topic, with what readers have consumed.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::record::{Headers, RawRecord};
use crate::task::{default_partition, lock, FastMap, RecordCollector};
use crate::time::Timestamp;
use crate::{Result, StreamsError};

/// One topic: its records in the order written, and how many a [`TestOutputTopic`] has read.
///
/// [`TestOutputTopic`]: super::TestOutputTopic
pub(crate) struct TopicLog {
    /// The name, shared by the topic's records.
    name: Arc<str>,
    partitions: i32,
    next_offsets: BTreeMap<i32, i64>,
    pub(crate) records: Vec<RawRecord>,
    pub(crate) read: usize,
}

/// Records written to topics, kept per topic, with those still to be routed to readers.
#[derive(Default)]
pub(crate) struct Log {
    pub(crate) topics: FastMap<String, TopicLog>,
    pub(crate) pending: VecDeque<RawRecord>,
    /// Partition counts of the topics the plan knows (others have one partition).
    partitions: BTreeMap<String, i32>,
    round_robin: i32,
}

impl Log {
    /// An empty log of topics with these partition counts (others have one partition).
    pub(crate) fn new(partitions: BTreeMap<String, i32>) -> Self {
        Log { partitions, ..Log::default() }
    }

    /// Appends a record: picks its partition and offset, and keeps it.
    pub(crate) fn append(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        timestamp: Timestamp,
        headers: Headers,
    ) -> RawRecord {
        if !self.topics.contains_key(topic) {
            let log = TopicLog {
                name: Arc::from(topic),
                partitions: self.partitions.get(topic).copied().unwrap_or(1),
                next_offsets: BTreeMap::new(),
                records: Vec::new(),
                read: 0,
            };
            self.topics.insert(topic.to_string(), log);
        }
        let Some(log) = self.topics.get_mut(topic) else { unreachable!("the topic was just added") };
        let n = log.partitions;
        let partition = partition.unwrap_or_else(|| match &key {
            Some(k) => default_partition(k, n),
            None => {
                self.round_robin = self.round_robin.wrapping_add(1);
                self.round_robin.rem_euclid(n)
            }
        });
        let offset = log.next_offsets.entry(partition).or_insert(0);
        let raw = RawRecord { topic: log.name.clone(), partition, offset: *offset, timestamp, key, value, headers };
        *offset += 1;
        log.records.push(raw.clone());
        raw
    }

    /// Every record of `topic`.
    pub(crate) fn records(&self, topic: &str) -> &[RawRecord] {
        self.topics.get(topic).map_or(&[], |t| &t.records)
    }
}

/// The record collector of the driver's tasks: appends to the log and queues for readers.
pub(crate) struct Collector {
    pub(crate) log: Arc<Mutex<Log>>,
    /// Records larger than this are rejected.
    pub(crate) max_record_bytes: Option<usize>,
}

impl RecordCollector for Collector {
    fn send(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: Timestamp,
        headers: &Headers,
    ) -> Result<()> {
        if let Some(max) = self.max_record_bytes {
            let header_bytes: usize = headers.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len)).sum();
            let size = key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len) + header_bytes;
            if size > max {
                return Err(StreamsError::RecordRejected {
                    topic: topic.to_string(),
                    message: format!("the record is {size} bytes, larger than the maximum of {max}"),
                });
            }
        }
        let mut log = lock(&self.log);
        let raw = log.append(
            topic,
            partition,
            key.map(<[u8]>::to_vec),
            value.map(<[u8]>::to_vec),
            timestamp,
            headers.clone(),
        );
        log.pending.push_back(raw);
        Ok(())
    }
}
