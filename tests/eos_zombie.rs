//! A zombie under exactly-once: of two instances, one is stopped (`SIGSTOP`) in the middle of
//! a transaction (its commit interval is long, so it is open for sure) until the consumer
//! group gave its partitions to the other, and resumed (`SIGCONT`) then. The other restores
//! the zombie's stores only once the zombie's transaction has ended (the broker aborts it when
//! its timeout passes): the changelogs' records after it are undecided until then. The zombie
//! must not commit: its partitions were lost and its transaction aborted; it notices, starts
//! again from the last commit, and rejoins. Read `read_committed`, the outputs are exactly
//! once.

mod common;
#[path = "common/eos.rs"]
mod eos;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{bootstrap, unique};
use eos::Instance;
use streamz::kafka::KafkaClient;

const CHILD: &str = "STREAMZ_EOS_ZOMBIE_CHILD";
const CHILD_TEST: &str = "eos_zombie_instance";
const RECORDS: usize = 30_000;
const KEYS: u64 = 1_000;
const PARTITIONS: i32 = 4;

/// The child: runs one instance until it is killed. Does nothing in a normal test run.
#[test]
#[ignore = "run by eos_zombie's parent test as its child process"]
fn eos_zombie_instance() -> anyhow::Result<()> {
    eos::run_instance(CHILD)
}

fn signal(child: &std::process::Child, signal: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("kill").args([signal, &child.id().to_string()]).status()?;
    anyhow::ensure!(status.success(), "kill {signal} failed");
    Ok(())
}

/// The committed offsets of the group on every input partition, `-1` where none.
fn group_offsets(client: &KafkaClient, app_id: &str, input: &str) -> anyhow::Result<Vec<i64>> {
    Ok(client.committed_offsets(app_id, input)?.into_iter().map(|(_, o)| o.unwrap_or(-1)).collect())
}

#[test]
fn a_stopped_instance_whose_partitions_moved_is_fenced_and_commits_nothing() -> anyhow::Result<()> {
    let (input, app_id) = (unique("eos-zombie"), unique("eos-zombie-app"));
    let dir = std::env::temp_dir().join(unique("eos-zombie-state"));
    let client = KafkaClient::connect(&bootstrap())?;
    eos::create_topics(&client, &input, PARTITIONS)?;
    let all = Arc::new(eos::inputs(RECORDS, KEYS));
    // The zombie commits every 20 s and is stopped before its first commit: it has a
    // transaction open since its first record, which the broker aborts after 30 s.
    let instance = |n: usize, commit_interval_ms| Instance {
        transaction_timeout_ms: 30_000,
        commit_interval_ms,
        ..Instance::new(&input, &app_id, &dir, n)
    };
    let (zombie, survivor) = (instance(0, 20_000), instance(1, 100));
    let children = eos::Children(vec![zombie.spawn(CHILD, CHILD_TEST)?, survivor.spawn(CHILD, CHILD_TEST)?]);
    let produced = Arc::new(AtomicUsize::new(0));
    // 50 s of input: some is still to come when the zombie is back in the group.
    let producer = eos::produce_slowly(input.clone(), all.clone(), 100, produced.clone(), Duration::from_millis(500));

    // Both instances process; once the group is stable, the zombie processes more records
    // with no commit: its transaction is open (it commits only every 20 s, or on a rebalance).
    let count = |m: &std::collections::BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
    let start = Instant::now();
    while !(count(&zombie.metrics(), "records-processed") > 0 && count(&survivor.metrics(), "records-processed") > 0)
        && start.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_secs(2));
    let stable = zombie.metrics();
    while count(&zombie.metrics(), "records-processed") <= count(&stable, "records-processed")
        && start.elapsed() < Duration::from_secs(90)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&children.0[0], "-STOP")?;
    let before = zombie.metrics();
    assert!(
        count(&before, "records-processed") > count(&stable, "records-processed"),
        "the zombie processed nothing: {stable:?} then {before:?}"
    );
    assert_eq!(
        count(&before, "committed-transactions"),
        count(&stable, "committed-transactions"),
        "the zombie committed: {stable:?} then {before:?}"
    );
    let stopped_at = group_offsets(&client, &app_id, &input)?;
    assert!(produced.load(Ordering::SeqCst) < RECORDS / 2, "the zombie is stopped mid-stream");

    // Its partitions move: the group commits past where it stopped, on every partition, once
    // the survivor restored the zombie's stores (after the zombie's transaction was aborted).
    let start = Instant::now();
    while group_offsets(&client, &app_id, &input)?.iter().zip(&stopped_at).any(|(now, then)| now <= then)
        && start.elapsed() < Duration::from_secs(90)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let moved = group_offsets(&client, &app_id, &input)?;
    assert!(
        moved.iter().zip(&stopped_at).all(|(now, then)| now > then),
        "the survivor did not take over every partition: committed offsets {stopped_at:?} → {moved:?}"
    );
    signal(&children.0[0], "-CONT")?;

    producer.join().map_err(|_| anyhow::anyhow!("the producer thread panicked"))??;
    assert_eq!(produced.load(Ordering::SeqCst), RECORDS);
    eos::wait_for_committed(&client, &app_id, &input, Duration::from_secs(120))?;
    let logged = eos::verify(&client, &input, &all)?;
    // Back in the group, its thread commits again: on its 20 s interval whether or not any
    // input is left for it (that depends on how fast the survivor was).
    let resumed = Instant::now();
    let mut after = zombie.metrics();
    while count(&after, "commits") <= count(&before, "commits") && resumed.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(200));
        after = zombie.metrics();
    }
    let mut children = children;
    let zombie_status = children.0[0].try_wait()?;
    drop(children);
    let zombie_errors = zombie.errors();
    let _ = std::fs::remove_dir_all(&dir);

    assert!(logged > RECORDS, "the zombie's open transaction left no aborted record in the copy's log");
    assert!(
        count(&after, "aborted-transactions") > count(&before, "aborted-transactions"),
        "the zombie never aborted its transaction: metrics before {before:?}, after {after:?}"
    );
    assert!(
        zombie_status.is_none(),
        "the zombie's application failed instead of recovering ({zombie_status:?}): {zombie_errors}"
    );
    assert!(
        count(&after, "commits") > count(&before, "commits"),
        "the zombie's thread did not run after it resumed: metrics before {before:?}, after {after:?}"
    );
    Ok(())
}
