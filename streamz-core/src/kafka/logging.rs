//! librdkafka's own log lines, through `tracing` (target `librdkafka`), with its levels mapped:
//! emergency to error as `ERROR`, warning as `WARN`, notice as `INFO`, info as `DEBUG`, debug as
//! `TRACE`. Clients log through their context ([`Logged`], or a context of their own that
//! calls [`emit`]); a consumer read in batches also needs a [`LoggedConsumer`], whose log lines
//! have a queue of their own.

use std::ffi::CStr;
use std::ops::Deref;

use rdkafka::bindings as rd;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::{ClientConfig, ClientContext};

use super::kafka_error;
use crate::Result;

/// Emits one librdkafka log line: `facility` is librdkafka's (e.g. `FAIL`, `REQTMOUT`).
pub(crate) fn emit(level: RDKafkaLogLevel, facility: &str, message: &str) {
    use RDKafkaLogLevel as L;
    match level {
        L::Emerg | L::Alert | L::Critical | L::Error => tracing::error!(target: "librdkafka", facility, "{message}"),
        L::Warning => tracing::warn!(target: "librdkafka", facility, "{message}"),
        L::Notice => tracing::info!(target: "librdkafka", facility, "{message}"),
        L::Info => tracing::debug!(target: "librdkafka", facility, "{message}"),
        L::Debug => tracing::trace!(target: "librdkafka", facility, "{message}"),
    }
}

/// The level of librdkafka's syslog-style number.
fn level_of(level: i32) -> RDKafkaLogLevel {
    use RDKafkaLogLevel as L;
    match level {
        i32::MIN..=0 => L::Emerg,
        1 => L::Alert,
        2 => L::Critical,
        3 => L::Error,
        4 => L::Warning,
        5 => L::Notice,
        6 => L::Info,
        _ => L::Debug,
    }
}

/// The context of a client that has no other: its log lines go through `tracing`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Logged;

impl ClientContext for Logged {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        emit(level, facility, message);
    }
}

impl ConsumerContext for Logged {}

/// A consumer read in batches (restores, standbys, global tables), whose log lines go through
/// `tracing`. Its main queue, where librdkafka puts log lines, is forwarded to its consumer
/// queue, and a batch read serves the log lines it meets with librdkafka's default callback,
/// which prints them on stderr: so they go to a queue of their own instead, read by
/// [`drain_logs`](Self::drain_logs) (which its readers call after each read) and when it is
/// dropped.
pub(crate) struct LoggedConsumer {
    /// Declared before `consumer`: dropped before it.
    logs: LogQueue,
    consumer: BaseConsumer<Logged>,
}

impl std::fmt::Debug for LoggedConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedConsumer").finish_non_exhaustive()
    }
}

impl LoggedConsumer {
    /// A consumer of `config`; `what` names it in the error.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when librdkafka refuses the
    /// configuration.
    pub(crate) fn create(config: &ClientConfig, what: &str) -> Result<Self> {
        let consumer: BaseConsumer<Logged> =
            config.create_with_context(Logged).map_err(|e| kafka_error(&format!("cannot create the {what}"), e))?;
        // SAFETY: `logs` is declared before `consumer`, so it is dropped first.
        let logs = unsafe { LogQueue::new(&consumer) };
        Ok(LoggedConsumer { logs, consumer })
    }

    /// The consumer, for functions that take one.
    pub(crate) fn inner(&self) -> &BaseConsumer<Logged> {
        &self.consumer
    }

    /// Emits the log lines of the consumer since the last call.
    pub(crate) fn drain_logs(&self) {
        self.logs.drain();
    }
}

impl Deref for LoggedConsumer {
    type Target = BaseConsumer<Logged>;

    fn deref(&self) -> &Self::Target {
        &self.consumer
    }
}

/// A queue of a client's own that its log lines go to, read as events.
struct LogQueue {
    rk: *mut rd::rd_kafka_t,
    queue: *mut rd::rd_kafka_queue_t,
}

