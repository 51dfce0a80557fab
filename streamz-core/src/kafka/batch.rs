//! Reading a consumer's queue a batch at a time.
//!
//! A poll of the client takes one record, and each poll pays for a wake-up check, clock reads
//! and an event wrapper. `rd_kafka_consume_batch_queue` takes whatever is queued, up to a
//! batch, in one call. It must never read a group member's consumer queue: it would take the
//! group's rebalance events, which this crate's consumers serve through their context. So a
//! consumer that assigns partitions itself reads its consumer queue ([`BatchQueue`]), and a
//! group member forwards its assigned partitions to a queue of their own ([`RecordQueue`]).
//! Client logs that arrive on a queue read this way are dropped.

use std::ffi::CStr;
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::types::RDKafkaErrorCode;

use crate::record::Headers;
use crate::{Result, StreamsError};

/// One record (or error event) of a batch, valid while the batch is read.
pub(crate) struct Consumed<'a> {
    message: &'a rd::rd_kafka_message_t,
}

impl Consumed<'_> {
    /// The error of an event (e.g. the end of a partition), `None` for a record.
    pub(crate) fn error(&self) -> Option<RDKafkaErrorCode> {
        match self.message.err {
            rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR => None,
            err => Some(err.into()),
        }
    }

    /// The topic's handle (null when the event names no topic). While the message lives, so
    /// does its handle: within one batch, messages with the same handle are of the same topic.
    pub(crate) fn topic_handle(&self) -> *const rd::rd_kafka_topic_t {
        self.message.rkt
    }

    /// The topic's name, as bytes (empty when the event names no topic).
    pub(crate) fn topic(&self) -> &[u8] {
        if self.message.rkt.is_null() {
            return &[];
        }
        // SAFETY: a message's topic handle lives as long as the message, and its name is a
        // NUL-terminated string owned by the handle.
        unsafe { CStr::from_ptr(rd::rd_kafka_topic_name(self.message.rkt)).to_bytes() }
    }

    pub(crate) fn partition(&self) -> i32 {
        self.message.partition
    }

    pub(crate) fn offset(&self) -> i64 {
        self.message.offset
    }

    /// The key; `None` when the record has none.
    pub(crate) fn key(&self) -> Option<&[u8]> {
        // SAFETY: `key` points at `key_len` bytes owned by the message, or is null.
        unsafe { bytes(self.message.key, self.message.key_len) }
    }

    /// The value; `None` for a tombstone.
    pub(crate) fn payload(&self) -> Option<&[u8]> {
        // SAFETY: `payload` points at `len` bytes owned by the message, or is null.
        unsafe { bytes(self.message.payload, self.message.len) }
    }

    /// The record's timestamp in milliseconds, -1 when it has none.
    pub(crate) fn timestamp(&self) -> i64 {
        let mut kind = rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
        // SAFETY: the message is valid; `kind` is written by the call.
        let ms = unsafe { rd::rd_kafka_message_timestamp(self.message, &mut kind) };
        match kind {
            rd::rd_kafka_timestamp_type_t::RD_KAFKA_TIMESTAMP_NOT_AVAILABLE => -1,
            _ => ms,
        }
    }

    /// The record's headers, in order: name and value (`None` for a null value). Empty when it
    /// has none or they cannot be parsed.
    pub(crate) fn headers(&self) -> Headers {
        let mut headers: *mut rd::rd_kafka_headers_t = std::ptr::null_mut();
        // SAFETY: the message is valid; the headers it returns belong to it.
        let err = unsafe { rd::rd_kafka_message_headers(self.message, &mut headers) };
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || headers.is_null() {
            return Headers::new();
        }
        let mut out = Headers::new();
        for idx in 0.. {
            let (mut name, mut value, mut size) = (std::ptr::null(), std::ptr::null(), 0usize);
            // SAFETY: `headers` is valid while the message is; the call writes the three out
            // parameters, pointing into the headers.
            let err = unsafe { rd::rd_kafka_header_get_all(headers, idx, &mut name, &mut value, &mut size) };
            if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                break;
            }
            // SAFETY: `name` is a NUL-terminated string owned by the headers.
            let name = unsafe { CStr::from_ptr(name) }.to_string_lossy().into_owned();
            // SAFETY: `value` points at `size` bytes owned by the headers, or is null.
            let value = unsafe { bytes(value as *mut std::ffi::c_void, size) }.map(<[u8]>::to_vec);
            out.push((name, value));
        }
        out
    }
}

