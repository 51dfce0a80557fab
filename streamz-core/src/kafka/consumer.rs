//! A consumer of the application's group, with rebalance callbacks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, ConsumerGroupMetadata, Rebalance};
use rdkafka::message::{Headers as _, Message};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use super::kafka_error;
use crate::record::{Headers, RawRecord};
use crate::time::Timestamp;
use crate::Result;

/// Offsets to commit: topic, partition, next offset to read.
pub(crate) type Offsets = [(Arc<str>, i32, i64)];

/// The consumer group's generation and member id, to send offsets in a transaction with.
pub(crate) struct GroupMetadata(pub(super) ConsumerGroupMetadata);

/// Commits offsets of the group, or describes the group for a transaction to commit them.
pub(crate) trait OffsetCommitter {
    /// Commits `offsets` synchronously (at-least-once).
    fn commit(&self, offsets: &Offsets) -> Result<()>;
    /// The group's current metadata (exactly-once).
    fn group_metadata(&self) -> Option<GroupMetadata>;
}

impl OffsetCommitter for BaseConsumer<RebalanceContext> {
    fn commit(&self, offsets: &Offsets) -> Result<()> {
        commit_with(self, offsets)
    }

    fn group_metadata(&self) -> Option<GroupMetadata> {
        Consumer::group_metadata(self).map(GroupMetadata)
    }
}

/// What a stream thread does when its partitions change. Called from within `poll`.
pub(crate) trait PartitionEvents: Send + Sync {
    /// `partitions` are about to be taken away: finish and commit their work with `committer`.
    fn revoked(&self, partitions: &[(String, i32)], committer: &dyn OffsetCommitter);
    /// `partitions` were lost: the group gave them to other members already (this one missed
    /// its session timeout), so their work must not be committed.
    fn lost(&self, partitions: &[(String, i32)]);
    /// `partitions` were assigned.
    fn assigned(&self, partitions: &[(String, i32)]);
}

pub(crate) struct RebalanceContext {
    events: Arc<dyn PartitionEvents>,
    /// How long an assignment waits for the committed offsets of its partitions to be stable.
    stable_wait: Duration,
}

impl ClientContext for RebalanceContext {}

fn partitions(list: &TopicPartitionList) -> Vec<(String, i32)> {
    list.elements().iter().map(|e| (e.topic().to_string(), e.partition())).collect()
}

fn commit_with(consumer: &BaseConsumer<RebalanceContext>, offsets: &Offsets) -> Result<()> {
    if offsets.is_empty() {
        return Ok(());
    }
    let mut list = TopicPartitionList::with_capacity(offsets.len());
    for (topic, partition, offset) in offsets {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(|e| kafka_error("cannot list offsets", e))?;
    }
    Consumer::commit(consumer, &list, CommitMode::Sync).map_err(|e| kafka_error("cannot commit offsets", e))
}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            match consumer.assignment_lost() {
                true => self.events.lost(&partitions(list)),
                false => self.events.revoked(&partitions(list), consumer),
            }
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            wait_for_stable_offsets(consumer, list, self.stable_wait);
            self.events.assigned(&partitions(list));
        }
    }
}

/// Reads the committed offsets of newly assigned partitions before their tasks restore their
/// state. A `read_committed` consumer asks for *stable* offsets: the broker holds the answer
/// while a transaction that sent offsets for these partitions is open, i.e. while a previous
/// owner's commit is in flight. Its changelog records must be readable (committed or
/// aborted) before the restore decides where the changelogs end. After `wait` the tasks go on
/// (the consumer still waits for stable offsets before it fetches).
fn wait_for_stable_offsets(consumer: &BaseConsumer<RebalanceContext>, list: &TopicPartitionList, wait: Duration) {
    if list.count() == 0 {
        return;
    }
    if let Err(e) = consumer.committed_offsets(list.clone(), wait) {
        tracing::warn!(error = %e, "cannot read the committed offsets of the assigned partitions; restoring anyway");
    }
}

/// A group member reading the topology's source topics in batches.
pub(crate) struct StreamConsumer {
    consumer: BaseConsumer<RebalanceContext>,
    topics: HashMap<String, Arc<str>>,
}

impl StreamConsumer {
    /// A consumer of `config`'s group whose rebalances `events` handle; an assignment waits up
    /// to `stable_wait` for transactions committing offsets of its partitions to end.
    pub(crate) fn new(config: &ClientConfig, events: Arc<dyn PartitionEvents>, stable_wait: Duration) -> Result<Self> {
        let consumer = config
            .create_with_context(RebalanceContext { events, stable_wait })
            .map_err(|e| kafka_error("cannot create the consumer", e))?;
        Ok(StreamConsumer { consumer, topics: HashMap::new() })
    }

    /// Joins the group, reading `topics`.
    pub(crate) fn subscribe(&mut self, topics: &[String]) -> Result<()> {
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        self.consumer.subscribe(&names).map_err(|e| kafka_error("cannot subscribe", e))?;
        for t in topics {
            self.topics.insert(t.clone(), Arc::from(t.as_str()));
        }
        Ok(())
    }

