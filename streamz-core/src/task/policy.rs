//! What happens to bad input: records that do not decode, that a processor fails on, that
//! cannot be produced, or that carry a negative timestamp.
//!
//! | Error | Policy type | Default | Metric when skipped |
//! |---|---|---|---|
//! | key or value does not decode (incl. a null into a non-nullable type) | [`ErrorPolicy`] | fail | `skipped-records.deserialization` |
//! | a processor returns [`StreamsError::Processing`] or panics | [`ErrorPolicy`] | fail | `skipped-records.processing` |
//! | a sink cannot encode a record, or the producer rejects it | [`ProductionErrorPolicy`] | fail | `skipped-records.production` |
//! | a negative timestamp | [`TimestampPolicy`] | fail | `dropped-records.invalid-timestamp` |
//!
//! Every skipped record is also counted under `skipped-records`; a record sent to a dead-letter
//! topic under `dead-letter-records` as well. Nothing is lost silently.

use std::cell::RefCell;
use std::fmt;

use super::TaskContext;
use crate::error::{RecordPosition, StreamsError};
use crate::record::{Headers, RawRecord};
use crate::Result;

/// Header of a dead-letter record: the kind of error (`deserialization`, `processing`, `panic`).
pub const HEADER_EXCEPTION: &str = "streamz.error.exception";
/// Header of a dead-letter record: the error's message.
pub const HEADER_MESSAGE: &str = "streamz.error.message";
/// Header of a dead-letter record: the topic the record was read from.
pub const HEADER_TOPIC: &str = "streamz.error.topic";
/// Header of a dead-letter record: the partition it was read from (decimal text).
pub const HEADER_PARTITION: &str = "streamz.error.partition";
/// Header of a dead-letter record: its offset (decimal text).
pub const HEADER_OFFSET: &str = "streamz.error.offset";
/// Header of a dead-letter record: its timestamp in ms (decimal text).
pub const HEADER_TIMESTAMP: &str = "streamz.error.timestamp";

/// What to do with a record that does not decode or that processing fails on.
///
/// Set per application with
/// [`StreamsConfig::deserialization_error_policy`](crate::runtime::StreamsConfig::deserialization_error_policy)
/// and [`StreamsConfig::processing_error_policy`](crate::runtime::StreamsConfig::processing_error_policy)
/// (the test driver: [`DriverConfig`](crate::testing::DriverConfig)), and per source for
/// deserialization with [`Consumed::with_error_policy`](crate::dsl::Consumed::with_error_policy).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
#[doc(alias = "DeserializationExceptionHandler")]
#[doc(alias = "ProcessingExceptionHandler")]
pub enum ErrorPolicy {
    /// Stop with the error, which names topic, partition and offset. The runtime's stream thread
    /// fails before it commits, so the record is read again after a restart.
    #[default]
    Fail,
    /// Log a warning, count the record under `skipped-records.<kind>`, and go on with the next.
    LogAndContinue,
    /// Send the record's original key and value bytes (and headers) to `topic`, with headers
    /// that say why (see [`HEADER_EXCEPTION`] and the other `HEADER_*` names), count it, and go
    /// on. The dead-letter record is flushed before the input offset is committed.
    DeadLetter {
        /// The dead-letter topic (it must exist).
        topic: String,
    },
}

impl ErrorPolicy {
    /// Sends bad records to dead-letter topic `topic`.
    pub fn dead_letter(topic: impl Into<String>) -> Self {
        ErrorPolicy::DeadLetter { topic: topic.into() }
    }
}

/// What to do with an output record a sink cannot encode or the producer rejects (e.g. it is
/// too large). Retriable send errors (a full queue, a broker moving) are always retried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
#[doc(alias = "ProductionExceptionHandler")]
pub enum ProductionErrorPolicy {
    /// Stop with the error.
    #[default]
    Fail,
    /// Log a warning, count the record under `skipped-records.production`, and go on.
    LogAndContinue,
}

/// What to do with a record whose extracted timestamp is negative (rule 16 of the semantics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimestampPolicy {
    /// Stop with [`StreamsError::InvalidTimestamp`] naming topic, partition and offset.
    #[default]
    Fail,
    /// Drop the record and count it under `dropped-records.invalid-timestamp`.
    SkipAndCount,
    /// Use the largest valid timestamp seen on the record's partition (the partition time);
    /// drop and count the record if there is none yet.
    UsePartitionTime,
}

