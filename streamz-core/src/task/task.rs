//! A task: queues, sources, punctuation and the processing of one record at a time.

use std::sync::{Arc, Mutex};

use super::policy::{self, ErrorPolicy};
use super::punctuation::first_due;
use super::queue::Queued;
use super::{lock, ErrorKind, PartitionGroup, PunctuationQueue, StoreEntry, TaskContext, TimestampPolicy};
use crate::error::{RecordPosition, StreamsError};
use crate::processor::{Punctuate, PunctuationType, Punctuator};
use crate::record::{Headers, RawRecord};
use crate::time::Timestamp;
use crate::Result;

/// The entry of a sub-topology: decodes raw records of its topics and forwards them.
pub(crate) trait SourceNode: Send {
    /// The event time of `raw` according to the source's timestamp extractor; `wall_clock`
    /// is the task's wall-clock time (the wall-clock extractor's answer).
    fn extract_timestamp(&self, raw: &RawRecord, wall_clock: Timestamp) -> Result<Timestamp>;
    /// Decodes `raw` and sends it down the sub-topology with event time `timestamp`; takes
    /// its headers, and leaves its key and value bytes to the caller.
    ///
    /// Applies the deserialization and processing policies: returns `Err` only for an error
    /// that stops the task.
    fn process(&mut self, raw: &mut RawRecord, timestamp: Timestamp, task: &mut TaskContext) -> Result<()>;
    /// The source's own deserialization policy, overriding the application's.
    fn deserialization_policy(&self) -> Option<ErrorPolicy>;
}

/// The sources of a task by topic: a short list, searched first for the topic of the last
/// record looked up. Records share their topic's name, so that is a pointer comparison.
#[derive(Default)]
pub(crate) struct Sources {
    by_topic: Vec<(Arc<str>, Box<dyn SourceNode>)>,
    /// The name last looked up (a record's) and the index of its source.
    last: Option<(Arc<str>, usize)>,
}

impl Sources {
    /// Sets the source of `topic`.
    pub(crate) fn insert(&mut self, topic: Arc<str>, source: Box<dyn SourceNode>) {
        self.last = None;
        match self.by_topic.iter_mut().find(|(t, _)| *t == topic) {
            Some(entry) => entry.1 = source,
            None => self.by_topic.push((topic, source)),
        }
    }

    /// The source of `topic`, if the task reads it.
    pub(crate) fn get_mut(&mut self, topic: &Arc<str>) -> Option<&mut Box<dyn SourceNode>> {
        let i = match &self.last {
            // The name is alive (held here), so its address names no other topic.
            Some((name, i)) if Arc::ptr_eq(name, topic) => *i,
            _ => {
                let i = self.by_topic.iter().position(|(t, _)| t == topic)?;
                self.last = Some((topic.clone(), i));
                i
            }
        };
        Some(&mut self.by_topic[i].1)
    }
}

/// One partition of one sub-topology.
pub(crate) struct Task {
    pub(crate) ctx: TaskContext,
    pub(crate) sources: Sources,
    queues: PartitionGroup,
    stream_punctuations: PunctuationQueue,
    wall_punctuations: PunctuationQueue,
    nodes: Vec<Arc<Mutex<dyn Punctuate>>>,
    /// Per changelog topic of the task's stores: the offset of its last record acknowledged
    /// since the stores last wrote their changes (see [`Task::commit_stores`]).
    acked: Vec<(Arc<str>, i64)>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").field("ctx", &self.ctx).field("buffered", &self.queues.len()).finish_non_exhaustive()
    }
}

impl Task {
    pub(crate) fn new(ctx: TaskContext) -> Self {
        Task {
            ctx,
            sources: Sources::default(),
            queues: PartitionGroup::default(),
            stream_punctuations: PunctuationQueue::default(),
            wall_punctuations: PunctuationQueue::default(),
            nodes: Vec::new(),
            acked: Vec::new(),
        }
    }

