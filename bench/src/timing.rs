//! The timing consumer: watches an output topic while the application writes it, and notes
//! when its records arrive.
//!
//! Two ways, by phase:
//! - [`Watch::EndOffsets`] (throughput): samples the end offsets of the topic's partitions
//!   every few milliseconds (one ListOffsets request for all of them), and reads the records
//!   only once the application is done, to count them. Reading every record while it arrives
//!   competes for the 2 cores with the application being measured: at W3's 360 k output
//!   records/s the reading took a fifth of a core.
//! - [`Watch::Records`] (latency): reads every record as it arrives, for its latency; the
//!   fixed input rate of that phase keeps the reading cheap.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// When the output arrived.
#[derive(Debug)]
pub(crate) struct Arrivals {
    pub(crate) count: u64,
    pub(crate) first: Instant,
    pub(crate) last: Instant,
    /// Arrival wall time minus record timestamp, in ms, per record (when asked for).
    pub(crate) latencies_ms: Vec<i64>,
}

/// How the timer follows the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Watch {
    /// Reads every record as it arrives, and notes its latency.
    Records,
    /// Samples the partitions' end offsets while the application runs; reads the records
    /// afterwards. `transactional`: the output is written in transactions, whose commit markers
    /// take offsets too, so an end offset is not a record count.
    EndOffsets { transactional: bool },
}

/// A timing consumer running on a thread of its own.
pub(crate) struct Timer {
    handle: JoinHandle<anyhow::Result<Arrivals>>,
    expected: Arc<AtomicU64>,
    missing: Arc<AtomicU64>,
}

/// How long the output must be quiet before the timer accepts fewer records than expected.
const SETTLE: Duration = Duration::from_secs(5);

/// How long the end offsets of a transactional output must stay still, once they add up to
/// the expected records, before the output counts as complete (its applications commit every
/// 100 ms).
const TRANSACTIONS_SETTLE: Duration = Duration::from_secs(2);

