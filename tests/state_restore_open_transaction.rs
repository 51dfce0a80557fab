//! Changelogs with transactions open on them, on a real broker.
//!
//! Under exactly-once the end a restore reads to is the changelog's last stable offset: the
//! first offset of the oldest open transaction.
//! - When a zombie of a task's previous owner left such a transaction open and this instance
//!   committed its own writes after it, the store's checkpoint is past that offset, yet inside
//!   the changelog. Restarting then keeps the store as it is: clearing it and restoring up to
//!   the open transaction would lose every update committed after it (the counts would start
//!   again from their old values).
//! - When the previous owner's commit is in flight as the task is assigned (its transaction
//!   sent the input offsets but has not ended), the restore waits for it: the committed
//!   offsets of the input are read as stable first, so its changelog records are restored.
//! - When a transaction on the changelog is undecided while the store is behind it (its
//!   commit reached the input offsets but not yet the changelog, as when a broker stopped
//!   before writing the partition's marker), the restore waits until it ends: restoring up
//!   to it and going on would leave the store without what it commits.

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
use streamz::runtime::{App, AppState, ProcessingGuarantee, RestoreProgress, StateRestoreListener, StreamsConfig};
use streamz::RawRecord;

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

/// The keys of run `run`: `PER_RUN` records over `KEYS` keys.
fn keys_of_run(run: usize) -> Vec<String> {
    (0..PER_RUN).map(|i| format!("k{}", (run * PER_RUN + i) % KEYS)).collect()
}

/// Produces `PER_RUN` more records, runs the counting application until their counts are
/// committed, and closes it cleanly. Returns what it restored.
fn run(client: &KafkaClient, input: &str, app_id: &str, dir: &Path, run: usize) -> anyhow::Result<Arc<Tally>> {
    run_with(client, input, app_id, dir, keys_of_run(run), (run + 1) * PER_RUN, || Ok(()))
}