/// # Safety
///
/// `ptr` is null or points at `len` readable bytes that outlive `'a`.
unsafe fn bytes<'a>(ptr: *mut std::ffi::c_void, len: usize) -> Option<&'a [u8]> {
    match ptr.is_null() {
        true => None,
        // SAFETY: as the caller promises.
        false => Some(unsafe { std::slice::from_raw_parts(ptr as *const u8, len) }),
    }
}

/// A queue handle of a client and room for a batch of its messages. The client must outlive
/// it.
struct Queue {
    ptr: *mut rd::rd_kafka_queue_t,
    messages: Vec<*mut rd::rd_kafka_message_t>,
}

// SAFETY: librdkafka's queues may be used from any thread; the handle is owned by one value.
unsafe impl Send for Queue {}

impl Queue {
    fn new(ptr: *mut rd::rd_kafka_queue_t, batch: usize) -> Queue {
        Queue { ptr, messages: vec![std::ptr::null_mut(); batch.max(1)] }
    }

    /// Passes what is queued (up to `max`, at most a batch) to `each`, in order, after waiting
    /// up to `timeout` for the first when nothing is; returns how many were passed. Stops at
    /// the first error of `each`, and frees every message taken either way.
    fn read(
        &mut self,
        max: usize,
        timeout: Duration,
        mut each: impl FnMut(&Consumed<'_>) -> Result<()>,
    ) -> Result<usize> {
        let max = max.clamp(1, self.messages.len());
        let mut n = self.take(0, 0, max);
        if n == 0 && !timeout.is_zero() {
            // Nothing queued: wait for one message only, so the call returns as it arrives,
            // then take what came with it.
            let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
            n = self.take(0, ms, 1);
            if n == 1 {
                n += self.take(1, 0, max - 1);
            }
        }
        let taken = Taken { messages: &self.messages[..n] };
        for &message in taken.messages {
            // SAFETY: a message returned by the batch call is valid until destroyed (by
            // `Taken`'s drop, after this loop).
            each(&Consumed { message: unsafe { &*message } })?;
        }
        Ok(n)
    }

    /// Takes up to `max` messages into `messages[at..]`, waiting up to `timeout_ms`.
    fn take(&mut self, at: usize, timeout_ms: i32, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let room = &mut self.messages[at..at + max];
        // SAFETY: the queue is alive, and `room` has space for `max` pointers.
        let n = unsafe { rd::rd_kafka_consume_batch_queue(self.ptr, timeout_ms, room.as_mut_ptr(), max) };
        n.max(0) as usize
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: the handle is released once, while its client is alive.
        unsafe { rd::rd_kafka_queue_destroy(self.ptr) }
    }
}

/// The consumer queue of a consumer that assigns its partitions itself (no group
/// membership), read a batch at a time.
pub(crate) struct BatchQueue<'c, C: ConsumerContext> {
    /// Keeps the client, which the queue refers to, alive and borrowed.
    _consumer: &'c BaseConsumer<C>,
    queue: Queue,
}

impl<'c, C: ConsumerContext> BatchQueue<'c, C> {
    /// The queue of `consumer`, read up to `batch` records at a time.
    ///
    /// # Errors
    ///
    /// [`StreamsError::Bug`] when the consumer has no consumer queue (no `group.id`).
    pub(crate) fn new(consumer: &'c BaseConsumer<C>, batch: usize) -> Result<Self> {
        // SAFETY: the client is alive for `'c`; the handle is released when `queue` drops.
        let ptr = unsafe { rd::rd_kafka_queue_get_consumer(consumer.client().native_ptr()) };
        if ptr.is_null() {
            return Err(StreamsError::Bug("a batch reader needs a consumer with a group.id".into()));
        }
        Ok(BatchQueue { _consumer: consumer, queue: Queue::new(ptr, batch) })
    }

