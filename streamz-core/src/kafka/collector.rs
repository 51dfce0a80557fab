//! A record collector backed by a Kafka producer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientConfig, ClientContext};

use super::kafka_error;
use super::produce::{Outgoing, Topics};
use crate::record::Headers;
use crate::task::{lock, RecordCollector};
use crate::time::Timestamp;
use crate::{Result, StreamsError};

/// Remembers the first failed delivery, reported at the next flush, and the offset of the
/// last record acknowledged per changelog partition, which stores keep as their checkpoint;
/// counts the delivery reports served.
#[derive(Default)]
pub(crate) struct DeliveryTracker {
    failed: Mutex<Option<String>>,
    changelogs: Mutex<Vec<(String, i32, i64)>>,
    reports: AtomicU64,
}

/// Whether `topic` is a changelog (`<application id>-<store>-changelog`), whose acknowledged
/// offsets are tracked.
fn is_changelog(topic: &str) -> bool {
    topic.ends_with("-changelog")
}

/// The delivery opaque of a changelog record, whose acknowledged offset becomes a checkpoint;
/// other records carry [`UNTRACKED`]. Told at send time, so the delivery report of another
/// record needs not read (and check) its topic's name.
const CHANGELOG: usize = 1;
/// The delivery opaque of a record that is not a changelog's.
const UNTRACKED: usize = 0;

impl ClientContext for DeliveryTracker {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, facility: &str, message: &str) {
        super::logging::emit(level, facility, message);
    }
}

impl ProducerContext for DeliveryTracker {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, tracked: usize) {
        use rdkafka::Message;
        self.reports.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(msg) if tracked == CHANGELOG => {
                let mut acked = lock(&self.changelogs);
                let (topic, partition) = (msg.topic(), msg.partition());
                match acked.iter_mut().find(|(t, p, _)| *p == partition && t == topic) {
                    Some(entry) => entry.2 = entry.2.max(msg.offset()),
                    None => acked.push((topic.to_string(), partition, msg.offset())),
                }
            }
            Ok(_) => {}
            Err((err, msg)) => {
                let mut failed = lock(&self.failed);
                if failed.is_none() {
                    *failed = Some(format!(
                        "cannot deliver a record to topic `{}` partition {}: {err}",
                        msg.topic(),
                        msg.partition()
                    ));
                }
            }
        }
    }
}

/// How long a flush sleeps between two checks of what is still in flight.
const FLUSH_WAIT: Duration = Duration::from_micros(200);

/// How many events of delivery reports a flush serves between two checks at most.
const FLUSH_EVENTS: usize = 64;

/// Waits until every record `producer` sent is acknowledged, or `timeout`.
///
/// Not `Producer::flush(timeout)`: between two checks that serves delivery reports for a
/// fixed 100 ms, so every flush with anything in flight lasted at least that long (under
/// exactly-once, a commit every 100 ms spent about half its time there). Nor a poll for a
/// millisecond between checks: rust-rdkafka rounds a deadline's last fraction of a
/// millisecond down to a wait of 0 ms, so such a poll spins, and took the CPU that the
/// client's and the broker's threads needed to acknowledge the records. A flush sleeps
/// [`FLUSH_WAIT`] instead, then serves the delivery reports that arrived.
pub(crate) fn flush<C: ProducerContext>(producer: &BaseProducer<C>, timeout: Duration) -> KafkaResult<()> {
    let deadline = Instant::now() + timeout;
    loop {
        // Each call also tells the client to send what lingers now.
        match producer.flush(Duration::ZERO) {
            Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)) if Instant::now() < deadline => {
                sleep_and_serve(producer);
            }
            done => return done,
        }
    }
}

/// Sleeps [`FLUSH_WAIT`], then serves the delivery reports that arrived meanwhile (at most
/// [`FLUSH_EVENTS`] events): how a flush, and a send finding the producer's queue full, wait
/// for acknowledgements without spinning.
fn sleep_and_serve<C: ProducerContext>(producer: &BaseProducer<C>) {
    std::thread::sleep(FLUSH_WAIT);
    // Serves one event (delivery reports of a batch) per call, without waiting.
    for _ in 0..FLUSH_EVENTS {
        producer.poll(Duration::ZERO);
    }
}

/// How many events of delivery reports [`SharedProducer::poll`] serves at most.
const MAX_REPORT_EVENTS: usize = 1024;