    /// Registers a node for punctuation and close.
    pub(crate) fn add_node(&mut self, node: Arc<Mutex<dyn Punctuate>>) {
        self.nodes.push(node);
    }

    /// Schedules a punctuation of `node`.
    pub(crate) fn schedule(
        &mut self,
        node: Arc<Mutex<dyn Punctuate>>,
        punctuator: Punctuator,
        interval: std::time::Duration,
        kind: PunctuationType,
    ) {
        let first = first_due(kind, interval, self.ctx.wall_clock);
        match kind {
            PunctuationType::StreamTime => self.stream_punctuations.add(first, interval, punctuator, node),
            PunctuationType::WallClockTime => self.wall_punctuations.add(first, interval, punctuator, node),
        }
    }

    /// Queues an input record, extracting its timestamp and applying the timestamp policy.
    pub(crate) fn add_record(&mut self, raw: RawRecord) -> Result<()> {
        let source = self.sources.get_mut(&raw.topic).ok_or_else(|| {
            StreamsError::Bug(format!(
                "task {} got a record of topic `{}` it does not read",
                self.ctx.task_id, raw.topic
            ))
        })?;
        let mut timestamp = match source.extract_timestamp(&raw, self.ctx.wall_clock) {
            Ok(t) => t,
            // A value timestamp extractor decodes the value when the record is queued.
            Err(e @ StreamsError::Deserialization { .. }) => {
                let position =
                    RecordPosition { topic: raw.topic.clone(), partition: raw.partition, offset: raw.offset };
                let policy =
                    source.deserialization_policy().unwrap_or_else(|| self.ctx.policies.deserialization.clone());
                let kind = ErrorKind::Deserialization;
                return policy::apply(&mut self.ctx, &policy, kind, "deserialization", &position, Some(&raw), e);
            }
            Err(e) => return Err(e),
        };
        if timestamp.0 < 0 {
            let position = RecordPosition { topic: raw.topic.clone(), partition: raw.partition, offset: raw.offset };
            match self.ctx.policies.timestamp {
                TimestampPolicy::Fail => {
                    return Err(StreamsError::InvalidTimestamp { position, timestamp: timestamp.0 })
                }
                TimestampPolicy::SkipAndCount => {
                    self.ctx.metrics.record_dropped("source", "invalid-timestamp");
                    return Ok(());
                }
                TimestampPolicy::UsePartitionTime => {
                    let partition_time = self.queues.partition_time(&raw.topic, raw.partition);
                    if partition_time.0 < 0 {
                        self.ctx.metrics.record_dropped("source", "invalid-timestamp");
                        return Ok(());
                    }
                    timestamp = partition_time;
                }
            }
        }
        self.queues.push(Queued { raw, timestamp });
        Ok(())
    }

    /// Processes the queued record with the smallest timestamp, then fires due stream-time
    /// punctuations. Returns `false` when nothing was queued.
    pub(crate) fn process_next(&mut self) -> Result<bool> {
        let Some(Queued { mut raw, timestamp }) = self.queues.pop() else {
            return Ok(false);
        };
        // The topic name is shared: replace it only when the record comes from another topic.
        let position = &mut self.ctx.position;
        if !Arc::ptr_eq(&position.topic, &raw.topic) {
            position.topic = raw.topic.clone();
        }
        (position.partition, position.offset) = (raw.partition, raw.offset);
        self.ctx.stream_time = self.ctx.stream_time.max(timestamp);
        let source = self.sources.get_mut(&raw.topic).ok_or_else(|| {
            StreamsError::Bug(format!("task {} lost the source of topic `{}`", self.ctx.task_id, raw.topic))
        })?;
        let processed = source.process(&mut raw, timestamp, &mut self.ctx);
        // The next records read are copied into these bytes.
        for bytes in [raw.key.take(), raw.value.take()].into_iter().flatten() {
            super::buffers::give_back(bytes);
        }
        processed?;
        self.send_changelog(timestamp)?;
        if !self.stream_punctuations.is_empty() {
            let now = self.ctx.stream_time;
            self.stream_punctuations.fire(now, &mut self.ctx)?;
            self.send_changelog(now)?;
        }
        Ok(true)
    }

