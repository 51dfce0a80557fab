//! Shared helpers of the integration tests: the local Kafka broker and unique names.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use streamz::prelude::*;

/// The bootstrap servers of a real local Kafka broker: the one named by `$STREAMZ_BOOTSTRAP`,
/// else the project's own (`scripts/kafka.sh start`, which reuses a running one).
pub fn bootstrap() -> String {
    static BOOTSTRAP: OnceLock<String> = OnceLock::new();
    BOOTSTRAP
        .get_or_init(|| {
            if let Some(b) = std::env::var("STREAMZ_BOOTSTRAP").ok().filter(|b| !b.is_empty()) {
                return b;
            }
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kafka.sh");
            let out = Command::new("bash").arg(script).arg("start").output().expect("cannot run scripts/kafka.sh");
            assert!(
                out.status.success(),
                "cannot start the local Kafka broker with scripts/kafka.sh:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            stdout.lines().last().expect("scripts/kafka.sh start printed no address").trim().to_string()
        })
        .clone()
}

/// A name no other test (or earlier run) uses: `<prefix>-<pid>-<n>-<time>`.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis();
    format!("{prefix}-{}-{n}-{t}", std::process::id())
}

/// A fresh state directory: each instance of one application in a test needs its own (a
/// running instance locks its directory).
pub fn state_dir() -> std::path::PathBuf {
    std::env::temp_dir().join("streamz-tests").join(unique("state"))
}

/// The values of each key, in order.
pub fn per_key<K: Ord + Clone, V: Clone>(records: &[Record<K, V>]) -> BTreeMap<K, Vec<V>> {
    let mut out: BTreeMap<K, Vec<V>> = BTreeMap::new();
    for r in records {
        out.entry(r.key.clone()).or_default().push(r.value.clone());
    }
    out
}

/// The last value of each key.
pub fn last_per_key<K: Ord + Clone, V: Clone>(records: &[Record<K, V>]) -> BTreeMap<K, V> {
    records.iter().map(|r| (r.key.clone(), r.value.clone())).collect()
}

/// The ends of the exactly-once tests' copy topic (`<input>-copy`), over its partitions: as
/// written (records of open and aborted transactions included), and as committed (the last
/// stable offsets).
pub struct CopyEnds {
    topic: String,
    partitions: i32,
    written: rdkafka::consumer::BaseConsumer,
    committed: rdkafka::consumer::BaseConsumer,
}

impl CopyEnds {
    pub fn new(input: &str, partitions: i32) -> anyhow::Result<Self> {
        let consumer = |isolation: &str| {
            rdkafka::ClientConfig::new()
                .set("bootstrap.servers", bootstrap())
                .set("isolation.level", isolation)
                .set("log_level", "3")
                .create::<rdkafka::consumer::BaseConsumer>()
        };
        Ok(CopyEnds {
            topic: format!("{input}-copy"),
            partitions,
            written: consumer("read_uncommitted")?,
            committed: consumer("read_committed")?,
        })
    }

    /// `(written, committed)`: the first is larger while a transaction holds records.
    pub fn read(&self) -> anyhow::Result<(i64, i64)> {
        use rdkafka::consumer::Consumer;
        let end = |consumer: &rdkafka::consumer::BaseConsumer| -> anyhow::Result<i64> {
            let mut sum = 0;
            for p in 0..self.partitions {
                sum += consumer.fetch_watermarks(&self.topic, p, std::time::Duration::from_secs(10))?.1;
            }
            Ok(sum)
        };
        // Written first: committed records are written too, so `written > committed` means
        // records written before the second read were still uncommitted at it.
        let written = end(&self.written)?;
        Ok((written, end(&self.committed)?))
    }

    /// Waits for a moment when a kill cuts a transaction: the committed end has reached
    /// `at_least` and a transaction holds records. Once the end is reached, a copy still for
    /// `quiet` has nothing left to cut, and the wait ends too; it ends after `timeout` anyway.
    pub fn wait_to_cut(
        &self,
        at_least: i64,
        quiet: std::time::Duration,
        timeout: std::time::Duration,
    ) -> anyhow::Result<()> {
        let start = std::time::Instant::now();
        let (mut last, mut since) = (self.read()?, std::time::Instant::now());
        while start.elapsed() < timeout {
            let now = self.read()?;
            if now != last {
                (last, since) = (now, std::time::Instant::now());
            }
            let (written, committed) = now;
            if committed >= at_least && (written > committed || since.elapsed() >= quiet) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(())
    }
}
