//! The transactional side of a stream thread's producer, under exactly-once.
//!
//! A transaction is begun lazily, before the first record sent after a commit (or by the
//! commit itself when only offsets moved), and committed together with the input offsets.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use super::collector::SharedProducer;
use super::consumer::{GroupMetadata, Offsets};
use super::kafka_error;
use crate::{Result, StreamsError};

/// The transaction state of a producer.
#[derive(Debug, Default)]
pub(crate) struct TxnState {
    /// A transaction is open.
    open: AtomicBool,
    /// An abort failed (timed out): until an abort completes, the producer refuses every other
    /// transactional call ("conflicting abort_transaction API call is already in progress"),
    /// so the next transaction replaces the producer instead.
    abort_pending: AtomicBool,
}

/// What a failed transactional call asks for.
enum Failure {
    /// Retrying the same call may succeed.
    Retry,
    /// Abort (or replace the producer when `fenced`), then start again from the last commit.
    Abort { fenced: bool },
}

fn classify(err: &KafkaError) -> Failure {
    match err {
        KafkaError::Transaction(e) if e.is_retriable() => Failure::Retry,
        // Neither abortable nor retriable (e.g. a call in the wrong state): only a new
        // producer recovers from that.
        KafkaError::Transaction(e) => Failure::Abort { fenced: e.is_fatal() || !e.txn_requires_abort() },
        _ => Failure::Abort { fenced: false },
    }
}

/// Whether `err` says the consumer group moved on without this member: its member id or
/// generation is no longer valid, so its partitions (and tasks) went to other members.
fn group_moved_on(err: &KafkaError) -> bool {
    matches!(
        err.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::UnknownMemberId
                | RDKafkaErrorCode::IllegalGeneration
                | RDKafkaErrorCode::FencedInstanceId
                | RDKafkaErrorCode::RebalanceInProgress
        )
    )
}

