//! A consumer of the application's group, with rebalance callbacks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, ConsumerGroupMetadata, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers as _, Message};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use super::batch::{BatchQueue, Consumed, RecordQueue};
use super::kafka_error;
use super::logging::LoggedConsumer;
use super::repeated::RepeatedWarning;
use crate::record::{Headers, RawRecord};
use crate::task::{buffers, lock};
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
    /// Partitions assigned since the stream consumer last forwarded them to its record queue.
    to_forward: Mutex<Vec<(String, i32)>>,
}

impl ClientContext for RebalanceContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, facility: &str, message: &str) {
        super::logging::emit(level, facility, message);
    }
}

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
            let assigned = partitions(list);
            self.events.assigned(&assigned);
            lock(&self.to_forward).extend(assigned);
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

/// How long a poll waits for records at most before it serves the consumer's events again
/// (rebalances among them).
const EVENT_WAIT: Duration = Duration::from_millis(10);

/// How many records a poll takes from the record queue at once, at least.
const READ_BATCH: usize = 4096;

/// A group member reading the topology's source topics in batches.
///
/// Its assigned partitions are forwarded to a queue of its own, read a batch at a time; the
/// consumer queue keeps the group's events (served by each poll) and the records fetched
/// before their partition was forwarded, which are read first.
pub(crate) struct StreamConsumer {
    /// Declared before `consumer`: dropped before it.
    records: RecordQueue,
    consumer: BaseConsumer<RebalanceContext>,
    topics: TopicNames,
    /// Transient errors: logged when they start and end, not at every poll.
    warnings: RepeatedWarning,
}

impl StreamConsumer {
    /// A consumer of `config`'s group whose rebalances `events` handle; an assignment waits up
    /// to `stable_wait` for transactions committing offsets of its partitions to end.
    pub(crate) fn new(config: &ClientConfig, events: Arc<dyn PartitionEvents>, stable_wait: Duration) -> Result<Self> {
        let context = RebalanceContext { events, stable_wait, to_forward: Mutex::new(Vec::new()) };
        let consumer: BaseConsumer<RebalanceContext> =
            config.create_with_context(context).map_err(|e| kafka_error("cannot create the consumer", e))?;
        // SAFETY: `records` is declared before `consumer`, so it is dropped first.
        let records = unsafe { RecordQueue::new(&consumer, READ_BATCH) };
        Ok(StreamConsumer { records, consumer, topics: TopicNames::default(), warnings: consumer_warnings() })
    }

    /// Joins the group, reading `topics`.
    pub(crate) fn subscribe(&mut self, topics: &[String]) -> Result<()> {
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        self.consumer.subscribe(&names).map_err(|e| kafka_error("cannot subscribe", e))
    }

    /// Up to `max` records: waits up to `timeout` for the first (serving the group's events at
    /// least every 10 ms meanwhile), then takes what is buffered. Stops early when `stop()`
    /// turns true after a poll of the consumer (a rebalance happened in it).
    pub(crate) fn poll_batch(
        &mut self,
        max: usize,
        timeout: Duration,
        stop: &dyn Fn() -> bool,
    ) -> Result<Vec<RawRecord>> {
        let mut out = Vec::new();
        if !self.poll_consumer(&mut out, max, stop)? {
            return Ok(out);
        }
        // Partitions forwarded now may have records on the consumer queue still: those come
        // before anything forwarded, so take them first.
        if self.forward_assigned()? && !self.poll_consumer(&mut out, max, stop)? {
            return Ok(out);
        }
        if out.len() < max {
            let wait = if out.is_empty() { timeout.min(EVENT_WAIT) } else { Duration::ZERO };
            let records = &mut self.records;
            let room = max - out.len();
            let warnings = &mut self.warnings;
            read_into(|each| records.read(room, wait, each), &mut self.topics, &mut out, |_, _, _| false, warnings)?;
        }
        if !out.is_empty() {
            self.warnings.over();
        }
        Ok(out)
    }

    /// Serves the consumer queue without waiting: events, and records (into `out`, up to
    /// `max`). False when `stop()` turned true after a poll.
    fn poll_consumer(&mut self, out: &mut Vec<RawRecord>, max: usize, stop: &dyn Fn() -> bool) -> Result<bool> {
        while out.len() < max {
            let polled = self.consumer.poll(Duration::ZERO);
            if stop() {
                return Ok(false);
            }
            match polled {
                None => break,
                Some(Ok(message)) => out.push(to_raw(&message, &mut self.topics)),
                Some(Err(e)) => {
                    consumer_error(e, &mut self.warnings)?;
                    break;
                }
            }
        }
        Ok(true)
    }

    /// Forwards the partitions assigned since the last call to the record queue; true when
    /// there were any.
    fn forward_assigned(&mut self) -> Result<bool> {
        let assigned = std::mem::take(&mut *lock(&self.consumer.context().to_forward));
        for (topic, partition) in &assigned {
            self.records.forward(topic, *partition)?;
        }
        Ok(!assigned.is_empty())
    }

    /// The consumer, to commit offsets with.
    pub(crate) fn committer(&self) -> &dyn OffsetCommitter {
        &self.consumer
    }