/// One producer of a stream thread, shared by its tasks.
#[derive(Clone)]
pub(crate) struct SharedProducer {
    pub(super) inner: Arc<BaseProducer<DeliveryTracker>>,
    /// Under exactly-once: whether a transaction is open, and whether an abort is unfinished.
    pub(super) txn: Option<Arc<super::txn::TxnState>>,
}

impl SharedProducer {
    pub(crate) fn new(config: &ClientConfig) -> Result<Self> {
        let producer = config
            .create_with_context(DeliveryTracker::default())
            .map_err(|e| kafka_error("cannot create the producer", e))?;
        Ok(SharedProducer { inner: Arc::new(producer), txn: None })
    }

    /// Serves the delivery reports that arrived, without waiting for more.
    ///
    /// One `poll` of the client serves one event: the reports of one produce batch of one
    /// partition. A thread writing many partitions gets more of them between two of its polls
    /// than that, and a record stays in the producer's memory until its report is served; so
    /// this polls until a poll serves nothing (at most [`MAX_REPORT_EVENTS`] events).
    pub(crate) fn poll(&self) {
        let reports = &self.inner.context().reports;
        for _ in 0..MAX_REPORT_EVENTS {
            let before = reports.load(Ordering::Relaxed);
            self.inner.poll(Duration::ZERO);
            if reports.load(Ordering::Relaxed) == before {
                break;
            }
        }
    }

    /// Waits until every record sent is acknowledged; reports the first failed delivery.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when a record could not be delivered (after the client's
    /// retries) or the flush timed out.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<()> {
        if let Err(e) = flush(&self.inner, timeout) {
            return Err(self.failed("cannot flush the producer", e));
        }
        match lock(&self.inner.context().failed).take() {
            Some(message) if self.txn.is_some() => Err(self.txn_failure(message, None, false)),
            Some(message) => Err(StreamsError::Kafka { message, retriable: false }),
            None => Ok(()),
        }
    }

    /// The offset of the last record acknowledged per changelog partition since the last
    /// call, as `(topic, partition, offset)`; forgets them.
    pub(crate) fn take_changelog_offsets(&self) -> Vec<(String, i32, i64)> {
        std::mem::take(&mut *lock(&self.inner.context().changelogs))
    }

    /// Forgets the failed deliveries and changelog offsets reported so far (those of an
    /// aborted transaction).
    pub(crate) fn forget_reports(&self) {
        lock(&self.inner.context().failed).take();
        self.take_changelog_offsets();
    }

    /// The error for `err`: under exactly-once, a failed transaction.
    fn failed(&self, doing: &str, err: KafkaError) -> StreamsError {
        match self.txn.is_some() {
            true => self.txn_failure(format!("{doing}: {err}"), None, false),
            false => kafka_error(doing, err),
        }
    }
}

/// Whether the producer refuses a record for what it is (retrying cannot help).
fn rejects_record(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessageSize
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::InvalidRecord
            | RDKafkaErrorCode::InvalidTimestamp
    )
}

/// Sends a task's output records with the thread's producer.
pub(crate) struct KafkaCollector {
    /// The topic handles of the producer: declared first, so released before it.
    topics: Topics,
    pub(crate) producer: SharedProducer,
}

impl KafkaCollector {
    pub(crate) fn new(producer: SharedProducer) -> Self {
        KafkaCollector { topics: Topics::new(producer.inner.clone()), producer }
    }
}

impl RecordCollector for KafkaCollector {
    fn send(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: Timestamp,
        headers: &Headers,
    ) -> Result<()> {
        let opaque = if is_changelog(topic) { CHANGELOG } else { UNTRACKED };
        let record = Outgoing { partition, key, value, timestamp: timestamp.0, headers, opaque };
        self.producer.begin_if_needed()?;
        loop {
            match self.topics.send(topic, &record) {
                Ok(()) => return Ok(()),
                // Room comes back as delivery reports are served. Not `poll(10 ms)`: that
                // waits the whole 10 ms even when room came at once, and spins its last
                // fraction of a millisecond (see `flush`).
                Err(RDKafkaErrorCode::QueueFull) => sleep_and_serve(&self.producer.inner),
                Err(code) if rejects_record(code) => {
                    return Err(StreamsError::RecordRejected { topic: topic.to_string(), message: code.to_string() })
                }
                Err(code) => {
                    let e = KafkaError::MessageProduction(code);
                    return Err(self.producer.failed(&format!("cannot send a record to topic `{topic}`"), e));
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "collector_tests.rs"]
mod tests;