    /// Up to `max` records: waits up to `timeout` for the first, then takes what is buffered.
    /// Stops early when `stop()` turns true after a poll (a rebalance happened in it).
    pub(crate) fn poll_batch(
        &mut self,
        max: usize,
        timeout: Duration,
        stop: &dyn Fn() -> bool,
    ) -> Result<Vec<RawRecord>> {
        let mut out = Vec::new();
        let mut wait = timeout;
        while out.len() < max {
            let polled = self.consumer.poll(wait);
            if stop() {
                break;
            }
            let Some(message) = polled else { break };
            wait = Duration::ZERO;
            let message = match message {
                Ok(m) => m,
                Err(e) if super::is_transient(&e) => {
                    tracing::warn!(error = %e, "consumer error, retrying");
                    break;
                }
                Err(e) => return Err(kafka_error("cannot consume", e)),
            };
            out.push(to_raw(&message, &mut self.topics));
        }
        Ok(out)
    }

    /// The consumer, to commit offsets with.
    pub(crate) fn committer(&self) -> &dyn OffsetCommitter {
        &self.consumer
    }

    /// Moves every assigned partition back to its committed offset (the beginning when none
    /// is committed), dropping what was fetched beyond it.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the assignment or the
    /// committed offsets cannot be read, or a seek fails.
    pub(crate) fn rewind_to_committed(&self, timeout: Duration) -> Result<()> {
        let assigned = self.consumer.assignment().map_err(|e| kafka_error("cannot read the assignment", e))?;
        if assigned.count() == 0 {
            return Ok(());
        }
        let committed = self
            .consumer
            .committed_offsets(assigned, timeout)
            .map_err(|e| kafka_error("cannot read the committed offsets", e))?;
        for e in committed.elements() {
            let offset = match e.offset() {
                Offset::Offset(o) => Offset::Offset(o),
                _ => Offset::Beginning,
            };
            self.consumer
                .seek(e.topic(), e.partition(), offset, timeout)
                .map_err(|err| kafka_error(&format!("cannot seek `{}` [{}]", e.topic(), e.partition()), err))?;
        }
        Ok(())
    }

    /// Leaves the group (revoking partitions through the callbacks).
    pub(crate) fn unsubscribe(&self) {
        self.consumer.unsubscribe();
    }
}

/// A raw record of `message`, with its topic name shared through `topics`.
pub(super) fn to_raw<M: Message>(message: &M, topics: &mut HashMap<String, Arc<str>>) -> RawRecord {
    let topic = match topics.get(message.topic()) {
        Some(t) => t.clone(),
        None => {
            let t: Arc<str> = Arc::from(message.topic());
            topics.insert(message.topic().to_string(), t.clone());
            t
        }
    };
    let headers: Headers = message
        .headers()
        .map(|hs| hs.iter().map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))).collect())
        .unwrap_or_default();
    RawRecord {
        topic,
        partition: message.partition(),
        offset: message.offset(),
        timestamp: Timestamp(message.timestamp().to_millis().unwrap_or(-1)),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers,
    }
}

/// A consumer outside the group reading every partition of the global tables' topics.
pub(crate) struct GlobalConsumer {
    consumer: BaseConsumer,
    topics: HashMap<String, Arc<str>>,
}

impl GlobalConsumer {
    /// Assigns every partition of `topics` from the beginning; returns each partition's end
    /// offset (where the initial load ends).
    pub(crate) fn assign_all(
        config: &ClientConfig,
        topics: &[String],
        timeout: Duration,
    ) -> Result<(Self, Vec<(String, i32, i64)>)> {
        let consumer: BaseConsumer =
            config.create().map_err(|e| kafka_error("cannot create the global consumer", e))?;
        let mut list = TopicPartitionList::new();
        let mut ends = Vec::new();
        for topic in topics {
            let metadata = consumer
                .fetch_metadata(Some(topic), timeout)
                .map_err(|e| kafka_error(&format!("cannot read metadata of `{topic}`"), e))?;
            for t in metadata.topics() {
                for p in t.partitions() {
                    let (_, high) = consumer
                        .fetch_watermarks(topic, p.id(), timeout)
                        .map_err(|e| kafka_error("cannot read end offsets", e))?;
                    list.add_partition_offset(topic, p.id(), Offset::Beginning)
                        .map_err(|e| kafka_error("cannot list partitions", e))?;
                    ends.push((topic.clone(), p.id(), high));
                }
            }
        }
        consumer.assign(&list).map_err(|e| kafka_error("cannot assign the global partitions", e))?;
        Ok((GlobalConsumer { consumer, topics: HashMap::new() }, ends))
    }

    /// Up to `max` records, waiting up to `timeout` for the first.
    pub(crate) fn poll_batch(&mut self, max: usize, timeout: Duration) -> Result<Vec<RawRecord>> {
        let mut out = Vec::new();
        let mut wait = timeout;
        while out.len() < max {
            let Some(message) = self.consumer.poll(wait) else { break };
            wait = Duration::ZERO;
            let message = message.map_err(|e| kafka_error("cannot consume a global topic", e))?;
            out.push(to_raw(&message, &mut self.topics));
        }
        Ok(out)
    }
}
