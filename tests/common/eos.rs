//! What the exactly-once system tests share: the application (pass-through copy and per-key
//! sum, count, min and max), its instances as child processes, the input, and the verifier.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{bootstrap, per_key};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, ProcessingGuarantee, StreamsConfig};
use streamz::topology::Topology;
use streamz::RawRecord;

/// The aggregates' output topics, by suffix of the input topic.
pub const AGGREGATES: [&str; 4] = ["-sums", "-counts", "-mins", "-maxs"];

/// `in` → `in-copy`, and per key the running sum, count, min and max, each in a store of its
/// own, → `in-sums`, `in-counts`, `in-mins`, `in-maxs`.
pub fn topology(input: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, i64>(input);
    stream.to(&format!("{input}-copy"));
    let grouped = stream.group_by_key();
    grouped.reduce_with(|a, b| a + b, Materialized::named("sums")).to_stream().to(&format!("{input}-sums"));
    grouped.count_with(Materialized::named("counts")).to_stream().to(&format!("{input}-counts"));
    grouped.reduce_with(i64::min, Materialized::named("mins")).to_stream().to(&format!("{input}-mins"));
    grouped.reduce_with(i64::max, Materialized::named("maxs")).to_stream().to(&format!("{input}-maxs"));
    Ok(builder.build()?)
}

/// Creates the input and output topics with `partitions` partitions.
pub fn create_topics(client: &KafkaClient, input: &str, partitions: i32) -> anyhow::Result<()> {
    for suffix in ["", "-copy"].iter().chain(AGGREGATES.iter()) {
        client.create_topic(&format!("{input}{suffix}"), partitions)?;
    }
    Ok(())
}

/// An instance of the application run by a child process.
#[derive(Clone, Debug)]
pub struct Instance {
    pub input: String,
    pub app_id: String,
    pub id: String,
    /// State directory; the instance also writes its metrics to `<dir>/metrics` there.
    pub dir: PathBuf,
    /// `transaction.timeout.ms` of its producers.
    pub transaction_timeout_ms: u64,
    /// Its commit interval.
    pub commit_interval_ms: u64,
    /// Its `num_standby_replicas`.
    pub standby_replicas: usize,
}

impl Instance {
    /// Instance `n` of application `app_id` reading `input`, its state in `<dir>/instance-<n>`:
    /// a transaction timeout of 10 s, a commit interval of 100 ms, no standby replica.
    pub fn new(input: &str, app_id: &str, dir: &Path, n: usize) -> Self {
        Instance {
            input: input.to_string(),
            app_id: app_id.to_string(),
            id: format!("instance-{n}"),
            dir: dir.join(format!("instance-{n}")),
            transaction_timeout_ms: 10_000,
            commit_interval_ms: 100,
            standby_replicas: 0,
        }
    }

    /// Starts the instance as a child process: the test binary re-run with `var` set, running
    /// only the test `child` (which calls [`run_instance`]).
    pub fn spawn(&self, var: &str, child: &str) -> anyhow::Result<Child> {
        let spec = format!(
            "{} {} {} {} {} {} {}",
            self.input,
            self.app_id,
            self.id,
            self.dir.display(),
            self.transaction_timeout_ms,
            self.commit_interval_ms,
            self.standby_replicas
        );
        Ok(Command::new(std::env::current_exe()?)
            .args(["--exact", child, "--ignored", "--nocapture"])
            .env(var, spec)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?)
    }

    /// Why the instance's application failed (empty while it has not).
    pub fn errors(&self) -> String {
        std::fs::read_to_string(self.dir.join("errors")).unwrap_or_default()
    }

    /// The metrics the instance wrote last (empty before it wrote any).
    pub fn metrics(&self) -> BTreeMap<String, u64> {
        let text = std::fs::read_to_string(self.dir.join("metrics")).unwrap_or_default();
        text.lines()
            .filter_map(|l| l.split_once(' '))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect()
    }
}

/// Child processes, killed when dropped (also when a test fails).
#[derive(Debug, Default)]
pub struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// In a child process: runs the instance `$var` describes until killed, writing its metrics
/// every 100 ms; fails when the application fails. Does nothing when `$var` is not set.
pub fn run_instance(var: &str) -> anyhow::Result<()> {
    let Ok(spec) = std::env::var(var) else { return Ok(()) };
    let parts: Vec<&str> = spec.split(' ').collect();
    let [input, app_id, instance, dir, txn_timeout, commit_interval, standbys] = parts[..] else {
        anyhow::bail!("bad child spec `{spec}`")
    };
    let dir = Path::new(dir);
    std::fs::create_dir_all(dir)?;
    let config = StreamsConfig::new(app_id)
        .bootstrap_servers(bootstrap())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnce)
        .instance_id(instance)
        .state_dir(dir)
        // Every update is checked: no record cache folding them.
        .cache_max_bytes(0)
        .max_poll_records(1_000)
        .commit_interval(Duration::from_millis(commit_interval.parse()?))
        .num_standby_replicas(standbys.parse()?)
        // The broker's smallest session timeout: a dead or stopped instance's partitions move
        // after 6 s.
        .consumer_config("session.timeout.ms", "6000")
        .producer_config("transaction.timeout.ms", txn_timeout);
    let app = App::new(topology(input)?, config)?.start()?;
    for _ in 0..6_000 {
        std::thread::sleep(Duration::from_millis(100));
        let text: String = app.metrics().iter().map(|(k, v)| format!("{k} {v}\n")).collect();
        std::fs::write(dir.join("metrics.new"), text)?;
        std::fs::rename(dir.join("metrics.new"), dir.join("metrics"))?;
        if !app.errors().is_empty() {
            // The parent test reads why (the child's output goes nowhere).
            std::fs::write(dir.join("errors"), format!("{:?}", app.errors()))?;
            anyhow::bail!("the application failed: {:?}", app.errors());
        }
    }
    app.close()?;
    Ok(())
}

