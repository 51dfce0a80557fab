//! Local state after a crash, on a real broker: an exactly-once application (RocksDB stores)
//! runs in a child process that is killed (`SIGKILL`) and started again. With its state
//! directory kept it restores only what its stores had not made durable (nothing when it was
//! idle); with the directory deleted it restores everything; the output is the same as an
//! uninterrupted run's either way.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{bootstrap, unique};
use streamz::kafka::KafkaClient;
use streamz::prelude::*;
use streamz::runtime::{App, ProcessingGuarantee, RestoreProgress, StateRestoreListener, StreamsConfig};
use streamz::topology::Topology;

const CHILD: &str = "STREAMZ_RESTORE_CHILD";
const KEYS: i64 = 500;
const PARTITIONS: i32 = 2;

/// Per key the running count → `<input>-counts` and sum → `<input>-sums`.
fn topology(input: &str) -> anyhow::Result<Topology> {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, i64>(input).group_by_key();
    grouped.count_with(Materialized::named("counts")).to_stream().to(&format!("{input}-counts"));
    grouped.reduce_with(|a, b| a + b, Materialized::named("sums")).to_stream().to(&format!("{input}-sums"));
    Ok(builder.build()?)
}

/// Counts the records restored from a checkpoint and from the beginning.
#[derive(Default)]
struct Tally {
    from_checkpoint: AtomicU64,
    from_beginning: AtomicU64,
    stores: AtomicU64,
}

impl StateRestoreListener for Tally {
    fn on_restore_end(&self, progress: &RestoreProgress<'_>, _: Duration) {
        let counter = if progress.from_checkpoint { &self.from_checkpoint } else { &self.from_beginning };
        counter.fetch_add(progress.restored, Ordering::SeqCst);
        self.stores.fetch_add(1, Ordering::SeqCst);
    }
}

/// The child: runs the application until it is killed, writing what it restored to a file.
#[test]
#[ignore = "run by state_restore's parent test as its child process"]
fn restore_child_process() -> anyhow::Result<()> {
    let Ok(spec) = std::env::var(CHILD) else { return Ok(()) };
    let parts: Vec<&str> = spec.split(' ').collect();
    let [input, app_id, state_dir, report] = parts[..] else { anyhow::bail!("bad child spec `{spec}`") };
    let tally = Arc::new(Tally::default());
    let config = StreamsConfig::new(app_id)
        .bootstrap_servers(bootstrap())
        .processing_guarantee(ProcessingGuarantee::ExactlyOnce)
        .state_dir(state_dir)
        // Every update is checked: no record cache folding them.
        .cache_max_bytes(0)
        .restore_listener(tally.clone());
    let app = App::new(topology(input)?, config)?.start()?;
    loop {
        let line = format!(
            "{} {} {}",
            tally.stores.load(Ordering::SeqCst),
            tally.from_checkpoint.load(Ordering::SeqCst),
            tally.from_beginning.load(Ordering::SeqCst)
        );
        std::fs::write(format!("{report}.tmp"), line)?;
        std::fs::rename(format!("{report}.tmp"), report)?;
        anyhow::ensure!(app.errors().is_empty(), "the application failed: {:?}", app.errors());
        std::thread::sleep(Duration::from_millis(50));
    }
}

struct Run {
    input: String,
    app_id: String,
    state_dir: PathBuf,
    report: PathBuf,
    client: KafkaClient,
    produced: Vec<(String, i64)>,
}

/// What a child restored: stores restored, records from checkpoints, records from the
/// beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Restored {
    stores: u64,
    from_checkpoint: u64,
    from_beginning: u64,
}

impl Run {
    fn spawn(&self) -> anyhow::Result<Child> {
        let _ = std::fs::remove_file(&self.report);
        let spec = format!("{} {} {} {}", self.input, self.app_id, self.state_dir.display(), self.report.display());
        Ok(Command::new(std::env::current_exe()?)
            .args(["--exact", "restore_child_process", "--ignored", "--nocapture"])
            .env(CHILD, spec)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?)
    }

    fn produce(&mut self, n: i64) -> anyhow::Result<()> {
        let start = self.produced.len() as i64;
        let batch: Vec<(String, i64)> =
            (start..start + n).map(|i| (format!("k{:03}", (i * 7919) % KEYS), i % 13)).collect();
        self.client.produce(&self.input, batch.iter().map(|(k, v)| (k.clone(), *v, Timestamp::now())))?;
        self.produced.extend(batch);
        Ok(())
    }

    /// The committed records of `<input>-counts`.
    fn committed_counts(&self) -> anyhow::Result<i64> {
        Ok(self.client.watermarks(&format!("{}-counts", self.input))?.iter().map(|(_, _, high)| high).sum())
    }

