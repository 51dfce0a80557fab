//! Exactly-once at the scale of Kafka Streams' EOS system test: two instances of one
//! application (child processes, different instance ids) compute per-key sum, count, min and
//! max and a pass-through copy of 200 k records over 10 k keys and 6 partitions, produced while
//! they run; one or the other is killed (`SIGKILL`) and restarted several times mid-stream.
//! Read `read_committed`, each partition of the copy equals the same partition of the input,
//! and the k-th output of each aggregate of a key is the aggregate after its k-th input.

mod common;
#[path = "common/eos.rs"]
mod eos;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{bootstrap, unique};
use eos::Instance;
use streamz::kafka::KafkaClient;

const CHILD: &str = "STREAMZ_EOS_SYSTEM_CHILD";
const CHILD_TEST: &str = "eos_system_instance";
const RECORDS: usize = 200_000;
const KEYS: u64 = 10_000;
const PARTITIONS: i32 = 6;
const KILLS: usize = 6;

/// The child: runs one instance until it is killed. Does nothing in a normal test run.
#[test]
#[ignore = "run by eos_system's parent test as its child process"]
fn eos_system_instance() -> anyhow::Result<()> {
    eos::run_instance(CHILD)
}

#[test]
fn two_instances_killed_in_turn_while_input_arrives_lose_and_duplicate_nothing() -> anyhow::Result<()> {
    let (input, app_id) = (unique("eos-sys"), unique("eos-sys-app"));
    let dir = std::env::temp_dir().join(unique("eos-sys-state"));
    let client = KafkaClient::connect(&bootstrap())?;
    eos::create_topics(&client, &input, PARTITIONS)?;
    let all = Arc::new(eos::inputs(RECORDS, KEYS));
    let instance = |n: usize| Instance::new(&input, &app_id, &dir, n);
    let mut children =
        eos::Children(vec![instance(0).spawn(CHILD, CHILD_TEST)?, instance(1).spawn(CHILD, CHILD_TEST)?]);
    let produced = Arc::new(AtomicUsize::new(0));
    let producer = eos::produce_slowly(input.clone(), all.clone(), 50, produced.clone(), Duration::from_millis(800));

    // Kill an instance once the application committed more of the copy since the last kill,
    // and while a transaction holds records of the copy (the instances work on the same
    // chunks of input at the same time, so mostly the victim's), alternating which one;
    // restart it after a pause that differs each time. Input arrives in chunks every 800 ms,
    // so killing at any moment mostly finds the instances idle, between transactions.
    let ends = common::CopyEnds::new(&input, PARTITIONS)?;
    let (mut mid_stream, mut last) = (0, 0);
    for n in 0..KILLS {
        ends.wait_to_cut(last + 2_000 + 500 * n as i64, Duration::from_secs(1), Duration::from_secs(90))?;
        let victim = &mut children.0[n % 2];
        victim.kill()?;
        victim.wait()?;
        last = ends.read()?.1;
        let now = produced.load(Ordering::SeqCst);
        // During processing: input was produced that the application had not committed.
        if (last as usize) < now {
            mid_stream += 1;
        }
        std::thread::sleep(Duration::from_millis(200 + 300 * n as u64));
        children.0[n % 2] = instance(n % 2).spawn(CHILD, CHILD_TEST)?;
    }
    producer.join().map_err(|_| anyhow::anyhow!("the producer thread panicked"))??;
    eos::wait_for_committed(&client, &app_id, &input, Duration::from_secs(300))?;
    let logged = eos::verify(&client, &input, &all)?;
    drop(children);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(logged > RECORDS, "no kill cut a transaction: the copy's log holds no aborted record");
    assert!(mid_stream >= 5, "only {mid_stream} of {KILLS} kills happened while input was unprocessed");
    Ok(())
}
