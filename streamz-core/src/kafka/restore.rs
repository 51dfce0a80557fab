//! Reading a changelog partition from a store's checkpoint (or its beginning) to its end, to
//! restore the store.

use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::batch::BatchQueue;
use super::changelog_offsets::{start_offset, watermarks, LogEnd};
use super::kafka_error;
use super::logging::LoggedConsumer;
use crate::runtime::StreamsConfig;
use crate::{Result, StreamsError};

/// What a restore read: changelog offsets `from..end` (`end` is where the next restore
/// starts), `records` of them (fewer when compaction removed some, or transaction markers
/// and aborted records were skipped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Restored {
    pub(crate) from: i64,
    pub(crate) end: i64,
    pub(crate) records: u64,
}

/// How many records a restore takes from its consumer at a time.
const READ_BATCH: usize = 4096;

/// One changelog partition to restore, and where its records go.
pub(crate) struct RestoreJob<'a> {
    pub(crate) topic: &'a str,
    pub(crate) partition: i32,
    /// Where to start (the beginning when `None`).
    pub(crate) checkpoint: Option<i64>,
    pub(crate) sink: &'a mut dyn RestoreSink,
    /// Set by [`RestoreConsumer::restore_all`]: what was read, or `None` when the checkpoint
    /// is outside the partition's offsets.
    pub(crate) outcome: Option<Option<Restored>>,
}

/// Where a restore puts what it reads.
pub(crate) trait RestoreSink {
    /// Before the first record: the restore reads offsets `from..end`.
    fn start(&mut self, from: i64, end: i64) -> Result<()>;
    /// Applies the record at `offset`.
    fn apply(&mut self, offset: i64, key: &[u8], value: Option<&[u8]>) -> Result<()>;
}

/// A consumer outside the group that reads changelog partitions to their end offsets; it
/// commits nothing.
pub(crate) struct RestoreConsumer {
    consumer: LoggedConsumer,
    /// Where the log ends, open transactions included: decides whether a checkpoint is
    /// inside the changelog.
    log_end: LogEnd,
    /// Whether it reads `read_committed` (under exactly-once): its end offsets are then last
    /// stable offsets.
    read_committed: bool,
    timeout: Duration,
}

/// The configuration of a restore consumer: no group membership or commits, fetches of up to
/// 8 MiB (512 KiB per partition) with a small read-ahead
/// ([`read_ahead`](super::client::read_ahead)) of at most 20,000 records a partition, and an
/// end-of-partition event so gaps in offsets (compaction) do not stall it.
///
/// A changelog's records are often small (a count is a key and 8 bytes), and librdkafka keeps
/// each record it read ahead in a few hundred bytes of its own: a read-ahead bounded by bytes
/// alone would hold hundreds of thousands of records and more memory than the store it
/// restores. Records of 30 bytes restore as fast with these bounds, in less than half the
/// memory of 2 MiB fetches and 100,000 records.
pub(crate) fn restore_consumer_config(config: &StreamsConfig, bootstrap: &str, client_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    super::client::read_ahead(&mut c)
        .set("bootstrap.servers", bootstrap)
        .set("client.id", client_id)
        .set("log_level", "3")
        .set("group.id", format!("{}-restore", config.application_id))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        // Smaller fetches than a stream thread's 10 MiB: as fast here, in less memory.
        .set("max.partition.fetch.bytes", "524288")
        .set("fetch.max.bytes", "8388608");
    let mut c = super::client::outside_group_overrides(c, config);
    c.set("enable.partition.eof", "true");
    c
}

impl RestoreConsumer {
    /// A restore consumer; `timeout` bounds metadata requests and each wait for records.
    pub(crate) fn new(config: &ClientConfig, timeout: Duration) -> Result<Self> {
        let consumer = LoggedConsumer::create(config, "restore consumer")?;
        let read_committed = config.get("isolation.level") == Some("read_committed");
        Ok(RestoreConsumer { consumer, log_end: LogEnd::new(config, timeout)?, read_committed, timeout })
    }

