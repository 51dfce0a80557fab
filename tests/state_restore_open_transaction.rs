//! A changelog with another producer's transaction open on it, on a real broker.
//!
//! Under exactly-once the end a restore reads to is the changelog's last stable offset: the
//! first offset of the oldest open transaction. When a zombie of a task's previous owner left
//! such a transaction open and this instance committed its own writes after it, the store's
//! checkpoint is past that offset, yet inside the changelog. Restarting then keeps the store
//! as it is: clearing it and restoring up to the open transaction would lose every update
//! committed after it (the counts would start again from their old values).

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{bootstrap, unique};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, ProcessingGuarantee, RestoreProgress, StateRestoreListener, StreamsConfig};

const KEYS: usize = 10;
const PER_RUN: usize = 100;

/// Records restored, and how many of them were read from the beginning of a changelog.
#[derive(Default)]
struct Tally {
    restored: AtomicU64,
    from_beginning: AtomicU64,
}

impl StateRestoreListener for Tally {
    fn on_restore_end(&self, progress: &RestoreProgress<'_>, _: Duration) {
        self.restored.fetch_add(progress.restored, Ordering::SeqCst);
        if !progress.from_checkpoint {
            self.from_beginning.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Produces `PER_RUN` more records, runs the counting application until their counts are
/// committed, and closes it cleanly. Returns what it restored.
fn run(client: &KafkaClient, input: &str, app_id: &str, dir: &Path, run: usize) -> anyhow::Result<Arc<Tally>> {
    let records = (0..PER_RUN).map(|i| (format!("k{}", (run * PER_RUN + i) % KEYS), 1i64, Timestamp::now()));
    client.produce(input, records)?;
    let tally = Arc::new(Tally::default());
    let config = StreamsConfig::new(app_id)
        .bootstrap_servers(bootstrap())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnce)
        .state_dir(dir)
        .cache_max_bytes(0)
        .restore_listener(tally.clone());
    let builder = StreamsBuilder::new();
    let counts = builder.stream::<String, i64>(input).group_by_key().count_with(Materialized::named("counts"));
    counts.to_stream().to(&format!("{input}-counts"));
    let app = App::new(builder.build()?, config)?.start()?;
    let want = (run + 1) * PER_RUN;
    let output = format!("{input}-counts");
    let got = client.read_with::<String, Option<i64>>(&output, want, Duration::from_secs(90), true)?;
    anyhow::ensure!(app.errors().is_empty(), "the application failed: {:?}", app.errors());
    app.close()?;
    anyhow::ensure!(got.len() >= want, "run {run}: {} of {want} counts committed in time", got.len());
    Ok(tally)
}

/// A transactional producer with a transaction open on partition 0 of `topic`, holding one
/// record, as a zombie leaves it; it stays open until aborted (or for five minutes).
fn open_transaction(topic: &str) -> anyhow::Result<ThreadedProducer<DefaultProducerContext>> {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("transactional.id", unique("zombie"))
        .set("transaction.timeout.ms", "300000")
        .create()?;
    producer.init_transactions(Duration::from_secs(30))?;
    producer.begin_transaction()?;
    producer.send(BaseRecord::to(topic).partition(0).key("k0").payload(&[0u8; 8][..])).map_err(|(e, _)| e)?;
    producer.flush(Duration::from_secs(30))?;
    Ok(producer)
}

/// The end offset of partition 0 of `topic` read at `isolation` (`read_committed`: the last
/// stable offset).
fn end_offset(topic: &str, isolation: &str) -> anyhow::Result<i64> {
    let consumer: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", bootstrap()).set("isolation.level", isolation).create()?;
    Ok(consumer.fetch_watermarks(topic, 0, Duration::from_secs(30))?.1)
}

#[test]
fn a_checkpoint_past_an_open_transaction_is_kept_and_nothing_is_restored() -> anyhow::Result<()> {
    let (input, app_id) = (unique("open-txn"), unique("open-txn-app"));
    let dir = std::env::temp_dir().join(unique("open-txn-state"));
    let client = KafkaClient::connect(&bootstrap())?;
    client.create_topic(&input, 1)?;
    client.create_topic(&format!("{input}-counts"), 1)?;
    let changelog = format!("{app_id}-counts-changelog");

    let first = run(&client, &input, &app_id, &dir, 0)?;
    assert_eq!(first.restored.load(Ordering::SeqCst), 0, "a new application restores nothing");
    let zombie = open_transaction(&changelog)?;
    let stable = end_offset(&changelog, "read_committed")?;
    // Committed after the open transaction: the checkpoint is now past the stable offset.
    let second = run(&client, &input, &app_id, &dir, 1)?;
    assert_eq!(second.restored.load(Ordering::SeqCst), 0, "the checkpoint was at the stable offset");
    let after = (end_offset(&changelog, "read_committed")?, end_offset(&changelog, "read_uncommitted")?);
    let third = run(&client, &input, &app_id, &dir, 2)?;
    zombie.abort_transaction(Duration::from_secs(30))?;
    let _ = std::fs::remove_dir_all(&dir);

    assert!(
        after.0 == stable && after.1 > stable + PER_RUN as i64,
        "the open transaction holds the stable offset at {stable} while the second run wrote after it: {after:?}"
    );
    assert_eq!(third.from_beginning.load(Ordering::SeqCst), 0, "a store was cleared and read from the beginning");
    assert_eq!(third.restored.load(Ordering::SeqCst), 0, "the store already held its committed writes");
    let counts = client.read_with::<String, Option<i64>>(
        &format!("{input}-counts"),
        3 * PER_RUN,
        Duration::from_secs(30),
        true,
    )?;
    assert_eq!(counts.len(), 3 * PER_RUN);
    for (key, values) in common::per_key(&counts) {
        let want: Vec<Option<i64>> = (1..=values.len() as i64).map(Some).collect();
        assert_eq!(values, want, "the counts of `{key}` went back after a restart");
    }
    Ok(())
}