    /// Passes what is queued (up to a batch) to `each`, in order, after waiting up to
    /// `timeout` for the first when nothing is; returns how many were passed. Stops at the
    /// first error of `each`, and frees every record of the batch either way.
    pub(crate) fn read(&mut self, timeout: Duration, each: impl FnMut(&Consumed<'_>) -> Result<()>) -> Result<usize> {
        self.queue.read(usize::MAX, timeout, each)
    }
}

/// A queue of a group member's own that its assigned partitions' records are forwarded to,
/// so they can be read in batches while rebalance events stay on the consumer queue.
///
/// Records a partition fetched before it was forwarded are on the consumer queue: read that
/// first. Dropping the queue stops nothing; it must be dropped before its consumer.
pub(crate) struct RecordQueue {
    rk: *mut rd::rd_kafka_t,
    queue: Queue,
}

// SAFETY: librdkafka's client and queues may be used from any thread.
unsafe impl Send for RecordQueue {}

impl RecordQueue {
    /// A new queue of `consumer`'s client, read up to `batch` records at a time.
    ///
    /// # Safety
    ///
    /// The queue must be dropped before `consumer`.
    pub(crate) unsafe fn new<C: ConsumerContext>(consumer: &BaseConsumer<C>, batch: usize) -> RecordQueue {
        let rk = consumer.client().native_ptr();
        // SAFETY: the client is alive; the caller drops the queue before it.
        let ptr = unsafe { rd::rd_kafka_queue_new(rk) };
        RecordQueue { rk, queue: Queue::new(ptr, batch) }
    }

    /// Forwards the records of partition `partition` of `topic` (assigned to the consumer) to
    /// this queue. Its fetches restart when it is assigned again: forward it again then.
    pub(crate) fn forward(&self, topic: &str, partition: i32) -> Result<()> {
        let name = std::ffi::CString::new(topic)
            .map_err(|_| StreamsError::Bug(format!("topic name `{topic}` holds a NUL byte")))?;
        // SAFETY: the client is alive (the queue is dropped before it); the partition's queue
        // handle is released after forwarding, which stays in place.
        unsafe {
            let source = rd::rd_kafka_queue_get_partition(self.rk, name.as_ptr(), partition);
            if source.is_null() {
                return Err(StreamsError::Bug(format!("no queue for partition {partition} of `{topic}`")));
            }
            rd::rd_kafka_queue_forward(source, self.queue.ptr);
            rd::rd_kafka_queue_destroy(source);
        }
        Ok(())
    }

    /// Passes up to `max` queued records to `each`, in order, after waiting up to `timeout`
    /// for the first when nothing is queued; returns how many were passed.
    pub(crate) fn read(
        &mut self,
        max: usize,
        timeout: Duration,
        each: impl FnMut(&Consumed<'_>) -> Result<()>,
    ) -> Result<usize> {
        self.queue.read(max, timeout, each)
    }
}

/// Messages taken from the queue, destroyed when dropped.
struct Taken<'a> {
    messages: &'a [*mut rd::rd_kafka_message_t],
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        for &message in self.messages {
            // SAFETY: each message came from the batch call and is destroyed exactly once.
            unsafe { rd::rd_kafka_message_destroy(message) }
        }
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::{ClientConfig, Offset, TopicPartitionList};

    use super::*;
    use crate::kafka::{EmbeddedCluster, KafkaClient};
    use crate::time::Timestamp;

    type Read = (i64, Vec<u8>, Option<Vec<u8>>);

