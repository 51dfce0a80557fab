//! Standby replicas on a real broker: two exactly-once instances (child processes) of an
//! application with four stores per task; one is killed (`SIGKILL`) and the other takes its
//! tasks over. With a standby replica each, the survivor restores (almost) nothing, because
//! its standbys had read the killed instance's changelogs; without, it restores those
//! changelogs whole. Either way the committed output is exactly the input's aggregates.

mod common;
#[path = "common/eos.rs"]
mod eos;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{bootstrap, unique};
use eos::Instance;
use streamz::kafka::KafkaClient;
use streamz::Timestamp;

const CHILD: &str = "STREAMZ_STANDBY_CHILD";
const CHILD_TEST: &str = "standby_instance";
const PARTITIONS: i32 = 4;
const KEYS: u64 = 1_000;
/// Records before the kill, and after it.
const BEFORE: usize = 20_000;
const AFTER: usize = 5_000;

/// The child: one instance, run until killed.
#[test]
#[ignore = "run by state_standby's parent test as its child process"]
fn standby_instance() -> anyhow::Result<()> {
    eos::run_instance(CHILD)
}

/// What the surviving instance did: records restored when it took the killed one's tasks
/// over, and changelog records its standbys had applied before.
struct Failover {
    restored: u64,
    standby_records: u64,
}

/// Waits until `metric` of `instance` is positive and has not moved for two seconds.
fn wait_until_settled(instance: &Instance, metric: &str) -> u64 {
    let start = Instant::now();
    let mut last = (u64::MAX, Instant::now());
    while start.elapsed() < Duration::from_secs(60) {
        let now = instance.metrics().get(metric).copied().unwrap_or(0);
        if now != last.0 {
            last = (now, Instant::now());
        } else if now > 0 && last.1.elapsed() >= Duration::from_secs(2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    last.0
}

fn failover(replicas: usize) -> anyhow::Result<Failover> {
    let (input, app_id) = (unique("standby"), unique("standby-app"));
    let dir = std::env::temp_dir().join(unique("standby-state"));
    let client = KafkaClient::connect(&bootstrap())?;
    eos::create_topics(&client, &input, PARTITIONS)?;
    let all = Arc::new(eos::inputs(BEFORE + AFTER, KEYS));
    let instance = |n: usize| Instance { standby_replicas: replicas, ..Instance::new(&input, &app_id, &dir, n) };
    let mut children =
        eos::Children(vec![instance(0).spawn(CHILD, CHILD_TEST)?, instance(1).spawn(CHILD, CHILD_TEST)?]);
    let produce = |records: &[(String, i64)]| {
        client.produce(&input, records.iter().map(|(k, v)| (k.clone(), *v, Timestamp::now())))
    };
    // A little at a time until both instances have processed some: the group has given
    // each its tasks.
    let (mut sent, start) = (0, Instant::now());
    while (0..2).any(|n| instance(n).metrics().get("records-processed").copied().unwrap_or(0) == 0) {
        anyhow::ensure!(start.elapsed() < Duration::from_secs(60), "the instances did not both start processing");
        produce(&all[sent..sent + 100])?;
        sent += 100;
        std::thread::sleep(Duration::from_millis(500));
    }
    produce(&all[sent..BEFORE])?;
    eos::wait_for_committed(&client, &app_id, &input, Duration::from_secs(120))?;
    let survivor = instance(0);
    let standby_records = match replicas {
        0 => 0,
        _ => wait_until_settled(&survivor, "standby-records"),
    };
    let before = survivor.metrics().get("restored-records").copied().unwrap_or(0);
    children.0[1].kill()?;
    children.0[1].wait()?;
    produce(&all[BEFORE..])?;
    // The survivor gets the killed instance's partitions after its session timeout (6 s).
    eos::wait_for_committed(&client, &app_id, &input, Duration::from_secs(120))?;
    let restored = survivor.metrics().get("restored-records").copied().unwrap_or(0) - before;
    eos::verify(&client, &input, &all)?;
    drop(children);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Failover { restored, standby_records })
}

#[test]
fn a_task_failing_over_to_its_standby_restores_almost_nothing() -> anyhow::Result<()> {
    let with = failover(1)?;
    let without = failover(0)?;
    eprintln!(
        "restored at failover: {} records with a standby ({} applied by it before), {} without",
        with.restored, with.standby_records, without.restored
    );
    // The killed instance ran two of the four tasks: about half the input went through
    // each of their four stores, one changelog record per input record (no record cache).
    assert!(
        without.restored >= BEFORE as u64,
        "without standbys the survivor restores the moved tasks' changelogs whole: {} records",
        without.restored
    );
    assert!(
        with.standby_records >= BEFORE as u64,
        "the standbys read the other instance's changelogs: {} records",
        with.standby_records
    );
    assert!(
        with.restored * 20 <= without.restored,
        "with a standby the survivor restores {} records, without {}",
        with.restored,
        without.restored
    );
    Ok(())
}
