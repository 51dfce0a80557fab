//! The offsets that decide where a changelog restore (or a standby) starts and ends.
//!
//! Under exactly-once the restore consumer reads `read_committed`, and the end offset it is
//! given is the partition's last stable offset: the first offset of the oldest transaction
//! still open. A store's checkpoint can be past it: a zombie of the task's previous owner
//! opened a transaction on the changelog (it is aborted later), and this instance committed
//! its own writes after it. Whether a checkpoint lies inside the changelog is therefore
//! decided against the end of the whole log, open transactions included.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::ClientConfig;

use super::kafka_error;
use super::logging::LoggedConsumer;
use crate::Result;

/// The first and end offsets of `topic` `partition` as `consumer` sees them (the end is the
/// last stable offset for a `read_committed` consumer), retried until `timeout`: a changelog
/// created moments ago may have no leader yet.
///
/// # Errors
///
/// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the broker has not answered by
/// then.
pub(crate) fn watermarks<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
    timeout: Duration,
) -> Result<(i64, i64)> {
    let deadline = Instant::now() + timeout;
    loop {
        match consumer.fetch_watermarks(topic, partition, timeout) {
            Ok(marks) => return Ok(marks),
            Err(e) if Instant::now() < deadline => {
                tracing::debug!(topic, partition, error = %e, "retrying to read a changelog's offsets");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(kafka_error(&format!("cannot read the offsets of changelog `{topic}` [{partition}]"), e))
            }
        }
    }
}

/// Reads the end of changelog partitions including the records of open transactions
/// (`read_uncommitted`), whatever the isolation level of the consumer it is made for.
pub(crate) struct LogEnd {
    consumer: LoggedConsumer,
    timeout: Duration,
}

impl LogEnd {
    /// A client configured as `config` (a restore or standby consumer's), reading
    /// `read_uncommitted`; `timeout` bounds each query.
    pub(crate) fn new(config: &ClientConfig, timeout: Duration) -> Result<Self> {
        let mut config = config.clone();
        let client_id = format!("{}-log-end", config.get("client.id").unwrap_or("streamz"));
        config.set("isolation.level", "read_uncommitted").set("client.id", client_id);
        let consumer = LoggedConsumer::create(&config, "changelog offsets client")?;
        Ok(LogEnd { consumer, timeout })
    }

    /// The end of `topic` `partition`: the offset after its last record, committed or not.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Kafka`](crate::StreamsError::Kafka) when the broker does not answer.
    pub(crate) fn get(&self, topic: &str, partition: i32) -> Result<i64> {
        let end = watermarks(self.consumer.inner(), topic, partition, self.timeout);
        self.consumer.drain_logs();
        Ok(end?.1)
    }
}

/// Where reading a changelog partition starts for a store with `checkpoint`: the checkpoint
/// itself when it lies in `first..=log_end`, the partition's `first` offset when the store
/// has none, and `None` when the checkpoint is outside the partition (it was deleted and
/// created again, or truncated past it): the store must then be cleared and read from the
/// beginning.
pub(crate) fn start_offset(checkpoint: Option<i64>, first: i64, log_end: i64) -> Option<i64> {
    match checkpoint {
        Some(offset) if (first..=log_end).contains(&offset) => Some(offset),
        Some(_) => None,
        None => Some(first),
    }
}

#[cfg(test)]
mod tests {
    use super::start_offset;

    #[test]
    fn a_checkpoint_inside_the_log_is_where_reading_starts() {
        assert_eq!(start_offset(Some(10), 0, 20), Some(10));
        assert_eq!(start_offset(Some(20), 0, 20), Some(20), "at the end: nothing to read");
        assert_eq!(start_offset(Some(5), 5, 20), Some(5));
    }

    #[test]
    fn a_store_without_checkpoint_reads_from_the_first_offset() {
        assert_eq!(start_offset(None, 7, 20), Some(7));
    }

    #[test]
    fn a_checkpoint_outside_the_log_means_reading_everything_again() {
        assert_eq!(start_offset(Some(21), 0, 20), None, "past the end: the topic was created again");
        assert_eq!(start_offset(Some(4), 5, 20), None, "before the first offset: truncated past it");
    }
}