    /// Restores every job's changelog partition from its checkpoint (its beginning when
    /// `None`) up to the partition's end offset at the time of the call, and passes each
    /// record's offset, key and value to the job's sink. Every partition is read in one pass
    /// (records and end-of-partition events name their topic and partition), so the stores
    /// of a task, and a store of `n` tasks, restore together: one wait for the ends, not one
    /// per store.
    /// Under exactly-once that end is the last stable offset: records of transactions still
    /// open are not read; but when a transaction is undecided at or after where the restore
    /// starts, it first waits until the transaction has ended (committed or aborted): a store
    /// restored up to it would miss what it commits (a commit whose marker has not reached
    /// the changelog yet, as after a broker stopped), and its task would go on from a state
    /// that was never committed. Sets each job's `outcome`: what was read (from a checkpoint past
    /// that end, nothing: the store already holds its own committed writes there), or
    /// `None`, reading nothing, when the checkpoint is outside the partition's offsets (the
    /// partition was deleted and created again, or truncated past it): that store must then
    /// be restored from the beginning.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when a partition cannot be read or stops delivering records
    /// before its end for longer than the timeout, or a transaction on it stays undecided
    /// that long (retriable); the first error of a sink.
    pub(crate) fn restore_all(&self, jobs: &mut [RestoreJob<'_>]) -> Result<()> {
        let mut todo = Vec::new();
        for (job_index, job) in jobs.iter_mut().enumerate() {
            let (low, mut high) = watermarks(self.consumer.inner(), job.topic, job.partition, self.timeout)?;
            // Under exactly-once the end is the last stable offset, and the end of the whole
            // log tells whether a transaction is open; otherwise only a checkpoint past the
            // end needs it.
            let log_end = match self.read_committed || job.checkpoint.is_some_and(|offset| offset > high) {
                true => self.log_end.get(job.topic, job.partition)?.max(high),
                false => high,
            };
            let Some(from) = start_offset(job.checkpoint, low, log_end) else {
                job.outcome = Some(None);
                continue;
            };
            // A transaction is undecided at `high` and the store is not past it. (A store
            // already past it holds its own committed writes, made after a zombie opened it.)
            if from <= high && high < log_end {
                high = self.stable_end(job.topic, job.partition, high, log_end)?;
            }
            if high <= from {
                job.outcome = Some(Some(Restored { from, end: from, records: 0 }));
                continue;
            }
            todo.push(Reading { job: job_index, from, end: high, records: 0, done: false });
        }
        if todo.is_empty() {
            return Ok(());
        }
        let result = self.read_all(jobs, &mut todo);
        let _ = self.consumer.unassign();
        result?;
        for r in todo {
            jobs[r.job].outcome = Some(Some(Restored { from: r.from, end: r.end, records: r.records }));
        }
        Ok(())
    }

    /// Reads the partitions of `readings` together until each reached its end.
    fn read_all(&self, jobs: &mut [RestoreJob<'_>], readings: &mut [Reading]) -> Result<()> {
        let mut assignment = TopicPartitionList::new();
        for r in readings.iter() {
            let job = &mut jobs[r.job];
            job.sink.start(r.from, r.end)?;
            assignment
                .add_partition_offset(job.topic, job.partition, Offset::Offset(r.from))
                .map_err(|e| kafka_error("cannot list a changelog partition", e))?;
        }
        self.consumer.assign(&assignment).map_err(|e| kafka_error("cannot assign the changelog partitions", e))?;
        let mut queue = BatchQueue::new(self.consumer.inner(), READ_BATCH)?;
        let mut open = readings.len();
        let mut last_progress = Instant::now();
        while open > 0 {
            let read = queue.read(Duration::from_millis(100), |consumed| {
                let partition = consumed.partition();
                let reading = readings.iter_mut().find(|r| {
                    !r.done && jobs[r.job].partition == partition && jobs[r.job].topic.as_bytes() == consumed.topic()
                });
                let ended = match (consumed.error(), reading) {
                    (None, Some(r)) => {
                        let offset = consumed.offset();
                        if offset < r.end {
                            jobs[r.job].sink.apply(offset, consumed.key().unwrap_or_default(), consumed.payload())?;
                            r.records += 1;
                        }
                        (offset >= r.end - 1).then_some(r)
                    }
                    (Some(RDKafkaErrorCode::PartitionEOF), Some(r)) => Some(r),
                    (None | Some(RDKafkaErrorCode::PartitionEOF), None) => None,
                    (Some(code), _) => {
                        return Err(kafka_error(
                            "cannot read a changelog partition",
                            KafkaError::MessageConsumption(code),
                        ))
                    }
                };
                if let Some(r) = ended {
                    r.done = true;
                    open -= 1;
                }
                Ok(())
            })?;
            self.consumer.drain_logs();
            match read {
                0 if last_progress.elapsed() > self.timeout => return Err(self.stalled(jobs, readings)),
                0 => {}
                _ => last_progress = Instant::now(),
            }
        }
        Ok(())
    }

    /// Waits until the last stable offset of `topic` `partition` (now `stable`) reaches
    /// `log_end`: until every transaction with records before `log_end` has ended. Returns
    /// the last stable offset then.
    ///
    /// # Errors
    ///
    /// A retriable [`StreamsError::Kafka`] when a transaction is still undecided after the
    /// timeout.
    fn stable_end(&self, topic: &str, partition: i32, mut stable: i64, log_end: i64) -> Result<i64> {
        let started = Instant::now();
        tracing::info!(
            topic,
            partition,
            stable,
            log_end,
            "a transaction on the changelog is undecided: waiting for it to end before restoring"
        );
        while stable < log_end {
            if started.elapsed() > self.timeout {
                return Err(StreamsError::Kafka {
                    message: format!(
                        "changelog `{topic}` [{partition}] holds records of a transaction still undecided after {:?} \
                         (last stable offset {stable}, log end {log_end}): the store cannot be restored before it ends",
                        self.timeout
                    ),
                    retriable: true,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
            stable = watermarks(self.consumer.inner(), topic, partition, self.timeout)?.1;
        }
        tracing::info!(topic, partition, stable, waited = ?started.elapsed(), "the changelog's transaction ended");
        Ok(stable)
    }

    /// The error of a restore whose partitions stopped delivering records before their end.
    fn stalled(&self, jobs: &[RestoreJob<'_>], readings: &[Reading]) -> StreamsError {
        let waiting: Vec<String> = readings
            .iter()
            .filter(|r| !r.done)
            .map(|r| {
                format!(
                    "`{}` [{}] (end offset {}, {} records read)",
                    jobs[r.job].topic, jobs[r.job].partition, r.end, r.records
                )
            })
            .collect();
        StreamsError::Kafka {
            message: format!(
                "restoring from changelog partitions made no progress for {:?}: {}",
                self.timeout,
                waiting.join(", ")
            ),
            retriable: true,
        }
    }
}

/// A changelog partition being read: its job, the offsets `from..end` to read, how many
/// records were applied and whether it reached its end.
struct Reading {
    job: usize,
    from: i64,
    end: i64,
    records: u64,
    done: bool,
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod tests;