    /// Sets the wall clock to `now` and fires due wall-clock punctuations.
    pub(crate) fn punctuate_wall_clock(&mut self, now: Timestamp) -> Result<bool> {
        self.ctx.wall_clock = now;
        let fired = self.wall_punctuations.fire(now, &mut self.ctx)?;
        if fired {
            // Stream time, or the wall clock before the task saw its first record.
            let time = if self.ctx.stream_time.0 >= 0 { self.ctx.stream_time } else { now };
            self.send_changelog(time)?;
        }
        Ok(fired)
    }

    /// Sends what the task's logged stores changed to their changelogs, at the task's
    /// partition, with `timestamp`.
    fn send_changelog(&mut self, timestamp: Timestamp) -> Result<()> {
        let mut buffer = lock(&self.ctx.changelog);
        if let Some(e) = buffer.error.take() {
            return Err(e);
        }
        let partition = Some(self.ctx.task_id.partition);
        let headers = Headers::new();
        let sent = buffer
            .records()
            .try_for_each(|r| self.ctx.collector.send(r.topic, partition, Some(r.key), r.value, timestamp, &headers));
        buffer.clear();
        sent
    }

    /// Commits the task's state: each processor flushes what it holds back (the record caches
    /// of its stores), parents before children; then the changelog records this made are sent
    /// (with the task's stream time) and the stores are flushed.
    pub(crate) fn flush(&mut self) -> Result<()> {
        // A node is registered after its children: reversed, parents come first.
        for node in self.nodes.iter().rev() {
            lock(node).flush(&mut self.ctx)?;
        }
        let time = if self.ctx.stream_time.0 >= 0 { self.ctx.stream_time } else { self.ctx.wall_clock };
        self.send_changelog(time)?;
        self.ctx.flush_stores()
    }

    /// After a successful commit: notes the offsets of the records of the task's changelog
    /// partitions that were acknowledged (`acked`: topic, partition, offset of the last one);
    /// then makes the changes of the stores without a changelog durable and, when `logged`,
    /// those of the logged stores, each with its checkpoint: the offset after the last
    /// acknowledged record of its changelog partition.
    ///
    /// A logged store that does not write keeps its changes (committed to the changelog)
    /// in memory; its checkpoint on disk stays at its last write, so a crash restores them
    /// from the changelog.
    ///
    /// # Errors
    ///
    /// The first store that cannot write.
    pub(crate) fn commit_stores(&mut self, acked: &[(String, i32, i64)], logged: bool) -> Result<()> {
        let partition = self.ctx.task_id.partition;
        for (topic, _, offset) in acked.iter().filter(|(_, p, _)| *p == partition) {
            match self.acked.iter_mut().find(|(t, _)| **t == **topic) {
                Some(last) => last.1 = last.1.max(*offset),
                None => {
                    let mine = self.ctx.stores.values().filter_map(StoreEntry::changelog_topic);
                    if let Some(t) = mine.into_iter().find(|t| ***t == **topic) {
                        self.acked.push((t.clone(), *offset));
                    }
                }
            }
        }
        for entry in self.ctx.stores.values() {
            match entry.changelog_topic() {
                None => entry.control.commit(None)?,
                Some(_) if !logged => {}
                Some(topic) => {
                    let last = self.acked.iter().find(|(t, _)| t == topic);
                    entry.control.commit(last.map(|(_, offset)| offset + 1))?;
                }
            }
        }
        if logged {
            self.acked.clear();
        }
        Ok(())
    }

    /// Closes every processor.
    pub(crate) fn close(&mut self) {
        for node in &self.nodes {
            lock(node).close();
        }
    }
}

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