impl SharedProducer {
    /// A transactional producer (`config` has a `transactional.id`), registered with the
    /// transaction coordinator: any earlier producer with the same id is fenced and its open
    /// transaction aborted.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`] when the producer cannot be created or registered in `timeout`.
    pub(crate) fn transactional(config: &ClientConfig, timeout: Duration) -> Result<Self> {
        let mut producer = SharedProducer::new(config)?;
        producer.txn = Some(Arc::new(TxnState::default()));
        let deadline = Instant::now() + timeout;
        loop {
            match producer.inner.init_transactions(timeout) {
                Ok(()) => return Ok(producer),
                Err(e) if matches!(classify(&e), Failure::Retry) && Instant::now() < deadline => {
                    tracing::debug!(error = %e, "retrying to initialize transactions");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(kafka_error("cannot initialize transactions", e)),
            }
        }
    }

    /// Under exactly-once, begins a transaction unless one is open; otherwise does nothing.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Transaction`], fenced, after an abort that did not complete: only a new
    /// producer can begin transactions then.
    pub(crate) fn begin_if_needed(&self) -> Result<()> {
        let Some(state) = &self.txn else { return Ok(()) };
        if state.open.load(Ordering::SeqCst) {
            return Ok(());
        }
        if state.abort_pending.load(Ordering::SeqCst) {
            let message = "cannot begin a transaction: an earlier abort did not complete".to_string();
            return Err(self.txn_failure(message, Some(true), false));
        }
        self.inner.begin_transaction().map_err(|e| self.txn_error("cannot begin a transaction", &e))?;
        state.open.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Commits the open transaction with `offsets` (the next offsets to read) of the consumer
    /// group described by `group`. Records sent must have been flushed. Does nothing when no
    /// transaction is open and no offset moved. Returns whether a transaction was committed.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Transaction`] when the transaction must be aborted or the producer
    /// replaced; retriable errors are retried until `timeout`.
    pub(crate) fn commit_transaction(
        &self,
        offsets: &Offsets,
        group: Option<&GroupMetadata>,
        timeout: Duration,
    ) -> Result<bool> {
        let Some(state) = &self.txn else {
            return Err(StreamsError::Bug("commit of a non-transactional producer".into()));
        };
        if !state.open.load(Ordering::SeqCst) && offsets.is_empty() {
            return Ok(false);
        }
        self.begin_if_needed()?;
        if !offsets.is_empty() {
            let Some(group) = group else {
                return Err(self.txn_failure("the consumer has no group metadata".into(), None, false));
            };
            let mut list = TopicPartitionList::with_capacity(offsets.len());
            for (topic, partition, offset) in offsets {
                list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
                    .map_err(|e| kafka_error("cannot list offsets", e))?;
            }
            self.retrying("cannot send offsets to the transaction", timeout, || {
                self.inner.send_offsets_to_transaction(&list, &group.0, timeout)
            })?;
        }
        self.retrying("cannot commit the transaction", timeout, || self.inner.commit_transaction(timeout))?;
        state.open.store(false, Ordering::SeqCst);
        Ok(true)
    }

    /// Aborts the open transaction, if any: its records are never seen by `read_committed`
    /// readers. A failure is logged, and the next transaction replaces the producer (see
    /// [`TxnState`]); the broker aborts the transaction anyway when it times out or the
    /// producer is replaced. Returns whether a transaction was open.
    pub(crate) fn abort_transaction(&self, timeout: Duration) -> bool {
        let Some(state) = &self.txn else { return false };
        if !state.open.swap(false, Ordering::SeqCst) {
            return false;
        }
        if let Err(e) = self.abort_serving_reports(timeout) {
            tracing::warn!(error = %e, "cannot abort the transaction");
            state.abort_pending.store(true, Ordering::SeqCst);
        }
        true
    }

    /// Aborts the open transaction while another thread serves the producer's delivery
    /// reports: librdkafka's abort purges the records not yet acknowledged and waits until
    /// their (failed) delivery reports are served, which nothing else does meanwhile; without
    /// this, an abort with records in flight waited for its whole timeout and failed ("the
    /// event queue must be polled for delivery report events"). Then forgets what the reports
    /// of the aborted transaction said: its records' failures and changelog offsets are not the
    /// next transaction's.
    fn abort_serving_reports(&self, timeout: Duration) -> rdkafka::error::KafkaResult<()> {
        let done = AtomicBool::new(false);
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::SeqCst) {
                    self.inner.poll(Duration::from_millis(10));
                }
            });
            let result = self.inner.abort_transaction(timeout);
            done.store(true, Ordering::SeqCst);
            result
        });
        self.forget_reports();
        result
    }

    /// Aborts the open transaction; returns `false` when the abort failed (e.g. timed out),
    /// now or earlier, so its outcome is uncertain and only a new producer with the same
    /// transactional id settles it (the coordinator completes or aborts what the old one
    /// left).
    pub(crate) fn abort_settled(&self, timeout: Duration) -> bool {
        let Some(state) = &self.txn else { return true };
        if !state.open.swap(false, Ordering::SeqCst) {
            return !state.abort_pending.load(Ordering::SeqCst);
        }
        match self.abort_serving_reports(timeout) {
            Ok(()) => {
                state.abort_pending.store(false, Ordering::SeqCst);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot abort the transaction: replacing the producer");
                state.abort_pending.store(true, Ordering::SeqCst);
                false
            }
        }
    }

    fn retrying(
        &self,
        doing: &str,
        timeout: Duration,
        call: impl Fn() -> rdkafka::error::KafkaResult<()>,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            match call() {
                Ok(()) => return Ok(()),
                Err(e) if matches!(classify(&e), Failure::Retry) && Instant::now() < deadline => {
                    tracing::debug!(error = %e, "{doing}, retrying");
                    std::thread::sleep(Duration::from_millis(50));
                }
                // Retried until the deadline: whether the call took effect is unknown, so
                // the producer is replaced (as when fenced) to settle the transaction.
                Err(e) if matches!(classify(&e), Failure::Retry) => {
                    let message = format!("{doing}: {e} (timed out, outcome uncertain)");
                    return Err(self.txn_failure(message, Some(true), false));
                }
                Err(e) => return Err(self.txn_error(doing, &e)),
            }
        }
    }

    fn txn_error(&self, doing: &str, err: &KafkaError) -> StreamsError {
        let fenced = matches!(classify(err), Failure::Abort { fenced: true });
        self.txn_failure(format!("{doing}: {err}"), Some(fenced), group_moved_on(err))
    }

    /// A failed transaction; fenced when the producer says so (a fatal error) or `fenced`;
    /// `migrated` when the consumer group moved on without this member.
    pub(super) fn txn_failure(&self, message: String, fenced: Option<bool>, migrated: bool) -> StreamsError {
        let fatal = self.inner.client().fatal_error();
        let fenced = fenced.unwrap_or(false) || fatal.is_some();
        let message = match fatal {
            Some((code, reason)) => format!("{message} (fatal: {code}: {reason})"),
            None => message,
        };
        StreamsError::Transaction { message, fenced, migrated }
    }
}

#[cfg(test)]
#[path = "txn_tests.rs"]
mod tests;