/// Starts the counting application, waits until it runs (its stores restored), calls
/// `before_input`, produces a record of value 1 for each of `keys`, runs it until `total`
/// counts are committed, and closes it cleanly. Returns what it restored.
fn run_with(
    client: &KafkaClient,
    input: &str,
    app_id: &str,
    dir: &Path,
    keys: Vec<String>,
    total: usize,
    before_input: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<Arc<Tally>> {
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
    anyhow::ensure!(
        app.wait_for_state(AppState::Running, Duration::from_secs(90)),
        "the application is {} and not running: {:?}",
        app.state(),
        app.errors()
    );
    before_input()?;
    client.produce(input, keys.into_iter().map(|k| (k, 1i64, Timestamp::now())))?;
    let output = format!("{input}-counts");
    let got = client.read_with::<String, Option<i64>>(&output, total, Duration::from_secs(90), true)?;
    anyhow::ensure!(app.errors().is_empty(), "the application failed: {:?}", app.errors());
    app.close()?;
    anyhow::ensure!(got.len() >= total, "{} of {total} counts committed in time", got.len());
    Ok(tally)
}

/// A transactional producer with a transaction open on partition 0 of `topic`, holding one
/// record (`key` → `value`), as a zombie leaves it; it stays open until it ends (or for five
/// minutes).
fn open_transaction(topic: &str, key: &[u8], value: &[u8]) -> anyhow::Result<ThreadedProducer<DefaultProducerContext>> {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .set("transactional.id", unique("zombie"))
        .set("transaction.timeout.ms", "300000")
        .create()?;
    producer.init_transactions(Duration::from_secs(30))?;
    producer.begin_transaction()?;
    producer.send(BaseRecord::to(topic).partition(0).key(key).payload(value)).map_err(|(e, _)| e)?;
    producer.flush(Duration::from_secs(30))?;
    Ok(producer)
}

/// A test's input topic (one partition) and its output, application id, state directory,
/// client and the changelog of the counts.
struct Setup {
    input: String,
    app_id: String,
    dir: std::path::PathBuf,
    client: KafkaClient,
    changelog: String,
}

impl Setup {
    fn new(name: &str) -> anyhow::Result<Self> {
        let (input, app_id) = (unique(name), unique(&format!("{name}-app")));
        let dir = std::env::temp_dir().join(unique(&format!("{name}-state")));
        let client = KafkaClient::connect(&bootstrap())?;
        client.create_topic(&input, 1)?;
        client.create_topic(&format!("{input}-counts"), 1)?;
        let changelog = format!("{app_id}-counts-changelog");
        Ok(Setup { input, app_id, dir, client, changelog })
    }
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
    let Setup { input, app_id, dir, client, changelog } = Setup::new("open-txn")?;

    let first = run(&client, &input, &app_id, &dir, 0)?;
    assert_eq!(first.restored.load(Ordering::SeqCst), 0, "a new application restores nothing");
    // The zombie's transaction opens once the second run has restored its store, and the
    // second run commits after it: the checkpoint is then past the stable offset.
    let mut opened = None;
    let second = run_with(&client, &input, &app_id, &dir, keys_of_run(1), 2 * PER_RUN, || {
        let zombie = open_transaction(&changelog, b"k0", &[0u8; 8])?;
        opened = Some((zombie, end_offset(&changelog, "read_committed")?));
        Ok(())
    })?;
    let (zombie, stable) = opened.ok_or_else(|| anyhow::anyhow!("the zombie's transaction was not opened"))?;
    assert_eq!(second.restored.load(Ordering::SeqCst), 0, "the checkpoint was at the end of the changelog");
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

/// The key and value bytes of the last record of `key` among `records`.
fn last_record_of(records: &[RawRecord], key: &str) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let keys = String::default_serde();
    let record = records
        .iter()
        .rev()
        .find(|r| keys.deserialize(r.key.as_deref()).ok().as_deref() == Some(key))
        .ok_or_else(|| anyhow::anyhow!("no changelog record of `{key}`"))?;
    Ok((record.key.clone().unwrap_or_default(), record.value.clone().unwrap_or_default()))
}

/// Runs the counting application over `PER_RUN` records, after which `k1` counts 55 and `k0`
/// 5, then opens a transaction on the changelog that sets `k0`'s count to `k1`'s (55), as a
/// previous owner's last one; returns its producer.
fn count_then_open_transaction(setup: &Setup) -> anyhow::Result<ThreadedProducer<DefaultProducerContext>> {
    let Setup { input, app_id, dir, client, changelog } = setup;
    let keys: Vec<String> = (0..PER_RUN).map(|i| if i < 50 { "k1".into() } else { format!("k{}", i % KEYS) }).collect();
    run_with(client, input, app_id, dir, keys, PER_RUN, || Ok(()))?;
    // One changelog record per input record (no record cache).
    let changelog_records = client.read_raw(changelog, PER_RUN, Duration::from_secs(30))?;
    let (_, k1_count) = last_record_of(&changelog_records, "k1")?;
    let (k0, _) = last_record_of(&changelog_records, "k0")?;
    open_transaction(changelog, &k0, &k1_count)
}

#[test]
fn a_commit_in_flight_at_assignment_is_waited_for_and_restored() -> anyhow::Result<()> {
    let setup = Setup::new("inflight-txn")?;
    // A previous owner's last transaction: it set `k0`'s count to `k1`'s (55) and sent the
    // input offsets (nothing new consumed), and its commit is still on its way.
    let owner = count_then_open_transaction(&setup)?;
    let Setup { input, app_id, dir, client, .. } = setup;
    let group: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", bootstrap()).set("group.id", &app_id).create()?;
    let mut offsets = rdkafka::TopicPartitionList::new();
    offsets.add_partition_offset(&input, 0, rdkafka::Offset::Offset(PER_RUN as i64))?;
    let metadata = group.group_metadata().ok_or_else(|| anyhow::anyhow!("no group metadata"))?;
    owner.send_offsets_to_transaction(&offsets, &metadata, Duration::from_secs(30))?;
    // The commit ends while the next run is being assigned its partition.
    let committer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(8));
        owner.commit_transaction(Duration::from_secs(30))
    });
    let second = run_with(&client, &input, &app_id, &dir, vec!["k0".into(); 3], PER_RUN + 3, || Ok(()))?;
    committer.join().map_err(|_| anyhow::anyhow!("the committing thread panicked"))??;
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(second.restored.load(Ordering::SeqCst), 1, "the previous owner's changelog record is restored");
    let counts = client.read_with::<String, Option<i64>>(
        &format!("{input}-counts"),
        PER_RUN + 3,
        Duration::from_secs(30),
        true,
    )?;
    let k0_counts: Vec<Option<i64>> = counts[PER_RUN..].iter().map(|r| r.value).collect();
    assert_eq!(k0_counts, [Some(56), Some(57), Some(58)], "`k0` counts on from the previous owner's last commit");
    Ok(())
}

#[test]
fn a_transaction_undecided_on_the_changelog_is_waited_for_before_restoring() -> anyhow::Result<()> {
    let setup = Setup::new("undecided-txn")?;
    // A transaction that sets `k0`'s count to 55, decided but not yet marked on the
    // changelog (so the changelog's last stable offset stays before it), and a store that
    // must be restored from the beginning: its local state is gone.
    let owner = count_then_open_transaction(&setup)?;
    let Setup { input, app_id, dir, client, changelog } = setup;
    let stable = end_offset(&changelog, "read_committed")?;
    std::fs::remove_dir_all(&dir)?;
    // The marker arrives while the next run restores.
    let committer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(4));
        owner.commit_transaction(Duration::from_secs(30))
    });
    let second = run_with(&client, &input, &app_id, &dir, vec!["k0".into()], PER_RUN + 1, || Ok(()))?;
    committer.join().map_err(|_| anyhow::anyhow!("the committing thread panicked"))??;
    let _ = std::fs::remove_dir_all(&dir);

    assert!(stable < end_offset(&changelog, "read_uncommitted")?, "the open transaction held the stable offset");
    assert_eq!(
        second.restored.load(Ordering::SeqCst),
        PER_RUN as u64 + 1,
        "every changelog record is restored, the one of the undecided transaction too"
    );
    let counts = client.read_with::<String, Option<i64>>(
        &format!("{input}-counts"),
        PER_RUN + 1,
        Duration::from_secs(30),
        true,
    )?;
    assert_eq!(counts[PER_RUN].key, "k0");
    assert_eq!(counts[PER_RUN].value, Some(56), "`k0` counts on from the value its last transaction committed");
    Ok(())
}
