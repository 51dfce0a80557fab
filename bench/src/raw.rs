//! The RAW baseline: consume → produce with plain rdkafka and the client settings of a streamz
//! stream thread (10 MiB fetches, a 4 MiB read-ahead retried after 2 ms, `range` assignment,
//! murmur2 partitioner, linger 5 ms, idempotent `acks=all`). At-least-once, it commits offsets
//! every 30 s after a flush; exactly-once, it reads committed records only and copies inside
//! transactions that also commit the consumed offsets, one every 100 ms, as a streamz stream
//! thread does. No decoding, no processing: the floor of what a consume → produce application
//! costs under each guarantee.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientConfig, ClientContext, Message};

/// Notes when partitions are assigned.
struct Assigned(Arc<AtomicBool>);

impl ClientContext for Assigned {}

impl ConsumerContext for Assigned {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            self.0.store(list.count() > 0, Ordering::SeqCst);
        }
    }
}

/// Counts delivery reports served, so a poll can serve all that arrived.
#[derive(Default)]
struct Reports(AtomicU64);

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &DeliveryResult<'_>, _: ()) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Serves the delivery reports that arrived, as a streamz stream thread does: one client poll
/// serves one partition batch's reports, and a record stays in memory until its report is
/// served.
fn serve_reports(producer: &BaseProducer<Reports>) {
    for _ in 0..1024 {
        let before = producer.context().0.load(Ordering::Relaxed);
        producer.poll(Duration::ZERO);
        if producer.context().0.load(Ordering::Relaxed) == before {
            break;
        }
    }
}

/// How a copy makes what it consumed final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Commit {
    /// Flush the producer, then commit the consumer's offsets, every 30 s: at-least-once.
    Offsets,
    /// Every 100 ms, commit a transaction holding the copies and the consumed offsets; read
    /// committed records only: exactly-once.
    Transactions,
}

impl Commit {
    fn interval(self) -> Duration {
        match self {
            Commit::Offsets => Duration::from_secs(30),
            Commit::Transactions => Duration::from_millis(100),
        }
    }
}

/// Waits until every record sent is acknowledged, as a stream thread's flush does: checks
/// without waiting, sleeps 200 µs, serves the reports that arrived, and again. (rdkafka's own
/// `flush` waits on the client's queue in steps of up to 100 ms, which under exactly-once held
/// each commit back by about that much.)
fn flush(producer: &BaseProducer<Reports>) -> anyhow::Result<()> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match producer.flush(Duration::ZERO) {
            Err(KafkaError::Flush(RDKafkaErrorCode::OperationTimedOut)) if Instant::now() < deadline => {
                sleep_and_serve(producer)
            }
            done => return done.context("raw: cannot flush the producer"),
        }
    }
}

/// Sleeps 200 µs, then serves the delivery reports that arrived meanwhile (at most 64
/// events): how a stream thread waits for acknowledgements in a flush or a full queue.
fn sleep_and_serve(producer: &BaseProducer<Reports>) {
    std::thread::sleep(Duration::from_micros(200));
    for _ in 0..64 {
        producer.poll(Duration::ZERO);
    }
}

fn consumer_config(bootstrap: &str, group: &str, commit: Commit) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("client.id", format!("{group}-consumer"))
        .set("log_level", "3")
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "range")
        .set("max.partition.fetch.bytes", "10485760")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    read_ahead(&mut c);
    if commit == Commit::Transactions {
        c.set("isolation.level", "read_committed");
    }
    for (k, v) in extra_consumer_settings() {
        c.set(k, v);
    }
    c
}

/// The read-ahead of a streamz consumer: at most 4 MiB and 20,000 records a partition
/// queued, a full queue retried after 2 ms (librdkafka's default pauses the partition's
/// fetches for 1 s).
pub(crate) fn read_ahead(c: &mut ClientConfig) -> &mut ClientConfig {
    c.set("queued.max.messages.kbytes", "4096").set("queued.min.messages", "20000").set("fetch.queue.backoff.ms", "2")
}

/// Consumer settings added to every streamz and RAW consumer of a run, from
/// `$STREAMZ_BENCH_CONSUMER` (`key=value;key=value`): for trying client settings.
pub(crate) fn extra_consumer_settings() -> Vec<(String, String)> {
    settings_from("STREAMZ_BENCH_CONSUMER")
}