    /// A consumer of `cluster` assigned partition 0 of topic `t` from the beginning, with an
    /// end-of-partition event when `eof`.
    fn assigned(cluster: &EmbeddedCluster, eof: bool) -> Result<BaseConsumer> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .set("group.id", "batch-test")
            .set("enable.partition.eof", eof.to_string())
            .set("log_level", "0")
            .create()
            .map_err(|e| crate::kafka::kafka_error("consumer", e))?;
        let mut list = TopicPartitionList::new();
        list.add_partition_offset("t", 0, Offset::Beginning).map_err(|e| crate::kafka::kafka_error("list", e))?;
        consumer.assign(&list).map_err(|e| crate::kafka::kafka_error("assign", e))?;
        Ok(consumer)
    }

    #[test]
    fn batches_pass_records_in_order_with_keys_tombstones_and_the_end_of_the_partition() -> Result<()> {
        let cluster = EmbeddedCluster::start()?;
        let client = KafkaClient::embedded(&cluster)?;
        client.create_topic("t", 1)?;
        let records: Vec<_> = (0..100)
            .map(|i| {
                let key = (i % 2 == 0).then(|| format!("k{i}").into_bytes());
                let value = (i % 10 != 0).then(|| format!("v{i}").into_bytes());
                (key, value, Timestamp(1_000 + i))
            })
            .collect();
        client.produce_raw("t", records.clone())?;
        let consumer = assigned(&cluster, true)?;

        let mut queue = BatchQueue::new(&consumer, 16)?;
        let (mut read, mut ended, mut reads) = (Vec::<Read>::new(), false, 0);
        while !ended {
            reads += 1;
            assert!(reads < 1_000, "no end of partition after {} records", read.len());
            let n = queue.read(Duration::from_millis(100), |c| {
                assert_eq!((c.topic(), c.partition()), (&b"t"[..], 0));
                match c.error() {
                    None => {
                        read.push((c.offset(), c.key().unwrap_or_default().to_vec(), c.payload().map(<[u8]>::to_vec)))
                    }
                    Some(RDKafkaErrorCode::PartitionEOF) => ended = true,
                    Some(code) => panic!("unexpected event {code:?}"),
                }
                Ok(())
            })?;
            assert!(n <= 16, "a read passed {n} records, more than a batch");
        }
        let expected: Vec<Read> = records
            .into_iter()
            .enumerate()
            .map(|(i, (key, value, _))| (i as i64, key.unwrap_or_default(), value))
            .collect();
        assert_eq!(read, expected);
        assert!(reads > 100 / 16, "{reads} reads for 100 records in batches of 16");

        // Nothing left: a read waits, then passes nothing.
        assert_eq!(queue.read(Duration::from_millis(20), |_| panic!("nothing is queued"))?, 0);
        // A read that waited for a record takes the others fetched with it too.
        client.produce_raw("t", (0..10).map(|i| (None, Some(vec![i]), Timestamp(2_000))))?;
        let mut values = Vec::new();
        queue.read(Duration::from_secs(10), |c| {
            values.extend(c.payload().map(<[u8]>::to_vec));
            Ok(())
        })?;
        assert_eq!(values, (0..10).map(|i| vec![i]).collect::<Vec<_>>());
        Ok(())
    }

    #[test]
    fn the_first_error_of_the_callback_ends_the_read() -> Result<()> {
        let cluster = EmbeddedCluster::start()?;
        let client = KafkaClient::embedded(&cluster)?;
        client.create_topic("t", 1)?;
        client.produce_raw("t", (0..10).map(|i| (None, Some(vec![i]), Timestamp(1_000))))?;
        let consumer = assigned(&cluster, false)?;
        let mut queue = BatchQueue::new(&consumer, 64)?;
        let mut seen = 0;
        let result = queue.read(Duration::from_secs(10), |_| {
            seen += 1;
            Err(StreamsError::Bug("stop".into()))
        });
        assert!(matches!(result, Err(StreamsError::Bug(m)) if m == "stop"));
        assert_eq!(seen, 1);
        Ok(())
    }
}