// SAFETY: librdkafka's client and queues may be used from any thread.
unsafe impl Send for LogQueue {}
// SAFETY: as above; reading a queue from several threads is safe in librdkafka.
unsafe impl Sync for LogQueue {}

impl LogQueue {
    /// Sends the log lines of `consumer`'s client to a new queue.
    ///
    /// # Safety
    ///
    /// The queue must be dropped before `consumer`.
    unsafe fn new<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> LogQueue {
        let rk = consumer.client().native_ptr();
        // SAFETY: the client is alive; the caller drops the queue before it.
        let queue = unsafe { rd::rd_kafka_queue_new(rk) };
        // SAFETY: both are alive; `drop` sets the client's log queue back before destroying it.
        unsafe { rd::rd_kafka_set_log_queue(rk, queue) };
        LogQueue { rk, queue }
    }

    /// Emits every log line queued, without waiting.
    fn drain(&self) {
        loop {
            // SAFETY: the queue is alive; each event is destroyed below.
            let event = unsafe { rd::rd_kafka_queue_poll(self.queue, 0) };
            if event.is_null() {
                return;
            }
            // SAFETY: `event` is a valid event until destroyed; librdkafka owns the strings
            // `rd_kafka_event_log` points at until then.
            unsafe {
                if rd::rd_kafka_event_type(event) == rd::RD_KAFKA_EVENT_LOG {
                    let (mut facility, mut message, mut level) = (std::ptr::null(), std::ptr::null(), 0);
                    if rd::rd_kafka_event_log(event, &mut facility, &mut message, &mut level) == 0
                        && !facility.is_null()
                        && !message.is_null()
                    {
                        let facility = CStr::from_ptr(facility).to_string_lossy();
                        let message = CStr::from_ptr(message).to_string_lossy();
                        emit(level_of(level), facility.trim(), message.trim());
                    }
                }
                rd::rd_kafka_event_destroy(event);
            }
        }
    }
}

impl Drop for LogQueue {
    fn drop(&mut self) {
        self.drain();
        // SAFETY: the client is still alive (dropped after this queue); its log lines go back
        // to its main queue before the queue is destroyed.
        unsafe {
            rd::rd_kafka_set_log_queue(self.rk, std::ptr::null_mut());
            rd::rd_kafka_queue_destroy(self.queue);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::kafka::batch::BatchQueue;

    /// Counts the events of target `librdkafka`.
    struct Count(Arc<AtomicUsize>);

    impl tracing::Subscriber for Count {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            if event.metadata().target() == "librdkafka" {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    /// A consumer read in batches whose broker refuses connections logs that through
    /// `tracing`: a batch read used to serve the line with librdkafka's default callback,
    /// which printed it on stderr.
    #[test]
    fn the_log_lines_of_a_consumer_read_in_batches_go_through_tracing() -> Result<()> {
        let lines = Arc::new(AtomicUsize::new(0));
        let subscriber = Count(lines.clone());
        tracing::subscriber::with_default(subscriber, || {
            let config = ClientConfig::new()
                .set("bootstrap.servers", "127.0.0.1:1")
                .set("group.id", "streamz-log-test")
                .set("enable.partition.eof", "true")
                .clone();
            let consumer = LoggedConsumer::create(&config, "test consumer")?;
            let started = Instant::now();
            while lines.load(Ordering::SeqCst) == 0 && started.elapsed() < Duration::from_secs(20) {
                let mut queue = BatchQueue::new(consumer.inner(), 100)?;
                queue.read(Duration::from_millis(100), |_| Ok(()))?;
                consumer.drain_logs();
            }
            Ok::<(), crate::StreamsError>(())
        })?;
        assert!(lines.load(Ordering::SeqCst) > 0, "no librdkafka line reached tracing");
        Ok(())
    }

    #[test]
    fn syslog_numbers_map_to_librdkafka_levels() {
        let levels: Vec<String> = (-1..=8).map(|n| format!("{:?}", level_of(n))).collect();
        let want = ["Emerg", "Emerg", "Alert", "Critical", "Error", "Warning", "Notice", "Info", "Debug", "Debug"];
        assert_eq!(levels, want);
    }
}