/// Producer settings added to every streamz and RAW producer of a run, from
/// `$STREAMZ_BENCH_PRODUCER` (`key=value;key=value`).
pub(crate) fn extra_producer_settings() -> Vec<(String, String)> {
    settings_from("STREAMZ_BENCH_PRODUCER")
}

/// `key=value;key=value` pairs of the environment variable `name`.
fn settings_from(name: &str) -> Vec<(String, String)> {
    let spec = std::env::var(name).unwrap_or_default();
    spec.split(';')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn producer_config(bootstrap: &str, group: &str, commit: Commit) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("client.id", format!("{group}-producer"))
        .set("log_level", "3")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("queue.buffering.max.messages", "1000000")
        .set("batch.num.messages", "10000");
    if commit == Commit::Transactions {
        c.set("transactional.id", format!("{group}-txn"));
    }
    for (k, v) in extra_producer_settings() {
        c.set(k, v);
    }
    c
}

/// Copies `input` to `output` until `wait_for_stop` returns (it runs on a thread of its own);
/// calls `ready` once partitions are assigned.
pub(crate) fn run(
    bootstrap: &str,
    group: &str,
    input: &str,
    output: &str,
    commit: Commit,
    ready: fn() -> anyhow::Result<()>,
    wait_for_stop: fn(),
) -> anyhow::Result<()> {
    let (assigned, stop) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let stopper = stop.clone();
    std::thread::spawn(move || {
        wait_for_stop();
        stopper.store(true, Ordering::SeqCst);
    });
    let watcher = assigned.clone();
    std::thread::spawn(move || {
        while !watcher.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = ready();
    });
    Copy { bootstrap, group, input, output, changelog: None }.run(commit, &assigned, &stop)
}

/// W2's baseline: `input` → `repartition` → `output`, two consume → produce copies in one
/// process (a stream thread also consumes its own repartition topic). With a `changelog`, the
/// second copy also writes one record a copied record to it, shaped as a window store's
/// changelog record (see [`Copy::changelog`]): W2's whole Kafka traffic.
pub(crate) fn run_twice(
    bootstrap: &str,
    group: &str,
    input: &str,
    repartition: &str,
    output: &str,
    changelog: Option<&str>,
    commit: Commit,
) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut copies = Vec::new();
    let mut flags = Vec::new();
    let stages = [(input, repartition, None), (repartition, output, changelog)];
    for (i, (from, to, log)) in stages.into_iter().enumerate() {
        let (assigned, stop) = (Arc::new(AtomicBool::new(false)), stop.clone());
        flags.push(assigned.clone());
        let (bootstrap, group) = (bootstrap.to_string(), format!("{group}-{i}"));
        let (from, to, log) = (from.to_string(), to.to_string(), log.map(str::to_string));
        copies.push(std::thread::spawn(move || {
            let copy =
                Copy { bootstrap: &bootstrap, group: &group, input: &from, output: &to, changelog: log.as_deref() };
            copy.run(commit, &assigned, &stop)
        }));
    }
    while !flags.iter().all(|f| f.load(Ordering::SeqCst)) && !copies.iter().any(|c| c.is_finished()) {
        std::thread::sleep(Duration::from_millis(5));
    }
    crate::workloads::say_ready()?;
    crate::workloads::wait_for_stop();
    stop.store(true, Ordering::SeqCst);
    for copy in copies {
        copy.join().map_err(|_| anyhow::anyhow!("raw: a copy panicked"))??;
    }
    Ok(())
}

/// One consume → produce copy.
struct Copy<'a> {
    bootstrap: &'a str,
    /// The consumer group (and the transactional id's prefix).
    group: &'a str,
    input: &'a str,
    output: &'a str,
    /// A topic that also gets, per copied record, what a window store's changelog gets for it
    /// in W2: the key followed by the 8-byte start of its 10 s window, a 16-byte value (the
    /// two `i64` of a count and a sum), the record's timestamp, in the record's partition.
    changelog: Option<&'a str>,
}

