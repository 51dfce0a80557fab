//! W4, restore: a changelog of N records restored into a fresh instance, the RAW baseline that
//! only consumes the same changelog (in batches, as streamz's restore consumer reads), and RAW
//! + state, which also writes what it reads into RocksDB.
//!
//! streamz logs each store partition it restores (`tracing`, "restored store from its
//! changelog", with `records` and `elapsed_ms`); a small subscriber here adds them up. The
//! restore time is from the start of the first partition's restore to the end of the last, as
//! Kafka Streams' `StateRestoreListener` gives it in `RestoreTimer.java`.

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use streamz::kafka::KafkaClient;
use streamz::runtime::{App, StreamsConfig};
use streamz::topology::Topology;
use streamz::Timestamp;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata};

use crate::raw_store::RawStores;
use crate::workloads::{say, say_ready, wait_for_stop};

/// The message of streamz's restore log line.
const RESTORED: &str = "restored store from its changelog";

/// Notes the restore log lines: (start, end, records) per store partition.
struct RestoreLog(Mutex<mpsc::Sender<(Instant, u64)>>);

#[derive(Default)]
struct Fields {
    restored: bool,
    records: u64,
    elapsed_ms: u64,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "records" => self.records = value,
            "elapsed_ms" => self.elapsed_ms = value,
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.restored |= field.name() == "message" && value == RESTORED;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.restored |= field.name() == "message" && format!("{value:?}") == RESTORED;
    }
}

impl tracing::Subscriber for RestoreLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && *metadata.level() <= tracing::Level::INFO
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if fields.restored {
            let now = Instant::now();
            let start = now.checked_sub(Duration::from_millis(fields.elapsed_ms)).unwrap_or(now);
            if let Ok(tx) = self.0.lock() {
                let _ = tx.send((start, fields.records));
            }
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Starts `topology`, prints `ready`, then `restored <records> <ms>` once `expected` records are
/// restored, then runs until told to stop.
pub(crate) fn streamz_restore(topology: Topology, config: StreamsConfig, expected: u64) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel();
    tracing::subscriber::set_global_default(RestoreLog(Mutex::new(tx))).context("cannot install the log subscriber")?;
    let running = App::new(topology, config)?.start()?;
    say_ready()?;
    let (mut first, mut restored) = (None::<Instant>, 0);
    while restored < expected {
        let Ok((start, records)) = rx.recv_timeout(Duration::from_secs(120)) else {
            bail!("restore: {restored} of {expected} records after 120 s (errors {:?})", running.errors());
        };
        first = Some(first.map_or(start, |f| f.min(start)));
        restored += records;
    }
    let ms = first.map_or(0, |f| f.elapsed().as_millis());
    say(&format!("restored {restored} {ms}"))?;
    wait_for_stop();
    Ok(running.close()?)
}

/// RAW: reads every partition of `topic` from the beginning until `expected` records arrived,
/// with the consumer settings of streamz's restore consumer. RAW + state (`store`) also writes
/// every record into a RocksDB database of its partition ([`RawStores`]); its time ends when
/// the last batch is written.
pub(crate) fn raw_consume(bootstrap: &str, topic: &str, expected: u64, store: bool) -> anyhow::Result<()> {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("bench-raw-restore-{}", std::process::id()))
        .set("log_level", "3")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("fetch.max.bytes", "8388608")
        .set("max.partition.fetch.bytes", "524288");
    crate::raw::read_ahead(&mut config);
    for (k, v) in crate::raw::extra_consumer_settings() {
        config.set(k, v);
    }
    let consumer: BaseConsumer = config.create()?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut list = TopicPartitionList::new();
    for p in metadata.topics().iter().flat_map(|t| t.partitions()) {
        list.add_partition_offset(topic, p.id(), Offset::Beginning)?;
    }
    say_ready()?;
    let started = Instant::now();
    consumer.assign(&list)?;
    let mut stores = store.then(RawStores::new).transpose()?;
    let mut queue = Batches::of(&consumer)?;
    let (mut first, mut count) = (None::<Instant>, 0u64);
    while count < expected {
        let n = match stores.as_mut() {
            Some(stores) => queue.read(Duration::from_millis(100), |p, k, v| stores.put(p, k, v))?,
            None => queue.read(Duration::from_millis(100), |_, _, _| Ok(()))?,
        };
        if n > 0 {
            first.get_or_insert_with(Instant::now);
            count += n as u64;
        } else if started.elapsed() > Duration::from_secs(120) {
            bail!("raw restore: {count} of {expected} records");
        }
    }
    if let Some(stores) = stores.as_mut() {
        stores.write_all()?;
    }
    let ms = first.map_or(0, |f| f.elapsed().as_millis());
    say(&format!("restored {count} {ms}"))?;
    wait_for_stop();
    Ok(())
}