/// `n` records over `keys` keys, values pseudo-random in -500..500 (so that sum, min and max
/// all move).
pub fn inputs(n: usize, keys: u64) -> Vec<(String, i64)> {
    (0..n as u64)
        .map(|i| {
            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
            (format!("key{:05}", h % keys), (h >> 20) as i64 % 1_000 - 500)
        })
        .collect()
}

/// Produces `all` to `input` in `chunks` chunks, one every `pace`, counting what was produced.
pub fn produce_slowly(
    input: String,
    all: Arc<Vec<(String, i64)>>,
    chunks: usize,
    produced: Arc<AtomicUsize>,
    pace: Duration,
) -> std::thread::JoinHandle<anyhow::Result<()>> {
    std::thread::spawn(move || {
        let client = KafkaClient::connect(&bootstrap())?;
        for chunk in all.chunks(all.len().div_ceil(chunks)) {
            client.produce(&input, chunk.iter().map(|(k, v)| (k.clone(), *v, Timestamp::now())))?;
            produced.fetch_add(chunk.len(), Ordering::SeqCst);
            std::thread::sleep(pace);
        }
        Ok(())
    })
}

/// Waits (up to `timeout`) until application `app_id` committed the whole input (its offsets
/// are committed in the transactions of the outputs).
pub fn wait_for_committed(client: &KafkaClient, app_id: &str, input: &str, timeout: Duration) -> anyhow::Result<()> {
    let ends: Vec<i64> = client.watermarks(input)?.iter().map(|(_, _, high)| *high).collect();
    let start = Instant::now();
    while start.elapsed() < timeout {
        let committed: Vec<i64> =
            client.committed_offsets(app_id, input)?.iter().map(|(_, o)| o.unwrap_or(-1)).collect();
        if committed == ends {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// Decodes raw records of `String` keys and `V` values, with their partitions.
fn decode<V: Data>(raw: &[RawRecord]) -> anyhow::Result<Vec<(i32, Record<String, V>)>> {
    let (keys, values) = (String::default_serde(), V::default_serde());
    raw.iter()
        .map(|r| {
            let key = keys.deserialize(r.key.as_deref())?;
            let value = values.deserialize(r.value.as_deref())?;
            Ok((r.partition, Record { key, value, timestamp: r.timestamp, headers: r.headers.clone() }))
        })
        .collect()
}

/// Per partition, the (key, value) pairs in offset order.
fn by_partition(records: &[(i32, Record<String, i64>)]) -> BTreeMap<i32, Vec<(String, i64)>> {
    let mut out: BTreeMap<i32, Vec<(String, i64)>> = BTreeMap::new();
    for (p, r) in records {
        out.entry(*p).or_default().push((r.key.clone(), r.value));
    }
    out
}

/// Per key, the running sums, counts, mins and maxs after each of its inputs.
fn expected(all: &[(String, i64)]) -> [BTreeMap<String, Vec<Option<i64>>>; 4] {
    let mut want: [BTreeMap<String, Vec<Option<i64>>>; 4] = Default::default();
    let mut state: BTreeMap<&str, [i64; 4]> = BTreeMap::new();
    for (key, v) in all {
        let s = state
            .entry(key)
            .and_modify(|s| *s = [s[0] + v, s[1] + 1, s[2].min(*v), s[3].max(*v)])
            .or_insert([*v, 1, *v, *v]);
        for (i, x) in s.iter().enumerate() {
            want[i].entry(key.clone()).or_default().push(Some(*x));
        }
    }
    want
}

/// The verifier: read `read_committed`, each partition of the copy equals the same partition
/// of the input (no loss, no duplicate, same order), and for each key the k-th output of each
/// aggregate is the aggregate after the k-th input of that key. Returns how many records the
/// copy's log holds, committed or not.
pub fn verify(client: &KafkaClient, input: &str, all: &[(String, i64)]) -> anyhow::Result<usize> {
    let n = all.len();
    let read = |suffix: &str| client.read_raw_with(&format!("{input}{suffix}"), n, Duration::from_secs(60), true);
    let source = decode::<i64>(&client.read_raw(input, n, Duration::from_secs(60))?)?;
    assert_eq!(source.len(), n, "the input");
    let copy = decode::<i64>(&read("-copy")?)?;
    assert_eq!(copy.len(), n, "the committed pass-through copy has as many records as the input");
    assert!(by_partition(&copy) == by_partition(&source), "a partition of the copy differs from the input's");
    for (suffix, want) in AGGREGATES.iter().zip(expected(all)) {
        let got: Vec<Record<String, Option<i64>>> =
            decode::<Option<i64>>(&read(suffix)?)?.into_iter().map(|(_, r)| r).collect();
        assert_eq!(got.len(), n, "{suffix}: one committed output per input");
        assert!(per_key(&got) == want, "{suffix}: the k-th output of a key is not the aggregate after its k-th input");
    }
    Ok(client.read_raw(&format!("{input}-copy"), n, Duration::from_secs(5))?.len())
}
