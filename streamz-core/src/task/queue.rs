//! Input queues of a task: one per input partition, processed in timestamp order.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::record::RawRecord;
use crate::time::Timestamp;

/// A record waiting to be processed, with its extracted timestamp.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) raw: RawRecord,
    pub(crate) timestamp: Timestamp,
}

#[derive(Debug)]
struct PartitionQueue {
    topic: Arc<str>,
    partition: i32,
    records: VecDeque<Queued>,
    /// The largest valid timestamp seen on this partition.
    partition_time: Timestamp,
}

/// The input partitions of a task. The next record is the head with the smallest timestamp
/// (ties go to the partition added first), so records of co-partitioned inputs interleave by
/// time.
#[derive(Debug, Default)]
pub(crate) struct PartitionGroup {
    queues: Vec<PartitionQueue>,
    buffered: usize,
}

impl PartitionGroup {
    fn queue(&mut self, topic: &Arc<str>, partition: i32) -> &mut PartitionQueue {
        // Records share their topic's name: most lookups end at the pointer comparison.
        let same = |q: &PartitionQueue| q.partition == partition && (Arc::ptr_eq(&q.topic, topic) || q.topic == *topic);
        let i = match self.queues.iter().position(same) {
            Some(i) => i,
            None => {
                self.queues.push(PartitionQueue {
                    topic: topic.clone(),
                    partition,
                    records: VecDeque::new(),
                    partition_time: Timestamp::MIN,
                });
                self.queues.len() - 1
            }
        };
        &mut self.queues[i]
    }

    /// The partition time of `topic`/`partition`.
    pub(crate) fn partition_time(&mut self, topic: &Arc<str>, partition: i32) -> Timestamp {
        self.queue(topic, partition).partition_time
    }

    /// Appends a record.
    pub(crate) fn push(&mut self, queued: Queued) {
        let q = self.queue(&queued.raw.topic, queued.raw.partition);
        q.partition_time = q.partition_time.max(queued.timestamp);
        q.records.push_back(queued);
        self.buffered += 1;
    }

    /// Removes the head record with the smallest timestamp.
    pub(crate) fn pop(&mut self) -> Option<Queued> {
        let best =
            self.queues.iter().enumerate().filter_map(|(i, q)| q.records.front().map(|r| (r.timestamp, i))).min()?.1;
        self.buffered -= 1;
        self.queues[best].records.pop_front()
    }

    /// The number of buffered records.
    pub(crate) fn len(&self) -> usize {
        self.buffered
    }
}