/// The consumer queue of a consumer with assigned partitions, read as a streamz restore
/// consumer reads it: up to [`Batches::SIZE`] records a call of librdkafka's batch read.
struct Batches<'c> {
    _consumer: &'c BaseConsumer,
    queue: *mut rd::rd_kafka_queue_t,
    messages: Vec<*mut rd::rd_kafka_message_t>,
}

impl<'c> Batches<'c> {
    /// As streamz's restore consumer.
    const SIZE: usize = 4096;

    fn of(consumer: &'c BaseConsumer) -> anyhow::Result<Self> {
        // SAFETY: the client outlives the handle (borrowed for `'c`), released in `drop`.
        let queue = unsafe { rd::rd_kafka_queue_get_consumer(consumer.client().native_ptr()) };
        ensure!(!queue.is_null(), "raw restore: the consumer has no consumer queue");
        Ok(Batches { _consumer: consumer, queue, messages: vec![std::ptr::null_mut(); Self::SIZE] })
    }

    /// Takes what is queued (waiting up to `timeout` for the first record), passes each
    /// record's partition, key and value (`None`: a tombstone) to `each`, frees them, and
    /// returns how many records it was; fails on a record carrying an error, before `each`
    /// sees any record of the batch, and with the first error of `each`.
    fn read(
        &mut self,
        timeout: Duration,
        mut each: impl FnMut(i32, &[u8], Option<&[u8]>) -> anyhow::Result<()>,
    ) -> anyhow::Result<usize> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: the queue is alive, and `messages` has room for `SIZE` pointers.
        let n = unsafe { rd::rd_kafka_consume_batch_queue(self.queue, ms, self.messages.as_mut_ptr(), Self::SIZE) };
        let taken = &self.messages[..n.max(0) as usize];
        // SAFETY: each message the call returned is valid until destroyed, once, below.
        let failed = taken
            .iter()
            .map(|&m| unsafe { (*m).err })
            .find(|e| *e != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR);
        let applied = match failed {
            Some(_) => Ok(()),
            None => taken.iter().try_for_each(|&m| {
                // SAFETY: as above; key and payload are `len` bytes each, or null.
                let (partition, key, value) =
                    unsafe { ((*m).partition, bytes((*m).key, (*m).key_len), bytes((*m).payload, (*m).len)) };
                each(partition, key.unwrap_or_default(), value)
            }),
        };
        for &m in taken {
            // SAFETY: as above.
            unsafe { rd::rd_kafka_message_destroy(m) };
        }
        match failed {
            Some(e) => bail!("raw restore: cannot consume: {:?}", RDKafkaErrorCode::from(e)),
            None => applied.map(|()| taken.len()),
        }
    }
}

/// The `len` bytes at `data`, or `None` when `data` is null.
///
/// # Safety
///
/// A non-null `data` points to `len` bytes that stay valid and unchanged for `'a`.
unsafe fn bytes<'a>(data: *const std::ffi::c_void, len: usize) -> Option<&'a [u8]> {
    // SAFETY: as the caller promises.
    (!data.is_null()).then(|| unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) })
}

impl Drop for Batches<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle is released once, while its client is alive.
        unsafe { rd::rd_kafka_queue_destroy(self.queue) }
    }
}

/// Fills `topic` (created here with `partitions`) with `records` changelog records of a count
/// store: keys `c-<i>`, values a count as streamz (`timestamped`: 8-byte timestamp, then the
/// 8-byte count) or Kafka Streams (the 8-byte count; the timestamp is the record's) log them.
pub(crate) fn produce_changelog(
    client: &KafkaClient,
    topic: &str,
    partitions: i32,
    records: u64,
    timestamped: bool,
) -> anyhow::Result<()> {
    client.create_topic(topic, partitions)?;
    let now = Timestamp::now();
    let items = (0..records).map(|i| {
        let mut value = Vec::with_capacity(16);
        if timestamped {
            value.extend_from_slice(&now.0.to_be_bytes());
        }
        value.extend_from_slice(&(i as i64 % 1000 + 1).to_be_bytes());
        (Some(format!("c-{i}").into_bytes()), Some(value), now)
    });
    client.produce_raw(topic, items)?;
    Ok(())
}
