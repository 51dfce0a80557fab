//! The timing consumer: reads an output topic from the beginning while the application writes
//! it, and notes when each record arrives.

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

/// A timing consumer running on a thread of its own.
pub(crate) struct Timer {
    handle: JoinHandle<anyhow::Result<Arrivals>>,
    expected: Arc<AtomicU64>,
    missing: Arc<AtomicU64>,
}

/// How long the output must be quiet before the timer accepts fewer records than expected.
const SETTLE: Duration = Duration::from_secs(5);

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Timer {
    /// Starts reading the `partitions` partitions of `topic` from the beginning. It stops once `expected`
    /// records arrived (see [`Timer::expect`]), or fails after 30 s without one (90 s before the first).
    pub(crate) fn start(bootstrap: &str, topic: &str, partitions: usize, latencies: bool) -> anyhow::Result<Timer> {
        // A full queue must not pause this consumer for librdkafka's default 1 s: the timer
        // would see the last output late.
        let consumer: BaseConsumer = crate::raw::read_ahead(&mut ClientConfig::new())
            .set("bootstrap.servers", bootstrap)
            .set("group.id", format!("bench-timer-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("max.partition.fetch.bytes", "10485760")
            .set("log_level", "3")
            .create()?;
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
        consumer.assign(&list)?;
        let expected = Arc::new(AtomicU64::new(u64::MAX));
        let missing = Arc::new(AtomicU64::new(0));
        let (target, may_miss) = (expected.clone(), missing.clone());
        let handle = std::thread::Builder::new()
            .name("timer".into())
            .spawn(move || read(&consumer, &target, &may_miss, latencies))
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
            // The application needs a while to start; after that, output must keep coming.
            let quiet = if arrivals.count == 0 { Duration::from_secs(90) } else { Duration::from_secs(30) };
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