    /// The partitions assigned to this member, as topic and partition.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the assignment cannot be read.
    pub(crate) fn assigned_partitions(&self) -> Result<Vec<(String, i32)>> {
        let assigned = self.consumer.assignment().map_err(|e| kafka_error("cannot read the assignment", e))?;
        Ok(partitions(&assigned))
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

/// Runs one batch read (`read` passes each message to the function it is given): records go
/// into `records`, with their topic names shared through `topics`; an event goes to `event`,
/// which returns whether it handled it. The first event not handled is reported after the read,
/// as [`consumer_error`] does.
fn read_into(
    read: impl FnOnce(&mut dyn FnMut(&Consumed<'_>) -> Result<()>) -> Result<usize>,
    topics: &mut TopicNames,
    records: &mut Vec<RawRecord>,
    mut event: impl FnMut(RDKafkaErrorCode, &Consumed<'_>, &mut TopicNames) -> bool,
    warnings: &mut RepeatedWarning,
) -> Result<()> {
    let mut failed = None;
    // The topic of the last record: a record of the same handle is of the same topic (every
    // message of a read lives until the read ends), found without reading its name.
    let mut last: Option<(*const rdkafka::bindings::rd_kafka_topic_t, Arc<str>)> = None;
    read(&mut |consumed| {
        match consumed.error() {
            None => {
                let handle = consumed.topic_handle();
                let topic = match &last {
                    Some((h, topic)) if *h == handle => topic.clone(),
                    _ => last.insert((handle, topics.get(consumed.topic()))).1.clone(),
                };
                records.push(raw_of(consumed, topic));
            }
            Some(code) if event(code, consumed, topics) => {}
            Some(code) => {
                failed.get_or_insert(KafkaError::MessageConsumption(code));
            }
        }
        Ok(())
    })?;
    match failed {
        Some(e) => consumer_error(e, warnings),
        None => Ok(()),
    }
}

/// A consumer error: logged when transient (the next poll tries again; a run of them is
/// logged as `warnings` says), else the error.
fn consumer_error(e: KafkaError, warnings: &mut RepeatedWarning) -> Result<()> {
    if !super::is_transient(&e) {
        return Err(kafka_error("cannot consume", e));
    }
    warnings.warn(&e);
    Ok(())
}

/// The repeated warning of a consumer's transient errors.
fn consumer_warnings() -> RepeatedWarning {
    RepeatedWarning::new("consumer error, retrying", RepeatedWarning::EVERY)
}

/// Topic names, shared by the records read from them.
#[derive(Default)]
pub(super) struct TopicNames(Vec<Arc<str>>);

impl TopicNames {
    /// The shared name of topic `name` (names are few: a linear search).
    fn get(&mut self, name: &[u8]) -> Arc<str> {
        if let Some(t) = self.0.iter().find(|t| t.as_bytes() == name) {
            return t.clone();
        }
        let t: Arc<str> = Arc::from(String::from_utf8_lossy(name));
        self.0.push(t.clone());
        t
    }
}

/// A raw record of `message`, with its topic name shared through `topics`.
pub(super) fn to_raw<M: Message>(message: &M, topics: &mut TopicNames) -> RawRecord {
    let headers: Headers = message
        .headers()
        .map(|hs| hs.iter().map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))).collect())
        .unwrap_or_default();
    RawRecord {
        topic: topics.get(message.topic().as_bytes()),
        partition: message.partition(),
        offset: message.offset(),
        timestamp: Timestamp(message.timestamp().to_millis().unwrap_or(-1)),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers,
    }
}

/// A raw record of a record of `topic` read in a batch.
fn raw_of(consumed: &Consumed<'_>, topic: Arc<str>) -> RawRecord {
    RawRecord {
        topic,
        partition: consumed.partition(),
        offset: consumed.offset(),
        timestamp: Timestamp(consumed.timestamp()),
        key: consumed.key().map(buffers::copy_of),
        value: consumed.payload().map(buffers::copy_of),
        headers: consumed.headers(),
    }
}

/// A consumer outside the group reading every partition of the global tables' topics.
pub(crate) struct GlobalConsumer {
    consumer: LoggedConsumer,
    topics: TopicNames,
    warnings: RepeatedWarning,
}

/// What one read of the global consumer got.
#[derive(Default)]
pub(crate) struct GlobalBatch {
    /// The records, in each partition's order.
    pub(crate) records: Vec<RawRecord>,
    /// The partitions (topic, partition) found at their end, after their records above: the
    /// high watermark, or the last stable offset for a `read_committed` consumer. A partition
    /// can end past its last record: at a transaction's marker, or with every record deleted.
    pub(crate) at_end: Vec<(Arc<str>, i32)>,
}

impl GlobalConsumer {
    /// Assigns every partition of `topics` from the beginning; returns each partition's end
    /// offset (where the initial load ends).
    pub(crate) fn assign_all(
        config: &ClientConfig,
        topics: &[String],
        timeout: Duration,
    ) -> Result<(Self, Vec<(String, i32, i64)>)> {
        let consumer = LoggedConsumer::create(config, "global consumer")?;
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
        Ok((GlobalConsumer { consumer, topics: TopicNames::default(), warnings: consumer_warnings() }, ends))
    }

    /// Up to `max` records (and the partitions that reached their end), waiting up to
    /// `timeout` for the first. Transient errors are logged; the next read tries again.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the consumer fails for good
    /// (e.g. a topic was deleted, or authorization was refused).
    pub(crate) fn poll_batch(&mut self, max: usize, timeout: Duration) -> Result<GlobalBatch> {
        let mut out = GlobalBatch::default();
        self.consumer.drain_logs();
        let mut queue = BatchQueue::new(self.consumer.inner(), max)?;
        let at_end = &mut out.at_end;
        let end = |code, consumed: &Consumed<'_>, topics: &mut TopicNames| {
            let ended = code == RDKafkaErrorCode::PartitionEOF;
            if ended {
                at_end.push((topics.get(consumed.topic()), consumed.partition()));
            }
            ended
        };
        read_into(|each| queue.read(timeout, each), &mut self.topics, &mut out.records, end, &mut self.warnings)?;
        if !out.records.is_empty() {
            self.warnings.over();
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "consumer_tests.rs"]
mod tests;