impl Copy<'_> {
    /// Copies until `stop`; `assigned` is set once partitions are assigned.
    fn run(&self, commit: Commit, assigned: &Arc<AtomicBool>, stop: &AtomicBool) -> anyhow::Result<()> {
        let consumer: BaseConsumer<Assigned> =
            consumer_config(self.bootstrap, self.group, commit).create_with_context(Assigned(assigned.clone()))?;
        let producer: BaseProducer<Reports> =
            producer_config(self.bootstrap, self.group, commit).create_with_context(Reports::default())?;
        if commit == Commit::Transactions {
            producer.init_transactions(TIMEOUT).context("raw: cannot initialize transactions")?;
            producer.begin_transaction().context("raw: cannot begin a transaction")?;
        }
        consumer.subscribe(&[self.input])?;
        let (mut copied, mut committed, mut last_commit) = (0u64, 0u64, Instant::now());
        let mut log_key = Vec::with_capacity(64);
        while !stop.load(Ordering::SeqCst) {
            if let Some(message) = consumer.poll(Duration::from_millis(100)) {
                let message = message.context("raw: cannot consume")?;
                let ts = message.timestamp().to_millis();
                let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(self.output);
                if let Some(ts) = ts {
                    record = record.timestamp(ts);
                }
                if let Some(k) = message.key() {
                    record = record.key(k);
                }
                if let Some(v) = message.payload() {
                    record = record.payload(v);
                }
                send(&producer, record)?;
                if let Some(changelog) = self.changelog {
                    let ts = ts.unwrap_or(0);
                    log_key.clear();
                    log_key.extend_from_slice(message.key().unwrap_or_default());
                    log_key.extend_from_slice(&(ts - ts.rem_euclid(10_000)).to_be_bytes());
                    let mut value = [0u8; 16];
                    value[..8].copy_from_slice(&copied.to_be_bytes());
                    value[8..].copy_from_slice(&ts.to_be_bytes());
                    let record = BaseRecord::to(changelog)
                        .partition(message.partition())
                        .timestamp(ts)
                        .key(&log_key[..])
                        .payload(&value[..]);
                    send(&producer, record)?;
                }
                copied += 1;
                if copied % 1_000 == 0 {
                    serve_reports(&producer);
                }
            } else {
                serve_reports(&producer);
            }
            if last_commit.elapsed() >= commit.interval() {
                if copied > committed {
                    make_final(&consumer, &producer, commit, true)?;
                    committed = copied;
                }
                last_commit = Instant::now();
            }
        }
        make_final(&consumer, &producer, commit, false)
    }
}

/// Sends `record`, waiting as a stream thread waits while the producer's queue is full.
fn send(producer: &BaseProducer<Reports>, mut record: BaseRecord<'_, [u8], [u8]>) -> anyhow::Result<()> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                sleep_and_serve(producer);
            }
            Err((e, _)) => return Err(e).context("raw: cannot produce"),
        }
    }
}

/// How long a flush or a transaction call may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Makes what was copied so far final: commits the consumed offsets after a flush, or inside
/// the open transaction, which is committed (and followed by a new one when `go_on`).
fn make_final(
    consumer: &BaseConsumer<Assigned>,
    producer: &BaseProducer<Reports>,
    commit: Commit,
    go_on: bool,
) -> anyhow::Result<()> {
    match commit {
        Commit::Offsets => {
            flush(producer)?;
            commit_offsets(consumer)
        }
        Commit::Transactions => {
            // rdkafka's commit flushes too, in its own slower way: nothing is left for it.
            flush(producer)?;
            let offsets = consumer.position().context("raw: cannot read the consumer's positions")?;
            let group = consumer.group_metadata().context("raw: the consumer has no group metadata")?;
            producer
                .send_offsets_to_transaction(&offsets, &group, TIMEOUT)
                .context("raw: cannot send offsets to the transaction")?;
            producer.commit_transaction(TIMEOUT).context("raw: cannot commit the transaction")?;
            if go_on {
                producer.begin_transaction().context("raw: cannot begin a transaction")?;
            }
            Ok(())
        }
    }
}

fn commit_offsets(consumer: &BaseConsumer<Assigned>) -> anyhow::Result<()> {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
        Err(e) => Err(e).context("raw: cannot commit"),
    }
}