    /// Waits until the child has restored every store (both stores of each partition).
    fn restored(&self) -> anyhow::Result<Restored> {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(line) = std::fs::read_to_string(&self.report) {
                let n: Vec<u64> = line.split(' ').filter_map(|n| n.parse().ok()).collect();
                if let [stores, from_checkpoint, from_beginning] = n[..] {
                    if stores >= 2 * PARTITIONS as u64 {
                        return Ok(Restored { stores, from_checkpoint, from_beginning });
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!("the child did not restore its stores in time")
    }

    /// Reads every committed count and sum and checks them against the input: per key, the
    /// k-th output is the aggregate after the k-th input.
    fn verify(&self) -> anyhow::Result<()> {
        let n = self.produced.len();
        let read = |suffix: &str| {
            self.client.read_with::<String, Option<i64>>(
                &format!("{}{suffix}", self.input),
                n,
                Duration::from_secs(120),
                true,
            )
        };
        let (counts, sums) = (read("-counts")?, read("-sums")?);
        let (mut want_counts, mut want_sums): (BTreeMap<String, Vec<Option<i64>>>, BTreeMap<String, Vec<Option<i64>>>) =
            Default::default();
        let mut totals: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for (key, value) in &self.produced {
            let total = totals.entry(key).or_default();
            *total = (total.0 + 1, total.1 + value);
            want_counts.entry(key.clone()).or_default().push(Some(total.0));
            want_sums.entry(key.clone()).or_default().push(Some(total.1));
        }
        assert_eq!(counts.len(), n, "one count per input record");
        assert_eq!(sums.len(), n, "one sum per input record");
        assert!(common::per_key(&counts) == want_counts, "the counts differ from an uninterrupted run's");
        assert!(common::per_key(&sums) == want_sums, "the sums differ from an uninterrupted run's");
        Ok(())
    }

    fn wait_for_counts(&self, at_least: i64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.committed_counts()? < at_least {
            anyhow::ensure!(Instant::now() < deadline, "the child did not process in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

fn kill(mut child: Child) -> anyhow::Result<()> {
    child.kill()?;
    child.wait()?;
    Ok(())
}

fn changelog_records(client: &KafkaClient, app_id: &str) -> anyhow::Result<i64> {
    let mut n = 0;
    for store in ["counts", "sums"] {
        n += client.watermarks(&format!("{app_id}-{store}-changelog"))?.iter().map(|(_, _, high)| high).sum::<i64>();
    }
    Ok(n)
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_killed_instance_restores_only_what_its_stores_had_not_made_durable() -> anyhow::Result<()> {
    let client = KafkaClient::connect(&bootstrap())?;
    let input = unique("restore");
    for suffix in ["", "-counts", "-sums"] {
        client.create_topic(&format!("{input}{suffix}"), PARTITIONS)?;
    }
    let state_dir = common::state_dir();
    let report = state_dir.with_extension("report");
    let mut run = Run { input, app_id: unique("restore-app"), state_dir, report, client, produced: Vec::new() };

    // 1. Process 10k records, stay idle until the stores have reached disk, kill.
    run.produce(10_000)?;
    let child = run.spawn()?;
    assert_eq!(
        run.restored()?.from_checkpoint + run.restored()?.from_beginning,
        0,
        "a new instance has nothing to restore"
    );
    run.wait_for_counts(10_000)?;
    // Under exactly-once the stores write to RocksDB at most 10 s after their transactions
    // committed, and their memtables reach disk at most 10 s after that.
    std::thread::sleep(Duration::from_secs(22));
    kill(child)?;

    // 2. Restarted with its state: nothing to restore.
    let child = run.spawn()?;
    let restored = run.restored()?;
    assert_eq!(restored, Restored { stores: 4, from_checkpoint: 0, from_beginning: 0 }, "restored after an idle kill");

    // 3. Killed mid-stream, restarted: it restores at most what it changed since stage 2.
    let before = run.committed_counts()?;
    run.produce(10_000)?;
    run.wait_for_counts(before + 2_000)?;
    kill(child)?;
    let child = run.spawn()?;
    let restored = run.restored()?;
    assert_eq!(restored.from_beginning, 0, "every store had a usable checkpoint: {restored:?}");
    let logged = changelog_records(&run.client, &run.app_id)?;
    assert!(
        restored.from_checkpoint > 0 && restored.from_checkpoint <= 2 * 10_000,
        "restored what the stores changed after they last reached disk, not more: {restored:?} of {logged}"
    );
    run.wait_for_counts(before + 10_000)?;
    run.verify()?;

    // 4. Killed, its state directory deleted, restarted: everything is restored.
    kill(child)?;
    let logged = changelog_records(&run.client, &run.app_id)?;
    remove(&run.state_dir);
    run.produce(1_000)?;
    let child = run.spawn()?;
    let restored = run.restored()?;
    assert_eq!(restored.from_checkpoint, 0, "{restored:?}");
    assert!(
        restored.from_beginning >= 2 * KEYS as u64 && restored.from_beginning as i64 <= logged,
        "restored {restored:?} of {logged} changelog records (at least one per key and store)"
    );
    run.wait_for_counts(before + 11_000)?;
    // Verified before the kill: the end offsets counted above include records of a transaction
    // that may still be open, and a killed instance would leave it to be aborted.
    run.verify()?;
    kill(child)?;
    remove(&run.state_dir);
    Ok(())
}