/// How often the end offsets are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Timer {
    /// Starts watching the `partitions` partitions of `topic` from the beginning. It stops once
    /// `expected` records arrived (see [`Timer::expect`]), or fails after 30 s without one (90 s
    /// before the first).
    pub(crate) fn start(bootstrap: &str, topic: &str, partitions: usize, watch: Watch) -> anyhow::Result<Timer> {
        // A full queue must not pause this consumer for librdkafka's default 1 s: the timer
        // would see the last output late.
        let mut config = ClientConfig::new();
        crate::raw::read_ahead(&mut config)
            .set("bootstrap.servers", bootstrap)
            .set("group.id", format!("bench-timer-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("max.partition.fetch.bytes", "10485760")
            .set("log_level", "3");
        let consumer: BaseConsumer = config.create()?;
        // A topic just created may show no partitions yet.
        let mut list = TopicPartitionList::new();
        for _ in 0..100 {
            let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
            let ids: Vec<i32> = metadata.topics().iter().flat_map(|t| t.partitions()).map(|p| p.id()).collect();
            if ids.len() == partitions {
                for id in ids {
                    list.add_partition_offset(topic, id, Offset::Beginning)?;
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        ensure!(list.count() == partitions, "topic `{topic}` does not show its {partitions} partitions");
        let expected = Arc::new(AtomicU64::new(u64::MAX));
        let missing = Arc::new(AtomicU64::new(0));
        let (target, may_miss) = (expected.clone(), missing.clone());
        let watched = Watched { config, consumer, list, expected: target, missing: may_miss };
        let handle = std::thread::Builder::new()
            .name("timer".into())
            .spawn(move || watched.run(watch))
            .context("cannot start the timing thread")?;
        Ok(Timer { handle, expected, missing })
    }

    /// How many records to wait for, of which up to `missing` may never come (records a window
    /// drops as late): the timer then stops once the output was quiet for 5 s.
    pub(crate) fn expect(&self, n: u64, missing: u64) {
        self.missing.store(missing, Ordering::SeqCst);
        self.expected.store(n, Ordering::SeqCst);
    }

    /// Waits until the expected records arrived.
    pub(crate) fn finish(self) -> anyhow::Result<Arrivals> {
        self.handle.join().map_err(|_| anyhow::anyhow!("the timing thread panicked"))?
    }
}

/// The timing thread's consumer, the partitions it watches (all from the beginning), and what
/// it waits for.
struct Watched {
    config: ClientConfig,
    consumer: BaseConsumer,
    list: TopicPartitionList,
    expected: Arc<AtomicU64>,
    missing: Arc<AtomicU64>,
}

impl Watched {
    fn run(self, watch: Watch) -> anyhow::Result<Arrivals> {
        match watch {
            Watch::Records => {
                self.consumer.assign(&self.list)?;
                read(&self.consumer, &self.expected, &self.missing, true)
            }
            Watch::EndOffsets { transactional } => {
                let (first, last) = self.sample_end_offsets(transactional)?;
                // The application is done: read what it wrote, to count it.
                self.consumer.assign(&self.list)?;
                let read = read(&self.consumer, &self.expected, &self.missing, false)?;
                Ok(Arrivals { count: read.count, first, last, latencies_ms: Vec::new() })
            }
        }
    }

    /// The sum of the end offsets of the watched partitions, as `consumer` sees them: up to the
    /// last record written under `read_uncommitted`, up to the last one committed (the last
    /// stable offset) under `read_committed`. An error (e.g. a topic just created has no
    /// leader yet) is the caller's to retry.
    fn end_offsets(&self, consumer: &BaseConsumer) -> Result<u64, String> {
        let mut latest = TopicPartitionList::new();
        for e in self.list.elements() {
            latest.add_partition_offset(e.topic(), e.partition(), Offset::End).map_err(|e| e.to_string())?;
        }
        let offsets = consumer.offsets_for_times(latest, Duration::from_secs(10)).map_err(|e| e.to_string())?;
        let mut sum = 0;
        for e in offsets.elements() {
            e.error().map_err(|err| format!("end offset of partition {}: {err}", e.partition()))?;
            match e.offset() {
                Offset::Offset(o) => sum += o.max(0) as u64,
                other => return Err(format!("end offset of partition {}: {other:?}", e.partition())),
            }
        }
        Ok(sum)
    }

    /// Samples the end offsets until they account for the expected records: when the first
    /// record was written, and when the last was committed.
    ///
    /// Offsets count records exactly on a fresh topic written without transactions. With
    /// transactions the first record is seen as written (`read_uncommitted`), before its
    /// transaction commits, and the rest as committed; since commit markers take offsets too,
    /// the committed end must also stay still for a while once it adds up to the expected
    /// records, as must any output from which records may be missing.
    fn sample_end_offsets(&self, transactional: bool) -> anyhow::Result<(Instant, Instant)> {
        let uncommitted: Option<BaseConsumer> = match transactional {
            true => Some(self.config.clone().set("isolation.level", "read_uncommitted").create()?),
            false => None,
        };
        let start = Instant::now();
        let (mut first, mut last, mut sum) = (None::<Instant>, start, 0);
        let mut error = None;
        loop {
            let probe = match (&uncommitted, first) {
                (Some(uncommitted), None) => uncommitted,
                _ => &self.consumer,
            };
            match self.end_offsets(probe) {
                Ok(now_sum) if now_sum != sum => {
                    let now = Instant::now();
                    first.get_or_insert(now);
                    (last, sum) = (now, now_sum);
                }
                Ok(_) => {}
                Err(e) => error = Some(e),
            }
            let expected = self.expected.load(Ordering::SeqCst);
            let missing = self.missing.load(Ordering::SeqCst);
            let settle = match (transactional, missing) {
                (false, 0) => Duration::ZERO,
                (true, 0) => TRANSACTIONS_SETTLE,
                _ => SETTLE,
            };
            if let Some(first) = first {
                if sum >= expected.saturating_sub(missing) && last.elapsed() >= settle {
                    return Ok((first, last));
                }
            }
            let quiet = quiet_limit(first.is_some());
            if last.elapsed() > quiet {
                bail!(
                    "no output for {quiet:?}: the end offsets add up to {sum} of {expected} records (last error: {})",
                    error.as_deref().unwrap_or("none")
                );
            }
            std::thread::sleep(SAMPLE_EVERY);
        }
    }
}

/// How long the output may be quiet before the timer gives up: the application needs a while
/// to start, but once output `came` it must keep coming.
fn quiet_limit(came: bool) -> Duration {
    if came {
        Duration::from_secs(30)
    } else {
        Duration::from_secs(90)
    }
}

/// Reads until `expected` records arrived (or, when some may be missing, enough of them and
/// then nothing for [`SETTLE`]); notes when the first and the last arrived.
fn read(
    consumer: &BaseConsumer,
    expected: &AtomicU64,
    missing: &AtomicU64,
    latencies: bool,
) -> anyhow::Result<Arrivals> {
    let start = Instant::now();
    let mut arrivals = Arrivals { count: 0, first: start, last: start, latencies_ms: Vec::new() };
    while arrivals.count < expected.load(Ordering::SeqCst) {
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            let enough = expected.load(Ordering::SeqCst).saturating_sub(missing.load(Ordering::SeqCst));
            if arrivals.count > 0 && arrivals.count >= enough && arrivals.last.elapsed() > SETTLE {
                break;
            }
            let quiet = quiet_limit(arrivals.count > 0);
            if arrivals.last.elapsed() > quiet {
                bail!(
                    "no output for {quiet:?}: {} of {} records arrived",
                    arrivals.count,
                    expected.load(Ordering::SeqCst)
                );
            }
            continue;
        };
        let message = message.context("timing consumer")?;
        let now = Instant::now();
        if arrivals.count == 0 {
            arrivals.first = now;
        }
        arrivals.last = now;
        arrivals.count += 1;
        if latencies {
            arrivals.latencies_ms.push(now_ms() - message.timestamp().to_millis().unwrap_or(0));
        }
    }
    Ok(arrivals)
}