/// The policies of an application or a test driver.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policies {
    pub(crate) timestamp: TimestampPolicy,
    pub(crate) deserialization: ErrorPolicy,
    pub(crate) processing: ErrorPolicy,
    pub(crate) production: ProductionErrorPolicy,
}

/// Which kind of error a policy is applied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Deserialization,
    Processing,
    Production,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Deserialization => "deserialization",
            ErrorKind::Processing => "processing",
            ErrorKind::Production => "production",
        })
    }
}

/// Counts a skipped record of `kind`.
fn count_skipped(ctx: &TaskContext, kind: ErrorKind) {
    ctx.metrics.add("skipped-records", 1);
    ctx.metrics.add(&format!("skipped-records.{kind}"), 1);
}

/// Applies `policy` to `error`, raised by `kind` on the input record at `position`; `raw` is
/// the input record as read (needed for a dead letter). `exception` names the error in the
/// dead-letter headers. Returns `Err(error)` under [`ErrorPolicy::Fail`].
pub(crate) fn apply(
    ctx: &mut TaskContext,
    policy: &ErrorPolicy,
    kind: ErrorKind,
    exception: &str,
    position: &RecordPosition,
    raw: Option<&RawRecord>,
    error: StreamsError,
) -> Result<()> {
    match policy {
        ErrorPolicy::Fail => Err(error),
        ErrorPolicy::LogAndContinue => {
            tracing::warn!(task = %ctx.task_id, %position, %error, "skipping a record after a {kind} error");
            count_skipped(ctx, kind);
            Ok(())
        }
        ErrorPolicy::DeadLetter { topic } => {
            let raw = raw.ok_or_else(|| {
                StreamsError::Bug(format!("no input record kept for the dead-letter topic `{topic}`"))
            })?;
            let mut headers: Headers = raw.headers.clone();
            let text = |s: String| Some(s.into_bytes());
            headers.push((HEADER_EXCEPTION.into(), text(exception.to_string())));
            headers.push((HEADER_MESSAGE.into(), text(error.to_string())));
            headers.push((HEADER_TOPIC.into(), text(raw.topic.to_string())));
            headers.push((HEADER_PARTITION.into(), text(raw.partition.to_string())));
            headers.push((HEADER_OFFSET.into(), text(raw.offset.to_string())));
            headers.push((HEADER_TIMESTAMP.into(), text(raw.timestamp.0.to_string())));
            ctx.collector.send(topic, None, raw.key.as_deref(), raw.value.as_deref(), raw.timestamp, &headers)?;
            tracing::warn!(task = %ctx.task_id, %position, %error, dead_letter_topic = %topic, "sent a record to the dead-letter topic after a {kind} error");
            count_skipped(ctx, kind);
            ctx.metrics.add("dead-letter-records", 1);
            Ok(())
        }
    }
}

/// Applies `policy` to a sink's `error` (an output that cannot be encoded or is rejected).
pub(crate) fn apply_production(ctx: &TaskContext, policy: ProductionErrorPolicy, error: StreamsError) -> Result<()> {
    match policy {
        ProductionErrorPolicy::Fail => Err(error),
        ProductionErrorPolicy::LogAndContinue => {
            tracing::warn!(task = %ctx.task_id, position = %ctx.position, %error, "skipping an output record");
            count_skipped(ctx, ErrorKind::Production);
            Ok(())
        }
    }
}

thread_local! {
    /// The innermost processor node a panic unwound through, noted while unwinding.
    static PANICKED_NODE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Notes `node` as the one a panic went through when the thread is unwinding (the innermost
/// node is noted first and kept).
pub(crate) struct PanicScope<'a>(pub(crate) &'a str);

impl Drop for PanicScope<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            PANICKED_NODE.with(|n| {
                n.borrow_mut().get_or_insert_with(|| self.0.to_string());
            });
        }
    }
}

/// The node noted by the last panic, cleared.
pub(crate) fn take_panicked_node() -> Option<String> {
    PANICKED_NODE.with(|n| n.borrow_mut().take())
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}
