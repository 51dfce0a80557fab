//! Exactly-once under crashes, modelled on Kafka Streams' EOS system test: the application
//! runs in a child process that is killed (`SIGKILL`) several times while it processes, and
//! started again. Read `read_committed`, the pass-through copy equals the input exactly, and
//! the k-th sum and count of each key are those after its k-th input.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{bootstrap, per_key, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, ProcessingGuarantee, StreamsConfig};
use streamz::topology::Topology;

const CHILD: &str = "STREAMZ_EOS_CHILD";
const RECORDS: i64 = 50_000;
const KEYS: i64 = 1_000;
const PARTITIONS: i32 = 4;

/// `in` → `in-copy`, and per key the running sum → `in-sums` and count → `in-counts`.
fn topology(input: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, i64>(input);
    stream.to(&format!("{input}-copy"));
    let grouped = stream.group_by_key();
    grouped.reduce_with(|a, b| a + b, Materialized::named("sums")).to_stream().to(&format!("{input}-sums"));
    grouped.count_with(Materialized::named("counts")).to_stream().to(&format!("{input}-counts"));
    Ok(builder.build()?)
}

/// The child: runs the application (input topic and application id from `$STREAMZ_EOS_CHILD`)
/// until it is killed. Does nothing in a normal test run.
#[test]
#[ignore = "run by eos_crash's parent test as its child process"]
fn eos_child_process() -> anyhow::Result<()> {
    let Ok(spec) = std::env::var(CHILD) else { return Ok(()) };
    let (input, app_id) = spec.split_once(' ').ok_or_else(|| anyhow::anyhow!("bad child spec `{spec}`"))?;
    let config = StreamsConfig::new(app_id)
        .cache_max_bytes(0)
        .bootstrap_servers(bootstrap())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnce)
        .instance_id("crash-child")
        .max_poll_records(500);
    let app = App::new(topology(input)?, config)?.start()?;
    for _ in 0..600 {
        std::thread::sleep(Duration::from_millis(500));
        if !app.errors().is_empty() {
            anyhow::bail!("the application failed: {:?}", app.errors());
        }
    }
    app.close()?;
    Ok(())
}

fn spawn_child(input: &str, app_id: &str) -> anyhow::Result<Child> {
    Ok(Command::new(std::env::current_exe()?)
        .args(["--exact", "eos_child_process", "--ignored", "--nocapture"])
        .env(CHILD, format!("{input} {app_id}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?)
}

fn timestamped(records: &[(String, i64)]) -> impl Iterator<Item = (String, i64, Timestamp)> + '_ {
    records.iter().map(|(k, v)| (k.clone(), *v, Timestamp::now()))
}

fn inputs() -> Vec<(String, i64)> {
    (0..RECORDS).map(|i| (format!("key{:04}", (i * 7919) % KEYS), i % 97)).collect()
}

#[test]
fn killed_and_restarted_exactly_once_application_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let (input, app_id) = (unique("eos-crash"), unique("eos-crash-app"));
    let client = KafkaClient::connect(&bootstrap())?;
    for suffix in ["", "-copy", "-sums", "-counts"] {
        client.create_topic(&format!("{input}{suffix}"), PARTITIONS)?;
    }
    let ends = common::CopyEnds::new(&input, PARTITIONS)?;
    let all = inputs();
    let chunks: Vec<&[(String, i64)]> = all.chunks(all.len() / 5).collect();
    let (mut produced, mut mid_processing) = (0, 0);
    for (n, chunk) in chunks.iter().enumerate() {
        let mut child = spawn_child(&input, &app_id)?;
        // A few records first: once the child has committed them it runs, and the rest of the
        // chunk arrives in pieces while it processes, so its transactions are open most of
        // the time (all at once, a chunk fits in one short transaction after the child's start).
        let (first, rest) = chunk.split_at(100);
        let before = ends.read()?.1;
        client.produce(&input, timestamped(first))?;
        let start = std::time::Instant::now();
        while ends.read()?.1 < before + first.len() as i64 && start.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::scope(|scope| -> anyhow::Result<()> {
            let pieces = scope.spawn(|| -> anyhow::Result<()> {
                let client = KafkaClient::connect(&bootstrap())?;
                for piece in rest.chunks(rest.len().div_ceil(20)) {
                    client.produce(&input, timestamped(piece))?;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(())
            });
            // Killed once the child has committed some of the pieces, at a different point
            // each time, while a transaction holds records of the copy, so the kill cuts it.
            let running = ends.read()?.1;
            ends.wait_to_cut(running + 500 + 300 * n as i64, Duration::from_secs(1), Duration::from_secs(60))?;
            child.kill()?;
            child.wait()?;
            pieces.join().map_err(|_| anyhow::anyhow!("the producer thread panicked"))?
        })?;
        produced += chunk.len() as i64;
        let copied = client.read_with::<String, i64>(&format!("{input}-copy"), 0, Duration::from_secs(2), true)?;
        if (copied.len() as i64) < produced {
            mid_processing += 1;
        }
    }
    let mut child = spawn_child(&input, &app_id)?;
    let read = |suffix: &str| {
        client.read_with::<String, i64>(&format!("{input}{suffix}"), all.len(), Duration::from_secs(240), true)
    };
    let copy = read("-copy");
    let sums =
        client.read_with::<String, Option<i64>>(&format!("{input}-sums"), all.len(), Duration::from_secs(60), true);
    let counts =
        client.read_with::<String, Option<i64>>(&format!("{input}-counts"), all.len(), Duration::from_secs(60), true);
    child.kill()?;
    child.wait()?;
    let (copy, sums, counts) = (copy?, sums?, counts?);

    let mut want_copy: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let (mut want_sums, mut want_counts): (BTreeMap<String, Vec<Option<i64>>>, BTreeMap<String, Vec<Option<i64>>>) =
        Default::default();
    for (key, value) in &all {
        let values = want_copy.entry(key.clone()).or_default();
        values.push(*value);
        want_sums.entry(key.clone()).or_default().push(Some(values.iter().sum()));
        want_counts.entry(key.clone()).or_default().push(Some(values.len() as i64));
    }
    let raw = client.read_raw(&format!("{input}-copy"), all.len(), Duration::from_secs(5))?;
    assert!(raw.len() > all.len(), "no kill cut a transaction: the log holds no aborted record");
    assert!(mid_processing >= 2, "only {mid_processing} kills happened while the child was processing");
    assert_eq!(copy.len(), all.len(), "pass-through copy");
    assert!(per_key(&copy) == want_copy, "the copy differs from the input per key");
    assert_eq!(sums.len(), all.len(), "sums");
    assert!(per_key(&sums) == want_sums, "the k-th sum of a key is not the sum after its k-th input");
    assert_eq!(counts.len(), all.len(), "counts");
    assert!(per_key(&counts) == want_counts, "the k-th count of a key is not k");
    Ok(())
}
